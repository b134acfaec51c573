// Declarations only (see the Gloo note at the top of Sources/CTorch/distributed.cpp).
// Both appear only behind smart pointers.
#pragma once

namespace gloo {
namespace transport {

class Device;
class UnboundBuffer;

}  // namespace transport
}  // namespace gloo
