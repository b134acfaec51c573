// Declarations only (see the Gloo note at the top of Sources/CTorch/distributed.cpp).
// ProcessGroupGloo.hpp includes this file but uses none of it.
#pragma once
#include "gloo/context.h"
