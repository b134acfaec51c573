// Convolutions with their residual addition and ReLU: oneDNN's fused convolution where no
// gradient is needed, else libtorch's at::conv2d followed by the two operations.
//
// mkldnn::_convolution_pointwise (the operator PyTorch's compiler uses for frozen inference
// graphs) applies the bias, an addition of another tensor and a ReLU inside the convolution's
// kernel, so the output is written once instead of three times (timings in
// Benchmarks/onnx/RESULTS.md). It has no autograd formula, and autocast does not see it: it runs
// only for float32 inputs outside autocast with no input needing a gradient. Its values are the
// three separate operations' to float32 rounding (a Torch test compares them).
#include "internal.h"
#include <ATen/autocast_mode.h>

using namespace ctorch;

namespace {

// relu?(conv(x)), relu?(conv(x) + other) into a new tensor, and the same written into `other`.
const c10::OperatorHandle *unary_op() {
  static const c10::OperatorHandle *op = find_operator("mkldnn::_convolution_pointwise", "");
  return op;
}
const c10::OperatorHandle *binary_op() {
  static const c10::OperatorHandle *op = find_operator("mkldnn::_convolution_pointwise", "binary");
  return op;
}
const c10::OperatorHandle *binary_inplace_op() {
  static const c10::OperatorHandle *op = find_operator("mkldnn::_convolution_pointwise_", "binary");
  return op;
}

const bool onednn_enabled = switch_enabled("CTORCH_ONEDNN_CONV");

bool needs_grad(const at::Tensor &t) { return t.defined() && t.requires_grad(); }

bool use_onednn(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, const at::Tensor &other) {
  if (!onednn_enabled || !unary_op() || !binary_op() || !binary_inplace_op()) return false;
  if (!x.device().is_cpu() || x.dim() != 4 || w.dim() != 4 || x.numel() == 0) return false;
  for (const at::Tensor *t : {&x, &w, &b, &other})
    if (t->defined() && (t->scalar_type() != at::kFloat || !t->device().is_cpu() || t->is_mkldnn())) return false;
  if (at::autocast::is_autocast_enabled(at::kCPU)) return false;
  if (at::GradMode::is_enabled() && (needs_grad(x) || needs_grad(w) || needs_grad(b) || needs_grad(other)))
    return false;
  return true;
}

std::vector<int64_t> output_shape(const at::Tensor &x, const at::Tensor &w, at::IntArrayRef stride,
                                  at::IntArrayRef padding, at::IntArrayRef dilation) {
  std::vector<int64_t> shape{x.size(0), w.size(0)};
  for (int i = 0; i < 2; i++)
    shape.push_back((x.size(2 + i) + 2 * padding[i] - dilation[i] * (w.size(2 + i) - 1) - 1) / stride[i] + 1);
  return shape;
}

at::Tensor conv(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, at::IntArrayRef stride,
                at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups, const at::Tensor &other,
                bool other_in_place, bool relu) {
  const bool fusable = use_onednn(x, w, b, other) &&
                       (!other.defined() || other.sizes() == at::IntArrayRef(output_shape(x, w, stride, padding, dilation)));
  if (!fusable) {
    at::Tensor y = at::conv2d(x, w, b, stride, padding, dilation, groups);
    // In place on the fresh output: the convolution's backward needs its inputs only.
    if (other.defined()) y.add_(other);
    return relu ? y.relu_() : y;
  }
  const c10::IValue bias = b.defined() ? c10::IValue(b) : c10::IValue();
  const c10::IValue unary = relu ? c10::IValue(std::string("relu")) : c10::IValue();
  torch::jit::Stack stack;
  if (!other.defined()) {
    stack = {x, w, bias, padding.vec(), stride.vec(), dilation.vec(), groups,
             std::string(relu ? "relu" : "none"), c10::List<std::optional<at::Scalar>>(), c10::IValue()};
    unary_op()->callBoxed(&stack);
  } else if (other_in_place) {
    stack = {other, x, w, bias, padding.vec(), stride.vec(), dilation.vec(), groups, std::string("add"),
             at::Scalar(1.0), unary, c10::List<std::optional<at::Scalar>>(), c10::IValue()};
    binary_inplace_op()->callBoxed(&stack);
  } else {
    stack = {x, other, w, bias, padding.vec(), stride.vec(), dilation.vec(), groups, std::string("add"),
             at::Scalar(1.0), unary, c10::List<std::optional<at::Scalar>>(), c10::IValue()};
    binary_op()->callBoxed(&stack);
  }
  return stack.back().toTensor();
}

}  // namespace

extern "C" {

ct_tensor ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                    int64_t dh, int64_t dw, int64_t groups) {
  CT_TENSOR(at::conv2d(T(x), T(w), opt(b), {sh, sw}, {ph, pw}, {dh, dw}, groups))
}

ct_tensor ct_conv2d_pointwise(ct_tensor x, ct_tensor w, ct_tensor b, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                              int64_t dh, int64_t dw, int64_t groups, ct_tensor other, bool other_in_place,
                              bool relu) {
  CT_TENSOR(conv(T(x), T(w), opt(b), {sh, sw}, {ph, pw}, {dh, dw}, groups, opt(other), other_in_place, relu))
}

}  // extern "C"
