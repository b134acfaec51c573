// Intentionally empty: this module carries libtorch's compiler and linker flags (pkg-config).
#ifndef CLIBTORCH_H
#define CLIBTORCH_H
#endif
