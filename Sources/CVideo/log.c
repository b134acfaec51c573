// FFmpeg's log, captured: the library never prints. The last message at error level or worse
// of each thread is kept to explain the error codes FFmpeg returns ("moov atom not found"
// behind "Invalid data found when processing input"); so is the last one a demuxer logged, which
// is how some demuxers (Matroska) report a file that ends inside its data.
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include "internal.h"

static _Thread_local char last_error[256];
static _Thread_local char demuxer_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_log(void *avcl, int level, const char *fmt, va_list args) {
  if (level > AV_LOG_ERROR) return;
  char line[sizeof last_error];
  vsnprintf(line, sizeof line, fmt, args);
  size_t n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ' || line[n - 1] == '.')) line[--n] = 0;
  if (n == 0) return;
  memcpy(last_error, line, n + 1);
  const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
  AVClassCategory category = !cls ? AV_CLASS_CATEGORY_NA : cls->get_category ? cls->get_category(avcl) : cls->category;
  if (category == AV_CLASS_CATEGORY_DEMUXER) memcpy(demuxer_error, line, n + 1);
}

static void install(void) { av_log_set_callback(on_log); }

void cv_log_begin(void) {
  pthread_once(&once, install);
  last_error[0] = 0;
  demuxer_error[0] = 0;
}

const char *cv_logged_error(void) { return last_error; }

const char *cv_demuxer_error(void) { return demuxer_error; }

void cv_error(char *err, size_t errlen, int code, const char *what) {
  char reason[AV_ERROR_MAX_STRING_SIZE] = "";
  if (code != 0) av_strerror(code, reason, sizeof reason);
  if (code != 0 && last_error[0])
    snprintf(err, errlen, "%s: %s (%s)", what, reason, last_error);
  else if (code != 0)
    snprintf(err, errlen, "%s: %s", what, reason);
  else if (last_error[0])
    snprintf(err, errlen, "%s (%s)", what, last_error);
  else
    snprintf(err, errlen, "%s", what);
}
