/* cli_watch: `tessera jobs --watch`: follows the master's event stream (GET /api/v1/events) and prints one line per
   job or task change (--json: each event's JSON as the master sent it).
   DESIGN: the stream's last event id is kept across connections (an `id:` line sets it, also the one a stream starts
   with); after a lost connection (a master restart) the stream is asked again with Last-Event-ID, so the master
   resends from there: nothing is missed, and as an event is printed only once it has ended, nothing is printed
   twice. A stream silent for three keepalives is taken as lost. Ctrl-C (or SIGTERM) ends the watch with exit 0. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "lib/ts_error.h"
#include "lib/ts_sse.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCH_PATH_MAX 96
#define WATCH_RETRY_FIRST_MS 250   /* the first reconnection is tried this soon, ... */
#define WATCH_RETRY_MAX_MS 4000    /* ... then each after twice as long, up to this */
#define WATCH_NODE_SHOWN 12        /* hex digits of a node's id in a task line */
#define WATCH_TEXT_MAX 128

static volatile sig_atomic_t s_interrupted;

static void on_interrupt(int sig)
{
    s_interrupted = 1;
}

typedef struct {
    const cli_watch_opts_t *o;
    ts_sse_reader_t *reader;       /* this connection's */
    char last_id[TS_SSE_ID_CAP];   /* the stream's last event id, kept across connections */
    bool heard;                    /* this connection brought bytes */
    bool lost;                     /* the stream was lost and has not come back yet */
    bool out_failed;               /* stdout is gone */
} watch_t;

/* A task's place in its job: a tile's frame and index, a finish's frame, a segment's or thumbnail's index. */
static void task_place(const json_t *e, char *out, size_t cap)
{
    const char *kind = cli_json_str(e, "kind", "");
    long frame = cli_json_int(e, "frame"), tile = cli_json_int(e, "tile");
    if (strcmp(kind, "tile") == 0)
        snprintf(out, cap, " frame %ld #%ld", frame, tile);
    else if (strcmp(kind, "finish") == 0)
        snprintf(out, cap, " frame %ld", frame);
    else if (strcmp(kind, "probe") == 0)
        out[0] = '\0';
    else
        snprintf(out, cap, " #%ld", tile);
}

/* `12:00:01 job 12 (name) running -> done`; a task's: `... task 55 tile frame 1 #3 queued -> assigned on 3fa9c2d1e0b4`
   (the node's id shortened). */
static void print_line(const json_t *e)
{
    char when[16] = "--:--:--", job[WATCH_TEXT_MAX + CLI_MSG_MAX], place[WATCH_TEXT_MAX] = "";
    time_t t = (time_t)cli_json_num(e, "at");
    struct tm tm;
    if (t > 0 && localtime_r(&t, &tm))
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    const char *name = cli_json_str(e, "name", ""), *from = cli_json_str(e, "from", "new");
    if (name[0])
        snprintf(job, sizeof job, "job %ld (%s)", cli_json_int(e, "job"), name);
    else
        snprintf(job, sizeof job, "job %ld", cli_json_int(e, "job"));
    if (strcmp(cli_json_str(e, "type", ""), "task") != 0) {
        printf("%s %s %s -> %s\n", when, job, from, cli_json_str(e, "to", "?"));
        return;
    }
    task_place(e, place, sizeof place);
    const char *node = cli_json_str(e, "node", "");
    printf("%s %s task %ld %s%s %s -> %s", when, job, cli_json_int(e, "task"), cli_json_str(e, "kind", "?"), place,
           from, cli_json_str(e, "to", "?"));
    if (node[0])
        printf(" on %.*s", WATCH_NODE_SHOWN, node);
    if (cli_json_int(e, "check_of"))
        printf(" (a check of task %ld)", cli_json_int(e, "check_of"));
    printf("\n");
}

static void on_event(void *ud, const char *type, const char *data, const char *id)
{
    watch_t *w = ud;
    if (w->out_failed)
        return;
    json_t *e = json_loads(data, 0, NULL);
    if (strcmp(type, "reset") == 0) {
        fprintf(stderr, "%s: events: %s: changes before event %s are not shown\n", CLI_PROG,
                cli_json_str(e, "error", "the place asked for is gone"), id);
    } else if ((strcmp(type, "job") == 0 || strcmp(type, "task") == 0) && e &&
               (!w->o->keep || w->o->keep(e, w->o->ud))) {
        if (w->o->json)
            printf("%s\n", data);
        else
            print_line(e);
        w->out_failed = fflush(stdout) != 0;
    }
    json_decref(e);
}

static bool on_data(void *ud, const char *p, size_t n)
{
    watch_t *w = ud;
    if (!w->heard && w->lost) {
        fprintf(stderr, "%s: events: connected again\n", CLI_PROG);
        w->lost = false;
    }
    w->heard = true;
    int rc = ts_sse_reader_feed(w->reader, p, n);
    snprintf(w->last_id, sizeof w->last_id, "%s", ts_sse_reader_last_id(w->reader));
    return rc == 0 && !w->out_failed;
}

static bool interrupted(void *ud)
{
    return s_interrupted != 0;
}

/* Sleeps ms, or less when interrupted. */
static void nap(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (!s_interrupted && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int cli_watch(cli_http_t *http, const cli_watch_opts_t *o)
{
    watch_t w = {.o = o};
    cli_stream_t stream = {.data = on_data, .cancelled = interrupted, .idle_s = 3 * TS_SSE_KEEPALIVE_S, .ud = &w};
    struct sigaction sa = {.sa_handler = on_interrupt}, old_int, old_term; /* no SA_RESTART: a nap ends at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int retry_ms = WATCH_RETRY_FIRST_MS, ret = 0;
    bool ever = false; /* a stream came once: from then on a lost one is waited for */
    while (!s_interrupted && !w.out_failed) {
        char path[WATCH_PATH_MAX], header[TS_SSE_ID_CAP + 32];
        if (!w.last_id[0] && o->after >= 0)
            snprintf(path, sizeof path, "/api/v1/events?after=%ld", o->after);
        else
            snprintf(path, sizeof path, "/api/v1/events");
        snprintf(header, sizeof header, "Last-Event-ID: %s", w.last_id);
        if (!(w.reader = ts_sse_reader_new(on_event, &w))) {
            ret = cli_fail(CLI_EXIT_MASTER, "out of memory");
            break;
        }
        w.heard = false;
        cli_reply_t reply;
        int rc = cli_http_stream(http, path, w.last_id[0] ? header : NULL, &stream, &reply);
        ts_sse_reader_destroy(&w.reader);
        if (s_interrupted || w.out_failed)
            break;
        ever = ever || w.heard;
        if (rc < 0 && (!ever || (reply.status >= 400 && reply.status < 500))) { /* no master, no token, a bad id */
            ret = cli_fail_reply(&reply, NULL, "events");
            break;
        }
        if (w.heard)
            retry_ms = WATCH_RETRY_FIRST_MS;
        if (!w.lost)
            fprintf(stderr, "%s: events: the stream from %s ended (%s): reconnecting after event %s\n", CLI_PROG,
                    cli_http_shown(http), rc < 0 ? reply.error : "closed by the master",
                    w.last_id[0] ? w.last_id : "-");
        w.lost = true;
        nap(retry_ms);
        retry_ms = retry_ms * 2 < WATCH_RETRY_MAX_MS ? retry_ms * 2 : WATCH_RETRY_MAX_MS;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return ret;
}
