/* ts_sse: server-sent events: one event written, a stream read back in pieces (see ts_sse.h).
   The reader follows the HTML standard's parsing: lines end with CRLF, LF or CR; a line starting with ':' is a
   comment; "field: value" (one space after the colon dropped); an empty line ends the event, which is given back
   only when it has data. A leading byte-order mark is not skipped (nothing tessera reads sends one). */
#include "lib/ts_sse.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_INITIAL 256
#define TYPE_CAP 64

struct ts_sse_reader {
    ts_sse_event_fn event;
    void *ud;
    char *line, *data;         /* the line being read; the event's data lines, each ended by "\n" */
    size_t len, cap, dlen, dcap;
    char type[TYPE_CAP];
    char id[TS_SSE_ID_CAP];    /* the last event id buffer: set by an id field, kept across events */
    char last_id[TS_SSE_ID_CAP];
    bool cr;                   /* the byte before was a CR: an LF now ends no second line */
    bool broken;
};

int ts_sse_format(char *out, size_t cap, int64_t id, const char *type, const char *data)
{
    if (strpbrk(type, "\r\n") || strpbrk(data, "\r\n"))
        return ts_error_set("server-sent event %lld: a line break in its type or data", (long long)id);
    int n = snprintf(out, cap, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)id, type, data);
    if (n < 0 || (size_t)n >= cap)
        return ts_error_set("server-sent event %lld: %zu bytes of data do not fit", (long long)id, strlen(data));
    return n;
}

ts_sse_reader_t *ts_sse_reader_new(ts_sse_event_fn event, void *ud)
{
    ts_sse_reader_t *self = calloc(1, sizeof *self);
    if (self) {
        self->event = event;
        self->ud = ud;
    }
    return self;
}

void ts_sse_reader_destroy(ts_sse_reader_t **self_p)
{
    ts_sse_reader_t *self = *self_p;
    if (!self)
        return;
    free(self->line);
    free(self->data);
    free(self);
    *self_p = NULL;
}

const char *ts_sse_reader_last_id(const ts_sse_reader_t *self)
{
    return self->last_id;
}

/* Appends n bytes to a buffer that grows by doubling up to TS_SSE_LINE_MAX (plus a terminator). */
static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n > TS_SSE_LINE_MAX)
        return ts_error_set("server-sent events: a line or an event's data longer than %d bytes", TS_SSE_LINE_MAX);
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : LINE_INITIAL;
        while (c < *len + n + 1)
            c *= 2;
        char *grown = realloc(*buf, c);
        if (!grown)
            return ts_error_set("server-sent events: out of memory");
        *buf = grown;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* An empty line: the event ends. Its id (if any) becomes the last event id; with data it is given back. */
static void dispatch(ts_sse_reader_t *self)
{
    memcpy(self->last_id, self->id, sizeof self->last_id);
    if (self->dlen > 0) {
        self->data[--self->dlen] = '\0'; /* the last data line's "\n" */
        self->event(self->ud, self->type[0] ? self->type : "message", self->data, self->last_id);
    }
    self->dlen = 0;
    self->type[0] = '\0';
}

static int line_end(ts_sse_reader_t *self)
{
    const char *l = self->line ? self->line : "";
    size_t n = self->len;
    self->len = 0;
    if (n == 0) {
        dispatch(self);
        return 0;
    }
    if (l[0] == ':')
        return 0;
    const char *colon = memchr(l, ':', n);
    size_t flen = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vlen = colon ? n - flen - 1 : 0;
    if (vlen > 0 && *v == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(l, "data", 4) == 0)
        return append(&self->data, &self->dlen, &self->dcap, v, vlen) < 0 ||
                       append(&self->data, &self->dlen, &self->dcap, "\n", 1) < 0
                   ? -1
                   : 0;
    if (flen == 5 && memcmp(l, "event", 5) == 0)
        snprintf(self->type, sizeof self->type, "%.*s", (int)vlen, v);
    else if (flen == 2 && memcmp(l, "id", 2) == 0 && !memchr(v, '\0', vlen) && vlen < sizeof self->id)
        snprintf(self->id, sizeof self->id, "%.*s", (int)vlen, v);
    return 0; /* retry and unknown fields are ignored */
}

int ts_sse_reader_feed(ts_sse_reader_t *self, const char *p, size_t n)
{
    if (self->broken)
        return ts_error_set("server-sent events: the stream was refused before");
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool lf_after_cr = c == '\n' && self->cr;
        self->cr = c == '\r';
        if (lf_after_cr)
            continue;
        int rc = c == '\r' || c == '\n' ? line_end(self) : append(&self->line, &self->len, &self->cap, &c, 1);
        if (rc < 0) {
            self->broken = true;
            return -1;
        }
    }
    return 0;
}

/* The self-test reads one stream whole and split at every byte, with each kind of line ending and field. */
typedef struct {
    char seen[1024];
} seen_t;

static void record(void *ud, const char *type, const char *data, const char *id)
{
    seen_t *s = ud;
    size_t used = strlen(s->seen);
    snprintf(s->seen + used, sizeof s->seen - used, "[%s|%s|%s]", type, data, id);
}

int ts_sse_test(bool verbose)
{
    int failures = 0;
    static const char stream[] = "retry: 1000\nid: 7\n\n"                     /* an id alone: no event, id kept */
                                 ": keepalive\r\n\r\n"                        /* a comment */
                                 "id: 8\r\nevent: job\r\ndata: {\"a\":1}\r\n\r\n"
                                 "data:two\rdata\r\rid: 9\nevent: task\ndata: x: y\n\n" /* CR endings, no colon */
                                 "data: no type\n\n"                          /* "message", last id kept */
                                 "id\ndata: id cleared\n\n";                  /* "id" alone empties it */
    static const char want[] =
        "[job|{\"a\":1}|8][message|two\n|8][task|x: y|9][message|no type|9][message|id cleared|]";
    for (size_t split = 0; split <= sizeof stream - 1; split++) {
        seen_t s = {""};
        ts_sse_reader_t *r = ts_sse_reader_new(record, &s);
        bool fed = r && ts_sse_reader_feed(r, stream, split) == 0 &&
                   ts_sse_reader_feed(r, stream + split, sizeof stream - 1 - split) == 0;
        if (!fed || strcmp(s.seen, want) != 0) {
            fprintf(stderr, "ts_sse: split at %zu: read %s\n  wanted %s\n", split, s.seen, want);
            failures++;
        }
        ts_sse_reader_destroy(&r);
    }
    seen_t s = {""};
    ts_sse_reader_t *r = ts_sse_reader_new(record, &s);
    for (size_t i = 0; r && i < sizeof stream - 1; i++)
        ts_sse_reader_feed(r, stream + i, 1);
    if (!r || strcmp(s.seen, want) != 0 || strcmp(ts_sse_reader_last_id(r), "") != 0) {
        fprintf(stderr, "ts_sse: byte by byte: %s\n", s.seen);
        failures++;
    }
    ts_sse_reader_destroy(&r);
    /* A line longer than the limit is refused, and so is everything after it. */
    char *big = malloc(TS_SSE_LINE_MAX + 2);
    r = ts_sse_reader_new(record, &s);
    if (big && r) {
        memset(big, 'x', TS_SSE_LINE_MAX + 1);
        big[TS_SSE_LINE_MAX + 1] = '\n';
        if (ts_sse_reader_feed(r, big, TS_SSE_LINE_MAX + 2) != -1 || ts_sse_reader_feed(r, "\n", 1) != -1) {
            fprintf(stderr, "ts_sse: an overlong line was taken\n");
            failures++;
        }
    }
    free(big);
    ts_sse_reader_destroy(&r);
    /* Writing: what the reader reads back; a line break in the data is refused. */
    char out[128];
    s.seen[0] = '\0';
    r = ts_sse_reader_new(record, &s);
    int n = ts_sse_format(out, sizeof out, 42, "task", "{\"to\":\"done\"}");
    if (!r || n <= 0 || ts_sse_reader_feed(r, out, (size_t)n) != 0 ||
        strcmp(s.seen, "[task|{\"to\":\"done\"}|42]") != 0 ||
        ts_sse_format(out, sizeof out, 1, "job", "a\nb") != -1 || ts_sse_format(out, 8, 1, "job", "{}") != -1) {
        fprintf(stderr, "ts_sse: format: %d %s (%s)\n", n, s.seen, ts_error());
        failures++;
    }
    ts_sse_reader_destroy(&r);
    if (verbose || failures)
        fprintf(failures ? stderr : stdout, "ts_sse: %s\n", failures ? "FAILED" : "ok");
    return failures ? -1 : 0;
}
