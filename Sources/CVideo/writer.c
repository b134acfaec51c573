// Video encoding: RGB24 frames converted by swscale to yuv420p (BT.601, limited range, tagged
// so), encoded with an encoder the container accepts, muxed at a constant frame rate.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include "cvideo.h"
#include "internal.h"

struct cv_writer {
  AVFormatContext *format;
  AVCodecContext *encoder;
  AVStream *stream;
  AVFrame *frame;
  AVPacket *packet;
  struct SwsContext *sws;
  int width, height;  // of the frames given (the encoded size rounds these up to even)
  int64_t next_pts;
  int header_written, finished;
};

// Encoders to try for a container, best first; NULL-terminated.
static void preferred_encoders(const AVOutputFormat *format, const char *names[4]) {
  const char *n = format->name;
  memset(names, 0, 4 * sizeof names[0]);
  if (strcmp(n, "webm") == 0) {
    names[0] = "libvpx-vp9";
    names[1] = "libvpx";
  } else if (strcmp(n, "avi") == 0) {
    names[0] = "mpeg4";
    names[1] = "libx264";
  } else {
    // mp4, mov, matroska and others: H.264 where FFmpeg was built with x264, else MPEG-4 Part 2.
    names[0] = "libx264";
    names[1] = "mpeg4";
    const AVCodec *native = avcodec_find_encoder(format->video_codec);
    names[2] = native ? native->name : NULL;
  }
}

static int supports_yuv420p(const AVCodec *codec) {
  if (!codec->pix_fmts) return 1;
  for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
    if (*p == AV_PIX_FMT_YUV420P) return 1;
  return 0;
}

// An opened encoder context for codec, or NULL (error code in *ret).
static AVCodecContext *open_encoder(const AVCodec *codec, const AVOutputFormat *format, int width, int height,
                                    AVRational rate, int *ret) {
  AVCodecContext *c = avcodec_alloc_context3(codec);
  if (!c) {
    *ret = AVERROR(ENOMEM);
    return NULL;
  }
  c->width = width;
  c->height = height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->sample_aspect_ratio = (AVRational){1, 1};
  c->framerate = rate;
  c->time_base = av_inv_q(rate);
  c->color_range = AVCOL_RANGE_MPEG;
  c->colorspace = AVCOL_SPC_SMPTE170M;
  if (format->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (strcmp(codec->name, "libx264") == 0) {
    av_opt_set(c->priv_data, "preset", "veryfast", 0);
    av_opt_set(c->priv_data, "crf", "18", 0);
  } else if (strcmp(codec->name, "libvpx-vp9") == 0 || strcmp(codec->name, "libvpx") == 0) {
    av_opt_set(c->priv_data, "deadline", "realtime", 0);
    av_opt_set(c->priv_data, "cpu-used", "8", 0);
    av_opt_set(c->priv_data, "crf", "10", 0);
    // Constant quality for VP9; VP8's crf needs a bitrate ceiling (about 2 bits per pixel).
    c->bit_rate = strcmp(codec->name, "libvpx") == 0 ? (int64_t)(2.0 * width * height * av_q2d(rate)) : 0;
  } else {
    c->flags |= AV_CODEC_FLAG_QSCALE;  // constant quantiser (mpeg4 and other native encoders)
    c->global_quality = FF_QP2LAMBDA * 2;
  }
  *ret = avcodec_open2(c, codec, NULL);
  if (*ret < 0) avcodec_free_context(&c);
  return c;
}

int32_t cv_writer_open(const char *path, const char *container_name, const char *encoder, int32_t width,
                       int32_t height, int32_t rate_num, int32_t rate_den, int32_t rotation, cv_writer **out,
                       char *encoder_used, size_t encoder_len, char *err, size_t errlen) {
  cv_log_begin();
  *out = NULL;
  if (encoder_len > 0) encoder_used[0] = 0;
  if (width <= 0 || height <= 0 || rate_num <= 0 || rate_den <= 0) {
    snprintf(err, errlen, "invalid video size %dx%d or frame rate %d/%d", width, height, rate_num, rate_den);
    return 1;
  }
  const AVOutputFormat *format = av_guess_format(NULL, container_name, NULL);
  if (!format || format->video_codec == AV_CODEC_ID_NONE) {
    snprintf(err, errlen, "no video container for this file extension");
    return 1;
  }
  cv_writer *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return 1;
  }
  w->width = width;
  w->height = height;
  int ret = avformat_alloc_output_context2(&w->format, format, NULL, path);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot create the container");
    goto fail;
  }
  // MPEG-4 time bases are limited to 16-bit numbers.
  AVRational rate;
  av_reduce(&rate.num, &rate.den, rate_num, rate_den, 65535);
  int even_w = width + (width & 1), even_h = height + (height & 1);

  const char *names[4];
  if (encoder) {
    memset(names, 0, sizeof names);
    names[0] = encoder;
  } else {
    preferred_encoders(format, names);
  }
  ret = 0;
  const char *tried = NULL;
  for (int i = 0; names[i] && !w->encoder; i++) {
    const AVCodec *codec = avcodec_find_encoder_by_name(names[i]);
    if (!codec || codec->type != AVMEDIA_TYPE_VIDEO || !supports_yuv420p(codec) ||
        avformat_query_codec(format, codec->id, FF_COMPLIANCE_NORMAL) != 1)
      continue;
    tried = names[i];
    w->encoder = open_encoder(codec, format, even_w, even_h, rate, &ret);
  }
  if (!w->encoder) {
    char what[160];
    if (tried)
      snprintf(what, sizeof what, "cannot open the %s encoder", tried);
    else
      snprintf(what, sizeof what, "no usable video encoder for the %s container%s%s", format->name,
               encoder ? ": " : "", encoder ? encoder : "");
    cv_error(err, errlen, tried ? ret : 0, what);
    goto fail;
  }
  snprintf(encoder_used, encoder_len, "%s", w->encoder->codec->name);

  w->stream = avformat_new_stream(w->format, NULL);
  w->frame = av_frame_alloc();
  w->packet = av_packet_alloc();
  if (!w->stream || !w->frame || !w->packet) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  ret = avcodec_parameters_from_context(w->stream->codecpar, w->encoder);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot set up the video stream");
    goto fail;
  }
  w->stream->time_base = w->encoder->time_base;
  w->stream->avg_frame_rate = rate;
  if (rotation % 360 != 0) {
    int32_t matrix[9];
    av_display_rotation_set(matrix, (double)rotation);  // a clockwise rotation
#if LIBAVFORMAT_VERSION_MAJOR >= 61
    AVPacketSideData *sd = av_packet_side_data_new(&w->stream->codecpar->coded_side_data,
                                                   &w->stream->codecpar->nb_coded_side_data,
                                                   AV_PKT_DATA_DISPLAYMATRIX, sizeof matrix, 0);
    uint8_t *data = sd ? sd->data : NULL;
#else
    uint8_t *data = av_stream_new_side_data(w->stream, AV_PKT_DATA_DISPLAYMATRIX, sizeof matrix);
#endif
    if (!data) {
      snprintf(err, errlen, "out of memory");
      goto fail;
    }
    memcpy(data, matrix, sizeof matrix);
  }

  w->frame->format = AV_PIX_FMT_YUV420P;
  w->frame->width = even_w;
  w->frame->height = even_h;
  ret = av_frame_get_buffer(w->frame, 0);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot allocate a frame");
    goto fail;
  }
  char *url = av_asprintf("file:%s", path);  // a ':' in the path names no protocol
  ret = url ? avio_open(&w->format->pb, url, AVIO_FLAG_WRITE) : AVERROR(ENOMEM);
  av_free(url);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot be written");
    goto fail;
  }
  ret = avformat_write_header(w->format, NULL);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot write the container header");
    goto fail;
  }
  w->header_written = 1;
  *out = w;
  return 0;
fail:
  cv_writer_free(w);
  return 1;
}

// Sends frame (NULL: end of stream) to the encoder and muxes every packet it gives back.
static int encode(cv_writer *w, AVFrame *frame, char *err, size_t errlen) {
  int ret = avcodec_send_frame(w->encoder, frame);
  if (ret < 0) {
    cv_error(err, errlen, ret, "encoding failed");
    return 1;
  }
  for (;;) {
    ret = avcodec_receive_packet(w->encoder, w->packet);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
    if (ret < 0) {
      cv_error(err, errlen, ret, "encoding failed");
      return 1;
    }
    av_packet_rescale_ts(w->packet, w->encoder->time_base, w->stream->time_base);
    w->packet->stream_index = w->stream->index;
    ret = av_interleaved_write_frame(w->format, w->packet);  // takes the packet's data
    if (ret < 0) {
      cv_error(err, errlen, ret, "cannot be written");
      return 1;
    }
  }
}

int32_t cv_writer_write(cv_writer *w, const uint8_t *rgb, int32_t width, int32_t height, char *err,
                        size_t errlen) {
  cv_log_begin();
  if (w->finished) {
    snprintf(err, errlen, "frame written after the video was finished");
    return 1;
  }
  w->sws = sws_getCachedContext(w->sws, width, height, AV_PIX_FMT_RGB24, w->width, w->height, AV_PIX_FMT_YUV420P,
                                SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
  if (!w->sws) {
    snprintf(err, errlen, "cannot convert a %dx%d frame to %dx%d yuv420p", width, height, w->width, w->height);
    return 1;
  }
  const int *bt601 = sws_getCoefficients(SWS_CS_ITU601);
  sws_setColorspaceDetails(w->sws, bt601, 1, bt601, 0, 0, 1 << 16, 1 << 16);
  int ret = av_frame_make_writable(w->frame);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot allocate a frame");
    return 1;
  }
  const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
  int src_stride[4] = {width * 3, 0, 0, 0};
  sws_scale(w->sws, src, src_stride, 0, height, w->frame->data, w->frame->linesize);
  // Odd sizes: repeat the last luma column and row (the chroma planes already cover them).
  uint8_t *luma = w->frame->data[0];
  int stride = w->frame->linesize[0];
  if (w->width & 1)
    for (int y = 0; y < w->height; y++) luma[y * stride + w->width] = luma[y * stride + w->width - 1];
  if (w->height & 1) memcpy(luma + w->height * stride, luma + (w->height - 1) * stride, w->frame->width);
  w->frame->pts = w->next_pts++;
  if (w->encoder->flags & AV_CODEC_FLAG_QSCALE) w->frame->quality = w->encoder->global_quality;
  return encode(w, w->frame, err, errlen);
}

int32_t cv_writer_finish(cv_writer *w, char *err, size_t errlen) {
  cv_log_begin();
  if (w->finished) return 0;
  if (encode(w, NULL, err, errlen) != 0) return 1;
  int ret = av_write_trailer(w->format);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot write the container trailer");
    return 1;
  }
  ret = avio_closep(&w->format->pb);
  if (ret < 0) {
    cv_error(err, errlen, ret, "cannot be written");
    return 1;
  }
  w->finished = 1;
  return 0;
}

void cv_writer_free(cv_writer *w) {
  if (!w) return;
  if (w->format && w->format->pb) avio_closep(&w->format->pb);
  avformat_free_context(w->format);
  avcodec_free_context(&w->encoder);
  av_frame_free(&w->frame);
  av_packet_free(&w->packet);
  sws_freeContext(w->sws);
  free(w);
}
