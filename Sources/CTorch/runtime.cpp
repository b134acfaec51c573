// Runtime: errors, threads, seeds, devices, checksums, type mapping.
#include "internal.h"
#include <ATen/Version.h>
#include <ATen/cpu/Utils.h>
// TORCH_VERSION: torch/headeronly/version.h from libtorch 2.9 on, torch/version.h before.
#if __has_include(<torch/headeronly/version.h>)
#include <torch/headeronly/version.h>
#else
#include <torch/version.h>
#endif
#include <cstdlib>
#include <climits>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <thread>
#include <dlfcn.h>
#if defined(__linux__)
#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>
#endif

namespace ctorch {

// A CUDA build of libtorch registers its CUDA kernels and hooks when libtorch_cuda.so is loaded.
// Nothing here calls into it directly, so a linker that drops unreferenced libraries leaves it
// out: it is loaded on first use of a CUDA query instead, from the same folders as libtorch (the
// executable's rpath). A CPU-only libtorch has no such file; then CUDA stays unavailable.
void load_cuda_kernels() {
  static const bool loaded = [] {
    return dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL) != nullptr;
  }();
  (void)loaded;
}

static thread_local std::string last_error;
static thread_local bool has_error = false;

void set_error(const std::string &msg) { last_error = msg; has_error = true; }
void clear_error() { has_error = false; }

at::ScalarType to_scalar_type(int32_t code) {
  switch (code) {
    case CT_FLOAT32: return at::kFloat;
    case CT_FLOAT16: return at::kHalf;
    case CT_BFLOAT16: return at::kBFloat16;
    case CT_FLOAT64: return at::kDouble;
    case CT_INT64: return at::kLong;
    case CT_INT32: return at::kInt;
    case CT_UINT8: return at::kByte;
    case CT_BOOL: return at::kBool;
    case CT_INT8: return at::kChar;
    case CT_INT16: return at::kShort;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(code));
}

int32_t from_scalar_type(at::ScalarType st) {
  switch (st) {
    case at::kFloat: return CT_FLOAT32;
    case at::kHalf: return CT_FLOAT16;
    case at::kBFloat16: return CT_BFLOAT16;
    case at::kDouble: return CT_FLOAT64;
    case at::kLong: return CT_INT64;
    case at::kInt: return CT_INT32;
    case at::kByte: return CT_UINT8;
    case at::kBool: return CT_BOOL;
    case at::kChar: return CT_INT8;
    case at::kShort: return CT_INT16;
    default: return -1;
  }
}

at::Device to_device(int32_t dev, int32_t index) {
  if (dev == CT_CUDA) {
    load_cuda_kernels();
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return at::Device(at::kCPU);
}

at::TensorOptions options(int32_t dtype, int32_t dev, int32_t index) {
  return at::TensorOptions().dtype(to_scalar_type(dtype)).device(to_device(dev, index));
}

at::Scalar to_scalar(ct_scalar s) {
  if (s.is_int) return at::Scalar(static_cast<int64_t>(s.i));
  return at::Scalar(s.d);
}

c10::optional<at::Generator> gen(ct_generator g) {
  if (!g) return c10::nullopt;
  return g->g;
}

std::vector<int64_t> vec(const int64_t *p, int64_t n) {
  return n > 0 ? std::vector<int64_t>(p, p + n) : std::vector<int64_t>();
}

// Libtorch starts with one intra-op thread on Debian: use every core unless
// CTORCH_NUM_THREADS says otherwise. Runs when the library is loaded.
struct ThreadInit {
  ThreadInit() {
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (const char *env = std::getenv("CTORCH_NUM_THREADS")) {
      int v = std::atoi(env);
      if (v > 0) n = v;
    }
    if (n > 0) at::set_num_threads(n);
  }
};
static ThreadInit thread_init;

}  // namespace ctorch

using namespace ctorch;

extern "C" {

const char *ct_last_error(void) { return has_error ? last_error.c_str() : nullptr; }
void ct_clear_error(void) { clear_error(); }

// Each scope starts clean and restores the enclosing scope's state when it ends.
struct CaptureState { bool captured = false; std::string msg; };
static thread_local std::vector<CaptureState> capture_stack;
static thread_local std::string captured_out;

void ct_capture_begin(void) { capture_stack.emplace_back(); }
const char *ct_capture_end(void) {
  if (capture_stack.empty()) return nullptr;
  CaptureState s = std::move(capture_stack.back());
  capture_stack.pop_back();
  if (!s.captured) return nullptr;
  captured_out = s.msg;
  return captured_out.c_str();
}
int32_t ct_capture_depth(void) { return static_cast<int32_t>(capture_stack.size()); }
void ct_capture_record(const char *msg) {
  if (capture_stack.empty()) return;
  auto &s = capture_stack.back();
  if (!s.captured) { s.captured = true; s.msg = msg ? msg : "unknown error"; }
}

// glibc returns every allocation above 32 MB (and, by its trim rule, the top of the heap) to the
// system when it is freed, so each forward pays page faults to touch fresh memory again (a
// sizeable share of a forward and of a training step: Benchmarks/detectors/RESULTS.md). Keeping
// freed memory in the heap (no mmap, no trimming, one arena so worker threads reuse it too)
// removes that; peak resident memory grows a little. Settings given in
// MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_ or MALLOC_ARENA_MAX win.
int32_t ct_keep_freed_memory(void) {
  int32_t applied = 0;
#if defined(__GLIBC__)
  if (!std::getenv("MALLOC_MMAP_MAX_")) applied += mallopt(M_MMAP_MAX, 0);
  if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) applied += mallopt(M_TRIM_THRESHOLD, -1);  // -1: never trim
  if (!std::getenv("MALLOC_ARENA_MAX")) applied += mallopt(M_ARENA_MAX, 1);
#endif
  return applied;
}

// Returns the free memory of the heap to the system (whole free pages anywhere in it, not only
// its top): what a long-running process calls after a request that needed far more memory than
// the usual ones. Returns 1 when memory was released.
int32_t ct_release_free_memory(void) {
#if defined(__GLIBC__)
  return malloc_trim(0);
#else
  return 0;
#endif
}

int32_t ct_exit_with_parent(int32_t parent_pid) {
#if defined(__linux__)
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return -1;
  if (getppid() != parent_pid) raise(SIGTERM);  // the parent stopped before the request took effect
  return 0;
#else
  (void)parent_pid;
  return -1;
#endif
}

void ct_set_num_threads(int32_t n) { if (n > 0) at::set_num_threads(n); }
int32_t ct_get_num_threads(void) { return at::get_num_threads(); }
void ct_manual_seed(uint64_t seed) { CT_TRY(, { at::manual_seed(seed); return; }) }
const char *ct_engine_config(void) {
  static const std::string config = [] {
    try { return at::show_config(); } catch (const std::exception &e) { return std::string(); }
  }();
  return config.c_str();
}
const char *ct_engine_cpu_capability(void) {
  static const std::string capability = [] {
    try { return at::get_cpu_capability(); } catch (const std::exception &e) { return std::string(); }
  }();
  return capability.c_str();
}
const char *ct_engine_compiled_version(void) { return TORCH_VERSION; }
const char *ct_engine_cpu_features(void) {
  static const std::string features = [] {
    try {
      std::string names, cpu;
      for (const auto &kv : at::cpu::get_cpu_capabilities()) {
        if (kv.second.isBool() && kv.second.toBool()) names += kv.first + " ";
        if (kv.first == "cpu_name" && kv.second.isString()) cpu = kv.second.toStringRef();
      }
      return names + "\n" + cpu;
    } catch (const std::exception &e) { return std::string(); }
  }();
  return features.c_str();
}
bool ct_cuda_available(void) {
  ctorch::load_cuda_kernels();
  return at::globalContext().hasCUDA();
}
int32_t ct_cuda_device_count(void) {
  CT_TRY(0, { return ct_cuda_available() ? static_cast<int32_t>(at::detail::getCUDAHooks().getNumGPUs()) : 0; })
}
}  // extern "C"
