/* ts_exclusive: the "exclusive applications" of a café slave (games, say): programs whose running pauses it, found
   by process name in /proc. */
#ifndef TS_EXCLUSIVE_H
#define TS_EXCLUSIVE_H

#include <stdbool.h>

typedef struct ts_exclusive ts_exclusive_t;

#define TS_EXCLUSIVE_NAME_MAX 15   /* what /proc/PID/comm holds of a name (TASK_COMM_LEN - 1) */

/* names: comma-separated process names as /proc/PID/comm shows them (the executable's file name, cut to 15
   characters; "Game.exe" for a Windows game under Wine), spaces around commas ignored. NULL with ts_error() naming
   an empty or too long name. */
ts_exclusive_t *ts_exclusive_new(const char *names);
void ts_exclusive_destroy(ts_exclusive_t **self_p);
/* The listed name of a process running now, or NULL; one pass over /proc (about a millisecond: call it every few
   seconds, not every loop). */
const char *ts_exclusive_running(ts_exclusive_t *self);

int ts_exclusive_test(bool verbose);

#endif
