/* ts_session: the app signed in to one master: watcher thread, jobs list, asynchronous calls (see ts_session.h). */
#include "gui/ts_session.h"
#include "gui/ts_http.h"
#include "lib/ts_sse.h"
#include <jansson.h>
#include <string.h>

#define PICTURE_MAX (64u << 20)   /* a PNG the master made: a 4096 x 4096 preview is well below */
#define REFRESH_GAP_MS 250        /* job events arriving together are one fetch of the list */
#define WAIT_STEP_US 100000       /* the watcher's sleeps are cut this fine, so stopping is prompt */

struct _TsSession {
    GObject parent;
    TsConfig *cfg;
    TsJobList *jobs;
    gboolean connected;
    char *status;
    GThread *watcher;
    GCancellable *cancel;         /* stops the watcher and the calls in flight */
    gboolean refreshing, refresh_again;
    guint refresh_source;
};

enum { SIGNAL_STATUS, SIGNAL_EVENT, SIGNAL_RESYNC, SIGNAL_JOBS, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(TsSession, ts_session, G_TYPE_OBJECT)

/* ---- what the watcher thread tells the main thread ---- */

typedef enum { POST_STATUS, POST_EVENT, POST_JOBS, POST_RESYNC } post_kind_t;

typedef struct {
    TsSession *self; /* a reference */
    post_kind_t kind;
    gboolean connected;
    char *text;
    json_t *json;
} post_t;

static void post_free(gpointer p)
{
    post_t *post = p;
    g_object_unref(post->self);
    g_free(post->text);
    json_decref(post->json);
    g_free(post);
}

static void set_status(TsSession *self, gboolean connected, const char *text)
{
    if (self->connected == connected && g_strcmp0(self->status, text) == 0)
        return;
    self->connected = connected;
    g_free(self->status);
    self->status = g_strdup(text);
    g_signal_emit(self, signals[SIGNAL_STATUS], 0);
}

static gboolean post_run(gpointer p)
{
    post_t *post = p;
    TsSession *self = post->self;
    if (g_cancellable_is_cancelled(self->cancel))
        return G_SOURCE_REMOVE; /* stopped: nobody listens any more */
    switch (post->kind) {
    case POST_STATUS:
        set_status(self, post->connected, post->text);
        break;
    case POST_EVENT:
        if (g_strcmp0(json_string_value(json_object_get(post->json, "type")), "job") == 0 ||
            g_strcmp0(json_string_value(json_object_get(post->json, "to")), "done") == 0)
            ts_session_refresh_jobs(self); /* a job's state or its progress changed */
        g_signal_emit(self, signals[SIGNAL_EVENT], 0, post->json);
        break;
    case POST_JOBS:
        ts_job_list_apply(self->jobs, json_object_get(post->json, "jobs"));
        g_signal_emit(self, signals[SIGNAL_JOBS], 0);
        break;
    case POST_RESYNC:
        ts_session_refresh_jobs(self);
        g_signal_emit(self, signals[SIGNAL_RESYNC], 0);
        break;
    }
    return G_SOURCE_REMOVE;
}

static void post(TsSession *self, post_kind_t kind, gboolean connected, char *text, json_t *json)
{
    post_t *p = g_new0(post_t, 1);
    p->self = g_object_ref(self);
    p->kind = kind;
    p->connected = connected;
    p->text = text;
    p->json = json;
    g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, post_run, p, post_free);
}

/* ---- the watcher thread ---- */

typedef struct {
    TsSession *self;
    const TsConfig *cfg;
    GCancellable *cancel;
    char last_id[TS_SSE_ID_CAP];
    gboolean got_data;
    ts_sse_reader_t *reader;
} watch_t;

static void on_sse_event(void *ud, const char *type, const char *data, const char *id)
{
    watch_t *w = ud;
    g_strlcpy(w->last_id, id, sizeof w->last_id);
    if (strcmp(type, "reset") == 0) { /* events were pruned past our place: start afresh */
        post(w->self, POST_RESYNC, TRUE, NULL, NULL);
        return;
    }
    if (strcmp(type, "job") != 0 && strcmp(type, "task") != 0)
        return;
    json_t *o = json_loads(data, 0, NULL);
    if (json_is_object(o))
        post(w->self, POST_EVENT, TRUE, NULL, o);
    else
        json_decref(o);
}

static gboolean on_stream_data(const char *p, gsize n, gpointer ud)
{
    watch_t *w = ud;
    if (!w->got_data) { /* the master answered: connected, and what was missed is fetched afresh */
        w->got_data = TRUE;
        post(w->self, POST_STATUS, TRUE, g_strdup("connected (live events)"), NULL);
        post(w->self, POST_RESYNC, TRUE, NULL, NULL);
    }
    if (ts_sse_reader_feed(w->reader, p, n) < 0)
        return FALSE;
    const char *id = ts_sse_reader_last_id(w->reader);
    if (id[0])
        g_strlcpy(w->last_id, id, sizeof w->last_id);
    return TRUE;
}

/* Sleeps seconds, or less when stopped. */
static void pause_for(GCancellable *cancel, double seconds)
{
    for (double left = seconds; left > 0 && !g_cancellable_is_cancelled(cancel); left -= WAIT_STEP_US / 1e6)
        g_usleep(WAIT_STEP_US);
}

/* Follows the event stream once; FALSE with *error when it ended or could not start. */
static gboolean follow_events(watch_t *w, GError **error)
{
    g_autofree char *header = w->last_id[0] ? g_strdup_printf("Last-Event-ID: %s", w->last_id) : NULL;
    w->got_data = FALSE;
    w->reader = ts_sse_reader_new(on_sse_event, w);
    gboolean ok = w->reader && ts_http_stream(w->cfg, "/api/v1/events", header, 3 * TS_SSE_KEEPALIVE_S,
                                              on_stream_data, w, w->cancel, error);
    if (!w->reader)
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "out of memory");
    ts_sse_reader_destroy(&w->reader);
    return ok;
}

static gpointer watcher(gpointer data)
{
    watch_t *w = data;
    gboolean events = TRUE; /* until the master says it has no event stream */
    while (!g_cancellable_is_cancelled(w->cancel)) {
        g_autoptr(GError) error = NULL;
        if (events) {
            follow_events(w, &error);
            if (g_error_matches(error, TS_HTTP_ERROR, 404)) {
                events = FALSE;
                continue;
            }
        } else {
            json_t *jobs = ts_http_get_json(w->cfg, "/api/v1/jobs", w->cancel, &error);
            if (jobs) {
                post(w->self, POST_STATUS, TRUE,
                     g_strdup_printf("connected (polled every %.0f s)", TS_SESSION_POLL_S), NULL);
                post(w->self, POST_JOBS, TRUE, NULL, jobs);
                pause_for(w->cancel, TS_SESSION_POLL_S);
                continue;
            }
        }
        if (g_cancellable_is_cancelled(w->cancel))
            break;
        post(w->self, POST_STATUS, FALSE,
             g_strdup_printf("disconnected (%s): retrying every %.0f s", error ? error->message : "no answer",
                             TS_SESSION_RETRY_S),
             NULL);
        pause_for(w->cancel, TS_SESSION_RETRY_S);
    }
    g_object_unref(w->self);
    g_object_unref(w->cancel);
    g_free(w);
    return NULL;
}

/* ---- the object ---- */

static void dispose(GObject *object)
{
    TsSession *self = TS_SESSION(object);
    ts_session_stop(self);
    g_clear_handle_id(&self->refresh_source, g_source_remove);
    g_clear_object(&self->jobs);
    G_OBJECT_CLASS(ts_session_parent_class)->dispose(object);
}

static void finalize(GObject *object)
{
    TsSession *self = TS_SESSION(object);
    ts_config_free(self->cfg);
    g_free(self->status);
    g_clear_object(&self->cancel);
    G_OBJECT_CLASS(ts_session_parent_class)->finalize(object);
}

static void ts_session_class_init(TsSessionClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    oc->dispose = dispose;
    oc->finalize = finalize;
    GType t = G_TYPE_FROM_CLASS(klass);
    signals[SIGNAL_STATUS] = g_signal_new("status-changed", t, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_EVENT] = g_signal_new("event", t, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                         G_TYPE_POINTER);
    signals[SIGNAL_RESYNC] = g_signal_new("resync", t, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_JOBS] = g_signal_new("jobs-refreshed", t, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void ts_session_init(TsSession *self)
{
    self->jobs = ts_job_list_new();
    self->cancel = g_cancellable_new();
}

TsSession *ts_session_new(const TsConfig *cfg)
{
    TsSession *self = g_object_new(TS_TYPE_SESSION, NULL);
    self->cfg = ts_config_copy(cfg);
    self->status = g_strdup_printf("connecting to %s", cfg->master);
    return self;
}

void ts_session_start(TsSession *self)
{
    if (self->watcher)
        return;
    watch_t *w = g_new0(watch_t, 1);
    w->self = g_object_ref(self);
    w->cfg = self->cfg; /* read-only while the session lives, and the thread holds the session */
    w->cancel = g_object_ref(self->cancel);
    self->watcher = g_thread_new("tessera-watch", watcher, w);
}

void ts_session_stop(TsSession *self)
{
    g_cancellable_cancel(self->cancel);
    if (self->watcher && g_thread_self() != self->watcher)
        g_thread_join(self->watcher); /* the thread holds a reference: this runs from stop, not from dispose */
    else if (self->watcher)
        g_thread_unref(self->watcher);
    self->watcher = NULL;
}

const TsConfig *ts_session_get_config(TsSession *self) { return self->cfg; }
TsJobList *ts_session_get_jobs(TsSession *self) { return self->jobs; }
gboolean ts_session_is_connected(TsSession *self) { return self->connected; }
const char *ts_session_get_status(TsSession *self) { return self->status; }

/* ---- the jobs list ---- */

static void refresh_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsSession *self = TS_SESSION(source);
    g_autoptr(GError) error = NULL;
    json_t *o = ts_session_get_json_finish(self, result, &error);
    self->refreshing = FALSE;
    if (o) {
        ts_job_list_apply(self->jobs, json_object_get(o, "jobs"));
        json_decref(o);
        g_signal_emit(self, signals[SIGNAL_JOBS], 0);
    } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_debug("jobs: %s", error->message); /* the watcher reports a lost master */
    }
    if (self->refresh_again) {
        self->refresh_again = FALSE;
        ts_session_refresh_jobs(self);
    }
}

static gboolean refresh_now(gpointer ud)
{
    TsSession *self = ud;
    self->refresh_source = 0;
    self->refreshing = TRUE;
    ts_session_get_json_async(self, "/api/v1/jobs", self->cancel, refresh_done, NULL);
    return G_SOURCE_REMOVE;
}

void ts_session_refresh_jobs(TsSession *self)
{
    if (self->refreshing)
        self->refresh_again = TRUE;
    else if (!self->refresh_source)
        self->refresh_source = g_timeout_add(REFRESH_GAP_MS, refresh_now, self);
}

/* ---- calls off the main thread ---- */

typedef struct {
    char *path, *dest;
    json_t *body; /* a POST's */
} call_t;

static void call_free(gpointer p)
{
    call_t *c = p;
    g_free(c->path);
    g_free(c->dest);
    json_decref(c->body);
    g_free(c);
}

static GTask *call_new(TsSession *self, const char *path, const char *dest, GCancellable *cancellable,
                       GAsyncReadyCallback cb, gpointer ud, gpointer tag)
{
    GTask *task = g_task_new(self, cancellable, cb, ud);
    g_task_set_source_tag(task, tag);
    call_t *c = g_new0(call_t, 1);
    c->path = g_strdup(path);
    c->dest = g_strdup(dest);
    g_task_set_task_data(task, c, call_free);
    return task;
}

static void json_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    GError *error = NULL;
    json_t *o = ts_http_get_json(TS_SESSION(source)->cfg, ((call_t *)data)->path, cancellable, &error);
    if (o)
        g_task_return_pointer(task, o, (GDestroyNotify)json_decref);
    else
        g_task_return_error(task, error);
}

void ts_session_get_json_async(TsSession *self, const char *path, GCancellable *cancellable, GAsyncReadyCallback cb,
                               gpointer ud)
{
    g_autoptr(GTask) task = call_new(self, path, NULL, cancellable, cb, ud, ts_session_get_json_async);
    g_task_run_in_thread(task, json_thread);
}

void *ts_session_get_json_finish(TsSession *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

static void post_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    GError *error = NULL;
    call_t *c = data;
    json_t *o = ts_http_post_json(TS_SESSION(source)->cfg, c->path, c->body, cancellable, &error);
    if (o)
        g_task_return_pointer(task, o, (GDestroyNotify)json_decref);
    else
        g_task_return_error(task, error);
}

void ts_session_post_json_async(TsSession *self, const char *path, const void *body, GCancellable *cancellable,
                                GAsyncReadyCallback cb, gpointer ud)
{
    g_autoptr(GTask) task = call_new(self, path, NULL, cancellable, cb, ud, ts_session_post_json_async);
    ((call_t *)g_task_get_task_data(task))->body = body ? json_deep_copy(body) : NULL; /* the thread's own copy */
    g_task_run_in_thread(task, post_thread);
}

void *ts_session_post_json_finish(TsSession *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

static void picture_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    GError *error = NULL;
    g_autoptr(GBytes) png = ts_http_get(TS_SESSION(source)->cfg, ((call_t *)data)->path, PICTURE_MAX, cancellable,
                                        &error);
    GdkTexture *t = png ? gdk_texture_new_from_bytes(png, &error) : NULL; /* a PNG the master encoded */
    if (t)
        g_task_return_pointer(task, t, g_object_unref);
    else
        g_task_return_error(task, error);
}

void ts_session_get_picture_async(TsSession *self, const char *path, GCancellable *cancellable,
                                  GAsyncReadyCallback cb, gpointer ud)
{
    g_autoptr(GTask) task = call_new(self, path, NULL, cancellable, cb, ud, ts_session_get_picture_async);
    g_task_run_in_thread(task, picture_thread);
}

GdkTexture *ts_session_get_picture_finish(TsSession *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

static void download_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    GError *error = NULL;
    call_t *c = data;
    if (ts_http_download(TS_SESSION(source)->cfg, c->path, c->dest, cancellable, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

void ts_session_download_async(TsSession *self, const char *path, const char *dest, GCancellable *cancellable,
                               GAsyncReadyCallback cb, gpointer ud)
{
    g_autoptr(GTask) task = call_new(self, path, dest, cancellable, cb, ud, ts_session_download_async);
    g_task_run_in_thread(task, download_thread);
}

gboolean ts_session_download_finish(TsSession *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}
