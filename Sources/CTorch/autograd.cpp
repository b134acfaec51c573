// Autograd: requires_grad, backward, gradients, grad mode.
#include "internal.h"
#include <torch/csrc/autograd/autograd.h>

using namespace ctorch;

extern "C" {

ct_tensor ct_set_requires_grad(ct_tensor t, bool f) { CT_TENSOR(at::Tensor(T(t)).requires_grad_(f)) }
bool ct_requires_grad(ct_tensor t) { CT_TRY(false, { return T(t).requires_grad(); }) }
bool ct_is_leaf(ct_tensor t) { CT_TRY(false, { return T(t).is_leaf(); }) }
ct_tensor ct_grad(ct_tensor t) { CT_TENSOR(T(t).grad()) }
int32_t ct_set_grad(ct_tensor t, ct_tensor g) {
  CT_TRY(-1, {
    at::Tensor x = T(t);
    x.mutable_grad() = g ? T(g) : at::Tensor();
    return 0;
  })
}
int32_t ct_backward(ct_tensor t, ct_tensor g, bool retain) {
  CT_TRY(-1, {
    T(t).backward(opt(g), retain);
    return 0;
  })
}
int32_t ct_autograd_grad(const ct_tensor *outs, int64_t n_out, const ct_tensor *gouts, const ct_tensor *ins,
                         int64_t n_in, bool create_graph, ct_tensor *out) {
  CT_TRY(-1, {
    std::vector<at::Tensor> o, go, in;
    for (int64_t i = 0; i < n_out; i++) {
      o.push_back(T(outs[i]));
      go.push_back(gouts && gouts[i] ? T(gouts[i]) : at::Tensor());
    }
    for (int64_t i = 0; i < n_in; i++) in.push_back(T(ins[i]));
    auto r = torch::autograd::grad(o, in, go, create_graph, create_graph, true);
    for (int64_t i = 0; i < n_in; i++) out[i] = wrap(r[static_cast<size_t>(i)]);
    return 0;
  })
}
ct_tensor ct_detach(ct_tensor t) { CT_TENSOR(T(t).detach()) }
bool ct_set_grad_enabled(bool e) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(e);
  return prev;
}
bool ct_is_grad_enabled(void) { return at::GradMode::is_enabled(); }

}  // extern "C"
