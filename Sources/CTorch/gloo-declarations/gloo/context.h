// Declarations only (see the Gloo note at the top of Sources/CTorch/distributed.cpp).
#pragma once
#include <chrono>

namespace gloo {

// Named by ProcessGroupGloo::setTimeout (an inline member the shim never calls). No data members
// are declared: the real layout is libtorch's business.
class Context {
 public:
  void setTimeout(std::chrono::milliseconds timeout);
};

}  // namespace gloo
