// Views, reshaping, joining/splitting, slicing and advanced indexing.
#include "internal.h"
#include <cstdlib>

using namespace ctorch;

namespace {

std::vector<at::Tensor> tensors(const ct_tensor *ts, int64_t n) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) v.push_back(T(ts[i]));
  return v;
}

int64_t list_out(const std::vector<at::Tensor> &v, ct_tensor **out) {
  auto *arr = static_cast<ct_tensor *>(std::malloc(sizeof(ct_tensor) * (v.empty() ? 1 : v.size())));
  if (!arr) throw std::bad_alloc();
  for (size_t i = 0; i < v.size(); i++) arr[i] = wrap(v[i]);
  *out = arr;
  return static_cast<int64_t>(v.size());
}

c10::List<c10::optional<at::Tensor>> index_list(const ct_tensor *idx, int64_t n) {
  c10::List<c10::optional<at::Tensor>> l;
  for (int64_t i = 0; i < n; i++) {
    if (idx[i]) l.push_back(c10::optional<at::Tensor>(T(idx[i])));
    else l.push_back(c10::optional<at::Tensor>());
  }
  return l;
}

}  // namespace

extern "C" {

ct_tensor ct_view(ct_tensor t, const int64_t *s, int64_t n) { CT_TENSOR(T(t).view(vec(s, n))) }
ct_tensor ct_reshape(ct_tensor t, const int64_t *s, int64_t n) { CT_TENSOR(T(t).reshape(vec(s, n))) }
ct_tensor ct_permute(ct_tensor t, const int64_t *d, int64_t n) { CT_TENSOR(T(t).permute(vec(d, n))) }
ct_tensor ct_transpose(ct_tensor t, int64_t a, int64_t b) { CT_TENSOR(T(t).transpose(a, b)) }
ct_tensor ct_flatten(ct_tensor t, int64_t a, int64_t b) { CT_TENSOR(T(t).flatten(a, b)) }
ct_tensor ct_unflatten(ct_tensor t, int64_t d, const int64_t *s, int64_t n) {
  CT_TRY(nullptr, {
    const at::Tensor &x = T(t);
    int64_t dim = d < 0 ? d + x.dim() : d;
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    std::vector<int64_t> inner = vec(s, n);
    shape.erase(shape.begin() + dim);
    shape.insert(shape.begin() + dim, inner.begin(), inner.end());
    return wrap(x.view(shape));
  })
}
ct_tensor ct_expand(ct_tensor t, const int64_t *s, int64_t n) { CT_TENSOR(T(t).expand(vec(s, n))) }
ct_tensor ct_repeat(ct_tensor t, const int64_t *r, int64_t n) { CT_TENSOR(T(t).repeat(vec(r, n))) }
ct_tensor ct_repeat_interleave(ct_tensor t, int64_t r, int64_t d) { CT_TENSOR(T(t).repeat_interleave(r, d)) }
ct_tensor ct_squeeze(ct_tensor t, int64_t d, bool all) { CT_TENSOR(all ? T(t).squeeze() : T(t).squeeze(d)) }
ct_tensor ct_unsqueeze(ct_tensor t, int64_t d) { CT_TENSOR(T(t).unsqueeze(d)) }
ct_tensor ct_as_strided(ct_tensor t, const int64_t *s, const int64_t *st, int64_t n, int64_t off) {
  CT_TENSOR(T(t).as_strided(vec(s, n), vec(st, n), off))
}
ct_tensor ct_flip(ct_tensor t, const int64_t *d, int64_t n) { CT_TENSOR(T(t).flip(vec(d, n))) }
ct_tensor ct_roll(ct_tensor t, int64_t shift, int64_t d) { CT_TENSOR(T(t).roll({shift}, {d})) }
ct_tensor ct_cat(const ct_tensor *ts, int64_t n, int64_t d) { CT_TENSOR(at::cat(tensors(ts, n), d)) }
ct_tensor ct_stack(const ct_tensor *ts, int64_t n, int64_t d) { CT_TENSOR(at::stack(tensors(ts, n), d)) }
int64_t ct_split(ct_tensor t, int64_t s, int64_t d, ct_tensor **out) {
  CT_TRY(-1, { return list_out(T(t).split(s, d), out); })
}
int64_t ct_split_sizes(ct_tensor t, const int64_t *s, int64_t n, int64_t d, ct_tensor **out) {
  CT_TRY(-1, { return list_out(T(t).split_with_sizes(vec(s, n), d), out); })
}
int64_t ct_chunk(ct_tensor t, int64_t c, int64_t d, ct_tensor **out) {
  CT_TRY(-1, { return list_out(T(t).chunk(c, d), out); })
}
int64_t ct_unbind(ct_tensor t, int64_t d, ct_tensor **out) { CT_TRY(-1, { return list_out(T(t).unbind(d), out); }) }
void ct_free_list(ct_tensor *list) { std::free(list); }
ct_tensor ct_meshgrid_ij(ct_tensor a, ct_tensor b, ct_tensor *second) {
  CT_TRY(nullptr, {
    auto g = at::meshgrid({T(a), T(b)}, "ij");
    *second = wrap(g[1]);
    return wrap(g[0]);
  })
}
ct_tensor ct_tril(ct_tensor t, int64_t k) { CT_TENSOR(at::tril(T(t), k)) }
ct_tensor ct_triu(ct_tensor t, int64_t k) { CT_TENSOR(at::triu(T(t), k)) }

ct_tensor ct_slice(ct_tensor t, int64_t d, int64_t a, int64_t b, int64_t s) { CT_TENSOR(T(t).slice(d, a, b, s)) }
ct_tensor ct_select(ct_tensor t, int64_t d, int64_t i) { CT_TENSOR(T(t).select(d, i)) }
ct_tensor ct_narrow(ct_tensor t, int64_t d, int64_t a, int64_t l) { CT_TENSOR(T(t).narrow(d, a, l)) }
ct_tensor ct_index_select(ct_tensor t, int64_t d, ct_tensor i) { CT_TENSOR(T(t).index_select(d, T(i))) }
ct_tensor ct_gather(ct_tensor t, int64_t d, ct_tensor i) { CT_TENSOR(T(t).gather(d, T(i))) }
ct_tensor ct_scatter(ct_tensor t, int64_t d, ct_tensor i, ct_tensor s) { CT_TENSOR(T(t).scatter(d, T(i), T(s))) }
ct_tensor ct_scatter_add(ct_tensor t, int64_t d, ct_tensor i, ct_tensor s) {
  CT_TENSOR(T(t).scatter_add(d, T(i), T(s)))
}
ct_tensor ct_scatter_(ct_tensor t, int64_t d, ct_tensor i, ct_tensor s) {
  CT_TENSOR(at::Tensor(T(t)).scatter_(d, T(i), T(s)))
}
ct_tensor ct_masked_select(ct_tensor t, ct_tensor m) { CT_TENSOR(T(t).masked_select(T(m))) }
ct_tensor ct_nonzero(ct_tensor t) { CT_TENSOR(T(t).nonzero()) }
ct_tensor ct_index(ct_tensor t, const ct_tensor *idx, int64_t n) { CT_TENSOR(at::index(T(t), index_list(idx, n))) }
ct_tensor ct_index_put(ct_tensor t, const ct_tensor *idx, int64_t n, ct_tensor v, bool acc) {
  CT_TENSOR(at::index_put(T(t), index_list(idx, n), T(v), acc))
}
ct_tensor ct_index_put_(ct_tensor t, const ct_tensor *idx, int64_t n, ct_tensor v, bool acc) {
  CT_TENSOR(at::Tensor(T(t)).index_put_(index_list(idx, n), T(v), acc))
}
ct_tensor ct_index_add(ct_tensor t, int64_t d, ct_tensor i, ct_tensor s) { CT_TENSOR(T(t).index_add(d, T(i), T(s))) }

}  // extern "C"
