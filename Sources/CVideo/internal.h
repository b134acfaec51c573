#pragma once
#include <stddef.h>
#include <stdint.h>
#include "cvideo.h"

/* Routes FFmpeg's log into a per-thread buffer instead of stderr (once per process) and clears
   that buffer: call at the start of every entry point. */
void cv_log_begin(void);

/* The last error FFmpeg logged on this thread since cv_log_begin ("" when none). */
const char *cv_logged_error(void);

/* The last error a demuxer logged on this thread since cv_log_begin ("" when none). */
const char *cv_demuxer_error(void);

/* Writes "<what>: <FFmpeg's error string for code> (<last error FFmpeg logged>)" into err;
   code 0 leaves out the error string. */
void cv_error(char *err, size_t errlen, int code, const char *what);
