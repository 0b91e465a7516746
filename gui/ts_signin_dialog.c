/* ts_signin_dialog: the first run's sign-in, tried against the master before it is kept (see ts_signin_dialog.h). */
#include "gui/ts_signin_dialog.h"
#include "gui/ts_http.h"
#include <jansson.h>

struct _TsSigninDialog {
    GtkWindow parent;
    GtkEntry *master_entry, *token_entry, *ca_entry;
    GtkLabel *status_label;
    GtkButton *signin_button;
    GCancellable *cancel;
};

enum { SIGNAL_SIGNED_IN, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(TsSigninDialog, ts_signin_dialog, GTK_TYPE_WINDOW)

static void say(TsSigninDialog *self, const char *text)
{
    gtk_label_set_text(self->status_label, text);
}

/* On a worker thread: the master answers GET jobs with this token. */
static void try_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    GError *error = NULL;
    json_t *jobs = ts_http_get_json(data, "/api/v1/jobs", cancellable, &error);
    if (jobs) {
        json_decref(jobs);
        g_task_return_boolean(task, TRUE);
    } else {
        g_task_return_error(task, error);
    }
}

static void tried(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsSigninDialog *self = TS_SIGNIN_DIALOG(source);
    g_autoptr(GError) error = NULL;
    TsConfig *cfg = g_task_get_task_data(G_TASK(result));
    gtk_widget_set_sensitive(GTK_WIDGET(self->signin_button), TRUE);
    if (!g_task_propagate_boolean(G_TASK(result), &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        g_autofree char *msg = g_error_matches(error, TS_HTTP_ERROR, 401)
                                   ? g_strdup_printf("The master refused the token: %s", error->message)
                                   : g_strdup_printf("Cannot sign in: %s", error->message);
        say(self, msg);
        return;
    }
    g_autoptr(GError) save_error = NULL;
    if (!cfg->from_env && !ts_config_save(cfg, &save_error)) {
        g_autofree char *msg = g_strdup_printf("Signed in, but the settings cannot be kept: %s", save_error->message);
        say(self, msg);
    }
    g_signal_emit(self, signals[SIGNAL_SIGNED_IN], 0, cfg);
}

static void on_sign_in(TsSigninDialog *self)
{
    g_autoptr(GError) error = NULL;
    char *master = ts_config_normalise_master(gtk_editable_get_text(GTK_EDITABLE(self->master_entry)), &error);
    const char *token = gtk_editable_get_text(GTK_EDITABLE(self->token_entry));
    const char *ca = gtk_editable_get_text(GTK_EDITABLE(self->ca_entry));
    if (!master) {
        say(self, error->message);
        return;
    }
    if (!token[0]) {
        g_free(master);
        say(self, "The token is empty: your operator makes one with `tessera account add NAME`.");
        return;
    }
    TsConfig *cfg = g_new0(TsConfig, 1);
    cfg->master = master;
    cfg->token = g_strstrip(g_strdup(token));
    cfg->ca_file = ca[0] ? g_strdup(ca) : NULL;
    gtk_widget_set_sensitive(GTK_WIDGET(self->signin_button), FALSE);
    say(self, "Asking the master…");
    g_autoptr(GTask) task = g_task_new(self, self->cancel, tried, NULL);
    g_task_set_task_data(task, cfg, (GDestroyNotify)ts_config_free);
    g_task_run_in_thread(task, try_thread);
}

static void dispose(GObject *object)
{
    TsSigninDialog *self = TS_SIGNIN_DIALOG(object);
    if (self->cancel)
        g_cancellable_cancel(self->cancel);
    g_clear_object(&self->cancel);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_SIGNIN_DIALOG);
    G_OBJECT_CLASS(ts_signin_dialog_parent_class)->dispose(object);
}

static void ts_signin_dialog_class_init(TsSigninDialogClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-signin-dialog.ui");
    gtk_widget_class_bind_template_child(wc, TsSigninDialog, master_entry);
    gtk_widget_class_bind_template_child(wc, TsSigninDialog, token_entry);
    gtk_widget_class_bind_template_child(wc, TsSigninDialog, ca_entry);
    gtk_widget_class_bind_template_child(wc, TsSigninDialog, status_label);
    gtk_widget_class_bind_template_child(wc, TsSigninDialog, signin_button);
    gtk_widget_class_bind_template_callback(wc, on_sign_in);
    signals[SIGNAL_SIGNED_IN] = g_signal_new("signed-in", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                             NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void ts_signin_dialog_init(TsSigninDialog *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
}

TsSigninDialog *ts_signin_dialog_new(GtkApplication *app, const TsConfig *known)
{
    TsSigninDialog *self = g_object_new(TS_TYPE_SIGNIN_DIALOG, "application", app, NULL);
    if (known && known->master)
        gtk_editable_set_text(GTK_EDITABLE(self->master_entry), known->master);
    if (known && known->token)
        gtk_editable_set_text(GTK_EDITABLE(self->token_entry), known->token);
    if (known && known->ca_file)
        gtk_editable_set_text(GTK_EDITABLE(self->ca_entry), known->ca_file);
    return self;
}
