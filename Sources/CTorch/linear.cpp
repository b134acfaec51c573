// Linear layers: libtorch's at::linear, or oneDNN's inner product where no gradient is needed.
//
// On CPU, at::linear runs float32 matrix products through MKL's sgemm; oneDNN's inner product
// (the operator mkldnn::_linear_pointwise that PyTorch's compiler uses for frozen inference
// graphs) is faster on the DETR shapes ([n, 256] x [256, 2048] and back; measured in
// Benchmarks/detectors/RESULTS.md), and it applies the bias and a ReLU inside the same kernel.
// It has no autograd formula, so it runs only when no input needs a gradient, and autocast does
// not see it, so it runs only outside autocast; results agree with at::linear to float32
// rounding. The fused activations are ReLU and GELU (exact erf form; oneDNN's eltwise kernel,
// within float32 rounding of at::gelu).
#include "internal.h"
#include <ATen/autocast_mode.h>

using namespace ctorch;

namespace {

// The boxed oneDNN operator, or none when this libtorch lacks it (built without oneDNN).
const c10::OperatorHandle *onednn_linear_op() {
  static const c10::OperatorHandle *op = find_operator("mkldnn::_linear_pointwise", "");
  return op;
}

const bool onednn_enabled = switch_enabled("CTORCH_ONEDNN_LINEAR");

bool use_onednn(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b) {
  if (!onednn_enabled || !onednn_linear_op()) return false;
  if (!x.device().is_cpu() || x.scalar_type() != at::kFloat || w.scalar_type() != at::kFloat) return false;
  if (b.defined() && b.scalar_type() != at::kFloat) return false;
  if (x.dim() < 2 || x.numel() == 0 || w.dim() != 2) return false;
  if (at::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad())))
    return false;
  // Autocast does not see the boxed call: under it, at::linear runs in autocast's type.
  if (at::autocast::is_autocast_enabled(x.device().type())) return false;
  return true;
}

enum class Activation { none, relu, gelu };

at::Tensor linear(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, Activation act) {
  if (use_onednn(x, w, b)) {
    torch::jit::Stack stack;
    stack.emplace_back(x.contiguous());
    stack.emplace_back(w);
    stack.emplace_back(b.defined() ? c10::IValue(b) : c10::IValue());
    stack.emplace_back(std::string(act == Activation::relu ? "relu" : act == Activation::gelu ? "gelu" : "none"));
    stack.emplace_back(c10::List<std::optional<at::Scalar>>());
    // GELU's algorithm: "none" is the exact erf form ("tanh" the approximation).
    stack.emplace_back(act == Activation::gelu ? c10::IValue(std::string("none")) : c10::IValue());
    onednn_linear_op()->callBoxed(&stack);
    return stack.back().toTensor();
  }
  at::Tensor y = at::linear(x, w, b);
  switch (act) {
    // In place: the product saves its inputs, not its output, for backward.
    case Activation::relu: return y.relu_();
    case Activation::gelu: return at::gelu(y);
    case Activation::none: return y;
  }
  return y;
}

}  // namespace

extern "C" {

ct_tensor ct_linear(ct_tensor x, ct_tensor w, ct_tensor b) { CT_TENSOR(linear(T(x), T(w), opt(b), Activation::none)) }
ct_tensor ct_linear_relu(ct_tensor x, ct_tensor w, ct_tensor b) { CT_TENSOR(linear(T(x), T(w), opt(b), Activation::relu)) }
ct_tensor ct_linear_gelu(ct_tensor x, ct_tensor w, ct_tensor b) { CT_TENSOR(linear(T(x), T(w), opt(b), Activation::gelu)) }

}  // extern "C"
