/* fuzz_events: libFuzzer target for the event streams' outside input: the Last-Event-ID header and ?after= parameter
   a client sends the master (ts_events_parse_after), and a server-sent event stream the CLI reads (ts_sse_reader),
   which must give the same events whether it comes whole or in two pieces. */
#include "lib/ts_sse.h"
#include "master/ts_events.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *text; /* every event given back, as "type|data|id;" */
    size_t len;
} seen_t;

static void record(void *ud, const char *type, const char *data, const char *id)
{
    seen_t *s = ud;
    if (strpbrk(type, "\r\n") || strpbrk(data, "\r") || strlen(id) >= TS_SSE_ID_CAP || strpbrk(id, "\r\n"))
        abort(); /* a line break never survives inside a field, only "\n" between data lines */
    size_t n = strlen(type) + strlen(data) + strlen(id) + 4;
    char *grown = realloc(s->text, s->len + n);
    if (!grown)
        abort();
    s->text = grown;
    s->len += (size_t)snprintf(s->text + s->len, n, "%s|%s|%s;", type, data, id);
}

/* Feeds the stream to a new reader in pieces cut at split; the events seen (freed by the caller). */
static seen_t read_stream(const uint8_t *data, size_t size, size_t split)
{
    seen_t s = {NULL, 0};
    ts_sse_reader_t *r = ts_sse_reader_new(record, &s);
    if (!r)
        abort();
    if (ts_sse_reader_feed(r, (const char *)data, split) == 0)
        ts_sse_reader_feed(r, (const char *)data + split, size - split);
    ts_sse_reader_destroy(&r);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* a header or query value is a C string to libmicrohttpd */
    int64_t after;
    if (ts_events_parse_after(text, NULL, &after) == 0 && (text[0] ? after < 0 : after != TS_EVENTS_NOW))
        abort();
    if (ts_events_parse_after(NULL, text, &after) == 0 && after < 0)
        abort();
    free(text);
    seen_t whole = read_stream(data, size, size);
    seen_t cut = read_stream(data, size, size ? data[0] % size : 0);
    if (whole.len != cut.len || (whole.len && memcmp(whole.text, cut.text, whole.len) != 0))
        abort();
    free(whole.text);
    free(cut.text);
    return 0;
}
