// Autograd: requires_grad, backward, gradients, grad mode.
#include "internal.h"
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

using namespace ctorch;

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// A checkpointed segment: the caller's function, its context, and the autocast state of the
// forward pass (the recomputation in the backward pass runs under the same).
struct Segment : torch::CustomClassHolder {
  ct_segment_run run = nullptr;
  void *context = nullptr;
  void (*release)(void *) = nullptr;
  int32_t n_outputs = 0;
  bool autocast_cpu = false, autocast_cuda = false;
  at::ScalarType dtype_cpu = at::kBFloat16, dtype_cuda = at::kHalf;
  ~Segment() override {
    if (release) release(context);
  }

  variable_list call(const variable_list &inputs, bool recompute) {
    std::vector<ct_tensor> in(inputs.size()), out(static_cast<size_t>(n_outputs), nullptr);
    for (size_t i = 0; i < inputs.size(); i++) in[i] = wrap(inputs[i]);
    int32_t status = run(context, in.data(), static_cast<int32_t>(in.size()), recompute, out.data(), n_outputs);
    variable_list result;
    for (ct_tensor h : out) {
      if (h) {
        result.push_back(h->t);
        delete h;
      }
    }
    if (status != 0 || result.size() != static_cast<size_t>(n_outputs)) {
      throw std::runtime_error(std::string("a checkpointed segment failed") +
                               (recompute ? " when recomputed in the backward pass" : ""));
    }
    return result;
  }
};

// The tensors cut from their graph, each requiring a gradient where it did.
variable_list detached(const variable_list &tensors) {
  variable_list out;
  for (const auto &x : tensors) {
    at::Tensor d = x.defined() ? x.detach() : x;
    if (d.defined() && x.requires_grad()) d.requires_grad_(true);
    out.push_back(d);
  }
  return out;
}

// Activation checkpointing: the forward pass keeps only the segment's inputs; the backward pass
// runs the segment again with gradients on and differentiates that.
struct Checkpoint : public torch::autograd::Function<Checkpoint> {
  static variable_list forward(AutogradContext *ctx, at::TensorList inputs, at::TensorList parameters,
                               c10::intrusive_ptr<Segment> segment) {
    variable_list in(inputs.begin(), inputs.end());
    ctx->save_for_backward(in);
    ctx->saved_data["segment"] = c10::IValue::make_capsule(segment);
    ctx->saved_data["parameters"] = static_cast<int64_t>(parameters.size());
    for (size_t i = 0; i < parameters.size(); i++) ctx->saved_data["parameter" + std::to_string(i)] = parameters[i];
    // The first run records its graph as the recomputation will (the same kernels: layers take
    // other paths where nothing needs a gradient), and drops it at once: only one segment's
    // activations are held at a time.
    variable_list out;
    {
      at::AutoGradMode grad(true);
      out = segment->call(detached(in), false);
    }
    for (auto &o : out) {
      if (o.defined()) o = o.detach();
    }
    // Outputs that share an input's memory are returned as copies (an input cannot be its own
    // result).
    for (auto &o : out) {
      for (const auto &x : in) {
        if (o.defined() && x.defined() && o.is_alias_of(x)) o = o.clone();
      }
    }
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grad_outputs) {
    auto segment = c10::static_intrusive_pointer_cast<Segment>(ctx->saved_data["segment"].toCapsule());
    variable_list saved = ctx->get_saved_variables();
    const int64_t n_parameters = ctx->saved_data["parameters"].toInt();
    variable_list parameters;
    for (int64_t i = 0; i < n_parameters; i++) {
      parameters.push_back(ctx->saved_data["parameter" + std::to_string(i)].toTensor());
    }
    variable_list inputs = detached(saved);
    variable_list outputs;
    {
      at::AutoGradMode grad(true);
      const bool was_cpu = at::autocast::is_autocast_enabled(at::kCPU);
      const bool was_cuda = at::autocast::is_autocast_enabled(at::kCUDA);
      const at::ScalarType was_cpu_dtype = at::autocast::get_autocast_dtype(at::kCPU);
      const at::ScalarType was_cuda_dtype = at::autocast::get_autocast_dtype(at::kCUDA);
      at::autocast::set_autocast_dtype(at::kCPU, segment->dtype_cpu);
      at::autocast::set_autocast_dtype(at::kCUDA, segment->dtype_cuda);
      at::autocast::set_autocast_enabled(at::kCPU, segment->autocast_cpu);
      at::autocast::set_autocast_enabled(at::kCUDA, segment->autocast_cuda);
      auto restore = [&] {
        at::autocast::set_autocast_enabled(at::kCPU, was_cpu);
        at::autocast::set_autocast_enabled(at::kCUDA, was_cuda);
        at::autocast::set_autocast_dtype(at::kCPU, was_cpu_dtype);
        at::autocast::set_autocast_dtype(at::kCUDA, was_cuda_dtype);
        at::autocast::clear_cache();
      };
      try {
        outputs = segment->call(inputs, true);
      } catch (...) {
        restore();
        throw;
      }
      restore();
    }
    // Differentiate the outputs that carry a gradient with respect to the inputs and parameters
    // that need one.
    variable_list differentiated, grads, wrt;
    for (size_t i = 0; i < outputs.size(); i++) {
      if (outputs[i].defined() && outputs[i].requires_grad() && i < grad_outputs.size() &&
          grad_outputs[i].defined()) {
        differentiated.push_back(outputs[i]);
        grads.push_back(grad_outputs[i]);
      }
    }
    std::vector<size_t> position;
    for (size_t i = 0; i < inputs.size(); i++) {
      if (inputs[i].defined() && inputs[i].requires_grad()) {
        wrt.push_back(inputs[i]);
        position.push_back(i);
      }
    }
    for (size_t i = 0; i < parameters.size(); i++) {
      if (parameters[i].requires_grad()) {
        wrt.push_back(parameters[i]);
        position.push_back(inputs.size() + i);
      }
    }
    variable_list result(inputs.size() + parameters.size() + 1);
    if (!differentiated.empty() && !wrt.empty()) {
      variable_list r = torch::autograd::grad(differentiated, wrt, grads, false, false, true);
      for (size_t k = 0; k < r.size(); k++) result[position[k]] = r[k];
    }
    return result;
  }
};

}  // namespace

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

int32_t ct_checkpoint(ct_segment_run run, void *context, void (*release)(void *), const ct_tensor *inputs,
                      int32_t n_inputs, const ct_tensor *parameters, int32_t n_parameters, ct_tensor *outputs,
                      int32_t n_outputs) {
  auto segment = c10::make_intrusive<Segment>();
  segment->run = run;
  segment->context = context;
  segment->release = release;
  CT_TRY(-1, {
    segment->n_outputs = n_outputs;
    segment->autocast_cpu = at::autocast::is_autocast_enabled(at::kCPU);
    segment->autocast_cuda = at::autocast::is_autocast_enabled(at::kCUDA);
    segment->dtype_cpu = at::autocast::get_autocast_dtype(at::kCPU);
    segment->dtype_cuda = at::autocast::get_autocast_dtype(at::kCUDA);
    std::vector<at::Tensor> in, ps;
    for (int32_t i = 0; i < n_inputs; i++) in.push_back(T(inputs[i]));
    for (int32_t i = 0; i < n_parameters; i++) ps.push_back(T(parameters[i]));
    variable_list out = Checkpoint::apply(at::TensorList(in), at::TensorList(ps), segment);
    for (int32_t i = 0; i < n_outputs; i++) outputs[i] = wrap(out[static_cast<size_t>(i)]);
    return 0;
  })
}

}  // extern "C"
