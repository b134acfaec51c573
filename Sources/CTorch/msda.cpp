// Multi-scale deformable attention (Deformable DETR's MSDA): a fused CPU kernel with
// its own backward, exposed as a libtorch autograd Function.
//
// Semantics equal `multi_scale_deformable_attn_pytorch` (F.grid_sample, bilinear, zero
// padding, align_corners=False on 2*loc-1): a location (x, y) in [0, 1] of level l samples
// value_l at pixel coordinates (x*W_l - 0.5, y*H_l - 0.5); corners outside the map read 0.
//
// Shapes: value [B, S, H, D], spatial_shapes [L, 2] int64 (H_l, W_l), level_start_index [L]
// int64, sampling_locations [B, Q, H, L, P, 2] (x, y), attention_weights [B, Q, H, L, P];
// output [B, Q, H*D].
//
// The backward is computed by a kernel, so the result is differentiable once (second
// derivatives through it are not supported).
#include "internal.h"
#include "msda_cuda.h"
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>
#include <cmath>

using namespace ctorch;

namespace {

// Level geometry copied to the host once per call.
struct Levels {
  std::vector<int64_t> h, w, start;
  int64_t count() const { return (int64_t)h.size(); }
};

// One bilinear sample position: the four corner offsets into a level (pixel index, or -1
// when the corner lies outside the map) and their weights.
template <typename scalar_t>
struct Bilinear {
  int64_t idx[4];      // (y0,x0), (y0,x1), (y1,x0), (y1,x1); -1 = outside
  scalar_t cw[4];      // corner weights
  scalar_t ly, lx;     // fractional parts (for the location gradient)
};

// Returns false when the sample reads nothing (all corners outside).
template <typename scalar_t>
inline bool bilinear_at(scalar_t x, scalar_t y, int64_t H, int64_t W, Bilinear<scalar_t> &b) {
  const scalar_t him = y * (scalar_t)H - (scalar_t)0.5;
  const scalar_t wim = x * (scalar_t)W - (scalar_t)0.5;
  // The negated form also rejects NaN locations.
  if (!(him > (scalar_t)-1 && wim > (scalar_t)-1 && him < (scalar_t)H && wim < (scalar_t)W)) return false;
  const scalar_t fy = std::floor(him), fx = std::floor(wim);
  const int64_t y0 = (int64_t)fy, x0 = (int64_t)fx, y1 = y0 + 1, x1 = x0 + 1;
  b.ly = him - fy;
  b.lx = wim - fx;
  const scalar_t hy = 1 - b.ly, hx = 1 - b.lx;
  const bool y0in = y0 >= 0, y1in = y1 < H, x0in = x0 >= 0, x1in = x1 < W;
  b.idx[0] = (y0in && x0in) ? y0 * W + x0 : -1;
  b.idx[1] = (y0in && x1in) ? y0 * W + x1 : -1;
  b.idx[2] = (y1in && x0in) ? y1 * W + x0 : -1;
  b.idx[3] = (y1in && x1in) ? y1 * W + x1 : -1;
  b.cw[0] = hy * hx;
  b.cw[1] = hy * b.lx;
  b.cw[2] = b.ly * hx;
  b.cw[3] = b.ly * b.lx;
  return true;
}

// <a, b> with independent partial sums, so the loop vectorises without -ffast-math (a single
// accumulator is a serial add chain, which made the backward ~4x slower).
template <typename scalar_t>
inline scalar_t dot(const scalar_t *__restrict a, const scalar_t *__restrict b, int64_t n) {
  constexpr int lanes = 8;
  scalar_t acc[lanes] = {};
  int64_t d = 0;
  for (; d + lanes <= n; d += lanes)
    for (int j = 0; j < lanes; j++) acc[j] += a[d + j] * b[d + j];
  scalar_t s = 0;
  for (; d < n; d++) s += a[d] * b[d];
  for (int j = 0; j < lanes; j++) s += acc[j];
  return s;
}

// Prefetches the cache lines of n elements from p (rw = 1 for a coming write).
template <typename scalar_t>
inline void prefetch_span(const scalar_t *p, int64_t n, int rw = 0) {
  constexpr int64_t step = 64 / (int64_t)sizeof(scalar_t);
  for (int64_t i = 0; i < n; i += step) {
    if (rw) __builtin_prefetch(p + i, 1);
    else __builtin_prefetch(p + i, 0);
  }
}

void check_inputs(const at::Tensor &value, const at::Tensor &shapes, const at::Tensor &starts,
                  const at::Tensor &loc, const at::Tensor &attn, bool cuda = false) {
  TORCH_CHECK(value.defined() && shapes.defined() && starts.defined() && loc.defined() && attn.defined(),
              "ms_deform_attn: undefined input tensor");
  TORCH_CHECK(value.dim() == 4, "ms_deform_attn: value must be [B, S, H, D], got ", value.sizes());
  TORCH_CHECK(shapes.dim() == 2 && shapes.size(1) == 2,
              "ms_deform_attn: spatial_shapes must be [L, 2], got ", shapes.sizes());
  TORCH_CHECK(!c10::isFloatingType(shapes.scalar_type()) && !c10::isFloatingType(starts.scalar_type()),
              "ms_deform_attn: spatial_shapes and level_start_index must be integer tensors");
  const int64_t L = shapes.size(0);
  TORCH_CHECK(starts.dim() == 1 && starts.size(0) == L,
              "ms_deform_attn: level_start_index must be [L] with L = ", L, ", got ", starts.sizes());
  const int64_t B = value.size(0), H = value.size(2);
  TORCH_CHECK(loc.dim() == 6 && loc.size(0) == B && loc.size(2) == H && loc.size(3) == L && loc.size(5) == 2,
              "ms_deform_attn: sampling_locations must be [B, Q, H, L, P, 2] = [", B, ", Q, ", H, ", ", L,
              ", P, 2], got ", loc.sizes());
  TORCH_CHECK(attn.dim() == 5 && attn.sizes() == loc.sizes().slice(0, 5),
              "ms_deform_attn: attention_weights must be [B, Q, H, L, P] = ", loc.sizes().slice(0, 5),
              ", got ", attn.sizes());
  TORCH_CHECK(c10::isFloatingType(value.scalar_type()) && loc.scalar_type() == value.scalar_type() &&
                  attn.scalar_type() == value.scalar_type(),
              "ms_deform_attn: value, sampling_locations and attention_weights must share one floating dtype, got ",
              value.scalar_type(), ", ", loc.scalar_type(), ", ", attn.scalar_type());
  if (cuda) {
    TORCH_CHECK(value.is_cuda() && loc.device() == value.device() && attn.device() == value.device(),
                "ms_deform_attn_cuda: value, sampling_locations and attention_weights must be on one CUDA device");
  } else {
    TORCH_CHECK(value.device().is_cpu() && loc.device().is_cpu() && attn.device().is_cpu(),
                "ms_deform_attn: the fused kernel runs on CPU tensors only (use the grid_sample path elsewhere)");
  }
}

Levels read_levels(const at::Tensor &shapes, const at::Tensor &starts, int64_t S) {
  auto sh = shapes.to(at::kCPU, at::kLong).contiguous();
  auto st = starts.to(at::kCPU, at::kLong).contiguous();
  const int64_t L = sh.size(0);
  const int64_t *ps = sh.data_ptr<int64_t>(), *pt = st.data_ptr<int64_t>();
  Levels lv;
  int64_t total = 0;
  for (int64_t l = 0; l < L; l++) {
    const int64_t h = ps[2 * l], w = ps[2 * l + 1], s = pt[l];
    TORCH_CHECK(h >= 0 && w >= 0, "ms_deform_attn: negative spatial shape (", h, ", ", w, ") at level ", l);
    // Every level must lie inside value's S rows: the kernel indexes memory with these.
    TORCH_CHECK(s >= 0 && s + h * w <= S, "ms_deform_attn: level ", l, " (start ", s, ", ", h, "x", w,
                ") exceeds value's ", S, " rows");
    lv.h.push_back(h);
    lv.w.push_back(w);
    lv.start.push_back(s);
    total += h * w;
  }
  TORCH_CHECK(total == S, "ms_deform_attn: spatial_shapes cover ", total, " rows but value has S = ", S);
  return lv;
}

// out [B, Q, H*D] (uninitialised) = sum over (l, p) of weight * bilinear sample. DC > 0 fixes
// the channel count at compile time (D = 32 in every DETR config): the D accumulators then live in
// registers for the whole (b, q, h) row instead of round-tripping through memory.
template <typename scalar_t, int DC>
void forward_kernel(const at::Tensor &value, const Levels &lv, const at::Tensor &loc, const at::Tensor &attn,
                    at::Tensor &out) {
  const int64_t B = value.size(0), S = value.size(1), H = value.size(2);
  const int64_t D = DC > 0 ? DC : value.size(3);
  const int64_t Q = loc.size(1), L = lv.count(), P = loc.size(4);
  const scalar_t *V = value.data_ptr<scalar_t>();
  const scalar_t *LOC = loc.data_ptr<scalar_t>();
  const scalar_t *W = attn.data_ptr<scalar_t>();
  scalar_t *O = out.data_ptr<scalar_t>();
  const int64_t pixStride = H * D;  // between neighbouring pixels of value

  // One task per (b, q, h): a contiguous output row of D channels. Chunks of at least ~32k
  // multiply-adds keep parallel_for's overhead small.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, L * P * 4 * D));
  const int64_t LP = L * P;
  at::parallel_for(0, B * Q * H, grain, [&](int64_t begin, int64_t end) {
    // Pass 1 computes every sample's corners (and prefetches their rows), pass 2 reads them:
    // the loads of one row's 4·L·P corners then overlap instead of stalling one by one.
    std::vector<const scalar_t *> rows(4 * LP);
    std::vector<scalar_t> coef(4 * LP);
    Bilinear<scalar_t> bl;
    scalar_t local[DC > 0 ? DC : 1];
    for (int64_t i = begin; i < end; i++) {
      const int64_t h = i % H, b = i / (Q * H);
      const scalar_t *lp = LOC + i * LP * 2;
      const scalar_t *wp = W + i * LP;
      const scalar_t *vbh = V + b * S * pixStride + h * D;  // value[b, 0, h, 0]
      int64_t n = 0;
      for (int64_t l = 0; l < L; l++) {
        const scalar_t *vl = vbh + lv.start[l] * pixStride;
        for (int64_t p = 0; p < P; p++, lp += 2, wp++) {
          if (!bilinear_at(lp[0], lp[1], lv.h[l], lv.w[l], bl)) continue;
          for (int k = 0; k < 4; k++) {
            if (bl.idx[k] < 0) continue;
            const scalar_t *v = vl + bl.idx[k] * pixStride;
            for (int64_t d = 0; d < D; d += 64 / (int64_t)sizeof(scalar_t)) __builtin_prefetch(v + d);
            rows[n] = v;
            coef[n++] = *wp * bl.cw[k];
          }
        }
      }
      scalar_t *__restrict acc = DC > 0 ? local : O + i * D;
      for (int64_t d = 0; d < D; d++) acc[d] = 0;
      for (int64_t j = 0; j < n; j++) {
        const scalar_t c = coef[j];
        const scalar_t *__restrict v = rows[j];
        for (int64_t d = 0; d < D; d++) acc[d] += c * v[d];
      }
      if (DC > 0)
        for (int64_t d = 0; d < D; d++) O[i * D + d] = acc[d];
    }
  });
}

template <typename scalar_t>
void forward_dispatch(const at::Tensor &value, const Levels &lv, const at::Tensor &loc, const at::Tensor &attn,
                      at::Tensor &out) {
  switch (value.size(3)) {
    case 32: return forward_kernel<scalar_t, 32>(value, lv, loc, attn, out);
    case 16: return forward_kernel<scalar_t, 16>(value, lv, loc, attn, out);
    default: return forward_kernel<scalar_t, 0>(value, lv, loc, attn, out);
  }
}

// Gradients of the forward for grad_out [B, Q, H, D]. One task per (b, h) pair: every
// write (grad_value[b, :, h, :], grad_loc / grad_attn[b, :, h]) belongs to exactly one task.
template <typename scalar_t>
void backward_kernel(const at::Tensor &value, const Levels &lv, const at::Tensor &loc, const at::Tensor &attn,
                     const at::Tensor &gout, at::Tensor &gvalue, at::Tensor &gloc, at::Tensor &gattn) {
  const int64_t B = value.size(0), S = value.size(1), H = value.size(2), D = value.size(3);
  const int64_t Q = loc.size(1), L = lv.count(), P = loc.size(4);
  const scalar_t *V = value.data_ptr<scalar_t>();
  const scalar_t *LOC = loc.data_ptr<scalar_t>();
  const scalar_t *W = attn.data_ptr<scalar_t>();
  const scalar_t *GO = gout.data_ptr<scalar_t>();
  scalar_t *GV = gvalue.data_ptr<scalar_t>();
  scalar_t *GL = gloc.data_ptr<scalar_t>();
  scalar_t *GW = gattn.data_ptr<scalar_t>();
  const int64_t pixStride = H * D;

  const int64_t LP = L * P;
  constexpr int64_t ahead = 4;  // queries
  at::parallel_for(0, B * H, 1, [&](int64_t begin, int64_t end) {
    // Two passes per (b, q, h) as in the forward: geometry + prefetch, then the arithmetic.
    std::vector<Bilinear<scalar_t>> geo(LP);
    std::vector<int64_t> level(LP);  // level of each in-map sample; -1 = reads nothing
    for (int64_t bh = begin; bh < end; bh++) {
      const int64_t b = bh / H, h = bh % H;
      const scalar_t *vbh = V + b * S * pixStride + h * D;
      scalar_t *gvbh = GV + b * S * pixStride + h * D;
      for (int64_t q = 0; q < Q; q++) {
        const int64_t row = (b * Q + q) * H + h;  // index of (b, q, h)
        const scalar_t *lp = LOC + row * LP * 2;
        if (q + ahead < Q) {  // rows of a later query: H rows apart, too far for the hardware prefetcher
          const int64_t next = row + ahead * H;
          prefetch_span(LOC + next * LP * 2, LP * 2);
          prefetch_span(W + next * LP, LP);
          prefetch_span(GO + next * D, D);
          prefetch_span(GL + next * LP * 2, LP * 2, 1);
          prefetch_span(GW + next * LP, LP, 1);
        }
        for (int64_t l = 0, j = 0; l < L; l++) {
          const int64_t start = lv.start[l] * pixStride;
          for (int64_t p = 0; p < P; p++, j++) {
            Bilinear<scalar_t> &bl = geo[j];
            if (!bilinear_at(lp[2 * j], lp[2 * j + 1], lv.h[l], lv.w[l], bl)) {
              level[j] = -1;
              continue;
            }
            level[j] = l;
            for (int k = 0; k < 4; k++) {
              if (bl.idx[k] < 0) continue;
              bl.idx[k] = start + bl.idx[k] * pixStride;  // now an offset from vbh / gvbh
              for (int64_t d = 0; d < D; d += 64 / (int64_t)sizeof(scalar_t)) {
                __builtin_prefetch(vbh + bl.idx[k] + d);
                __builtin_prefetch(gvbh + bl.idx[k] + d, 1);
              }
            }
          }
        }
        const scalar_t *__restrict go = GO + row * D;
        const scalar_t *wp = W + row * LP;
        scalar_t *glp = GL + row * LP * 2;
        scalar_t *gwp = GW + row * LP;
        for (int64_t j = 0; j < LP; j++) {
          if (level[j] < 0) continue;  // grads stay 0
          const Bilinear<scalar_t> &bl = geo[j];
          const scalar_t w = wp[j];
          // d sample / d ly and d lx per corner (derivatives of the corner weights).
          const scalar_t hy = 1 - bl.ly, hx = 1 - bl.lx;
          const scalar_t dy[4] = {-hx, -bl.lx, hx, bl.lx};
          const scalar_t dx[4] = {-hy, hy, -bl.ly, bl.ly};
          scalar_t gw = 0, gy = 0, gx = 0;
          for (int k = 0; k < 4; k++) {
            if (bl.idx[k] < 0) continue;
            const scalar_t *__restrict v = vbh + bl.idx[k];
            scalar_t *__restrict gv = gvbh + bl.idx[k];
            const scalar_t c = w * bl.cw[k];
            for (int64_t d = 0; d < D; d++) gv[d] += c * go[d];
            const scalar_t gov = dot(go, v, D);  // <grad_out, corner value>
            gw += bl.cw[k] * gov;
            gy += dy[k] * gov;
            gx += dx[k] * gov;
          }
          gwp[j] = gw;
          glp[2 * j] = w * gx * (scalar_t)lv.w[level[j]];      // d wim / d x = W_l
          glp[2 * j + 1] = w * gy * (scalar_t)lv.h[level[j]];  // d him / d y = H_l
        }
      }
    }
  });
}

struct MSDeformAttnFunction : public torch::autograd::Function<MSDeformAttnFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &value,
                            const at::Tensor &shapes, const at::Tensor &starts, const at::Tensor &loc,
                            const at::Tensor &attn) {
    // Named in operator profiles (detr benchmark --profile) like an ATen operator.
    RECORD_FUNCTION("ctorch::ms_deform_attn", std::vector<c10::IValue>({value, loc, attn}));
    auto v = value.contiguous(), l = loc.contiguous(), a = attn.contiguous();
    Levels lv = read_levels(shapes, starts, v.size(1));
    auto out = at::empty({v.size(0), l.size(1), v.size(2) * v.size(3)}, v.options());
    AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "ms_deform_attn_forward",
                               [&] { forward_dispatch<scalar_t>(v, lv, l, a, out); });
    ctx->save_for_backward({v, shapes, starts, l, a});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    RECORD_FUNCTION("ctorch::ms_deform_attn_backward", std::vector<c10::IValue>({grads[0]}));
    auto saved = ctx->get_saved_variables();
    const at::Tensor &v = saved[0], &shapes = saved[1], &starts = saved[2], &l = saved[3], &a = saved[4];
    Levels lv = read_levels(shapes, starts, v.size(1));
    auto go = grads[0].contiguous();
    auto gv = at::zeros_like(v), gl = at::zeros_like(l), ga = at::zeros_like(a);
    AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "ms_deform_attn_backward",
                               [&] { backward_kernel<scalar_t>(v, lv, l, a, go, gv, gl, ga); });
    return {gv, at::Tensor(), at::Tensor(), gl, ga};
  }
};

// The same operation with the CUDA kernels of msda_cuda.cu (when linked in): level geometry as
// one [L, 3] int64 tensor (H_l, W_l, start_l) on the device, checked on the host first.
struct MSDeformAttnCUDAFunction : public torch::autograd::Function<MSDeformAttnCUDAFunction> {
  static at::Tensor levels_on_device(const at::Tensor &shapes, const at::Tensor &starts, int64_t S,
                                     const at::Device &device) {
    Levels lv = read_levels(shapes, starts, S);
    std::vector<int64_t> packed;
    for (int64_t l = 0; l < lv.count(); l++) packed.insert(packed.end(), {lv.h[l], lv.w[l], lv.start[l]});
    return at::tensor(packed, at::kLong).view({lv.count(), 3}).to(device);
  }

  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &value,
                            const at::Tensor &shapes, const at::Tensor &starts, const at::Tensor &loc,
                            const at::Tensor &attn) {
    RECORD_FUNCTION("ctorch::ms_deform_attn_cuda", std::vector<c10::IValue>({value, loc, attn}));
    auto v = value.contiguous(), l = loc.contiguous(), a = attn.contiguous();
    auto levels = levels_on_device(shapes, starts, v.size(1), v.device());
    auto out = msda_cuda_kernels().forward(v, levels, l, a);
    ctx->save_for_backward({v, levels, l, a});
    return out.view({v.size(0), l.size(1), v.size(2) * v.size(3)});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    RECORD_FUNCTION("ctorch::ms_deform_attn_cuda_backward", std::vector<c10::IValue>({grads[0]}));
    auto saved = ctx->get_saved_variables();
    const at::Tensor &v = saved[0], &levels = saved[1], &l = saved[2], &a = saved[3];
    auto go = grads[0].contiguous().view({v.size(0), l.size(1), v.size(2), v.size(3)});
    auto g = msda_cuda_kernels().backward(v, levels, l, a, go);
    return {g[0], at::Tensor(), at::Tensor(), g[1], g[2]};
  }
};

}  // namespace

namespace ctorch {
MSDACudaKernels &msda_cuda_kernels() {
  static MSDACudaKernels kernels;
  return kernels;
}
}  // namespace ctorch

extern "C" {

bool ct_ms_deform_attn_cuda_available(void) {
  return msda_cuda_kernels().forward != nullptr && msda_cuda_kernels().backward != nullptr;
}

ct_tensor ct_ms_deform_attn_cuda(ct_tensor value, ct_tensor spatial_shapes, ct_tensor level_start_index,
                                 ct_tensor sampling_locations, ct_tensor attention_weights) {
  CT_TRY(nullptr, {
    if (!value || !spatial_shapes || !level_start_index || !sampling_locations || !attention_weights)
      throw std::invalid_argument("ms_deform_attn_cuda: null tensor handle");
    if (!ct_ms_deform_attn_cuda_available())
      throw std::runtime_error("ms_deform_attn_cuda: this build of the shim has no CUDA kernel (built without nvcc)");
    const at::Tensor &v = T(value), &sh = T(spatial_shapes), &st = T(level_start_index);
    const at::Tensor &loc = T(sampling_locations), &w = T(attention_weights);
    check_inputs(v, sh, st, loc, w, /*cuda=*/true);
    return wrap(MSDeformAttnCUDAFunction::apply(v, sh, st, loc, w));
  })
}

ct_tensor ct_ms_deform_attn(ct_tensor value, ct_tensor spatial_shapes, ct_tensor level_start_index,
                            ct_tensor sampling_locations, ct_tensor attention_weights) {
  CT_TRY(nullptr, {
    if (!value || !spatial_shapes || !level_start_index || !sampling_locations || !attention_weights)
      throw std::invalid_argument("ms_deform_attn: null tensor handle");
    const at::Tensor &v = T(value), &sh = T(spatial_shapes), &st = T(level_start_index);
    const at::Tensor &loc = T(sampling_locations), &w = T(attention_weights);
    check_inputs(v, sh, st, loc, w);
    return wrap(MSDeformAttnFunction::apply(v, sh, st, loc, w));
  })
}

}  // extern "C"
