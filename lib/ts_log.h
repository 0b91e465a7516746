/* ts_log: leveled, timestamped logging to stderr, one line per call, safe across threads. */
#ifndef TS_LOG_H
#define TS_LOG_H

typedef enum { TS_LOG_DEBUG = 0, TS_LOG_INFO, TS_LOG_WARN, TS_LOG_ERROR } ts_log_level_t;

/* Name printed on each line (the program), and the lowest level printed. */
void ts_log_init(const char *ident, ts_log_level_t level);
/* Parse "debug|info|warn|error"; -1 on an unknown name. */
int ts_log_level_parse(const char *name, ts_log_level_t *level);
void ts_log(ts_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ts_debug(...) ts_log(TS_LOG_DEBUG, __VA_ARGS__)
#define ts_info(...)  ts_log(TS_LOG_INFO, __VA_ARGS__)
#define ts_warn(...)  ts_log(TS_LOG_WARN, __VA_ARGS__)
#define ts_err(...)   ts_log(TS_LOG_ERROR, __VA_ARGS__)

#endif
