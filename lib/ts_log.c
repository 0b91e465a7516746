/* ts_log: leveled, timestamped logging to stderr. */
#include "lib/ts_log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *s_ident = "tessera";
static ts_log_level_t s_level = TS_LOG_INFO;
static const char *const s_names[] = {"debug", "info", "warn", "error"};

void ts_log_init(const char *ident, ts_log_level_t level)
{
    s_ident = ident;
    s_level = level;
}

int ts_log_level_parse(const char *name, ts_log_level_t *level)
{
    for (int i = 0; i < (int)(sizeof s_names / sizeof s_names[0]); i++)
        if (strcmp(name, s_names[i]) == 0) {
            *level = (ts_log_level_t)i;
            return 0;
        }
    return -1;
}

void ts_log(ts_log_level_t level, const char *fmt, ...)
{
    if (level < s_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %s %s: ", tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, s_ident, s_names[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line); /* one write per line keeps threads' lines whole */
}
