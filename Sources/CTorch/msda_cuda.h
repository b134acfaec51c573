// The CUDA kernels of multi-scale deformable attention, when the shim is built with them: the
// object compiled by nvcc from cuda/msda_cuda.cu fills this table when it is linked in (the GPU
// bundle's build-shim.sh does that); otherwise the entries stay null and the CUDA path of the
// shim reports that this build has no such kernel.
#pragma once
#include <ATen/ATen.h>
#include <vector>

namespace ctorch {

struct MSDACudaKernels {
  // value [B, S, H, D], levels [L, 3] int64 (H_l, W_l, start_l) on the device,
  // loc [B, Q, H, L, P, 2], attn [B, Q, H, L, P] -> [B, Q, H, D]
  at::Tensor (*forward)(const at::Tensor &value, const at::Tensor &levels, const at::Tensor &loc,
                        const at::Tensor &attn) = nullptr;
  // -> {grad value, grad loc, grad attn}
  std::vector<at::Tensor> (*backward)(const at::Tensor &value, const at::Tensor &levels, const at::Tensor &loc,
                                      const at::Tensor &attn, const at::Tensor &grad_out) = nullptr;
};

MSDACudaKernels &msda_cuda_kernels();

}  // namespace ctorch
