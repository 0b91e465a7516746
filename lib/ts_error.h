/* ts_error: the last error message of the calling thread, set by functions that return -1/NULL. */
#ifndef TS_ERROR_H
#define TS_ERROR_H

#include <stdarg.h>

/* Record a message (printf format) for this thread; returns -1 so callers can `return ts_error_set(...)`. */
int ts_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ts_error_setv(const char *fmt, va_list ap);
/* Prefix the current message: "prefix: old message". Returns -1. */
int ts_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The message, never NULL ("" when none). Valid until the next set on this thread. */
const char *ts_error(void);

#endif
