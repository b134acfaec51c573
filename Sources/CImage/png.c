// PNG decoding/encoding with libpng's simplified API, plus format sniffing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>
#include "cimage.h"
#include "internal.h"

int32_t ci_sniff(const uint8_t *d, size_t n) {
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return CI_JPEG;
  if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return CI_PNG;
  return CI_UNKNOWN;
}

int32_t ci_decode_png(const uint8_t *data, size_t n, ci_image *out, char *err, size_t errlen) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, data, n)) {
    snprintf(err, errlen, "corrupt PNG (%s)", img.message);
    return 1;
  }
  if (img.width == 0 || img.height == 0 || img.width > 65535 || img.height > 65535) {
    snprintf(err, errlen, "PNG has unsupported size %ux%u", img.width, img.height);
    png_image_free(&img);
    return 1;
  }
  // Read with alpha (if any) and drop it, as PIL's convert("RGB") does, instead of
  // letting libpng composite onto a background.
  int has_alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  img.format = has_alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  size_t c = has_alpha ? 4 : 3;
  size_t w = img.width, h = img.height;
  uint8_t *buf = malloc(w * h * c);
  if (!buf) {
    snprintf(err, errlen, "out of memory decoding a %zux%zu PNG", w, h);
    png_image_free(&img);
    return 1;
  }
  if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
    snprintf(err, errlen, "corrupt or truncated PNG (%s)", img.message);
    png_image_free(&img);
    free(buf);
    return 1;
  }
  if (has_alpha) {
    for (size_t i = 0; i < w * h; i++) memmove(buf + 3 * i, buf + 4 * i, 3);
  }
  out->pixels = buf;
  out->width = (int32_t)w;
  out->height = (int32_t)h;
  out->orientation = 1;
  return 0;
}

int32_t ci_decode(const uint8_t *data, size_t n, ci_image *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  switch (ci_sniff(data, n)) {
    case CI_JPEG: return ci_decode_jpeg(data, n, out, err, errlen);
    case CI_PNG: return ci_decode_png(data, n, out, err, errlen);
    default: snprintf(err, errlen, "not a JPEG or PNG image"); return 1;
  }
}

void ci_image_free(ci_image *img) {
  if (img) { free(img->pixels); img->pixels = NULL; }
}

int32_t ci_encode_png(const uint8_t *rgb, int32_t width, int32_t height, uint8_t **out, size_t *out_len,
                      char *err, size_t errlen) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)width;
  img.height = (png_uint_32)height;
  img.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&img, NULL, &size, 0, rgb, 0, NULL)) {
    snprintf(err, errlen, "PNG encoding failed (%s)", img.message);
    return 1;
  }
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) { snprintf(err, errlen, "out of memory encoding PNG"); return 1; }
  if (!png_image_write_to_memory(&img, buf, &size, 0, rgb, 0, NULL)) {
    snprintf(err, errlen, "PNG encoding failed (%s)", img.message);
    free(buf);
    return 1;
  }
  *out = buf;
  *out_len = size;
  return 0;
}

void ci_buffer_free(uint8_t *buf) { free(buf); }
