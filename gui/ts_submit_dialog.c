/* ts_submit_dialog: the submit form, run through the CLI with progress and errors shown (see ts_submit_dialog.h). */
#include "gui/ts_submit_dialog.h"
#include "gui/ts_quote.h"
#include "gui/ts_scene_probe.h"
#include "gui/ts_submit_run.h"
#include "lib/ts_request.h"

#define PULSE_MS 120
#define SCENE_SETTLE_MS 300  /* a path typed into the scene field is read once it stops changing */
#define QUOTE_SETTLE_MS 400  /* the quote is asked again once the fields stop changing */

struct _TsSubmitDialog {
    GtkWindow parent;
    GtkEntry *scene_entry, *frames_entry, *tiles_entry, *name_entry, *budget_entry;
    GtkSpinButton *priority_spin;
    GtkDropDown *format_dropdown;
    GtkLabel *facts_label, *quote_label;
    GtkListView *files_list;
    GtkStringList *files;    /* the scene's files, "MISSING: " before one not on disk */
    TsSceneFacts *facts;     /* the chosen scene's, once read */
    GCancellable *probing, *quoting;
    guint scene_timer, quote_timer;
    GtkButton *choose_button, *submit_button, *cancel_button;
    GtkProgressBar *progress;
    GtkLabel *status_label;
    TsSession *session;
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
                           GTK_WIDGET(self->priority_spin), GTK_WIDGET(self->budget_entry),
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

/* ---- the scene's facts and files, then the quote ---- */

static void quoted(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsSubmitDialog *self = ud;
    g_autoptr(GError) error = NULL;
    json_t *answer = ts_session_post_json_finish(TS_SESSION(source), result, &error);
    if (!self->closed && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_autofree char *text = answer ? ts_quote_text(answer) : g_strdup_printf("Quote: %s", error->message);
        gtk_label_set_text(self->quote_label, text);
    }
    json_decref(answer);
    g_object_unref(self);
}

/* Asks for a quote for what the form says now (the scene's size and samples, the frames, grid and budget). */
static gboolean ask_quote(gpointer ud)
{
    TsSubmitDialog *self = ud;
    self->quote_timer = 0;
    int a = 0, b = 0, cols = 0, rows = 0;
    if (!self->facts)
        return G_SOURCE_REMOVE;
    if (ts_request_frames_parse(gtk_editable_get_text(GTK_EDITABLE(self->frames_entry)), &a, &b) < 0 ||
        ts_request_grid_parse(gtk_editable_get_text(GTK_EDITABLE(self->tiles_entry)), &cols, &rows) < 0) {
        gtk_label_set_text(self->quote_label, "Quote: write the frames (A-B or N) and the tile grid (CxR).");
        return G_SOURCE_REMOVE;
    }
    if (self->quoting)
        g_cancellable_cancel(self->quoting);
    g_clear_object(&self->quoting);
    self->quoting = g_cancellable_new();
    TsQuoteRequest req = {.frames = b - a + 1, .tiles_x = cols, .tiles_y = rows, .width = self->facts->width,
                          .height = self->facts->height, .samples = self->facts->samples,
                          .budget = gtk_editable_get_text(GTK_EDITABLE(self->budget_entry))};
    gtk_label_set_text(self->quote_label, "Quote: asking the farm…");
    json_t *body = ts_quote_body(&req);
    ts_session_post_json_async(self->session, "/api/v1/quote", body, self->quoting, quoted, g_object_ref(self));
    json_decref(body);
    return G_SOURCE_REMOVE;
}

static void on_quote_input(TsSubmitDialog *self)
{
    g_clear_handle_id(&self->quote_timer, g_source_remove);
    if (self->facts)
        self->quote_timer = g_timeout_add(QUOTE_SETTLE_MS, ask_quote, self);
}

static void probed(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsSubmitDialog *self = ud;
    g_autoptr(GError) error = NULL;
    TsSceneFacts *facts = ts_scene_probe_finish(result, &error);
    if (self->closed || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        ts_scene_facts_free(facts);
        g_object_unref(self);
        return;
    }
    g_clear_object(&self->probing);
    if (!facts) {
        g_autofree char *msg = g_strdup_printf("Your Blender could not read the scene: %s", error->message);
        gtk_label_set_text(self->facts_label, msg);
        g_object_unref(self);
        return;
    }
    ts_scene_facts_free(self->facts);
    self->facts = facts;
    g_autofree char *text = g_strdup_printf(
        "Frames %d–%d · %d × %d px · %d samples (%s) · output %s · %u files, %d missing", facts->frame_start,
        facts->frame_end, facts->width, facts->height, facts->samples, facts->engine, facts->file_format,
        facts->files->len, facts->missing);
    gtk_label_set_text(self->facts_label, text);
    g_ptr_array_add(facts->files, NULL);
    gtk_string_list_splice(self->files, 0, g_list_model_get_n_items(G_LIST_MODEL(self->files)),
                           (const char *const *)facts->files->pdata);
    g_ptr_array_set_size(facts->files, facts->files->len - 1);
    g_autofree char *range = facts->frame_start == facts->frame_end
                                 ? g_strdup_printf("%d", facts->frame_start)
                                 : g_strdup_printf("%d-%d", facts->frame_start, facts->frame_end);
    gtk_editable_set_text(GTK_EDITABLE(self->frames_entry), range); /* its "changed" asks for the quote */
    on_quote_input(self);
    g_object_unref(self);
}

static gboolean read_scene(gpointer ud)
{
    TsSubmitDialog *self = ud;
    self->scene_timer = 0;
    const char *path = gtk_editable_get_text(GTK_EDITABLE(self->scene_entry));
    if (!g_str_has_suffix(path, ".blend") || !g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return G_SOURCE_REMOVE;
    self->probing = g_cancellable_new();
    gtk_label_set_text(self->facts_label, "Reading the scene with your Blender…");
    ts_scene_probe_async(path, self->probing, probed, g_object_ref(self));
    return G_SOURCE_REMOVE;
}

/* Another scene: what was read of the last one goes, and the new one is read once its path settles. */
static void on_scene_changed(TsSubmitDialog *self)
{
    if (self->probing)
        g_cancellable_cancel(self->probing);
    g_clear_object(&self->probing);
    g_clear_pointer(&self->facts, ts_scene_facts_free);
    g_clear_handle_id(&self->quote_timer, g_source_remove);
    gtk_string_list_splice(self->files, 0, g_list_model_get_n_items(G_LIST_MODEL(self->files)), NULL);
    gtk_label_set_text(self->facts_label, "Choose a scene to see its frames, resolution, samples and files.");
    gtk_label_set_text(self->quote_label, "Quote: choose a scene first.");
    g_clear_handle_id(&self->scene_timer, g_source_remove);
    self->scene_timer = g_timeout_add(SCENE_SETTLE_MS, read_scene, self);
}

static void file_row_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer ud)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_START);
    gtk_list_item_set_child(item, label);
}

static void file_row_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer ud)
{
    const char *text = gtk_string_object_get_string(gtk_list_item_get_item(item));
    GtkWidget *label = gtk_list_item_get_child(item);
    gtk_label_set_text(GTK_LABEL(label), text);
    gtk_widget_set_tooltip_text(label, text);
    if (g_str_has_prefix(text, "MISSING"))
        gtk_widget_add_css_class(label, "error");
    else
        gtk_widget_remove_css_class(label, "error");
}

static void on_submit(TsSubmitDialog *self)
{
    if (self->running)
        return;
    GtkStringList *formats = GTK_STRING_LIST(gtk_drop_down_get_model(self->format_dropdown));
    gtk_spin_button_update(self->priority_spin); /* a number typed but not yet entered counts */
    TsSubmitRequest req = {
        .scene = gtk_editable_get_text(GTK_EDITABLE(self->scene_entry)),
        .frames = gtk_editable_get_text(GTK_EDITABLE(self->frames_entry)),
        .tiles = gtk_editable_get_text(GTK_EDITABLE(self->tiles_entry)),
        .format = gtk_string_list_get_string(formats, gtk_drop_down_get_selected(self->format_dropdown)),
        .name = gtk_editable_get_text(GTK_EDITABLE(self->name_entry)),
        .priority = gtk_spin_button_get_value_as_int(self->priority_spin),
        .budget = gtk_editable_get_text(GTK_EDITABLE(self->budget_entry)),
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
    g_clear_handle_id(&self->scene_timer, g_source_remove);
    g_clear_handle_id(&self->quote_timer, g_source_remove);
    if (self->probing)
        g_cancellable_cancel(self->probing);
    if (self->quoting)
        g_cancellable_cancel(self->quoting);
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
    g_clear_object(&self->probing);
    g_clear_object(&self->quoting);
    g_clear_object(&self->files);
    ts_scene_facts_free(self->facts);
    ts_config_free(self->cfg);
    g_clear_object(&self->session);
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
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, budget_entry);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, priority_spin);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, facts_label);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, quote_label);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, files_list);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, format_dropdown);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, choose_button);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, submit_button);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, cancel_button);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, progress);
    gtk_widget_class_bind_template_child(wc, TsSubmitDialog, status_label);
    gtk_widget_class_bind_template_callback(wc, on_submit);
    gtk_widget_class_bind_template_callback(wc, on_cancel);
    gtk_widget_class_bind_template_callback(wc, on_choose);
    gtk_widget_class_bind_template_callback(wc, on_scene_changed);
    gtk_widget_class_bind_template_callback(wc, on_quote_input);
    signals[SIGNAL_SUBMITTED] = g_signal_new("submitted", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                             NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void ts_submit_dialog_init(TsSubmitDialog *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->files = gtk_string_list_new(NULL);
    GtkListItemFactory *rows = gtk_signal_list_item_factory_new();
    g_signal_connect(rows, "setup", G_CALLBACK(file_row_setup), NULL);
    g_signal_connect(rows, "bind", G_CALLBACK(file_row_bind), NULL);
    gtk_list_view_set_factory(self->files_list, rows);
    g_object_unref(rows);
    gtk_list_view_set_model(self->files_list,
                            GTK_SELECTION_MODEL(gtk_no_selection_new(G_LIST_MODEL(g_object_ref(self->files)))));
    GtkDropTarget *drop = gtk_drop_target_new(G_TYPE_INVALID, GDK_ACTION_COPY);
    gtk_drop_target_set_gtypes(drop, (GType[]){GDK_TYPE_FILE_LIST, G_TYPE_FILE}, 2);
    g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}

TsSubmitDialog *ts_submit_dialog_new(GtkWindow *parent, TsSession *session)
{
    TsSubmitDialog *self = g_object_new(TS_TYPE_SUBMIT_DIALOG, "transient-for", parent, NULL);
    self->session = g_object_ref(session);
    self->cfg = ts_config_copy(ts_session_get_config(session));
    return self;
}
