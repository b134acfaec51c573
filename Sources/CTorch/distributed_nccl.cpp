// The NCCL backend of data-parallel training (CUDA tensors), compiled in only where the shim is
// built against a CUDA libtorch with CTORCH_WITH_NCCL defined (Package.swift: environment variable
// CTORCH_WITH_NCCL=1; ProcessGroupNCCL.hpp needs the CUDA and NCCL headers, the symbols are in
// libtorch_cuda.so). Elsewhere asking for NCCL is an error naming that.
#include "internal.h"

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

#if defined(CTORCH_WITH_NCCL)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace ctorch {

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store> &store, int rank,
                                                    int size, std::chrono::milliseconds timeout) {
#if defined(CTORCH_WITH_NCCL)
  auto o = c10d::ProcessGroupNCCL::Options::create();
  o->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, o);
#else
  (void)store;
  (void)rank;
  (void)size;
  (void)timeout;
  throw std::runtime_error(
      "this build has no NCCL backend (build the shim against a CUDA libtorch with CTORCH_WITH_NCCL=1); use gloo");
#endif
}

}  // namespace ctorch
