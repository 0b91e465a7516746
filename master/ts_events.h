/* ts_events: GET /api/v1/events: the store's job and task events (ts_store_events.c) as server-sent events, one
   stream per connection, resumable by event id. */
#ifndef TS_EVENTS_H
#define TS_EVENTS_H

#include "master/ts_store.h"
#include <microhttpd.h>

#define TS_EVENTS_NOW (-1) /* a stream that starts with the next event */

typedef struct ts_events ts_events_t;

/* Streams of store's events, a keepalive comment on each after keepalive_s without an event; starts the thread that
   wakes the streams and prunes old events. */
ts_events_t *ts_events_new(ts_store_t *store, double keepalive_s);
/* New events were written: the streams waiting go on (from the store's watcher; any thread, never blocks long). */
void ts_events_stored(ts_events_t *self);
/* Where a request asks its stream to start: after the Last-Event-ID header's id when it is sent (not empty), else
   after the query's ?after=N, else TS_EVENTS_NOW. -1 (ts_error() naming the header or parameter) when the one used is
   not a whole number 0..10^18. */
int ts_events_parse_after(const char *last_event_id, const char *after_query, int64_t *after);
/* Answers c (from its access handler) with the stream of the events caller may see (a requester: its own jobs')
   after id after. A stream first says `retry`, then `id: N` (where it starts) or, when events after the one asked
   were pruned or the id was never given, an `event: reset` saying so, and goes on from the oldest kept. 0 with *ret
   MHD's answer; -1 (ts_error() says why: too many streams, or stopping) when refused, for a 503. */
int ts_events_serve(ts_events_t *self, struct MHD_Connection *c, const ts_caller_t *caller, int64_t after,
                    enum MHD_Result *ret);
/* Ends every stream (each says its last bytes and closes) and the thread; later requests are refused. Before the
   daemon stops (it must have no connection suspended). */
void ts_events_stop(ts_events_t *self);
/* After the daemon has stopped (stops the streams first when needed). */
void ts_events_destroy(ts_events_t **self_p);

#endif
