// Internal helpers shared by the shim's translation units (not part of the C API).
#pragma once
#include <torch/script.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <cstdlib>
#include <string>
#include <vector>
#include "ctorch.h"

struct ct_tensor_s { at::Tensor t; };
struct ct_generator_s { at::Generator g; };

namespace ctorch {

void set_error(const std::string &msg);
void clear_error();

inline ct_tensor wrap(at::Tensor t) { return new ct_tensor_s{std::move(t)}; }
inline const at::Tensor &T(ct_tensor h) { return h->t; }
inline at::Tensor opt(ct_tensor h) { return h ? h->t : at::Tensor(); }

at::ScalarType to_scalar_type(int32_t code);
int32_t from_scalar_type(at::ScalarType st);
at::Device to_device(int32_t dev, int32_t index);
// Loads libtorch_cuda.so once when the linked libtorch has one (see runtime.cpp).
void load_cuda_kernels();
at::TensorOptions options(int32_t dtype, int32_t dev, int32_t index);
at::Scalar to_scalar(ct_scalar s);
c10::optional<at::Generator> gen(ct_generator g);
std::vector<int64_t> vec(const int64_t *p, int64_t n);

// A boxed operator of the dispatcher by name and overload ("" for none), or nullptr when this
// libtorch lacks it (e.g. built without oneDNN). The handle lives for the process.
inline const c10::OperatorHandle *find_operator(const char *name, const char *overload) {
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  return handle ? new c10::OperatorHandle(*handle) : nullptr;
}

// False when the environment variable `name` is "0" (a switch that turns a fast path off).
inline bool switch_enabled(const char *name) {
  const char *env = std::getenv(name);
  return !(env && std::string(env) == "0");
}

}  // namespace ctorch

// Runs `body` (which must produce a value of the function's return type),
// converting any C++ exception into the thread-local error and `fail`.
#define CT_TRY(fail, ...)                                        \
  try {                                                           \
    ctorch::clear_error();                                        \
    __VA_ARGS__                                                   \
  } catch (const c10::Error &e) {                                 \
    ctorch::set_error(e.what_without_backtrace());                \
  } catch (const std::exception &e) {                             \
    ctorch::set_error(e.what());                                  \
  } catch (...) {                                                 \
    ctorch::set_error("unknown C++ exception in libtorch");       \
  }                                                               \
  return fail;

// A function returning a new tensor handle built from `expr`.
#define CT_TENSOR(...) CT_TRY(nullptr, { return ctorch::wrap(__VA_ARGS__); })
