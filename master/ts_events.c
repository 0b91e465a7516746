/* ts_events: the event streams of GET /api/v1/events (see ts_events.h).
   DESIGN: a stream is a libmicrohttpd response whose reader hands out the bytes it has formatted, reads the next
   events after its place from the store when it has none, and when there are none either suspends its connection
   (no pool thread ever waits). One thread resumes the suspended streams when the store says events were written
   (ts_events_stored bumps a generation number; a reader that saw it change while reading does not suspend, so no
   event is left waiting), and each after keepalive_s so it sends a keepalive comment (a reader that suspends wakes the
   thread when its keepalive falls before the thread's next wake); it also prunes old events every hour.
   A stream's connection gets its own timeout (STREAM_TIMEOUT_S), so --http-idle never cuts a quiet stream, while a
   client that stops reading is still dropped. Lock order: the store's, then the hub's; the hub's is never held while
   calling the store or libmicrohttpd's resume. */
#include "master/ts_events.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_sse.h"
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREAMS_MAX 1024        /* open streams at once; more are answered 503 */
#define STREAM_TIMEOUT_S 60u    /* a stream's client that takes no byte for this long is dropped */
#define STREAM_BLOCK (16 << 10) /* what libmicrohttpd asks the reader for at most */
#define FILL_EVENTS 32          /* events read from the store at once */
#define EVENT_TEXT_MAX 8192     /* one event's text (its JSON is a few hundred bytes) */
#define RETRY_MS 1000           /* how soon a client reconnects, as the stream tells it */
#define PRUNE_EVERY_S 3600.0
#define ID_DIGITS_MAX 18        /* ids up to 10^18 - 1 */

typedef struct stream {
    struct ts_events *hub;
    struct MHD_Connection *c;
    ts_caller_t caller;
    int64_t cursor;       /* the last event id read (sent, or skipped by the caller's filter) */
    char *buf;            /* formatted, not yet handed out: buf[off..len) */
    size_t off, len, cap;
    double last_sent;     /* monotonic time of the last bytes handed out (the reader's own) */
    bool ended;           /* its requester's account was revoked */
    /* under the hub's lock */
    bool suspended;
    double due;           /* when suspended: when its keepalive is due */
    struct stream *prev, *next;
} stream_t;

struct ts_events {
    ts_store_t *store;
    double keepalive_s;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool started, stop, joined;
    uint64_t gen, gen_seen; /* bumped for every event written; the thread's last look */
    double wake_at;         /* when the thread sleeps: when it wakes (0 while it looks at the streams) */
    stream_t *streams;
    int nstreams;
    struct MHD_Connection **resuming; /* the thread's list of connections to resume */
    int resuming_cap;
};

int ts_events_parse_after(const char *last_event_id, const char *after_query, int64_t *after)
{
    const char *text = last_event_id && last_event_id[0] ? last_event_id : after_query;
    const char *what = text == last_event_id ? "header Last-Event-ID" : "parameter after";
    if (!text) {
        *after = TS_EVENTS_NOW;
        return 0;
    }
    size_t n = strlen(text);
    if (n == 0 || n > ID_DIGITS_MAX || strspn(text, "0123456789") != n)
        return ts_error_set("%s '%.32s': not an event id (a whole number from 0, at most %d digits)", what, text,
                            ID_DIGITS_MAX);
    *after = (int64_t)strtoll(text, NULL, 10);
    return 0;
}

/* Appends n bytes to the stream's unsent text. */
static int put(stream_t *s, const char *p, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : STREAM_BLOCK;
        while (cap < s->len + n)
            cap *= 2;
        char *grown = realloc(s->buf, cap);
        if (!grown)
            return ts_error_set("events: out of memory");
        s->buf = grown;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return 0;
}

static int put_event(stream_t *s, int64_t id, const char *type, json_t *data)
{
    char *json = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    char text[EVENT_TEXT_MAX];
    int n = json ? ts_sse_format(text, sizeof text, id, type, json) : ts_error_set("events: out of memory");
    free(json);
    return n < 0 ? -1 : put(s, text, (size_t)n);
}

/* Reads the next events the stream's caller may see into its text; a revoked requester's stream ends. */
static int fill(stream_t *s)
{
    ts_store_t *store = s->hub->store;
    if (!s->caller.operator && ts_store_account_active(store, s->caller.account) != 1) {
        s->ended = true;
        return 0;
    }
    ts_event_t ev[FILL_EVENTS];
    int64_t next = s->cursor;
    int n = ts_store_events_after(store, s->cursor, s->caller.operator ? NULL : s->caller.account, 0, ev, FILL_EVENTS,
                                  &next);
    for (int i = 0; i < n; i++)
        if (put_event(s, ev[i].id, ev[i].task_id ? "task" : "job", ts_store_event_json(&ev[i])) < 0)
            return -1;
    if (n < 0)
        return -1;
    s->cursor = next;
    return 0;
}

/* libmicrohttpd's content reader: what is formatted, else the next events, else a keepalive when due, else the
   connection is suspended until the thread resumes it. */
static ssize_t read_stream(void *cls, uint64_t pos, char *out, size_t max)
{
    stream_t *s = cls;
    struct ts_events *h = s->hub;
    for (;;) {
        if (s->off < s->len) {
            size_t n = s->len - s->off < max ? s->len - s->off : max;
            memcpy(out, s->buf + s->off, n);
            s->off += n;
            if (s->off == s->len)
                s->off = s->len = 0;
            s->last_sent = ts_clock_mono();
            return (ssize_t)n;
        }
        pthread_mutex_lock(&h->lock);
        uint64_t gen = h->gen;
        bool stop = h->stop;
        pthread_mutex_unlock(&h->lock);
        if (stop || s->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (fill(s) < 0) {
            ts_warn("events: a stream ends: %s", ts_error());
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (s->len > 0 || s->ended)
            continue;
        double now = ts_clock_mono();
        if (now - s->last_sent >= h->keepalive_s) {
            if (put(s, ": keepalive\n\n", 13) < 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
            continue;
        }
        pthread_mutex_lock(&h->lock);
        bool idle = h->gen == gen && !h->stop; /* else an event came (or the end) while it read: read again */
        if (idle) {
            s->suspended = true;
            s->due = s->last_sent + h->keepalive_s;
            if (s->due < h->wake_at) /* the thread sleeps past this one's keepalive */
                pthread_cond_signal(&h->wake);
            MHD_suspend_connection(s->c);
        }
        pthread_mutex_unlock(&h->lock);
        if (idle)
            return 0; /* called again once resumed */
    }
}

static void free_stream(void *cls)
{
    stream_t *s = cls;
    struct ts_events *h = s->hub;
    pthread_mutex_lock(&h->lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->nstreams--;
    pthread_mutex_unlock(&h->lock);
    free(s->buf);
    free(s);
}

/* Under the lock: takes the suspended streams that are to go on (all with every, else those whose keepalive is due at
   now) off the suspended list into h->resuming; returns how many, *next_due the earliest keepalive left (or
   next_due unchanged). The connections stay suspended in libmicrohttpd until resumed, so they cannot go away. */
static int take_due(struct ts_events *h, bool every, double now, double *next_due)
{
    if (h->resuming_cap < h->nstreams) {
        struct MHD_Connection **grown = realloc(h->resuming, (size_t)h->nstreams * sizeof *grown);
        if (!grown)
            return 0; /* tried again at the next wake */
        h->resuming = grown;
        h->resuming_cap = h->nstreams;
    }
    int n = 0;
    for (stream_t *s = h->streams; s; s = s->next) {
        if (!s->suspended)
            continue;
        if (every || s->due <= now) {
            s->suspended = false;
            h->resuming[n++] = s->c;
        } else if (s->due < *next_due) {
            *next_due = s->due;
        }
    }
    return n;
}

static void resume_taken(struct ts_events *h, int n)
{
    pthread_mutex_unlock(&h->lock);
    for (int i = 0; i < n; i++)
        MHD_resume_connection(h->resuming[i]);
    pthread_mutex_lock(&h->lock);
}

static void prune(struct ts_events *h)
{
    int64_t gone = ts_store_events_prune(h->store, TS_EVENTS_KEEP, ts_clock_wall() - TS_EVENTS_MAX_AGE_S);
    if (gone < 0)
        ts_warn("events: pruning: %s", ts_error());
    else if (gone > 0)
        ts_info("events: %" PRId64 " events older than %.0f days pruned", gone, TS_EVENTS_MAX_AGE_S / 86400);
}

static void *run(void *arg)
{
    struct ts_events *h = arg;
    double next_prune = 0;
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        double now = ts_clock_mono();
        if (now >= next_prune) {
            pthread_mutex_unlock(&h->lock);
            prune(h);
            pthread_mutex_lock(&h->lock);
            next_prune = now + PRUNE_EVERY_S;
            continue;
        }
        bool news = h->gen != h->gen_seen;
        h->gen_seen = h->gen;
        double next_due = next_prune;
        int n = take_due(h, news, now, &next_due);
        if (n > 0) {
            resume_taken(h, n);
            continue;
        }
        if (h->gen != h->gen_seen || h->stop)
            continue;
        struct timespec ts = {.tv_sec = (time_t)next_due,
                              .tv_nsec = (long)((next_due - (double)(time_t)next_due) * 1e9)};
        h->wake_at = next_due;
        pthread_cond_timedwait(&h->wake, &h->lock, &ts); /* CLOCK_MONOTONIC */
        h->wake_at = 0;
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

ts_events_t *ts_events_new(ts_store_t *store, double keepalive_s)
{
    struct ts_events *h = calloc(1, sizeof *h);
    if (!h) {
        ts_error_set("events: out of memory");
        return NULL;
    }
    h->store = store;
    h->keepalive_s = keepalive_s;
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        ts_error_set("events: cannot start a thread");
        ts_events_destroy(&h);
        return NULL;
    }
    h->started = true;
    return h;
}

void ts_events_stored(ts_events_t *h)
{
    pthread_mutex_lock(&h->lock);
    h->gen++;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
}

/* The stream's first words: how soon to reconnect, and where it starts, or a reset when the place asked is gone. */
static int start(stream_t *s, int64_t after)
{
    int64_t oldest = 0, latest = 0;
    char text[128];
    ts_store_events_span(s->hub->store, &oldest, &latest);
    int n = snprintf(text, sizeof text, "retry: %d\n", RETRY_MS);
    if (put(s, text, (size_t)n) < 0)
        return -1;
    if (after == TS_EVENTS_NOW)
        after = latest;
    if (after >= oldest - 1 && after <= latest) {
        s->cursor = after;
        n = snprintf(text, sizeof text, "id: %" PRId64 "\n\n", after);
        return put(s, text, (size_t)n);
    }
    s->cursor = oldest - 1;
    char why[160];
    if (after > latest)
        snprintf(why, sizeof why, "event %" PRId64 " was never given here (the latest is %" PRId64 ")", after, latest);
    else
        snprintf(why, sizeof why, "events %" PRId64 "..%" PRId64 " were pruned (older than %.0f days)", after + 1,
                 oldest - 1, TS_EVENTS_MAX_AGE_S / 86400);
    return put_event(s, s->cursor, "reset",
                     json_pack("{s:I,s:I,s:I,s:s}", "asked", (json_int_t)after, "oldest", (json_int_t)oldest, "latest",
                               (json_int_t)latest, "error", why));
}

int ts_events_serve(ts_events_t *h, struct MHD_Connection *c, const ts_caller_t *caller, int64_t after,
                    enum MHD_Result *ret)
{
    stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return ts_error_set("events: out of memory");
    s->hub = h;
    s->c = c;
    s->caller = *caller;
    s->last_sent = ts_clock_mono();
    if (start(s, after) < 0) {
        free(s->buf);
        free(s);
        return -1;
    }
    pthread_mutex_lock(&h->lock);
    bool room = !h->stop && h->nstreams < STREAMS_MAX;
    if (room) {
        s->next = h->streams;
        if (h->streams)
            h->streams->prev = s;
        h->streams = s;
        h->nstreams++;
    }
    pthread_mutex_unlock(&h->lock);
    if (!room) {
        free(s->buf);
        free(s);
        return ts_error_set(h->stop ? "events: the master is stopping"
                                    : "events: %d streams are open already: try again later", STREAMS_MAX);
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, read_stream, s,
                                                               free_stream);
    if (!r) {
        free_stream(s);
        return ts_error_set("events: out of memory");
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no"); /* a proxy in front passes each event on at once */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, STREAM_TIMEOUT_S);
    *ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return 0;
}

void ts_events_stop(ts_events_t *h)
{
    pthread_mutex_lock(&h->lock);
    if (h->stop) {
        pthread_mutex_unlock(&h->lock);
        return;
    }
    h->stop = true;
    double never = 0;
    int n = take_due(h, true, 0, &never);
    pthread_cond_signal(&h->wake);
    resume_taken(h, n); /* each reader, called again, ends its stream */
    pthread_mutex_unlock(&h->lock);
    if (h->started && !h->joined) {
        pthread_join(h->thread, NULL);
        h->joined = true;
    }
}

void ts_events_destroy(ts_events_t **self_p)
{
    ts_events_t *h = *self_p;
    if (!h)
        return;
    ts_events_stop(h);
    if (h->nstreams > 0) /* the daemon still runs and owns them: leaking beats freeing what it may touch */
        ts_warn("events: %d streams still open when the event streams were destroyed", h->nstreams);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h->resuming);
    free(h);
    *self_p = NULL;
}
