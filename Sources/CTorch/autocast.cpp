// Automatic mixed precision (libtorch autocast): per-thread state of the Autocast dispatch keys.
#include "internal.h"
#include <ATen/autocast_mode.h>

using namespace ctorch;

static at::DeviceType autocast_device(int32_t device_type) {
  return device_type == 1 ? at::kCUDA : at::kCPU;
}

extern "C" {

int32_t ct_autocast_set(int32_t device_type, bool enabled, int32_t dtype) {
  CT_TRY(-1, {
    const at::DeviceType dev = autocast_device(device_type);
    if (enabled) at::autocast::set_autocast_dtype(dev, to_scalar_type(dtype));
    at::autocast::set_autocast_enabled(dev, enabled);
    return 0;
  })
}

bool ct_autocast_enabled(int32_t device_type) {
  return at::autocast::is_autocast_enabled(autocast_device(device_type));
}

int32_t ct_autocast_dtype(int32_t device_type) {
  return from_scalar_type(at::autocast::get_autocast_dtype(autocast_device(device_type)));
}

int32_t ct_autocast_enter(void) { return at::autocast::increment_nesting(); }

void ct_autocast_exit(void) {
  // Leaving the outermost autocast region drops the casts of weights it cached.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

}  // extern "C"
