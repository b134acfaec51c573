// Elementwise arithmetic, comparisons, reductions and sorting.
#include "internal.h"
#include <algorithm>

using namespace ctorch;

namespace {

at::Tensor binary(int32_t op, const at::Tensor &a, const at::Tensor &b) {
  switch (op) {
    case CT_ADD: return a + b;
    case CT_SUB: return a - b;
    case CT_MUL: return a * b;
    case CT_DIV: return a / b;
    case CT_POW: return at::pow(a, b);
    case CT_REMAINDER: return at::remainder(a, b);
    case CT_FLOOR_DIVIDE: return at::div(a, b, "floor");
    case CT_MAXIMUM: return at::maximum(a, b);
    case CT_MINIMUM: return at::minimum(a, b);
    case CT_EQ: return at::eq(a, b);
    case CT_NE: return at::ne(a, b);
    case CT_LT: return at::lt(a, b);
    case CT_LE: return at::le(a, b);
    case CT_GT: return at::gt(a, b);
    case CT_GE: return at::ge(a, b);
    case CT_LOGICAL_AND: return at::logical_and(a, b);
    case CT_LOGICAL_OR: return at::logical_or(a, b);
    case CT_LOGICAL_XOR: return at::logical_xor(a, b);
    case CT_ATAN2: return at::atan2(a, b);
    case CT_DIV_TRUNC: return at::div(a, b, "trunc");
    case CT_DIV_FLOOR: return at::div(a, b, "floor");
  }
  throw std::invalid_argument("unknown binary op " + std::to_string(op));
}

// A 0-dim tensor for a scalar operand, typed so that PyTorch's promotion of
// "tensor op python-number" applies (wrapped numbers do not upcast the tensor).
at::Tensor scalar_tensor(const at::Tensor &like, ct_scalar s) {
  auto st = at::scalar_tensor(to_scalar(s), at::TensorOptions().device(like.device())
                                               .dtype(s.is_int ? at::kLong : at::kDouble));
  st.unsafeGetTensorImpl()->set_wrapped_number(true);
  return st;
}

at::Tensor unary(int32_t op, const at::Tensor &a) {
  switch (op) {
    case CT_NEG: return at::neg(a);
    case CT_ABS: return at::abs(a);
    case CT_EXP: return at::exp(a);
    case CT_LOG: return at::log(a);
    case CT_SQRT: return at::sqrt(a);
    case CT_RSQRT: return at::rsqrt(a);
    case CT_SIN: return at::sin(a);
    case CT_COS: return at::cos(a);
    case CT_TANH: return at::tanh(a);
    case CT_SIGMOID: return at::sigmoid(a);
    case CT_RELU: return at::relu(a);
    case CT_SILU: return at::silu(a);
    case CT_GELU: return at::gelu(a, "none");
    case CT_GELU_TANH: return at::gelu(a, "tanh");
    case CT_FLOOR: return at::floor(a);
    case CT_CEIL: return at::ceil(a);
    case CT_ROUND: return at::round(a);
    case CT_SIGN: return at::sign(a);
    case CT_LOGICAL_NOT: return at::logical_not(a);
    case CT_RECIPROCAL: return at::reciprocal(a);
    case CT_LOG1P: return at::log1p(a);
    case CT_EXPM1: return at::expm1(a);
    case CT_ISNAN: return at::isnan(a);
    case CT_ISINF: return at::isinf(a);
    case CT_ISFINITE: return at::isfinite(a);
    case CT_SQUARE: return a * a;
    case CT_TRUNC: return at::trunc(a);
    case CT_ATAN: return at::atan(a);
    case CT_LOG2: return at::log2(a);
    case CT_BITWISE_NOT: return at::bitwise_not(a);
    case CT_HARDSIGMOID: return at::hardsigmoid(a);
    case CT_ERF: return at::erf(a);
  }
  throw std::invalid_argument("unknown unary op " + std::to_string(op));
}

c10::optional<at::Scalar> opt_scalar(bool has, double v) {
  if (!has) return c10::nullopt;
  return at::Scalar(v);
}

// Reduces `x` over `dims` one dimension at a time (for ops without a dim-list overload).
template <typename F>
at::Tensor reduce_each(const at::Tensor &x, std::vector<int64_t> dims, bool keepdim, F one) {
  for (auto &d : dims) d = c10::maybe_wrap_dim(d, x.dim());
  std::sort(dims.rbegin(), dims.rend());  // highest first, so earlier removals do not shift later dims
  if (std::adjacent_find(dims.begin(), dims.end()) != dims.end())
    throw std::invalid_argument("reduction: a dimension appears more than once in the dim list");
  at::Tensor r = x;
  for (auto d : dims) r = one(r, d, keepdim);
  return r;
}

// An empty `dims` reduces every dimension. The dims are spelled out so `keepdim` applies and the
// meaning does not depend on how a libtorch version treats `dim=[]`. A 0-dim tensor is reduced as
// a 1-element vector (PyTorch gives a 0-dim result for it, keepdim or not).
at::Tensor reduce(int32_t op, const at::Tensor &t, std::vector<int64_t> dims, bool keepdim) {
  const bool all = dims.empty();
  const at::Tensor x = t.dim() == 0 ? t.reshape({1}) : t;
  if (t.dim() == 0) keepdim = false;
  if (all)
    for (int64_t d = 0; d < x.dim(); d++) dims.push_back(d);
  const std::vector<int64_t> kept(static_cast<size_t>(x.dim()), 1);
  switch (op) {
    case CT_SUM: return x.sum(dims, keepdim);
    case CT_NANSUM: return at::nansum(x, dims, keepdim);
    case CT_MEAN: return x.mean(dims, keepdim);
    case CT_PROD:
      if (all) return keepdim ? x.prod().reshape(kept) : x.prod();
      return reduce_each(x, dims, keepdim, [](const at::Tensor &r, int64_t d, bool k) { return r.prod(d, k); });
    case CT_AMAX: return at::amax(x, dims, keepdim);
    case CT_AMIN: return at::amin(x, dims, keepdim);
    case CT_ANY:
      if (all) return keepdim ? x.any().reshape(kept) : x.any();
      return reduce_each(x, dims, keepdim, [](const at::Tensor &r, int64_t d, bool k) { return r.any(d, k); });
    case CT_ALL:
      if (all) return keepdim ? x.all().reshape(kept) : x.all();
      return reduce_each(x, dims, keepdim, [](const at::Tensor &r, int64_t d, bool k) { return r.all(d, k); });
    case CT_NORM2: return all && !keepdim ? at::norm(x) : at::norm(x, 2, dims, keepdim);
    case CT_LOGSUMEXP: return at::logsumexp(x, dims, keepdim);
  }
  throw std::invalid_argument("unknown reduction " + std::to_string(op));
}

// Variance (or standard deviation) with `correction` (N - correction divisor).
// at::var's `correction` parameter changed type between 1.13 (optional<int64_t>) and 2.x
// (optional<Scalar>), and a plain int64_t argument binds to the `bool unbiased` overload in
// both (so correction 2 acted like 1). Use the unbiased overload and rescale other corrections.
at::Tensor variance(const at::Tensor &t, const std::vector<int64_t> &dims, int64_t corr, bool keepdim,
                    bool take_sqrt) {
  auto d = dims.empty() ? at::OptionalIntArrayRef(c10::nullopt) : at::OptionalIntArrayRef(dims);
  if (corr == 0 || corr == 1) return take_sqrt ? at::std(t, d, corr == 1, keepdim) : at::var(t, d, corr == 1, keepdim);
  int64_t count = 1;
  if (dims.empty()) count = t.numel();
  else for (auto dim : dims) count *= t.size(dim);
  double divisor = std::max<double>(static_cast<double>(count - corr), 0.0);  // 0 gives inf/nan as in PyTorch
  auto v = at::var(t, d, false, keepdim) * (static_cast<double>(count) / divisor);
  return take_sqrt ? v.sqrt() : v;
}

int32_t pair(std::tuple<at::Tensor, at::Tensor> r, ct_tensor *a, ct_tensor *b) {
  *a = wrap(std::get<0>(r));
  *b = wrap(std::get<1>(r));
  return 0;
}

}  // namespace

extern "C" {

ct_tensor ct_binary(int32_t op, ct_tensor a, ct_tensor b) { CT_TENSOR(binary(op, T(a), T(b))) }
ct_tensor ct_binary_scalar(int32_t op, ct_tensor a, ct_scalar b) {
  CT_TENSOR(binary(op, T(a), scalar_tensor(T(a), b)))
}
ct_tensor ct_scalar_binary(int32_t op, ct_scalar a, ct_tensor b) {
  CT_TENSOR(binary(op, scalar_tensor(T(b), a), T(b)))
}
ct_tensor ct_unary(int32_t op, ct_tensor a) { CT_TENSOR(unary(op, T(a))) }
ct_tensor ct_clamp(ct_tensor a, bool hmin, double mn, bool hmax, double mx) {
  CT_TENSOR(at::clamp(T(a), opt_scalar(hmin, mn), opt_scalar(hmax, mx)))
}
ct_tensor ct_leaky_relu(ct_tensor a, double slope) { CT_TENSOR(at::leaky_relu(T(a), slope)) }
ct_tensor ct_where(ct_tensor c, ct_tensor a, ct_tensor b) { CT_TENSOR(at::where(T(c), T(a), T(b))) }
ct_tensor ct_masked_fill(ct_tensor t, ct_tensor m, ct_scalar v) { CT_TENSOR(T(t).masked_fill(T(m), to_scalar(v))) }
ct_tensor ct_lerp(ct_tensor a, ct_tensor b, double w) { CT_TENSOR(at::lerp(T(a), T(b), w)) }

ct_tensor ct_inplace_binary(int32_t op, ct_tensor a, ct_tensor b) {
  CT_TRY(nullptr, {
    at::Tensor x = T(a);
    switch (op) {
      case CT_ADD: x.add_(T(b)); break;
      case CT_SUB: x.sub_(T(b)); break;
      case CT_MUL: x.mul_(T(b)); break;
      case CT_DIV: x.div_(T(b)); break;
      default: throw std::invalid_argument("in-place op supports add/sub/mul/div");
    }
    return wrap(x);
  })
}
ct_tensor ct_inplace_binary_scalar(int32_t op, ct_tensor a, ct_scalar b) {
  CT_TRY(nullptr, {
    at::Tensor x = T(a);
    at::Scalar s = to_scalar(b);
    switch (op) {
      case CT_ADD: x.add_(s); break;
      case CT_SUB: x.sub_(s); break;
      case CT_MUL: x.mul_(s); break;
      case CT_DIV: x.div_(s); break;
      default: throw std::invalid_argument("in-place op supports add/sub/mul/div");
    }
    return wrap(x);
  })
}
ct_tensor ct_add_scaled_(ct_tensor a, ct_tensor b, double alpha) { CT_TENSOR(at::Tensor(T(a)).add_(T(b), alpha)) }
ct_tensor ct_relu_(ct_tensor a) { CT_TENSOR(at::Tensor(T(a)).relu_()) }
ct_tensor ct_addcmul(ct_tensor a, ct_tensor b, ct_tensor c, double v) { CT_TENSOR(at::addcmul(T(a), T(b), T(c), v)) }
ct_tensor ct_addcmul_(ct_tensor a, ct_tensor b, ct_tensor c, double v) {
  CT_TENSOR(at::Tensor(T(a)).addcmul_(T(b), T(c), v))
}
ct_tensor ct_addcdiv_(ct_tensor a, ct_tensor b, ct_tensor c, double v) {
  CT_TENSOR(at::Tensor(T(a)).addcdiv_(T(b), T(c), v))
}
ct_tensor ct_copy_(ct_tensor d, ct_tensor s) { CT_TENSOR(at::Tensor(T(d)).copy_(T(s))) }
ct_tensor ct_fill_(ct_tensor t, ct_scalar v) { CT_TENSOR(at::Tensor(T(t)).fill_(to_scalar(v))) }
ct_tensor ct_zero_(ct_tensor t) { CT_TENSOR(at::Tensor(T(t)).zero_()) }
ct_tensor ct_masked_fill_(ct_tensor t, ct_tensor m, ct_scalar v) {
  CT_TENSOR(at::Tensor(T(t)).masked_fill_(T(m), to_scalar(v)))
}
ct_tensor ct_clamp_(ct_tensor a, bool hmin, double mn, bool hmax, double mx) {
  CT_TENSOR(at::Tensor(T(a)).clamp_(opt_scalar(hmin, mn), opt_scalar(hmax, mx)))
}

ct_tensor ct_reduce(int32_t op, ct_tensor t, const int64_t *dims, int64_t n, bool keepdim) {
  CT_TENSOR(reduce(op, T(t), vec(dims, n), keepdim))
}
ct_tensor ct_var(ct_tensor t, const int64_t *dims, int64_t n, int64_t corr, bool keepdim) {
  CT_TENSOR(variance(T(t), vec(dims, n), corr, keepdim, false))
}
ct_tensor ct_std(ct_tensor t, const int64_t *dims, int64_t n, int64_t corr, bool keepdim) {
  CT_TENSOR(variance(T(t), vec(dims, n), corr, keepdim, true))
}
int32_t ct_max_dim(ct_tensor t, int64_t d, bool k, ct_tensor *v, ct_tensor *i) {
  CT_TRY(-1, { return pair(at::max(T(t), d, k), v, i); })
}
int32_t ct_min_dim(ct_tensor t, int64_t d, bool k, ct_tensor *v, ct_tensor *i) {
  CT_TRY(-1, { return pair(at::min(T(t), d, k), v, i); })
}
ct_tensor ct_argmax(ct_tensor t, int64_t d, bool has, bool k) {
  CT_TENSOR(at::argmax(T(t), has ? c10::optional<int64_t>(d) : c10::nullopt, k))
}
ct_tensor ct_argmin(ct_tensor t, int64_t d, bool has, bool k) {
  CT_TENSOR(at::argmin(T(t), has ? c10::optional<int64_t>(d) : c10::nullopt, k))
}
ct_tensor ct_cumsum(ct_tensor t, int64_t d) { CT_TENSOR(at::cumsum(T(t), d)) }
ct_tensor ct_cumprod(ct_tensor t, int64_t d) { CT_TENSOR(at::cumprod(T(t), d)) }
int32_t ct_topk(ct_tensor t, int64_t k, int64_t d, bool largest, bool sorted, ct_tensor *v, ct_tensor *i) {
  CT_TRY(-1, { return pair(at::topk(T(t), k, d, largest, sorted), v, i); })
}
int32_t ct_sort(ct_tensor t, int64_t d, bool desc, bool stable, ct_tensor *v, ct_tensor *i) {
  CT_TRY(-1, { return pair(at::sort(T(t), stable, d, desc), v, i); })
}
ct_tensor ct_argsort(ct_tensor t, int64_t d, bool desc, bool stable) {
  CT_TENSOR(std::get<1>(at::sort(T(t), stable, d, desc)))
}

}  // extern "C"
