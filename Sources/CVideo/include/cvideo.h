/*
 * cvideo.h — video decoding and encoding for swift-detr (FFmpeg: libavformat, libavcodec,
 * libswscale). Frames cross this boundary as 8-bit RGB, interleaved (HWC).
 * Failures are reported through a caller-provided message buffer (FFmpeg's error string, plus
 * the last error FFmpeg logged when there is one); FFmpeg's own logging is captured, never
 * printed, and nothing aborts or exits the process.
 */
#ifndef CVIDEO_H
#define CVIDEO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a video file's header says about its best video stream. */
typedef struct {
  /* Size of the frames cv_reader_next delivers (after rotation). */
  int32_t width;
  int32_t height;
  /* Frames per second as a fraction (the stream's average rate; 25/1 when unknown). */
  int32_t rate_num;
  int32_t rate_den;
  /* Frame count from the header, else estimated from the duration; -1 when unknown. */
  int64_t frame_count;
  /* Clockwise rotation (0, 90, 180, 270) applied to the stored pixels to show them upright:
     the stream's display matrix when rotation is applied, else 0. */
  int32_t rotation;
  /* Decoder name (h264, mpeg4, vp9, ...). */
  char codec[32];
} cv_info;

/* One decoded frame. pixels belongs to the reader and is valid until its next call;
   NULL for a frame that was decoded but not converted. */
typedef struct {
  const uint8_t *pixels;
  int32_t width;
  int32_t height;
  /* Index in presentation order, from 0. */
  int64_t index;
  /* Presentation time in seconds from the stream's start. */
  double time;
} cv_frame;

typedef struct cv_reader cv_reader;
typedef struct cv_writer cv_writer;

/* Opens a video file and its best video stream's decoder. apply_rotation: turn frames upright
   as the stream's display matrix says. Returns 0 on success; otherwise non-zero with a message
   in err (*out stays NULL). */
int32_t cv_reader_open(const char *path, int32_t apply_rotation, cv_reader **out, cv_info *info, char *err,
                       size_t errlen);

/* Decodes the next frame; converts it to RGB only when convert is non-zero (decoding every
   frame is needed anyway, as frames depend on earlier ones). Returns 1 with a frame in *frame,
   0 at the end of the stream, -1 on an error (message in err). */
int32_t cv_reader_next(cv_reader *reader, int32_t convert, cv_frame *frame, char *err, size_t errlen);

void cv_reader_close(cv_reader *reader);

/* Creates a video file at path. The container is the one FFmpeg associates with the extension
   of container_name (path may be a temporary name without it). encoder: an FFmpeg encoder name,
   or NULL to choose by container: H.264 (libx264) for mp4/mov/mkv, MPEG-4 Part 2 (mpeg4) for
   avi, VP9 then VP8 for webm, each with the next usable one as fallback. Frames are encoded as
   yuv420p (BT.601, limited range) at width x height rounded up to even sizes (the last column
   and row repeated). rotation (0, 90, 180, 270): clockwise rotation a player applies, stored
   as the stream's display matrix. The name of the encoder used is written to encoder_used.
   Returns 0 on success; otherwise non-zero with a message in err (nothing is left at path). */
int32_t cv_writer_open(const char *path, const char *container_name, const char *encoder, int32_t width,
                       int32_t height, int32_t rate_num, int32_t rate_den, int32_t rotation, cv_writer **out,
                       char *encoder_used, size_t encoder_len, char *err, size_t errlen);

/* Encodes one RGB frame; one of another size than the writer's is scaled to it. Frames are
   timed at 0, 1/rate, 2/rate, ... Returns 0 on success. */
int32_t cv_writer_write(cv_writer *writer, const uint8_t *rgb, int32_t width, int32_t height, char *err,
                        size_t errlen);

/* Flushes the encoder, writes the trailer and closes the file. Returns 0 on success. */
int32_t cv_writer_finish(cv_writer *writer, char *err, size_t errlen);

/* Frees the writer; a writer not finished is closed without a trailer (the caller removes the
   file). */
void cv_writer_free(cv_writer *writer);

#ifdef __cplusplus
}
#endif
#endif
