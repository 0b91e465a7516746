/* ts_job: one job as the app shows it: id, name, type, state, progress, cost and time left, from the master's
   JSON. */
#include "gui/ts_job.h"
#include "escrow/escrow.h"
#include "gui/ts_eta.h"
#include <jansson.h>
#include <string.h>

struct _TsJob {
    GObject parent;
    gint64 id;
    char *name, *state, *kind, *error;
    int tasks_done, tasks_total, frame_start, frame_end;
    gint64 budget, paid; /* in the token's smallest unit; 0: a job without a budget */
    gint64 locked, refunded; /* the same; -1: the master does not say */
    double started;          /* unix time of its first work; 0: not yet */
};

enum { PROP_0, PROP_ID, PROP_NAME, PROP_STATE, PROP_KIND, PROP_TASKS_DONE, PROP_TASKS_TOTAL, PROP_PROGRESS,
       PROP_PROGRESS_TEXT, PROP_TITLE, PROP_COST_TEXT, PROP_MONEY_TEXT, PROP_ETA_TEXT, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE(TsJob, ts_job, G_TYPE_OBJECT)

/* "#3 shot010", or "#3 scene.blend" for a job without a name. */
static char *title(TsJob *self)
{
    return g_strdup_printf("#%" G_GINT64_FORMAT " %s", self->id, self->name && self->name[0] ? self->name : "");
}

#define AMOUNT_TEXT 32

/* "1.25": what it paid so far, as the CLI writes amounts */
static char *cost_text(TsJob *self)
{
    char paid[AMOUNT_TEXT];
    ts_amount_format(self->paid, paid, sizeof paid);
    return g_strdup(paid);
}

/* "budget 10 · paid 1.25 · held 8.75 · refunded 0" (held and refunded only where the master says them) */
static char *money_text(TsJob *self)
{
    char b[AMOUNT_TEXT], p[AMOUNT_TEXT], h[AMOUNT_TEXT], r[AMOUNT_TEXT];
    ts_amount_format(self->budget, b, sizeof b);
    ts_amount_format(self->paid, p, sizeof p);
    GString *s = g_string_new(NULL);
    g_string_printf(s, "budget %s · paid %s", b, p);
    if (self->locked >= 0) {
        ts_amount_format(self->locked, h, sizeof h);
        g_string_append_printf(s, " · held %s", h);
    }
    if (self->refunded >= 0) {
        ts_amount_format(self->refunded, r, sizeof r);
        g_string_append_printf(s, " · refunded %s", r);
    }
    return g_string_free(s, FALSE);
}

/* A running job's time left at its pace so far; "—" for any other (or not known yet). */
static char *eta_text(TsJob *self)
{
    double left = ts_job_is_running(self) ? ts_eta_seconds(self->tasks_done, self->tasks_total, self->started,
                                                           (double)g_get_real_time() / G_USEC_PER_SEC)
                                          : -1;
    return ts_eta_text(left);
}

static void get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    TsJob *self = TS_JOB(object);
    switch (id) {
    case PROP_ID: g_value_set_int64(value, self->id); break;
    case PROP_NAME: g_value_set_string(value, self->name); break;
    case PROP_STATE: g_value_set_string(value, self->state); break;
    case PROP_KIND: g_value_set_string(value, self->kind); break;
    case PROP_TASKS_DONE: g_value_set_int(value, self->tasks_done); break;
    case PROP_TASKS_TOTAL: g_value_set_int(value, self->tasks_total); break;
    case PROP_PROGRESS:
        g_value_set_double(value, self->tasks_total > 0 ? (double)self->tasks_done / self->tasks_total : 0.0);
        break;
    case PROP_PROGRESS_TEXT:
        g_value_take_string(value, g_strdup_printf("%d / %d", self->tasks_done, self->tasks_total));
        break;
    case PROP_TITLE: g_value_take_string(value, title(self)); break;
    case PROP_COST_TEXT: g_value_take_string(value, cost_text(self)); break;
    case PROP_MONEY_TEXT: g_value_take_string(value, money_text(self)); break;
    case PROP_ETA_TEXT: g_value_take_string(value, eta_text(self)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void finalize(GObject *object)
{
    TsJob *self = TS_JOB(object);
    g_free(self->name);
    g_free(self->state);
    g_free(self->kind);
    g_free(self->error);
    G_OBJECT_CLASS(ts_job_parent_class)->finalize(object);
}

static void ts_job_class_init(TsJobClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    oc->get_property = get_property;
    oc->finalize = finalize;
    GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
    props[PROP_ID] = g_param_spec_int64("id", NULL, NULL, 0, G_MAXINT64, 0, ro);
    props[PROP_NAME] = g_param_spec_string("name", NULL, NULL, "", ro);
    props[PROP_STATE] = g_param_spec_string("state", NULL, NULL, "", ro);
    props[PROP_KIND] = g_param_spec_string("kind", NULL, NULL, "", ro);
    props[PROP_TASKS_DONE] = g_param_spec_int("tasks-done", NULL, NULL, 0, G_MAXINT, 0, ro);
    props[PROP_TASKS_TOTAL] = g_param_spec_int("tasks-total", NULL, NULL, 0, G_MAXINT, 0, ro);
    props[PROP_PROGRESS] = g_param_spec_double("progress", NULL, NULL, 0.0, 1.0, 0.0, ro);
    props[PROP_PROGRESS_TEXT] = g_param_spec_string("progress-text", NULL, NULL, "", ro);
    props[PROP_TITLE] = g_param_spec_string("title", NULL, NULL, "", ro);
    props[PROP_COST_TEXT] = g_param_spec_string("cost-text", NULL, NULL, "", ro);
    props[PROP_MONEY_TEXT] = g_param_spec_string("money-text", NULL, NULL, "", ro);
    props[PROP_ETA_TEXT] = g_param_spec_string("eta-text", NULL, NULL, "", ro);
    g_object_class_install_properties(oc, N_PROPS, props);
}

static void ts_job_init(TsJob *self)
{
    self->name = g_strdup("");
    self->state = g_strdup("");
    self->kind = g_strdup("");
    self->error = g_strdup("");
    self->locked = self->refunded = -1;
}

/* Sets a string field from the JSON member; TRUE when it changed. */
static gboolean take_str(char **field, const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v || g_strcmp0(*field, v) == 0)
        return FALSE;
    g_free(*field);
    *field = g_strdup(v);
    return TRUE;
}

static gboolean take_int(int *field, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || *field == (int)json_integer_value(v))
        return FALSE;
    *field = (int)json_integer_value(v);
    return TRUE;
}

void ts_job_update(TsJob *self, const void *json)
{
    const json_t *o = json;
    g_object_freeze_notify(G_OBJECT(self));
    if (take_str(&self->name, o, "name")) {
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_NAME]);
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TITLE]);
    }
    gboolean state = take_str(&self->state, o, "state");
    if (state)
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
    if (take_str(&self->kind, o, "type"))
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_KIND]);
    if (!take_str(&self->error, o, "error") && json_is_null(json_object_get(o, "error"))) {
        g_free(self->error);
        self->error = g_strdup("");
    }
    gboolean done = take_int(&self->tasks_done, o, "tasks_done"), total = take_int(&self->tasks_total, o, "tasks_total");
    if (done)
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TASKS_DONE]);
    if (total)
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TASKS_TOTAL]);
    if (done || total) {
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PROGRESS]);
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PROGRESS_TEXT]);
    }
    gint64 budget = self->budget, paid = self->paid, was_locked = self->locked, was_refunded = self->refunded;
    if (json_is_integer(json_object_get(o, "budget")))
        self->budget = json_integer_value(json_object_get(o, "budget"));
    if (json_is_integer(json_object_get(o, "paid")))
        self->paid = json_integer_value(json_object_get(o, "paid"));
    const json_t *locked = json_object_get(o, "locked"), *refunded = json_object_get(o, "refunded");
    self->locked = json_is_integer(locked) ? json_integer_value(locked) : -1;
    self->refunded = json_is_integer(refunded) ? json_integer_value(refunded) : -1;
    if (paid != self->paid)
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_COST_TEXT]);
    if (budget != self->budget || paid != self->paid || was_locked != self->locked || was_refunded != self->refunded)
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_MONEY_TEXT]);
    const json_t *started = json_object_get(o, "started");
    if (json_is_number(started))
        self->started = json_number_value(started);
    if (state || done || total) /* the estimate moves with the job's progress (and its state) */
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ETA_TEXT]);
    take_int(&self->frame_start, o, "frame_start");
    take_int(&self->frame_end, o, "frame_end");
    g_object_thaw_notify(G_OBJECT(self));
}

TsJob *ts_job_new_from_json(const void *json)
{
    TsJob *self = g_object_new(TS_TYPE_JOB, NULL);
    self->id = json_integer_value(json_object_get(json, "id"));
    ts_job_update(self, json);
    return self;
}

gint64 ts_job_get_id(TsJob *self) { return self->id; }
const char *ts_job_get_name(TsJob *self) { return self->name; }
const char *ts_job_get_state(TsJob *self) { return self->state; }
const char *ts_job_get_kind(TsJob *self) { return self->kind; }
int ts_job_get_tasks_done(TsJob *self) { return self->tasks_done; }
int ts_job_get_tasks_total(TsJob *self) { return self->tasks_total; }
int ts_job_get_frame_start(TsJob *self) { return self->frame_start; }
int ts_job_get_frame_end(TsJob *self) { return self->frame_end; }
gint64 ts_job_get_budget(TsJob *self) { return self->budget; }
gint64 ts_job_get_paid(TsJob *self) { return self->paid; }
gint64 ts_job_get_locked(TsJob *self) { return self->locked; }
gint64 ts_job_get_refunded(TsJob *self) { return self->refunded; }
gboolean ts_job_has_ended(TsJob *self)
{
    return strcmp(self->state, "done") == 0 || strcmp(self->state, "failed") == 0 ||
           strcmp(self->state, "cancelled") == 0;
}

gboolean ts_job_allows(TsJob *self, TsJobAction action)
{
    switch (action) {
    case TS_JOB_CANCEL: return self->state[0] && !ts_job_has_ended(self);
    case TS_JOB_PAUSE: return self->state[0] && !ts_job_has_ended(self) && strcmp(self->state, "paused") != 0;
    case TS_JOB_RESUME: return strcmp(self->state, "paused") == 0;
    case TS_JOB_REQUEUE_FAILED: return strcmp(self->kind, "render") == 0 && strcmp(self->state, "failed") == 0;
    }
    return FALSE;
}

gboolean ts_job_is_running(TsJob *self) { return strcmp(self->state, "running") == 0; }

const char *ts_job_get_error(TsJob *self) { return self->error; }

char *ts_job_end_notice(TsJob *self)
{
    if (!ts_job_has_ended(self))
        return NULL;
    if (strcmp(self->state, "failed") == 0 && self->error[0])
        return g_strdup_printf("Job #%" G_GINT64_FORMAT " failed: %s", self->id, self->error);
    return g_strdup_printf("Job #%" G_GINT64_FORMAT " %s", self->id, self->state);
}
