/* ts_submit_dialog: the submit form, run through the CLI with progress and errors shown (see ts_submit_dialog.h). */
#include "gui/ts_submit_dialog.h"
#include "gui/ts_submit_run.h"

#define PULSE_MS 120

struct _TsSubmitDialog {
    GtkWindow parent;
    GtkEntry *scene_entry, *frames_entry, *tiles_entry, *name_entry;
    GtkDropDown *format_dropdown;
    GtkButton *choose_button, *submit_button, *cancel_button;
    GtkProgressBar *progress;
    GtkLabel *status_label;
    TsConfig *cfg;
    GCancellable *running;   /* a submit in progress */
    guint pulse;
    GtkFileChooserNative *chooser;
    gboolean closed;         /* disposed: a submit that ends later touches nothing */
};

enum { SIGNAL_SUBMITTED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(TsSubmitDialog, ts_submit_dialog, GTK_TYPE_WINDOW)

static void say(TsSubmitDialog *self, const char *text)
{
    gtk_label_set_text(self->status_label, text);
}

void ts_submit_dialog_set_scene(TsSubmitDialog *self, const char *path)
{
    gtk_editable_set_text(GTK_EDITABLE(self->scene_entry), path);
}

static gboolean pulse(gpointer ud)
{
    gtk_progress_bar_pulse(TS_SUBMIT_DIALOG(ud)->progress);
    return G_SOURCE_CONTINUE;
}

/* The form is locked while the CLI runs; Cancel then stops it. */
static void set_busy(TsSubmitDialog *self, gboolean busy)
{
    GtkWidget *inputs[] = {GTK_WIDGET(self->scene_entry), GTK_WIDGET(self->frames_entry), GTK_WIDGET(self->tiles_entry),
                           GTK_WIDGET(self->name_entry), GTK_WIDGET(self->format_dropdown),
                           GTK_WIDGET(self->choose_button), GTK_WIDGET(self->submit_button)};
    for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++)
        gtk_widget_set_sensitive(inputs[i], !busy);
    gtk_widget_set_visible(GTK_WIDGET(self->progress), busy);
    if (busy && !self->pulse)
        self->pulse = g_timeout_add(PULSE_MS, pulse, self);
    if (!busy)
        g_clear_handle_id(&self->pulse, g_source_remove);
}

static void on_cli_line(const char *text, gpointer ud)
{
    TsSubmitDialog *self = ud;
    if (self->running) /* the CLI's own words: files found, outside the project, uploaded, reused */
        say(self, text);
}

static void submitted(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsSubmitDialog *self = ud;
    g_autoptr(GError) error = NULL;
    gint64 id = ts_submit_run_finish(result, &error);
    g_clear_object(&self->running);
    if (self->closed) {
        g_object_unref(self);
        return;
    }
    set_busy(self, FALSE);
    if (id <= 0) {
        g_autofree char *msg = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                   ? g_strdup("Cancelled: nothing was submitted.")
                                   : g_strdup_printf("Not submitted: %s", error->message);
        say(self, msg);
        g_object_unref(self);
        return;
    }
    g_autofree char *msg = g_strdup_printf("Job %" G_GINT64_FORMAT " submitted.", id);
    say(self, msg);
    g_signal_emit(self, signals[SIGNAL_SUBMITTED], 0, id);
    gtk_window_destroy(GTK_WINDOW(self));
    g_object_unref(self);
}

static void on_submit(TsSubmitDialog *self)
{
    if (self->running)
        return;
    GtkStringList *formats = GTK_STRING_LIST(gtk_drop_down_get_model(self->format_dropdown));
    TsSubmitRequest req = {
        .scene = gtk_editable_get_text(GTK_EDITABLE(self->scene_entry)),
        .frames = gtk_editable_get_text(GTK_EDITABLE(self->frames_entry)),
        .tiles = gtk_editable_get_text(GTK_EDITABLE(self->tiles_entry)),
        .format = gtk_string_list_get_string(formats, gtk_drop_down_get_selected(self->format_dropdown)),
        .name = gtk_editable_get_text(GTK_EDITABLE(self->name_entry)),
    };
    g_autoptr(GError) error = NULL;
    if (!ts_submit_check(&req, &error)) {
        say(self, error->message);
        return;
    }
    self->running = g_cancellable_new();
    set_busy(self, TRUE);
    say(self, "Finding the scene's files with your Blender, then uploading what the farm lacks…");
    ts_submit_run_async(self->cfg, &req, on_cli_line, self->running, submitted, g_object_ref(self));
}

static void on_cancel(TsSubmitDialog *self)
{
    if (self->running)
        g_cancellable_cancel(self->running);
    else
        gtk_window_destroy(GTK_WINDOW(self));
}

static void chosen(GtkNativeDialog *dialog, int response, TsSubmitDialog *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = file ? g_file_get_path(file) : NULL;
        if (path)
            ts_submit_dialog_set_scene(self, path);
    }
    g_clear_object(&self->chooser);
}

static void on_choose(TsSubmitDialog *self)
{
    if (self->chooser)
        return;
    self->chooser = gtk_file_chooser_native_new("Choose a scene", GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                                "_Open", "_Cancel");
    GtkFileFilter *filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, "Blender scenes");
    gtk_file_filter_add_pattern(filter, "*.blend");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), filter);
    g_object_unref(filter);
    g_signal_connect(self->chooser, "response", G_CALLBACK(chosen), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

/* A file dropped on the form: the first one of a list. */
static gboolean on_drop(GtkDropTarget *target, const GValue *value, double x, double y, TsSubmitDialog *self)
{
    GFile *file = NULL;
    if (G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST)) {
        GSList *files = g_value_get_boxed(value);
        file = files ? files->data : NULL;
    } else if (G_VALUE_HOLDS(value, G_TYPE_FILE)) {
        file = g_value_get_object(value);
    }
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    if (!path || self->running)
        return FALSE;
    ts_submit_dialog_set_scene(self, path);
    return TRUE;
}

static void dispose(GObject *object)
{
    TsSubmitDialog *self = TS_SUBMIT_DIALOG(object);
    self->closed = TRUE;
    if (self->running)
        g_cancellable_cancel(self->running);
    g_clear_handle_id(&self->pulse, g_source_remove);
    if (self->chooser)
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_SUBMIT_DIALOG);
    G_OBJECT_CLASS(ts_submit_dialog_parent_class)->dispose(object);
}

static void finalize(GObject *object)
{
    TsSubmitDialog *self = TS_SUBMIT_DIALOG(object);
    g_clear_object(&self->running);
    ts_config_free(self->cfg);
    G_OBJECT_CLASS(ts_submit_dialog_parent_class)->finalize(object);
}

static void ts_submit_dialog_class_init(TsSubmitDialogClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    G_OBJECT_CLASS(klass)->finalize = finalize;
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-submit-dialog.ui");
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, scene_entry);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, frames_entry);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, tiles_entry);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, name_entry);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, format_dropdown);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, choose_button);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, submit_button);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, cancel_button);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, progress);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, status_label);
    gtk_widget_class_bind_template_callback(wc, on_submit);
    gtk_widget_class_bind_template_callback(wc, on_cancel);
    gtk_widget_class_bind_template_callback(wc, on_choose);
    signals[SIGNAL_SUBMITTED] = g_signal_new("submitted", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                             NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void ts_submit_dialog_init(TsSubmitDialog *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    GtkDropTarget *drop = gtk_drop_target_new(G_TYPE_INVALID, GDK_ACTION_COPY);
    gtk_drop_target_set_gtypes(drop, (GType[]){GDK_TYPE_FILE_LIST, G_TYPE_FILE}, 2);
    g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}

TsSubmitDialog *ts_submit_dialog_new(GtkWindow *parent, const TsConfig *cfg)
{
    TsSubmitDialog *self = g_object_new(TS_TYPE_SUBMIT_DIALOG, "transient-for", parent, NULL);
    self->cfg = ts_config_copy(cfg);
    return self;
}
