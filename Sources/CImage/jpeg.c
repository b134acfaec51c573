// JPEG decoding/encoding with libjpeg-turbo; errors longjmp back instead of exiting.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "cimage.h"
#include "internal.h"

struct err_mgr {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo) {
  struct err_mgr *e = (struct err_mgr *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

// Corrupt-data warnings (e.g. premature end of data) become errors: a truncated
// file must not decode silently into grey pixels.
static void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) {
    struct err_mgr *e = (struct err_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
  }
}

static uint16_t rd16(const uint8_t *p, int le) { return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p, int le) {
  return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
            : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

// Orientation tag (0x0112) of IFD0 in an APP1 "Exif\0\0" segment; 1 when absent or malformed.
static int exif_orientation(const uint8_t *d, size_t n) {
  if (n < 14 || memcmp(d, "Exif\0\0", 6) != 0) return 1;
  const uint8_t *t = d + 6;
  size_t tn = n - 6;
  int le;
  if (t[0] == 'I' && t[1] == 'I') le = 1;
  else if (t[0] == 'M' && t[1] == 'M') le = 0;
  else return 1;
  uint32_t ifd = rd32(t + 4, le);
  if (ifd > tn || tn - ifd < 2) return 1;
  uint16_t count = rd16(t + ifd, le);
  for (uint32_t i = 0; i < count; i++) {
    size_t off = (size_t)ifd + 2 + 12 * (size_t)i;
    if (off + 12 > tn) return 1;
    if (rd16(t + off, le) == 0x0112) {
      uint16_t v = rd16(t + off + 8, le);
      return (v >= 1 && v <= 8) ? v : 1;
    }
  }
  return 1;
}

int32_t ci_decode_jpeg(const uint8_t *data, size_t n, ci_image *out, char *err, size_t errlen) {
  struct jpeg_decompress_struct cinfo;
  struct err_mgr jerr;
  uint8_t *volatile pixels = NULL;
  uint8_t *volatile row = NULL;
  cinfo.err = jpeg_std_error(&jerr.pub);
  jerr.pub.error_exit = on_error;
  jerr.pub.emit_message = on_message;
  if (setjmp(jerr.jump)) {
    snprintf(err, errlen, "corrupt or truncated JPEG (%s)", jerr.message);
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    free(row);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)n);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  int orientation = 1;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1) {
      orientation = exif_orientation(m->data, m->data_length);
      if (orientation != 1) break;
    }
  }
  int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  size_t w = cinfo.output_width, h = cinfo.output_height, c = (size_t)cinfo.output_components;
  if (w == 0 || h == 0 || w > 65535 || h > 65535) {
    snprintf(err, errlen, "JPEG has unsupported size %zux%zu", w, h);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  pixels = malloc(w * h * 3);
  row = malloc(w * c);
  if (!pixels || !row) {
    snprintf(err, errlen, "out of memory decoding a %zux%zu JPEG", w, h);
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    free(row);
    return 1;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    size_t y = cinfo.output_scanline;
    JSAMPROW r = row;
    jpeg_read_scanlines(&cinfo, &r, 1);
    uint8_t *dst = pixels + y * w * 3;
    if (cmyk) {
      // Adobe CMYK JPEGs store inverted values; convert as PIL does (CMYK -> RGB).
      int adobe = cinfo.saw_Adobe_marker;
      for (size_t x = 0; x < w; x++) {
        int C = row[4 * x], M = row[4 * x + 1], Y = row[4 * x + 2], K = row[4 * x + 3];
        if (adobe) { C = 255 - C; M = 255 - M; Y = 255 - Y; K = 255 - K; }
        int nk = 255 - K;
        int vals[3] = {C, M, Y};
        for (int k = 0; k < 3; k++) {
          int v = nk - (vals[k] * nk + 127) / 255;
          dst[3 * x + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
      }
    } else {
      memcpy(dst, row, w * 3);
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  free(row);
  out->pixels = pixels;
  out->width = (int32_t)w;
  out->height = (int32_t)h;
  out->orientation = orientation;
  return 0;
}

int32_t ci_encode_jpeg(const uint8_t *rgb, int32_t width, int32_t height, int32_t quality, uint8_t **out,
                       size_t *out_len, char *err, size_t errlen) {
  struct jpeg_compress_struct cinfo;
  struct err_mgr jerr;
  unsigned char *volatile buf = NULL;
  unsigned long len = 0;
  cinfo.err = jpeg_std_error(&jerr.pub);
  jerr.pub.error_exit = on_error;
  if (setjmp(jerr.jump)) {
    snprintf(err, errlen, "JPEG encoding failed (%s)", jerr.message);
    jpeg_destroy_compress(&cinfo);
    free(buf);
    return 1;
  }
  jpeg_create_compress(&cinfo);
  unsigned char *b = NULL;
  jpeg_mem_dest(&cinfo, &b, &len);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW r = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3);
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  buf = b;
  jpeg_destroy_compress(&cinfo);
  *out = buf;
  *out_len = len;
  return 0;
}
