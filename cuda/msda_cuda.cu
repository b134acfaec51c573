// Multi-scale deformable attention on CUDA: forward and backward kernels for the autograd Function
// of the shim (msda.cpp), with the semantics of the CPU kernel there: a location (x, y) in [0, 1] of
// level l samples value_l bilinearly at pixel coordinates (x*W_l - 0.5, y*H_l - 0.5), corners
// outside the map reading 0 (grid_sample, zero padding, align_corners=False, on 2*loc-1).
//
// Built with nvcc by the GPU bundle's build-shim.sh when the torch there has CUDA and nvcc is
// found; linking this object registers the kernels with the shim (ctorch::msda_cuda_kernels).
//
// Shapes: value [B, S, H, D], level geometry (H_l, W_l, start_l) [L, 3] int64 on the device,
// loc [B, Q, H, L, P, 2], attn [B, Q, H, L, P]; out [B, Q, H, D]. One thread per (b, q, h, d):
// the threads of one (b, q, h) are consecutive, so they read its locations and weights together.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include "msda_cuda.h"

namespace {

template <typename scalar_t>
struct Corners {
  int64_t idx[4];   // (y0,x0), (y0,x1), (y1,x0), (y1,x1) pixel index in the level; -1 = outside
  scalar_t ly, lx;  // fractional parts
};

// False when the sample reads nothing (all corners outside, or a NaN location).
template <typename scalar_t>
__device__ __forceinline__ bool corners_at(scalar_t x, scalar_t y, int64_t H, int64_t W, Corners<scalar_t> &c) {
  const scalar_t him = y * (scalar_t)H - (scalar_t)0.5;
  const scalar_t wim = x * (scalar_t)W - (scalar_t)0.5;
  if (!(him > (scalar_t)-1 && wim > (scalar_t)-1 && him < (scalar_t)H && wim < (scalar_t)W)) return false;
  const scalar_t fy = floor(him), fx = floor(wim);
  const int64_t y0 = (int64_t)fy, x0 = (int64_t)fx, y1 = y0 + 1, x1 = x0 + 1;
  c.ly = him - fy;
  c.lx = wim - fx;
  const bool y0in = y0 >= 0, y1in = y1 < H, x0in = x0 >= 0, x1in = x1 < W;
  c.idx[0] = (y0in && x0in) ? y0 * W + x0 : -1;
  c.idx[1] = (y0in && x1in) ? y0 * W + x1 : -1;
  c.idx[2] = (y1in && x0in) ? y1 * W + x0 : -1;
  c.idx[3] = (y1in && x1in) ? y1 * W + x1 : -1;
  return true;
}

template <typename scalar_t>
__global__ void forward_kernel(const scalar_t *__restrict__ value, const int64_t *__restrict__ levels,
                               const scalar_t *__restrict__ loc, const scalar_t *__restrict__ attn,
                               scalar_t *__restrict__ out, int64_t B, int64_t S, int64_t H, int64_t D, int64_t Q,
                               int64_t L, int64_t P) {
  const int64_t total = B * Q * H * D;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t d = i % D, row = i / D;  // row = (b, q, h)
    const int64_t h = row % H, b = row / (Q * H);
    const scalar_t *lp = loc + row * L * P * 2;
    const scalar_t *wp = attn + row * L * P;
    const scalar_t *vbh = value + (b * S * H + h) * D + d;  // value[b, 0, h, d]
    const int64_t pix = H * D;
    scalar_t acc = 0;
    for (int64_t l = 0; l < L; l++) {
      const int64_t lh = levels[3 * l], lw = levels[3 * l + 1], start = levels[3 * l + 2];
      const scalar_t *vl = vbh + start * pix;
      for (int64_t p = 0; p < P; p++, lp += 2, wp++) {
        Corners<scalar_t> c;
        if (!corners_at(lp[0], lp[1], lh, lw, c)) continue;
        const scalar_t hy = 1 - c.ly, hx = 1 - c.lx;
        const scalar_t cw[4] = {hy * hx, hy * c.lx, c.ly * hx, c.ly * c.lx};
        scalar_t s = 0;
        for (int k = 0; k < 4; k++)
          if (c.idx[k] >= 0) s += cw[k] * vl[c.idx[k] * pix];
        acc += *wp * s;
      }
    }
    out[i] = acc;
  }
}

template <typename scalar_t>
__global__ void backward_kernel(const scalar_t *__restrict__ value, const int64_t *__restrict__ levels,
                                const scalar_t *__restrict__ loc, const scalar_t *__restrict__ attn,
                                const scalar_t *__restrict__ gout, scalar_t *__restrict__ gvalue,
                                scalar_t *__restrict__ gloc, scalar_t *__restrict__ gattn, int64_t B, int64_t S,
                                int64_t H, int64_t D, int64_t Q, int64_t L, int64_t P) {
  const int64_t total = B * Q * H * D;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t d = i % D, row = i / D;
    const int64_t h = row % H, b = row / (Q * H);
    const scalar_t g = gout[i];
    const scalar_t *lp = loc + row * L * P * 2;
    const scalar_t *wp = attn + row * L * P;
    scalar_t *glp = gloc + row * L * P * 2;
    scalar_t *gwp = gattn + row * L * P;
    const int64_t base = (b * S * H + h) * D + d;
    const int64_t pix = H * D;
    for (int64_t l = 0; l < L; l++) {
      const int64_t lh = levels[3 * l], lw = levels[3 * l + 1], start = levels[3 * l + 2];
      const scalar_t *vl = value + base + start * pix;
      scalar_t *gvl = gvalue + base + start * pix;
      for (int64_t p = 0; p < P; p++, lp += 2, wp++, glp += 2, gwp++) {
        Corners<scalar_t> c;
        if (!corners_at(lp[0], lp[1], lh, lw, c)) continue;
        const scalar_t hy = 1 - c.ly, hx = 1 - c.lx;
        const scalar_t cw[4] = {hy * hx, hy * c.lx, c.ly * hx, c.ly * c.lx};
        scalar_t v[4];
        for (int k = 0; k < 4; k++) v[k] = c.idx[k] >= 0 ? vl[c.idx[k] * pix] : (scalar_t)0;
        const scalar_t w = *wp;
        // d out / d value at each corner
        for (int k = 0; k < 4; k++)
          if (c.idx[k] >= 0) atomicAdd(gvl + c.idx[k] * pix, g * w * cw[k]);
        // d out / d weight: the sample
        const scalar_t sample = cw[0] * v[0] + cw[1] * v[1] + cw[2] * v[2] + cw[3] * v[3];
        atomicAdd(gwp, g * sample);
        // d out / d location: through the fractional parts (pixel x = loc_x * W - 0.5)
        const scalar_t dlx = hy * (v[1] - v[0]) + c.ly * (v[3] - v[2]);
        const scalar_t dly = hx * (v[2] - v[0]) + c.lx * (v[3] - v[1]);
        atomicAdd(glp, g * w * dlx * (scalar_t)lw);
        atomicAdd(glp + 1, g * w * dly * (scalar_t)lh);
      }
    }
  }
}

int blocks_for(int64_t total, int threads) {
  const int64_t wanted = (total + threads - 1) / threads;
  return (int)std::max<int64_t>(1, std::min<int64_t>(wanted, 65535 * 8));
}

at::Tensor forward(const at::Tensor &value, const at::Tensor &levels, const at::Tensor &loc, const at::Tensor &attn) {
  const c10::cuda::CUDAGuard guard(value.device());
  const int64_t B = value.size(0), S = value.size(1), H = value.size(2), D = value.size(3);
  const int64_t Q = loc.size(1), L = loc.size(3), P = loc.size(4);
  auto out = at::empty({B, Q, H, D}, value.options());
  const int64_t total = B * Q * H * D;
  if (total == 0) return out;
  constexpr int threads = 256;
  AT_DISPATCH_FLOATING_TYPES(value.scalar_type(), "ms_deform_attn_cuda_forward", [&] {
    forward_kernel<scalar_t><<<blocks_for(total, threads), threads, 0, at::cuda::getCurrentCUDAStream()>>>(
        value.data_ptr<scalar_t>(), levels.data_ptr<int64_t>(), loc.data_ptr<scalar_t>(),
        attn.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), B, S, H, D, Q, L, P);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

std::vector<at::Tensor> backward(const at::Tensor &value, const at::Tensor &levels, const at::Tensor &loc,
                                 const at::Tensor &attn, const at::Tensor &gout) {
  const c10::cuda::CUDAGuard guard(value.device());
  const int64_t B = value.size(0), S = value.size(1), H = value.size(2), D = value.size(3);
  const int64_t Q = loc.size(1), L = loc.size(3), P = loc.size(4);
  auto gvalue = at::zeros_like(value), gloc = at::zeros_like(loc), gattn = at::zeros_like(attn);
  const int64_t total = B * Q * H * D;
  if (total == 0) return {gvalue, gloc, gattn};
  constexpr int threads = 256;
  AT_DISPATCH_FLOATING_TYPES(value.scalar_type(), "ms_deform_attn_cuda_backward", [&] {
    backward_kernel<scalar_t><<<blocks_for(total, threads), threads, 0, at::cuda::getCurrentCUDAStream()>>>(
        value.data_ptr<scalar_t>(), levels.data_ptr<int64_t>(), loc.data_ptr<scalar_t>(),
        attn.data_ptr<scalar_t>(), gout.data_ptr<scalar_t>(), gvalue.data_ptr<scalar_t>(),
        gloc.data_ptr<scalar_t>(), gattn.data_ptr<scalar_t>(), B, S, H, D, Q, L, P);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {gvalue, gloc, gattn};
}

// Registers the kernels with the shim when this object is linked in.
struct Registrar {
  Registrar() {
    ctorch::msda_cuda_kernels().forward = &forward;
    ctorch::msda_cuda_kernels().backward = &backward;
  }
} registrar;

}  // namespace
