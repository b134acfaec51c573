// Bilinear resampling of 8-bit images with the semantics of Pillow's Image.resize(BILINEAR):
// separable, antialiased (the triangle filter is widened by the scale when downsampling),
// coefficients normalised per output pixel and converted to 22-bit fixed point, two passes
// through an 8-bit intermediate. The horizontal pass comes first, unless the height shrinks by
// more rows than twice the columns the width loses: then the vertical pass does (Pillow 13's
// order; Pillow 12 and earlier always went horizontal first, so for such sizes their results
// differ from Pillow 13's by up to one level). Matching it bit for bit is what lets
// preprocessing equal the official (PIL-based) Conditional DETR pipeline.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cimage.h"

#define FIXED_BITS 22

typedef struct {
  int ksize;
  int *bounds;    // [out][2]: first input index, number of taps
  int32_t *coef;  // [out][ksize] fixed-point weights
} taps;

static double triangle(double x) {
  if (x < 0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

static int make_taps(int in_size, int out_size, taps *t) {
  double scale = (double)in_size / out_size;
  double fscale = scale < 1.0 ? 1.0 : scale;
  double support = 1.0 * fscale;
  int ksize = (int)ceil(support) * 2 + 1;
  double *w = malloc(sizeof(double) * (size_t)ksize);
  t->ksize = ksize;
  t->bounds = malloc(sizeof(int) * 2 * (size_t)out_size);
  t->coef = calloc((size_t)out_size * (size_t)ksize, sizeof(int32_t));
  if (!w || !t->bounds || !t->coef) {
    free(w); free(t->bounds); free(t->coef);
    return 1;
  }
  for (int o = 0; o < out_size; o++) {
    double center = (o + 0.5) * scale;
    double inv = 1.0 / fscale;
    int lo = (int)(center - support + 0.5);
    if (lo < 0) lo = 0;
    int hi = (int)(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    int n = hi - lo;
    double sum = 0;
    for (int k = 0; k < n; k++) {
      w[k] = triangle((k + lo - center + 0.5) * inv);
      sum += w[k];
    }
    for (int k = 0; k < n; k++) {
      double v = sum != 0.0 ? w[k] / sum : w[k];
      t->coef[o * ksize + k] = (int32_t)(v < 0 ? -0.5 + v * (1 << FIXED_BITS) : 0.5 + v * (1 << FIXED_BITS));
    }
    t->bounds[2 * o] = lo;
    t->bounds[2 * o + 1] = n;
  }
  free(w);
  return 0;
}

static void free_taps(taps *t) { free(t->bounds); free(t->coef); }

static inline uint8_t clip8(int64_t v) {
  v >>= FIXED_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

// One pass of the taps `t` along x (`horizontal`) or y, writing `rows` rows of `dst` (`dst_w`
// pixels each) from `src` (`src_w` pixels a row; its first row is row `row0` of the input the
// taps index). A vertical pass keeps the width: `dst_w` = `src_w`.
static void pass(const taps *t, int horizontal, const uint8_t *src, int src_w, int row0, int rows, int c,
                 uint8_t *dst, int dst_w) {
  if (horizontal) {
    for (int y = 0; y < rows; y++) {
      const uint8_t *r = src + (size_t)(y + row0) * (size_t)src_w * (size_t)c;
      uint8_t *d = dst + (size_t)y * (size_t)dst_w * (size_t)c;
      for (int x = 0; x < dst_w; x++) {
        int lo = t->bounds[2 * x], n = t->bounds[2 * x + 1];
        const int32_t *k = t->coef + (size_t)x * (size_t)t->ksize;
        for (int ch = 0; ch < c; ch++) {
          int64_t acc = 1 << (FIXED_BITS - 1);
          for (int i = 0; i < n; i++) acc += (int64_t)r[(size_t)(lo + i) * (size_t)c + (size_t)ch] * k[i];
          d[(size_t)x * (size_t)c + (size_t)ch] = clip8(acc);
        }
      }
    }
  } else {
    for (int y = 0; y < rows; y++) {
      int lo = t->bounds[2 * y] - row0, n = t->bounds[2 * y + 1];
      const int32_t *k = t->coef + (size_t)y * (size_t)t->ksize;
      uint8_t *d = dst + (size_t)y * (size_t)dst_w * (size_t)c;
      for (int x = 0; x < src_w * c; x++) {
        int64_t acc = 1 << (FIXED_BITS - 1);
        for (int i = 0; i < n; i++) acc += (int64_t)src[(size_t)(lo + i) * (size_t)src_w * (size_t)c + (size_t)x] * k[i];
        d[x] = clip8(acc);
      }
    }
  }
}

int32_t ci_resize_bilinear(const uint8_t *in, int32_t w, int32_t h, int32_t channels, uint8_t *out, int32_t ow,
                           int32_t oh) {
  if (w <= 0 || h <= 0 || ow <= 0 || oh <= 0 || channels <= 0) return 1;
  int c = channels;
  taps th = {0}, tv = {0};
  if (make_taps(w, ow, &th) || make_taps(h, oh, &tv)) {
    free_taps(&th);
    free_taps(&tv);
    return 1;
  }
  int vertical_first = h - oh > 0 && h - oh > 2 * (w - ow);
  uint8_t *tmp = NULL;
  int status = 0;
  if (vertical_first) {
    // Every input column through the vertical pass, then the horizontal one over the new rows.
    if (ow == w) {
      pass(&tv, 0, in, w, 0, oh, c, out, w);
    } else if ((tmp = malloc((size_t)oh * (size_t)w * (size_t)c))) {
      pass(&tv, 0, in, w, 0, oh, c, tmp, w);
      pass(&th, 1, tmp, w, 0, oh, c, out, ow);
    } else {
      status = 1;
    }
  } else {
    if (ow == w) {
      if (oh == h) memcpy(out, in, (size_t)h * (size_t)w * (size_t)c);
      else pass(&tv, 0, in, w, 0, oh, c, out, w);
    } else if (oh == h) {
      pass(&th, 1, in, w, 0, h, c, out, ow);
    } else {
      // Only the input rows the vertical pass reads go through the horizontal one.
      int first = tv.bounds[0];
      int last = tv.bounds[2 * (oh - 1)] + tv.bounds[2 * (oh - 1) + 1];
      if ((tmp = malloc((size_t)(last - first) * (size_t)ow * (size_t)c))) {
        pass(&th, 1, in, w, first, last - first, c, tmp, ow);
        pass(&tv, 0, tmp, ow, first, oh, c, out, ow);
      } else {
        status = 1;
      }
    }
  }
  free(tmp);
  free_taps(&th);
  free_taps(&tv);
  return status;
}
