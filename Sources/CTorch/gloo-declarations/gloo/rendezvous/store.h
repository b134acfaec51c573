// Declarations only (see the Gloo note at the top of Sources/CTorch/distributed.cpp).
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace gloo {
namespace rendezvous {

// The base of ProcessGroupGloo::GlooStore, whose inline overrides need these virtual functions to
// be declared. The shim never creates a GlooStore (ProcessGroupGloo makes its own inside libtorch).
class Store {
 public:
  virtual ~Store() = default;
  virtual void set(const std::string& key, const std::vector<char>& data) = 0;
  virtual std::vector<char> get(const std::string& key) = 0;
  virtual void wait(const std::vector<std::string>& keys) = 0;
  virtual void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) = 0;
};

}  // namespace rendezvous
}  // namespace gloo
