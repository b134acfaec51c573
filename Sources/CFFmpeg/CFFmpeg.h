// Intentionally empty: this module carries FFmpeg's compiler and linker flags (pkg-config).
#ifndef CFFMPEG_H
#define CFFMPEG_H
#endif
