// Video decoding: the best video stream of a file, decoded in presentation order and converted
// to RGB24 by swscale with the stream's own colour matrix and range, turned upright as its
// display matrix says.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/dict.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include "cvideo.h"
#include "internal.h"

struct cv_reader {
  AVFormatContext *format;
  AVCodecContext *decoder;
  AVPacket *packet;
  AVFrame *frame;
  struct SwsContext *sws;
  int stream;
  AVRational time_base;
  int64_t start;
  AVRational rate;
  int rotation;
  int flushing;  // the end of the file was reached and the decoder is being drained
  char demuxer_error[256];  // the first error the demuxer logged (reported at the end of the file)
  int64_t index;
  uint8_t *rgb, *rotated;
  size_t rgb_capacity, rotated_capacity;
};

// Clockwise rotation, in degrees, that shows the stream upright (0 when none or not a right angle).
static int display_rotation(const AVStream *st) {
  const uint8_t *matrix = NULL;
#if LIBAVFORMAT_VERSION_MAJOR >= 61
  const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
                                                       st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  if (sd && sd->size >= 9 * sizeof(int32_t)) matrix = sd->data;
#else
  size_t size = 0;
  matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (size < 9 * sizeof(int32_t)) matrix = NULL;
#endif
  if (!matrix) return 0;
  double ccw = av_display_rotation_get((const int32_t *)matrix);  // counterclockwise
  if (isnan(ccw)) return 0;
  long cw = -lround(ccw);
  cw = ((cw % 360) + 360) % 360;
  return (cw == 90 || cw == 180 || cw == 270) ? (int)cw : 0;
}

static int grow(uint8_t **buffer, size_t *capacity, size_t needed) {
  if (*capacity >= needed) return 0;
  uint8_t *p = realloc(*buffer, needed);
  if (!p) return -1;
  *buffer = p;
  *capacity = needed;
  return 0;
}

int32_t cv_reader_open(const char *path, int32_t apply_rotation, cv_reader **out, cv_info *info, char *err,
                       size_t errlen) {
  cv_log_begin();
  *out = NULL;
  memset(info, 0, sizeof *info);
  cv_reader *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return 1;
  }
  // A local file only: "file:" keeps a ':' in the path from naming a protocol, and the whitelist
  // keeps a playlist-like file from making FFmpeg open URLs.
  char *url = av_asprintf("file:%s", path);
  AVDictionary *options = NULL;
  av_dict_set(&options, "protocol_whitelist", "file", 0);
  int ret = url ? avformat_open_input(&r->format, url, NULL, &options) : AVERROR(ENOMEM);
  av_dict_free(&options);
  av_free(url);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot be read as a video");
    goto fail;
  }
  ret = avformat_find_stream_info(r->format, NULL);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot be read as a video");
    goto fail;
  }
  // Reading ahead for the stream information may already have met the end of a cut-off file.
  snprintf(r->demuxer_error, sizeof r->demuxer_error, "%s", cv_demuxer_error());
  const AVCodec *codec = NULL;
  ret = av_find_best_stream(r->format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (ret == AVERROR_STREAM_NOT_FOUND) {
    snprintf(err, errlen, "contains no video stream");
    goto fail;
  }
  if (ret < 0 || !codec) {
    const AVStream *st = ret >= 0 ? r->format->streams[ret] : NULL;
    snprintf(err, errlen, "no decoder for its video codec%s%s", st ? " " : "",
             st ? avcodec_get_name(st->codecpar->codec_id) : "");
    goto fail;
  }
  r->stream = ret;
  AVStream *st = r->format->streams[r->stream];
  r->decoder = avcodec_alloc_context3(codec);
  r->packet = av_packet_alloc();
  r->frame = av_frame_alloc();
  if (!r->decoder || !r->packet || !r->frame) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  ret = avcodec_parameters_to_context(r->decoder, st->codecpar);
  if (ret >= 0) {
    r->decoder->pkt_timebase = st->time_base;
    r->decoder->thread_count = 0;  // as many as there are cores; the output does not depend on it
    ret = avcodec_open2(r->decoder, codec, NULL);
  }
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot open the video decoder");
    goto fail;
  }
  if (r->decoder->width <= 0 || r->decoder->height <= 0) {
    snprintf(err, errlen, "video stream has no frame size");
    goto fail;
  }
  r->time_base = st->time_base;
  r->start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
  r->rate = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate
            : st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0   ? st->r_frame_rate
                                                                      : (AVRational){25, 1};
  r->rotation = apply_rotation ? display_rotation(st) : 0;

  int turned = r->rotation == 90 || r->rotation == 270;
  info->width = turned ? r->decoder->height : r->decoder->width;
  info->height = turned ? r->decoder->width : r->decoder->height;
  info->rate_num = r->rate.num;
  info->rate_den = r->rate.den;
  info->rotation = r->rotation;
  if (st->nb_frames > 0)
    info->frame_count = st->nb_frames;
  else if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
    info->frame_count = llround(st->duration * av_q2d(st->time_base) * av_q2d(r->rate));
  else if (r->format->duration != AV_NOPTS_VALUE && r->format->duration > 0)
    info->frame_count = llround(r->format->duration / (double)AV_TIME_BASE * av_q2d(r->rate));
  else
    info->frame_count = -1;
  snprintf(info->codec, sizeof info->codec, "%s", codec->name);
  *out = r;
  return 0;
fail:
  cv_reader_close(r);
  return 1;
}

// True when the container's index places frame data past the end of the file (a cut-off
// file whose index survived, e.g. an mp4 with its index in front).
static int index_past_end(cv_reader *r) {
  int64_t size = r->format->pb ? avio_size(r->format->pb) : -1;
  if (size <= 0) return 0;
  AVStream *st = r->format->streams[r->stream];
  int n = avformat_index_get_entries_count(st);
  for (int i = 0; i < n; i++) {
    const AVIndexEntry *e = avformat_index_get_entry(st, i);
    if (e && e->pos + e->size > size) return 1;
  }
  return 0;
}

// The decoded frame in RGB24, upright, in r->rgb or r->rotated; NULL when out of memory.
static const uint8_t *convert(cv_reader *r, int *out_w, int *out_h, char *err, size_t errlen) {
  AVFrame *f = r->frame;
  int w = f->width, h = f->height;
  r->sws = sws_getCachedContext(r->sws, w, h, f->format, w, h, AV_PIX_FMT_RGB24,
                                SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP, NULL,
                                NULL, NULL);
  if (!r->sws) {
    snprintf(err, errlen, "frame %lld: cannot convert pixel format %s to RGB", (long long)r->index,
             av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "?");
    return NULL;
  }
  const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(f->format);
  if (desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
    int cs;
    switch (f->colorspace) {
      case AVCOL_SPC_BT709: cs = SWS_CS_ITU709; break;
      case AVCOL_SPC_FCC: cs = SWS_CS_FCC; break;
      case AVCOL_SPC_SMPTE240M: cs = SWS_CS_SMPTE240M; break;
      case AVCOL_SPC_BT2020_NCL:
      case AVCOL_SPC_BT2020_CL: cs = SWS_CS_BT2020; break;
      default: cs = SWS_CS_ITU601; break;  // unspecified is read as BT.601, as FFmpeg does
    }
    enum AVPixelFormat p = f->format;
    int full = f->color_range == AVCOL_RANGE_JPEG || p == AV_PIX_FMT_YUVJ420P || p == AV_PIX_FMT_YUVJ422P ||
               p == AV_PIX_FMT_YUVJ444P || p == AV_PIX_FMT_YUVJ440P || p == AV_PIX_FMT_YUVJ411P;
    const int *coefficients = sws_getCoefficients(cs);
    sws_setColorspaceDetails(r->sws, coefficients, full, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16,
                             1 << 16);
  }
  size_t bytes = (size_t)w * (size_t)h * 3;
  if (grow(&r->rgb, &r->rgb_capacity, bytes) != 0) {
    snprintf(err, errlen, "out of memory for a %dx%d frame", w, h);
    return NULL;
  }
  uint8_t *dst[4] = {r->rgb, NULL, NULL, NULL};
  int dst_stride[4] = {w * 3, 0, 0, 0};
  sws_scale(r->sws, (const uint8_t *const *)f->data, f->linesize, 0, h, dst, dst_stride);
  if (r->rotation == 0) {
    *out_w = w;
    *out_h = h;
    return r->rgb;
  }
  if (grow(&r->rotated, &r->rotated_capacity, bytes) != 0) {
    snprintf(err, errlen, "out of memory for a %dx%d frame", w, h);
    return NULL;
  }
  int ow = r->rotation == 180 ? w : h, oh = r->rotation == 180 ? h : w;
  for (int y = 0; y < oh; y++) {
    for (int x = 0; x < ow; x++) {
      int sx, sy;  // the stored pixel shown at (x, y)
      if (r->rotation == 90) {
        sx = y;
        sy = h - 1 - x;
      } else if (r->rotation == 180) {
        sx = w - 1 - x;
        sy = h - 1 - y;
      } else {
        sx = w - 1 - y;
        sy = x;
      }
      memcpy(r->rotated + 3 * ((size_t)y * ow + x), r->rgb + 3 * ((size_t)sy * w + sx), 3);
    }
  }
  *out_w = ow;
  *out_h = oh;
  return r->rotated;
}

int32_t cv_reader_next(cv_reader *r, int32_t want_pixels, cv_frame *out, char *err, size_t errlen) {
  cv_log_begin();
  memset(out, 0, sizeof *out);
  for (;;) {
    int ret = avcodec_receive_frame(r->decoder, r->frame);
    if (ret == 0) break;
    if (ret == AVERROR_EOF) {
      // The frames the decoder held are out; now say what was wrong with the file, if anything.
      if (r->demuxer_error[0]) {
        // A demuxer that meets the end of a cut-off file says so in its log only (Matroska, WebM).
        snprintf(err, errlen, "cut short or damaged (%s) after %lld frames", r->demuxer_error, (long long)r->index);
        return -1;
      }
      if (index_past_end(r)) {
        snprintf(err, errlen, "cut short: its index lists frame data past the end of the file (after %lld frames)",
                 (long long)r->index);
        return -1;
      }
      return 0;
    }
    if (ret != AVERROR(EAGAIN)) {
      char what[64];
      snprintf(what, sizeof what, "frame %lld cannot be decoded", (long long)r->index);
      cv_error(err, errlen, ret, what);
      return -1;
    }
    if (r->flushing) return 0;  // drained: nothing will come
    // The decoder wants more input: the next packet of our stream, or the end (drain).
    for (;;) {
      cv_log_begin();
      ret = av_read_frame(r->format, r->packet);
      if (!r->demuxer_error[0]) snprintf(r->demuxer_error, sizeof r->demuxer_error, "%s", cv_demuxer_error());
      if (ret == AVERROR_EOF) {
        r->flushing = 1;
        ret = avcodec_send_packet(r->decoder, NULL);
        break;
      }
      if (ret < 0) {
        char what[64];
        snprintf(what, sizeof what, "reading after frame %lld", (long long)r->index);
        cv_error(err, errlen, ret, what);
        return -1;
      }
      if (r->packet->stream_index != r->stream) {
        av_packet_unref(r->packet);
        continue;
      }
      ret = avcodec_send_packet(r->decoder, r->packet);
      av_packet_unref(r->packet);
      break;
    }
    if (ret < 0 && ret != AVERROR_EOF) {
      char what[64];
      snprintf(what, sizeof what, "frame %lld cannot be decoded", (long long)r->index);
      cv_error(err, errlen, ret, what);
      return -1;
    }
  }

  int64_t ts = r->frame->best_effort_timestamp;
  out->index = r->index;
  out->time = ts != AV_NOPTS_VALUE ? (double)(ts - r->start) * av_q2d(r->time_base)
                                   : (double)r->index / av_q2d(r->rate);
  int turned = r->rotation == 90 || r->rotation == 270;
  out->width = turned ? r->frame->height : r->frame->width;
  out->height = turned ? r->frame->width : r->frame->height;
  if (want_pixels) {
    int w = 0, h = 0;
    const uint8_t *rgb = convert(r, &w, &h, err, errlen);
    if (!rgb) {
      av_frame_unref(r->frame);
      return -1;
    }
    out->pixels = rgb;
  }
  av_frame_unref(r->frame);
  r->index++;
  return 1;
}

void cv_reader_close(cv_reader *r) {
  if (!r) return;
  sws_freeContext(r->sws);
  av_frame_free(&r->frame);
  av_packet_free(&r->packet);
  avcodec_free_context(&r->decoder);
  avformat_close_input(&r->format);
  free(r->rgb);
  free(r->rotated);
  free(r);
}
