/* ts_error: per-thread last error message. */
#include "lib/ts_error.h"
#include <stdio.h>
#include <string.h>

#define TS_ERROR_MAX 1024
static _Thread_local char s_error[TS_ERROR_MAX];

int ts_error_setv(const char *fmt, va_list ap)
{
    vsnprintf(s_error, sizeof s_error, fmt, ap);
    return -1;
}

int ts_error_set(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_error_setv(fmt, ap);
    va_end(ap);
    return -1;
}

int ts_error_prefix(const char *fmt, ...)
{
    char prefix[TS_ERROR_MAX], old[TS_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, s_error, sizeof old);
    snprintf(s_error, sizeof s_error, "%s: %s", prefix, old);
    return -1;
}

const char *ts_error(void)
{
    return s_error;
}
