/* ts_worker: a thread that runs one pass of some work whenever it is woken, and at least every idle_s seconds. */
#ifndef TS_WORKER_H
#define TS_WORKER_H

#include <stdbool.h>

typedef struct ts_worker ts_worker_t;

/* Starts the thread; pass(arg) runs once at once when first_now, then on each wake and after idle_s seconds
   without one. NULL with ts_error() naming the worker when the thread cannot start. */
ts_worker_t *ts_worker_new(const char *name, void (*pass)(void *arg), void *arg, int idle_s, bool first_now);
/* Asks for another pass (wakes coalesce); safe from any thread. */
void ts_worker_wake(ts_worker_t *self);
/* Lets the running pass finish, stops the thread. */
void ts_worker_destroy(ts_worker_t **self_p);

#endif
