/* ts_job_controls: the selected job's buttons, one POST at a time (see ts_job_controls.h). */
#include "gui/ts_job_controls.h"
#include <jansson.h>

struct _TsJobControls {
    GtkBox parent;
    GtkButton *cancel_button, *pause_button, *resume_button, *requeue_button;
    GtkLabel *status_label;
    TsSession *session;
    TsJob *job;
    GCancellable *cancel;
    gboolean posting;    /* a call in flight: no second one until it is answered */
};

G_DEFINE_FINAL_TYPE(TsJobControls, ts_job_controls, GTK_TYPE_BOX)

/* Each action: its route, its body, and the words for what happened. */
static const struct {
    const char *route, *body, *doing, *done;
} ACTIONS[] = {
    [TS_JOB_CANCEL] = {"cancel", NULL, "Cancelling", "Cancelled"},
    [TS_JOB_PAUSE] = {"pause", NULL, "Pausing", "Paused"},
    [TS_JOB_RESUME] = {"resume", NULL, "Resuming", "Resumed"},
    [TS_JOB_REQUEUE_FAILED] = {"requeue", "{\"failed\": true}", "Requeueing the failed frames of",
                               "Requeued the failed frames of"},
};

static void update_buttons(TsJobControls *self)
{
    GtkButton *buttons[] = {[TS_JOB_CANCEL] = self->cancel_button, [TS_JOB_PAUSE] = self->pause_button,
                            [TS_JOB_RESUME] = self->resume_button, [TS_JOB_REQUEUE_FAILED] = self->requeue_button};
    for (int a = 0; a < (int)G_N_ELEMENTS(buttons); a++)
        gtk_widget_set_sensitive(GTK_WIDGET(buttons[a]),
                                 self->job && !self->posting && ts_job_allows(self->job, (TsJobAction)a));
}

typedef struct {
    TsJobControls *self;
    TsJobAction action;
    gint64 job;
} ask_t;

static void posted(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_autofree ask_t *ask = ud;
    g_autoptr(GError) error = NULL;
    json_t *o = ts_session_post_json_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    TsJobControls *self = ask->self;
    self->posting = FALSE;
    g_autofree char *msg = o ? g_strdup_printf("%s job #%" G_GINT64_FORMAT ".", ACTIONS[ask->action].done, ask->job)
                             : g_strdup_printf("Could not %s job #%" G_GINT64_FORMAT ": %s", ACTIONS[ask->action].route,
                                               ask->job, error->message);
    gtk_label_set_text(self->status_label, msg);
    if (o && self->job && ts_job_get_id(self->job) == ask->job && json_integer_value(json_object_get(o, "id")) == ask->job)
        ts_job_update(self->job, o); /* the master answers with the job as it is now */
    json_decref(o);
    ts_session_refresh_jobs(self->session);
    update_buttons(self);
}

static void act(TsJobControls *self, TsJobAction action)
{
    if (!self->job || !self->session || self->posting || !ts_job_allows(self->job, action))
        return;
    ask_t *ask = g_new0(ask_t, 1);
    *ask = (ask_t){self, action, ts_job_get_id(self->job)};
    g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT "/%s", ask->job, ACTIONS[action].route);
    g_autofree char *msg = g_strdup_printf("%s job #%" G_GINT64_FORMAT "…", ACTIONS[action].doing, ask->job);
    json_t *body = ACTIONS[action].body ? json_loads(ACTIONS[action].body, 0, NULL) : NULL;
    self->posting = TRUE;
    update_buttons(self);
    gtk_label_set_text(self->status_label, msg);
    ts_session_post_json_async(self->session, path, body, self->cancel, posted, ask);
    json_decref(body);
}

static void on_cancel_clicked(TsJobControls *self) { act(self, TS_JOB_CANCEL); }
static void on_pause_clicked(TsJobControls *self) { act(self, TS_JOB_PAUSE); }
static void on_resume_clicked(TsJobControls *self) { act(self, TS_JOB_RESUME); }
static void on_requeue_clicked(TsJobControls *self) { act(self, TS_JOB_REQUEUE_FAILED); }

static void dispose(GObject *object)
{
    TsJobControls *self = TS_JOB_CONTROLS(object);
    g_cancellable_cancel(self->cancel);
    if (self->job)
        g_signal_handlers_disconnect_by_data(self->job, self);
    g_clear_object(&self->job);
    g_clear_object(&self->session);
    g_clear_object(&self->cancel);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_JOB_CONTROLS);
    G_OBJECT_CLASS(ts_job_controls_parent_class)->dispose(object);
}

static void ts_job_controls_class_init(TsJobControlsClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-job-controls.ui");
    gtk_widget_class_bind_template_child(wc, TsJobControls, cancel_button);
    gtk_widget_class_bind_template_child(wc, TsJobControls, pause_button);
    gtk_widget_class_bind_template_child(wc, TsJobControls, resume_button);
    gtk_widget_class_bind_template_child(wc, TsJobControls, requeue_button);
    gtk_widget_class_bind_template_child(wc, TsJobControls, status_label);
    gtk_widget_class_bind_template_callback(wc, on_cancel_clicked);
    gtk_widget_class_bind_template_callback(wc, on_pause_clicked);
    gtk_widget_class_bind_template_callback(wc, on_resume_clicked);
    gtk_widget_class_bind_template_callback(wc, on_requeue_clicked);
}

static void ts_job_controls_init(TsJobControls *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
}

void ts_job_controls_set_session(TsJobControls *self, TsSession *session)
{
    g_return_if_fail(!self->session);
    self->session = g_object_ref(session);
}

/* The job's state as it is now (it moves on by itself: a render ends while shown), and what may be done to it. */
static void show_state(TsJobControls *self)
{
    TsJob *job = self->job;
    g_autofree char *text = job ? g_strdup_printf("Job #%" G_GINT64_FORMAT " is %s.", ts_job_get_id(job),
                                                  ts_job_get_state(job))
                                : g_strdup("Select a job to cancel, pause or resume it.");
    gtk_label_set_text(self->status_label, text);
    update_buttons(self);
}

void ts_job_controls_set_job(TsJobControls *self, TsJob *job)
{
    if (job == self->job)
        return;
    if (self->job)
        g_signal_handlers_disconnect_by_data(self->job, self);
    g_set_object(&self->job, job);
    if (job)
        g_signal_connect_swapped(job, "notify::state", G_CALLBACK(show_state), self);
    show_state(self);
}
