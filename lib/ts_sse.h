/* ts_sse: server-sent events (text/event-stream, as the HTML standard defines it): writing one event, and a reader
   that takes a stream in pieces of any size and gives back its events one at a time. */
#ifndef TS_SSE_H
#define TS_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_SSE_LINE_MAX (1 << 20)  /* the longest line a reader takes */
#define TS_SSE_ID_CAP 64           /* the longest last event id a reader keeps, terminator included */
/* The master's event streams say ": keepalive" after this long without an event; a client that hears nothing for
   three times as long takes the connection as lost. */
#define TS_SSE_KEEPALIVE_S 15.0

/* "id: <id>\nevent: <type>\ndata: <data>\n\n" into out; data must be one line (JSON from json_dumps is). The length
   written, or -1 (ts_error() says why) when it does not fit cap or data or type holds a line break. */
int ts_sse_format(char *out, size_t cap, int64_t id, const char *type, const char *data);

typedef struct ts_sse_reader ts_sse_reader_t;
/* Called for each event with data: its type ("message" when the stream named none), its data (lines joined by
   "\n") and the stream's last event id so far ("" when none). */
typedef void (*ts_sse_event_fn)(void *ud, const char *type, const char *data, const char *id);

ts_sse_reader_t *ts_sse_reader_new(ts_sse_event_fn event, void *ud);
void ts_sse_reader_destroy(ts_sse_reader_t **self_p);
/* Reads the next n bytes of the stream; 0, or -1 (ts_error() says why) for a line longer than TS_SSE_LINE_MAX or
   out of memory, after which the reader takes nothing more. */
int ts_sse_reader_feed(ts_sse_reader_t *self, const char *p, size_t n);
/* The last event id the stream set (an id field sets it when its event ends, with data or without): "" when none. */
const char *ts_sse_reader_last_id(const ts_sse_reader_t *self);

int ts_sse_test(bool verbose);

#endif
