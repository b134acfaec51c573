/*
 * cimage.h — JPEG/PNG decoding and encoding for swift-detr (libjpeg-turbo, libpng).
 * All functions report failures through a caller-provided message buffer; nothing
 * aborts or exits the process.
 */
#ifndef CIMAGE_H
#define CIMAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A decoded 8-bit RGB image, interleaved (HWC). Free with ci_image_free. */
typedef struct {
  uint8_t *pixels;
  int32_t width;
  int32_t height;
  int32_t orientation; /* EXIF orientation 1..8 (1 when absent) */
} ci_image;

enum { CI_UNKNOWN = 0, CI_JPEG = 1, CI_PNG = 2 };

/* Format from the first bytes of a file. */
int32_t ci_sniff(const uint8_t *data, size_t n);

/* Decodes JPEG or PNG bytes to RGB (grayscale, palette, RGBA, CMYK converted).
   Returns 0 on success; otherwise non-zero with a message in err. */
int32_t ci_decode(const uint8_t *data, size_t n, ci_image *out, char *err, size_t errlen);
void ci_image_free(ci_image *img);

/* Encodes RGB HWC pixels. *out is malloc'd (free with ci_buffer_free). Returns 0 on success. */
int32_t ci_encode_png(const uint8_t *rgb, int32_t width, int32_t height, uint8_t **out, size_t *out_len,
                      char *err, size_t errlen);
int32_t ci_encode_jpeg(const uint8_t *rgb, int32_t width, int32_t height, int32_t quality, uint8_t **out,
                       size_t *out_len, char *err, size_t errlen);
void ci_buffer_free(uint8_t *buf);

/* Resizes interleaved 8-bit pixels (channels per pixel) with Pillow's BILINEAR semantics
   (antialiased, fixed point). out holds oh*ow*channels bytes. Returns 0 on success. */
int32_t ci_resize_bilinear(const uint8_t *in, int32_t w, int32_t h, int32_t channels, uint8_t *out, int32_t ow,
                           int32_t oh);

#ifdef __cplusplus
}
#endif
#endif
