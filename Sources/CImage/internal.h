#pragma once
#include <stddef.h>
#include <stdint.h>
#include "cimage.h"

int32_t ci_decode_jpeg(const uint8_t *data, size_t n, ci_image *out, char *err, size_t errlen);
int32_t ci_decode_png(const uint8_t *data, size_t n, ci_image *out, char *err, size_t errlen);
