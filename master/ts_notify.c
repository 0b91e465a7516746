/* ts_notify: per-job webhooks (see ts_notify.h).
   DESIGN: the store keeps each webhook's cursor, the last event acknowledged with a 2xx (ts_store_notify.c). The
   thread takes the webhooks with an event past their cursor whose retry is due, POSTs each job's events one at a time
   in id order (the event's JSON, as GET /api/v1/events gives it, with its id also in the Tessera-Event-Id header),
   and moves the cursor after each 2xx: so nothing is lost, a receiver sees a job's events in order, and an event is
   sent again only when its 2xx was not recorded (the master died in between; the id lets a receiver drop it). A
   failure (no answer in POST_TIMEOUT_S, or not a 2xx) holds that job's events back for ts_notify_retry_s, others go
   on. Only http and https are spoken, redirects are not followed, and logs name a URL by its scheme, host and port
   alone (its path or query may hold a secret). */
#include "master/ts_notify.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_version.h"
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TARGETS_AT_ONCE 16       /* webhooks taken per pass */
#define EVENTS_AT_ONCE 16        /* events read per job per pass */
#define POST_TIMEOUT_S 10L
#define CONNECT_TIMEOUT_S 5L
#define IDLE_POLL_S 60.0         /* with nothing due, a look anyway this often */
#define STOP_GRACE_S 3.0         /* a POST under way when the master stops may finish within this (else it is cut,
                                    and sent again after the restart when its receiver had taken it) */
#define SHOWN_CAP 300

struct ts_notify {
    ts_store_t *store;
    CURL *curl;
    char curl_error[CURL_ERROR_SIZE];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    double stop_by;         /* monotonic: set before stop, the end of an attempt's grace */
    uint64_t gen, gen_seen; /* bumped for every event written; the thread's last look */
};

double ts_notify_retry_s(int failures)
{
    double s = TS_NOTIFY_RETRY_FIRST_S;
    for (int i = 1; i < failures && s < TS_NOTIFY_RETRY_MAX_S; i++)
        s *= 2;
    return s < TS_NOTIFY_RETRY_MAX_S ? s : TS_NOTIFY_RETRY_MAX_S;
}

/* scheme://host[:port] of url, for logs and errors. */
static void url_shown(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_PORT, &port, 0);
    if (scheme && host)
        snprintf(out, cap, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
    else
        snprintf(out, cap, "(a URL libcurl cannot read)");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    return size * n;
}

static int cut_short(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    const struct ts_notify *self = ud;
    return atomic_load(&self->stop) && ts_clock_mono() > self->stop_by ? 1 : 0;
}

/* POSTs one event; 0 on a 2xx, else -1 with error filled. */
static int post(struct ts_notify *self, const char *url, const ts_event_t *e, char *error, size_t cap)
{
    json_t *o = ts_store_event_json(e);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    char id_header[64];
    snprintf(id_header, sizeof id_header, "Tessera-Event-Id: %" PRId64, e->id);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = h ? curl_slist_append(h, id_header) : NULL;
    if (!body || !h) {
        free(body);
        curl_slist_free_all(h);
        snprintf(error, cap, "out of memory");
        return -1;
    }
    CURL *c = self->curl;
    curl_easy_reset(c);
    self->curl_error[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, self->curl_error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tessera-master/" TS_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, POST_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, cut_short);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, self);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    free(body);
    if (rc != CURLE_OK) {
        snprintf(error, cap, "%s", self->curl_error[0] ? self->curl_error : curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(error, cap, "answered HTTP %ld", status);
        return -1;
    }
    return 0;
}

/* Delivers one webhook's pending events in order until one fails (its retry is then set) or none is left. */
static void deliver(struct ts_notify *self, const ts_notify_target_t *t)
{
    ts_event_t ev[EVENTS_AT_ONCE];
    int64_t sent = t->sent;
    int failures = t->failures;
    char error[TS_NOTIFY_ERROR_CAP], shown[SHOWN_CAP];
    url_shown(t->url, shown, sizeof shown);
    for (;;) {
        int n = ts_store_events_after(self->store, sent, NULL, t->job_id, ev, EVENTS_AT_ONCE, NULL);
        if (n < 0)
            ts_warn("job %" PRId64 ": webhook %s: %s", t->job_id, shown, ts_error());
        for (int i = 0; i < n; i++) {
            if (atomic_load(&self->stop))
                return;
            if (post(self, t->url, &ev[i], error, sizeof error) < 0) {
                double wait = ts_notify_retry_s(failures + 1);
                ts_warn("job %" PRId64 ": webhook %s: event %" PRId64 ": %s; tried again in %.0f s", t->job_id, shown,
                        ev[i].id, error, wait);
                if (ts_store_notify_failed(self->store, t->job_id, ts_clock_wall() + wait, error) < 0)
                    ts_warn("job %" PRId64 ": webhook %s: %s", t->job_id, shown, ts_error());
                return;
            }
            if (ts_store_notify_sent(self->store, t->job_id, ev[i].id) < 0) {
                ts_warn("job %" PRId64 ": webhook %s: %s", t->job_id, shown, ts_error());
                return;
            }
            if (failures > 0)
                ts_info("job %" PRId64 ": webhook %s answers again", t->job_id, shown);
            failures = 0;
            sent = ev[i].id;
        }
        if (n < EVENTS_AT_ONCE)
            return;
    }
}

static void *run(void *arg)
{
    struct ts_notify *self = arg;
    ts_notify_target_t *targets = malloc(TARGETS_AT_ONCE * sizeof *targets);
    while (targets && !atomic_load(&self->stop)) {
        pthread_mutex_lock(&self->lock);
        self->gen_seen = self->gen;
        pthread_mutex_unlock(&self->lock);
        double next_due = 0, now = ts_clock_wall();
        int n = ts_store_notify_due(self->store, now, targets, TARGETS_AT_ONCE, &next_due);
        if (n < 0)
            ts_warn("webhooks: %s", ts_error());
        for (int i = 0; i < n && !atomic_load(&self->stop); i++)
            deliver(self, &targets[i]);
        if (n > 0)
            continue; /* more may be due, and a failure has set its retry: look again */
        double wait = next_due > 0 ? next_due - ts_clock_wall() : IDLE_POLL_S;
        if (wait > IDLE_POLL_S)
            wait = IDLE_POLL_S;
        double until = ts_clock_mono() + (wait > 0 ? wait : 0);
        struct timespec ts = {.tv_sec = (time_t)until, .tv_nsec = (long)((until - (double)(time_t)until) * 1e9)};
        pthread_mutex_lock(&self->lock);
        while (self->gen == self->gen_seen && !atomic_load(&self->stop) &&
               pthread_cond_timedwait(&self->wake, &self->lock, &ts) == 0)
            ; /* CLOCK_MONOTONIC; a timeout ends the wait */
        pthread_mutex_unlock(&self->lock);
    }
    if (!targets)
        ts_err("webhooks: out of memory: no webhook is delivered");
    free(targets);
    return NULL;
}

ts_notify_t *ts_notify_new(ts_store_t *store)
{
    struct ts_notify *self = calloc(1, sizeof *self);
    if (!self || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(self);
        ts_error_set("webhooks: cannot start libcurl");
        return NULL;
    }
    self->store = store;
    pthread_mutex_init(&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (!(self->curl = curl_easy_init()) || pthread_create(&self->thread, NULL, run, self) != 0) {
        ts_error_set("webhooks: cannot start libcurl or a thread");
        ts_notify_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void ts_notify_stored(ts_notify_t *self)
{
    pthread_mutex_lock(&self->lock);
    self->gen++;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

void ts_notify_destroy(ts_notify_t **self_p)
{
    ts_notify_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->stop_by = ts_clock_mono() + STOP_GRACE_S;
    atomic_store(&self->stop, true);
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    if (self->started)
        pthread_join(self->thread, NULL);
    if (self->curl)
        curl_easy_cleanup(self->curl);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    curl_global_cleanup();
    free(self);
    *self_p = NULL;
}
