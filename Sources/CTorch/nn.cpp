// Linear algebra, neural-network functions and losses.
#include "internal.h"
#include <ATen/CPUGeneratorImpl.h>

using namespace ctorch;

namespace {

// splitmix64's finaliser: a bijective 64-bit hash with full avalanche.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A dropout mask for `t` on CPU: each element independently 1/(1-p) with probability 1-p, else 0.
// ATen's bernoulli_ draws its CPU numbers one by one from a locked generator (MKL's vectorised
// stream only on Intel processors), which made dropout the largest single cost of a Conditional
// DETR training step on AMD machines. Here the generator gives one 64-bit seed per call (so runs
// stay reproducible and resumable from its state) and element i takes hash(seed + i·φ): a
// counter-based stream computed in parallel, with 24-bit uniforms as torch's float bernoulli has.
at::Tensor dropout_mask_cpu(const at::Tensor &t, double p, ct_generator g) {
  at::Generator generator = g ? g->g : at::detail::getDefaultCPUGenerator();
  uint64_t seed;
  {
    auto *impl = at::check_generator<at::CPUGeneratorImpl>(generator);
    std::lock_guard<std::mutex> lock(generator.mutex());
    seed = impl->random64();
  }
  const uint64_t threshold = static_cast<uint64_t>((1.0 - p) * 16777216.0);  // keep: u24 < (1-p)·2^24
  auto mask = at::empty(t.sizes(), t.options().requires_grad(false).memory_format(at::MemoryFormat::Contiguous));
  const int64_t n = mask.numel();
  AT_DISPATCH_FLOATING_TYPES(mask.scalar_type(), "dropout_mask_cpu", [&] {
    scalar_t *out = mask.data_ptr<scalar_t>();
    const scalar_t scale = static_cast<scalar_t>(1.0 / (1.0 - p));
    at::parallel_for(0, n, 1 << 15, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        uint64_t u = mix64(seed + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL) >> 40;
        out[i] = u < threshold ? scale : scalar_t(0);
      }
    });
  });
  return mask;
}

}  // namespace

extern "C" {

ct_tensor ct_matmul(ct_tensor a, ct_tensor b) { CT_TENSOR(at::matmul(T(a), T(b))) }
ct_tensor ct_bmm(ct_tensor a, ct_tensor b) { CT_TENSOR(at::bmm(T(a), T(b))) }
ct_tensor ct_baddbmm(ct_tensor s, ct_tensor a, ct_tensor b, double beta, double alpha) {
  CT_TENSOR(at::baddbmm(T(s), T(a), T(b), beta, alpha))
}
ct_tensor ct_cdist(ct_tensor a, ct_tensor b, double p) { CT_TENSOR(at::cdist(T(a), T(b), p)) }
ct_tensor ct_einsum(const char *eq, const ct_tensor *ts, int64_t n) {
  CT_TRY(nullptr, {
    std::vector<at::Tensor> v;
    for (int64_t i = 0; i < n; i++) v.push_back(T(ts[i]));
    return wrap(at::einsum(eq, v));
  })
}

ct_tensor ct_softmax(ct_tensor t, int64_t d) { CT_TENSOR(at::softmax(T(t), d)) }
ct_tensor ct_scaled_dot_product_attention(ct_tensor q, ct_tensor k, ct_tensor v, ct_tensor mask, double scale) {
  CT_TENSOR(at::scaled_dot_product_attention(T(q), T(k), T(v), mask ? c10::optional<at::Tensor>(T(mask)) : c10::nullopt,
                                             0.0, false, scale))
}
ct_tensor ct_log_softmax(ct_tensor t, int64_t d) { CT_TENSOR(at::log_softmax(T(t), d)) }
ct_tensor ct_max_pool2d(ct_tensor x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                        int64_t dh, int64_t dw, bool ceil_mode) {
  CT_TENSOR(at::max_pool2d(T(x), {kh, kw}, {sh, sw}, {ph, pw}, {dh, dw}, ceil_mode))
}
ct_tensor ct_avg_pool2d(ct_tensor x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  CT_TENSOR(at::avg_pool2d(T(x), {kh, kw}, {sh, sw}, {ph, pw}))
}
ct_tensor ct_adaptive_avg_pool2d(ct_tensor x, int64_t oh, int64_t ow) {
  CT_TENSOR(at::adaptive_avg_pool2d(T(x), {oh, ow}))
}
ct_tensor ct_interpolate(ct_tensor x, int64_t oh, int64_t ow, int32_t mode, bool ac) {
  CT_TRY(nullptr, {
    std::vector<int64_t> size = {oh, ow};
    switch (mode) {
      case 0: return wrap(at::upsample_nearest2d(T(x), size, c10::nullopt, c10::nullopt));
      case 1: return wrap(at::upsample_bilinear2d(T(x), size, ac, c10::nullopt, c10::nullopt));
      case 2: return wrap(at::_upsample_bilinear2d_aa(T(x), size, ac, c10::nullopt, c10::nullopt));
      case 3: return wrap(at::upsample_bicubic2d(T(x), size, ac, c10::nullopt, c10::nullopt));
    }
    throw std::invalid_argument("unknown interpolation mode " + std::to_string(mode));
  })
}
ct_tensor ct_grid_sample(ct_tensor x, ct_tensor g, int32_t mode, int32_t pad, bool ac) {
  CT_TENSOR(at::grid_sampler(T(x), T(g), mode, pad, ac))
}
ct_tensor ct_layer_norm(ct_tensor x, const int64_t *s, int64_t n, ct_tensor w, ct_tensor b, double eps) {
  CT_TENSOR(at::layer_norm(T(x), vec(s, n), opt(w), opt(b), eps))
}
ct_tensor ct_group_norm(ct_tensor x, int64_t g, ct_tensor w, ct_tensor b, double eps) {
  CT_TENSOR(at::group_norm(T(x), g, opt(w), opt(b), eps))
}
ct_tensor ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor rm, ct_tensor rv, bool training,
                        double momentum, double eps) {
  CT_TENSOR(at::batch_norm(T(x), opt(w), opt(b), opt(rm), opt(rv), training, momentum, eps, false))
}
ct_tensor ct_dropout(ct_tensor x, double p, bool training, ct_generator g, bool torch_stream) {
  CT_TRY(nullptr, {
    const at::Tensor &t = T(x);
    if (p < 0 || p > 1)
      throw std::invalid_argument("dropout probability has to be between 0 and 1, but got " + std::to_string(p));
    if (!training || p == 0) return wrap(t);
    if (p >= 1) return wrap(t * 0);
    // Mask drawn from our generator (so dropout is reproducible), scaled like F.dropout.
    if (!torch_stream && t.device().is_cpu() && (t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble))
      return wrap(t * dropout_mask_cpu(t, p, g));
    auto keep = at::empty_like(t, t.options().requires_grad(false)).bernoulli_(1 - p, gen(g));
    return wrap(t * keep / (1 - p));
  })
}
ct_tensor ct_embedding(ct_tensor w, ct_tensor i) { CT_TENSOR(at::embedding(T(w), T(i))) }
ct_tensor ct_one_hot(ct_tensor t, int64_t n) { CT_TENSOR(at::one_hot(T(t), n)) }
ct_tensor ct_pad(ct_tensor x, const int64_t *p, int64_t n, double v) { CT_TENSOR(at::constant_pad_nd(T(x), vec(p, n), v)) }
ct_tensor ct_pixel_shuffle(ct_tensor x, int64_t f) { CT_TENSOR(at::pixel_shuffle(T(x), f)) }

ct_tensor ct_bce_with_logits(ct_tensor x, ct_tensor t, ct_tensor w, int32_t r) {
  CT_TENSOR(at::binary_cross_entropy_with_logits(T(x), T(t), opt(w), at::Tensor(), r))
}
ct_tensor ct_bce(ct_tensor x, ct_tensor t, ct_tensor w, int32_t r) {
  CT_TENSOR(at::binary_cross_entropy(T(x), T(t), opt(w), r))
}
ct_tensor ct_l1_loss(ct_tensor x, ct_tensor t, int32_t r) { CT_TENSOR(at::l1_loss(T(x), T(t), r)) }
ct_tensor ct_mse_loss(ct_tensor x, ct_tensor t, int32_t r) { CT_TENSOR(at::mse_loss(T(x), T(t), r)) }
ct_tensor ct_smooth_l1_loss(ct_tensor x, ct_tensor t, int32_t r, double beta) {
  CT_TENSOR(at::smooth_l1_loss(T(x), T(t), r, beta))
}
ct_tensor ct_cross_entropy(ct_tensor x, ct_tensor t, ct_tensor w, int32_t r, int64_t ig) {
  // Classes are dim 1 of [N, C, ...], or dim 0 of an unbatched [C] input (as F.cross_entropy).
  CT_TENSOR(at::nll_loss_nd(at::log_softmax(T(x), T(x).dim() == 1 ? 0 : 1), T(t), opt(w), r, ig))
}

}  // extern "C"
