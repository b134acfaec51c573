// Handles, metadata, raw data in/out, creation, random numbers, conversion.
#include "internal.h"
#include <ATen/CPUGeneratorImpl.h>
#include <sstream>

using namespace ctorch;

extern "C" {

void ct_free(ct_tensor t) { delete t; }
ct_tensor ct_shallow_clone(ct_tensor t) { CT_TENSOR(T(t)) }
ct_tensor ct_undefined(void) { return wrap(at::Tensor()); }
bool ct_defined(ct_tensor t) { return t && t->t.defined(); }
int64_t ct_dim(ct_tensor t) { CT_TRY(-1, { return T(t).dim(); }) }
int64_t ct_size(ct_tensor t, int64_t d) { CT_TRY(-1, { return T(t).size(d); }) }
int64_t ct_stride(ct_tensor t, int64_t d) { CT_TRY(-1, { return T(t).stride(d); }) }
void ct_sizes(ct_tensor t, int64_t *out) {
  CT_TRY(, { auto s = T(t).sizes(); std::copy(s.begin(), s.end(), out); return; })
}
void ct_strides(ct_tensor t, int64_t *out) {
  CT_TRY(, { auto s = T(t).strides(); std::copy(s.begin(), s.end(), out); return; })
}
int64_t ct_numel(ct_tensor t) { CT_TRY(-1, { return T(t).numel(); }) }
int32_t ct_dtype(ct_tensor t) { CT_TRY(-1, { return from_scalar_type(T(t).scalar_type()); }) }
int32_t ct_device_type(ct_tensor t) { CT_TRY(-1, { return T(t).device().is_cuda() ? CT_CUDA : CT_CPU; }) }
int32_t ct_device_index(ct_tensor t) { CT_TRY(-1, { return T(t).device().index(); }) }
bool ct_is_contiguous(ct_tensor t) { CT_TRY(false, { return T(t).is_contiguous(); }) }
int64_t ct_storage_offset(ct_tensor t) { CT_TRY(-1, { return T(t).storage_offset(); }) }
int64_t ct_element_size(ct_tensor t) { CT_TRY(-1, { return static_cast<int64_t>(T(t).element_size()); }) }
const char *ct_describe(ct_tensor t) {
  static thread_local std::string s;
  CT_TRY(nullptr, { std::ostringstream os; os << T(t); s = os.str(); return s.c_str(); })
}

ct_tensor ct_from_data(const void *data, size_t nbytes, int32_t dtype, const int64_t *sizes, int64_t ndim) {
  CT_TRY(nullptr, {
    auto out = at::empty(vec(sizes, ndim), options(dtype, CT_CPU, 0));
    size_t need = static_cast<size_t>(out.numel()) * out.element_size();
    if (need != nbytes)
      throw std::invalid_argument("ct_from_data: " + std::to_string(nbytes) + " bytes given, shape needs " +
                                  std::to_string(need));
    if (need) std::memcpy(out.data_ptr(), data, need);
    return wrap(out);
  })
}

int32_t ct_copy_to(ct_tensor t, void *dst, size_t nbytes) {
  CT_TRY(-1, {
    auto c = T(t).detach().to(at::kCPU).contiguous();
    size_t have = static_cast<size_t>(c.numel()) * c.element_size();
    if (have != nbytes)
      throw std::invalid_argument("ct_copy_to: tensor has " + std::to_string(have) + " bytes, buffer " +
                                  std::to_string(nbytes));
    if (have) std::memcpy(dst, c.data_ptr(), have);
    return 0;
  })
}

double ct_item_double(ct_tensor t) { CT_TRY(0.0, { return T(t).item<double>(); }) }
int64_t ct_item_int(ct_tensor t) { CT_TRY(0, { return T(t).item<int64_t>(); }) }

ct_tensor ct_zeros(const int64_t *s, int64_t n, int32_t dt, int32_t dev, int32_t di) {
  CT_TENSOR(at::zeros(vec(s, n), options(dt, dev, di)))
}
ct_tensor ct_ones(const int64_t *s, int64_t n, int32_t dt, int32_t dev, int32_t di) {
  CT_TENSOR(at::ones(vec(s, n), options(dt, dev, di)))
}
ct_tensor ct_full(const int64_t *s, int64_t n, ct_scalar v, int32_t dt, int32_t dev, int32_t di) {
  CT_TENSOR(at::full(vec(s, n), to_scalar(v), options(dt, dev, di)))
}
ct_tensor ct_empty(const int64_t *s, int64_t n, int32_t dt, int32_t dev, int32_t di) {
  CT_TENSOR(at::empty(vec(s, n), options(dt, dev, di)))
}
ct_tensor ct_arange(ct_scalar a, ct_scalar b, ct_scalar step, int32_t dt, int32_t dev, int32_t di) {
  CT_TENSOR(at::arange(to_scalar(a), to_scalar(b), to_scalar(step), options(dt, dev, di)))
}
ct_tensor ct_linspace(double a, double b, int64_t steps, int32_t dt, int32_t dev, int32_t di) {
  CT_TENSOR(at::linspace(a, b, steps, options(dt, dev, di)))
}
ct_tensor ct_eye(int64_t n, int32_t dt, int32_t dev, int32_t di) { CT_TENSOR(at::eye(n, options(dt, dev, di))) }
ct_tensor ct_zeros_like(ct_tensor t) { CT_TENSOR(at::zeros_like(T(t))) }
ct_tensor ct_ones_like(ct_tensor t) { CT_TENSOR(at::ones_like(T(t))) }
ct_tensor ct_full_like(ct_tensor t, ct_scalar v) { CT_TENSOR(at::full_like(T(t), to_scalar(v))) }

ct_generator ct_generator_new(uint64_t seed) {
  CT_TRY(nullptr, { return new ct_generator_s{at::detail::createCPUGenerator(seed)}; })
}
void ct_generator_free(ct_generator g) { delete g; }
void ct_generator_set_seed(ct_generator g, uint64_t seed) {
  CT_TRY(, { std::lock_guard<std::mutex> lock(g->g.mutex()); g->g.set_current_seed(seed); return; })
}
ct_tensor ct_generator_get_state(ct_generator g) {
  CT_TRY(nullptr, { std::lock_guard<std::mutex> lock(g->g.mutex()); return wrap(g->g.get_state()); })
}
int32_t ct_generator_set_state(ct_generator g, ct_tensor state) {
  CT_TRY(-1, { std::lock_guard<std::mutex> lock(g->g.mutex()); g->g.set_state(T(state)); return 0; })
}
ct_tensor ct_randn(const int64_t *s, int64_t n, ct_generator g, int32_t dt, int32_t dev, int32_t di) {
  CT_TENSOR(at::randn(vec(s, n), gen(g), options(dt, dev, di)))
}
ct_tensor ct_rand(const int64_t *s, int64_t n, ct_generator g, int32_t dt, int32_t dev, int32_t di) {
  CT_TENSOR(at::rand(vec(s, n), gen(g), options(dt, dev, di)))
}
ct_tensor ct_randint(int64_t low, int64_t high, const int64_t *s, int64_t n, ct_generator g, int32_t dt, int32_t dev,
                     int32_t di) {
  CT_TENSOR(at::randint(low, high, vec(s, n), gen(g), options(dt, dev, di)))
}
ct_tensor ct_randperm(int64_t n, ct_generator g, int32_t dev, int32_t di) {
  CT_TENSOR(at::randperm(n, gen(g), options(CT_INT64, dev, di)))
}
ct_tensor ct_bernoulli(ct_tensor p, ct_generator g) { CT_TENSOR(at::bernoulli(T(p), gen(g))) }
ct_tensor ct_uniform_(ct_tensor t, double a, double b, ct_generator g) {
  CT_TENSOR(at::Tensor(T(t)).uniform_(a, b, gen(g)))
}
ct_tensor ct_normal_(ct_tensor t, double m, double s, ct_generator g) {
  CT_TENSOR(at::Tensor(T(t)).normal_(m, s, gen(g)))
}

ct_tensor ct_to_dtype(ct_tensor t, int32_t dt) { CT_TENSOR(T(t).to(to_scalar_type(dt))) }
ct_tensor ct_to_device(ct_tensor t, int32_t dev, int32_t di) { CT_TENSOR(T(t).to(to_device(dev, di))) }
ct_tensor ct_contiguous(ct_tensor t) { CT_TENSOR(T(t).contiguous()) }
static at::MemoryFormat memory_format(int32_t f) {
  if (f == CT_CHANNELS_LAST) return at::MemoryFormat::ChannelsLast;
  if (f == CT_CONTIGUOUS) return at::MemoryFormat::Contiguous;
  throw std::invalid_argument("unknown memory format code " + std::to_string(f));
}
ct_tensor ct_contiguous_format(ct_tensor t, int32_t f) { CT_TENSOR(T(t).contiguous(memory_format(f))) }
bool ct_is_contiguous_format(ct_tensor t, int32_t f) { CT_TRY(false, { return T(t).is_contiguous(memory_format(f)); }) }
int64_t ct_version(ct_tensor t) { CT_TRY(-1, { return static_cast<int64_t>(T(t)._version()); }) }
ct_tensor ct_clone(ct_tensor t) { CT_TENSOR(T(t).clone()) }

}  // extern "C"
