/* ts_notify: per-job webhooks: one thread POSTs each event of a job that has a notify URL to that URL, in order. */
#ifndef TS_NOTIFY_H
#define TS_NOTIFY_H

#include "master/ts_store.h"

#define TS_NOTIFY_RETRY_FIRST_S 1.0   /* after a failed attempt the event is tried again this much later, ... */
#define TS_NOTIFY_RETRY_MAX_S 300.0   /* ... doubling each time up to this */

typedef struct ts_notify ts_notify_t;

/* Starts the thread; it goes on from each job's stored cursor (ts_store_notify_*), so after a restart too. */
ts_notify_t *ts_notify_new(ts_store_t *store);
/* New events were written (from the store's watcher; any thread, never blocks long). */
void ts_notify_stored(ts_notify_t *self);
/* Stops the thread (an attempt under way is cut short and tried again at the next start) and frees it. */
void ts_notify_destroy(ts_notify_t **self_p);
/* The wait before the next attempt after `failures` failed ones in a row (1 s, 2 s, 4 s ... 300 s). */
double ts_notify_retry_s(int failures);

#endif
