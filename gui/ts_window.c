/* ts_window: the main window: its pages (Jobs, Wallet, Farm); on the Jobs page the filtered jobs list with the
   selected job's controls, the live mosaic of the shown job, its filmstrip of finished frames (a click opens one
   full size), tile details, downloads (see ts_window.h).
   The shown frame is the first of the job's frames that is not finished (the last one once all are); the mosaic is
   fetched afresh whenever the model cannot follow an event alone, debounced, one fetch at a time. */
#include "gui/ts_window.h"
#include "gui/ts_farm_page.h"
#include "gui/ts_filmstrip.h"
#include "gui/ts_frame_window.h"
#include "gui/ts_job_controls.h"
#include "gui/ts_mosaic_view.h"
#include "gui/ts_wallet_page.h"
#include "gui/ts_submit_dialog.h"
#include <glib/gstdio.h>
#include <jansson.h>

#define REFRESH_GAP_MS 150  /* events arriving together are one fetch of the mosaic */
#define PREVIEW_SIDE 1024   /* the finished frame's preview fits in this square */

struct _TsWindow {
    GtkApplicationWindow parent;
    GtkButton *submit_button, *download_button;
    GtkLabel *connection_label, *mosaic_label, *tile_label, *download_label;
    GtkColumnView *jobs_view;
    TsMosaicView *mosaic;
    TsFilmstrip *filmstrip;
    GtkSearchEntry *name_filter_entry;
    GtkDropDown *state_filter_dropdown;
    TsJobControls *controls;
    TsWalletPage *wallet_page;
    TsFarmPage *farm_page;
    GtkStringFilter *name_filter, *state_filter;

    TsSession *session;
    GtkSingleSelection *selection;
    TsMosaicModel *model;
    GCancellable *cancel;          /* everything in flight, cancelled when the window goes */
    guint refresh_source;
    gboolean refreshing, refresh_again;
    gint64 shown_job;              /* what the last refresh showed, and the job's progress then */
    int shown_done;
    char *shown_state;
    GHashTable *fetching;          /* tile tasks whose pictures are on their way */
    gboolean fetching_frame;
    gint64 select_when_listed;     /* a job just submitted: selected once the list has it */
    GPtrArray *downloads;          /* outputs still to save: "frame\tname" */
    char *download_dir;
    int downloads_total;
};

G_DEFINE_FINAL_TYPE(TsWindow, ts_window, GTK_TYPE_APPLICATION_WINDOW)

static void schedule_refresh(TsWindow *self);

/* The job the mosaic shows: the selected one, else the newest running render (else the newest render). */
static TsJob *shown_job(TsWindow *self)
{
    TsJob *job = gtk_single_selection_get_selected_item(self->selection);
    return job ? job : ts_job_list_newest_shown(ts_session_get_jobs(self->session));
}

static void update_labels(TsWindow *self)
{
    g_autofree char *summary = ts_mosaic_model_summary(self->model);
    gtk_label_set_text(self->mosaic_label, summary);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->mosaic), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, summary, -1);
    int sel = ts_mosaic_view_get_selected(self->mosaic);
    TsTile *tile = sel >= 0 ? ts_mosaic_model_tile(self->model, sel) : NULL;
    if (tile) {
        g_autofree char *text = ts_tile_describe(tile);
        gtk_label_set_text(self->tile_label, text);
    }
    TsJob *job = shown_job(self);
    gtk_widget_set_sensitive(GTK_WIDGET(self->download_button),
                             job && (ts_mosaic_model_frame_finished(self->model) ||
                                     g_strcmp0(ts_job_get_state(job), "done") == 0));
}

/* ---- pictures: the master's PNGs of verified tiles and of the finished frame ---- */

typedef struct {
    TsWindow *self;
    gint64 job, task;
    int frame, tile;
} picture_ask_t;

static void tile_picture_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    picture_ask_t *ask = ud;
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) t = ts_session_get_picture_finish(TS_SESSION(source), result, &error);
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        TsWindow *self = ask->self;
        g_hash_table_remove(self->fetching, &ask->task);
        if (t)
            ts_mosaic_model_set_tile_picture(self->model, ask->job, ask->frame, ask->tile, ask->task, t);
        else
            g_debug("tile %d: %s", ask->tile, error->message);
    }
    g_free(ask);
}

static void frame_picture_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    picture_ask_t *ask = ud;
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) t = ts_session_get_picture_finish(TS_SESSION(source), result, &error);
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        ask->self->fetching_frame = FALSE;
        if (t)
            ts_mosaic_model_set_frame_picture(ask->self->model, ask->job, ask->frame, t);
        else
            g_debug("frame %d: %s", ask->frame, error->message);
    }
    g_free(ask);
}

static void fetch_pictures(TsWindow *self)
{
    gint64 job = ts_mosaic_model_get_job(self->model);
    int frame = ts_mosaic_model_get_frame(self->model);
    if (!job)
        return;
    if (ts_mosaic_model_frame_finished(self->model)) {
        if (!ts_mosaic_model_get_frame_picture(self->model) && !self->fetching_frame) {
            picture_ask_t *ask = g_new0(picture_ask_t, 1);
            *ask = (picture_ask_t){self, job, 0, frame, -1};
            g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT "/frames/%d/preview.png?max=%d",
                                                    job, frame, PREVIEW_SIDE);
            self->fetching_frame = TRUE;
            ts_session_get_picture_async(self->session, path, self->cancel, frame_picture_done, ask);
        }
        return; /* the whole frame replaces its tiles */
    }
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->model));
    for (guint i = 0; i < n; i++) {
        TsTile *tile = ts_mosaic_model_tile(self->model, (int)i);
        gint64 task = ts_tile_info(tile)->task;
        if (!ts_tile_wants_picture(tile) || g_hash_table_contains(self->fetching, &task))
            continue;
        picture_ask_t *ask = g_new0(picture_ask_t, 1);
        *ask = (picture_ask_t){self, job, task, frame, (int)i};
        g_hash_table_add(self->fetching, g_memdup2(&task, sizeof task));
        g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT "/frames/%d/tiles/%u.png", job,
                                                frame, i);
        ts_session_get_picture_async(self->session, path, self->cancel, tile_picture_done, ask);
    }
}

/* ---- the mosaic: the shown job's frames, then the shown frame's view ---- */

static void refresh_over(TsWindow *self)
{
    self->refreshing = FALSE;
    update_labels(self);
    if (self->refresh_again) {
        self->refresh_again = FALSE;
        schedule_refresh(self);
    }
}

static void view_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsWindow *self = ud;
    g_autoptr(GError) error = NULL;
    json_t *view = ts_session_get_json_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    if (view) {
        ts_mosaic_model_apply_view(self->model, view);
        json_decref(view);
        fetch_pictures(self);
    }
    refresh_over(self);
}

/* The frame to show: the first that is not finished, else the last. */
static int pick_frame(const json_t *frames, int fallback)
{
    size_t i;
    const json_t *f;
    int last = fallback;
    json_array_foreach(frames, i, f) {
        last = (int)json_integer_value(json_object_get(f, "frame"));
        if (g_strcmp0(json_string_value(json_object_get(f, "state")), "done") != 0)
            return last;
    }
    return last;
}

static void frames_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsWindow *self = ud;
    g_autoptr(GError) error = NULL;
    json_t *o = ts_session_get_json_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    TsJob *job = shown_job(self);
    if (!o || !job || ts_job_get_id(job) != self->shown_job) {
        json_decref(o);
        refresh_over(self);
        if (job && ts_job_get_id(job) != self->shown_job)
            schedule_refresh(self);
        return;
    }
    const json_t *frames = json_object_get(o, "frames");
    ts_filmstrip_show(self->filmstrip, self->shown_job, frames);
    int frame = pick_frame(frames, ts_job_get_frame_start(job));
    ts_mosaic_model_show(self->model, self->shown_job, frame);
    gboolean planned = json_array_size(frames) > 0;
    json_decref(o);
    if (!planned) { /* its probe has not planned the frames yet */
        refresh_over(self);
        return;
    }
    g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT "/frames/%d", self->shown_job, frame);
    ts_session_get_json_async(self->session, path, self->cancel, view_done, self);
}

static gboolean refresh_now(gpointer ud)
{
    TsWindow *self = ud;
    self->refresh_source = 0;
    if (self->refreshing) {
        self->refresh_again = TRUE;
        return G_SOURCE_REMOVE;
    }
    TsJob *job = shown_job(self);
    if (!job || g_strcmp0(ts_job_get_kind(job), "render") != 0) {
        self->shown_job = 0;
        ts_mosaic_model_show(self->model, 0, 0);
        ts_filmstrip_show(self->filmstrip, 0, NULL);
        update_labels(self);
        return G_SOURCE_REMOVE;
    }
    self->shown_job = ts_job_get_id(job);
    self->shown_done = ts_job_get_tasks_done(job);
    g_free(self->shown_state);
    self->shown_state = g_strdup(ts_job_get_state(job));
    self->refreshing = TRUE;
    g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT "/frames", self->shown_job);
    ts_session_get_json_async(self->session, path, self->cancel, frames_done, self);
    return G_SOURCE_REMOVE;
}

static void schedule_refresh(TsWindow *self)
{
    if (!self->refresh_source)
        self->refresh_source = g_timeout_add(REFRESH_GAP_MS, refresh_now, self);
}

/* ---- the session's news ---- */

static void on_status(TsWindow *self)
{
    gboolean up = ts_session_is_connected(self->session);
    g_autofree char *text = g_strdup_printf("%s %s", up ? "●" : "○", ts_session_get_status(self->session));
    gtk_label_set_text(self->connection_label, text);
    gtk_widget_remove_css_class(GTK_WIDGET(self->connection_label), up ? "disconnected" : "connected");
    gtk_widget_add_css_class(GTK_WIDGET(self->connection_label), up ? "connected" : "disconnected");
}

static void on_event(TsWindow *self, gpointer event)
{
    TsMosaicChange change = ts_mosaic_model_apply_event(self->model, event);
    if (change & (TS_MOSAIC_REFETCH | TS_MOSAIC_OTHER_FRAME))
        schedule_refresh(self);
    if (change & (TS_MOSAIC_TILES | TS_MOSAIC_FRAME)) {
        update_labels(self);
        fetch_pictures(self);
    }
}

/* The jobs list changed: select a job just submitted, and follow the shown job's progress (when polled, this is
   the only news). */
static void on_jobs_refreshed(TsWindow *self)
{
    if (self->select_when_listed) {
        GListModel *jobs = G_LIST_MODEL(self->selection); /* the list as filtered */
        for (guint i = 0; i < g_list_model_get_n_items(jobs); i++) {
            g_autoptr(TsJob) job = g_list_model_get_item(jobs, i);
            if (ts_job_get_id(job) == self->select_when_listed) {
                self->select_when_listed = 0;
                gtk_single_selection_set_selected(self->selection, i);
                break;
            }
        }
    }
    TsJob *job = shown_job(self);
    ts_wallet_page_set_job(self->wallet_page, job);
    gint64 id = job ? ts_job_get_id(job) : 0;
    if (id != self->shown_job || (job && (ts_job_get_tasks_done(job) != self->shown_done ||
                                          g_strcmp0(ts_job_get_state(job), self->shown_state) != 0)))
        schedule_refresh(self);
    update_labels(self);
}

/* A job of the artist's ended while the app runs: a desktop notification through the application (one per job: a
   later end of the same job replaces it). */
static void on_job_ended(TsWindow *self, TsJob *job)
{
    GtkApplication *app = gtk_window_get_application(GTK_WINDOW(self));
    g_autofree char *title = ts_job_end_notice(job);
    if (!app || !title)
        return;
    g_autoptr(GNotification) n = g_notification_new(title);
    if (ts_job_get_name(job)[0])
        g_notification_set_body(n, ts_job_get_name(job));
    g_autofree char *id = g_strdup_printf("job-%" G_GINT64_FORMAT, ts_job_get_id(job));
    g_application_send_notification(G_APPLICATION(app), id, n);
}

static void on_selection(TsWindow *self)
{
    ts_job_controls_set_job(self->controls, gtk_single_selection_get_selected_item(self->selection));
    ts_wallet_page_set_job(self->wallet_page, shown_job(self));
    TsJob *job = shown_job(self);
    if (!job || ts_job_get_id(job) != self->shown_job) {
        ts_mosaic_model_show(self->model, 0, 0); /* nothing of the last job lingers while the new one loads */
        gtk_label_set_text(self->tile_label, "");
        if (!self->downloads->len)
            gtk_label_set_text(self->download_label, ""); /* the last job's download said its piece */
    }
    schedule_refresh(self);
}

/* A thumbnail of the filmstrip clicked: the frame full size in a window of its own. */
static void on_frame_activated(TsWindow *self, gint64 job, int frame)
{
    gtk_window_present(GTK_WINDOW(ts_frame_window_new(GTK_WINDOW(self), self->session, job, frame)));
}

static void on_tile_selected(TsWindow *self, int index)
{
    if (index < 0)
        gtk_label_set_text(self->tile_label, "");
    update_labels(self);
}

/* ---- the jobs list's filters: a part of the name, and a state ("All states" first: no filter) ---- */

static void on_filter_changed(TsWindow *self)
{
    if (!self->name_filter)
        return; /* the template's own settings, before the filters exist */
    const char *text = gtk_editable_get_text(GTK_EDITABLE(self->name_filter_entry));
    gtk_string_filter_set_search(self->name_filter, text && text[0] ? text : NULL);
    guint state = gtk_drop_down_get_selected(self->state_filter_dropdown);
    GtkStringObject *item = gtk_drop_down_get_selected_item(self->state_filter_dropdown);
    gtk_string_filter_set_search(self->state_filter, state > 0 && item ? gtk_string_object_get_string(item) : NULL);
}

/* The session's jobs through both filters (an empty search lets every job through). */
static GListModel *filtered_jobs(TsWindow *self)
{
    self->name_filter = gtk_string_filter_new(gtk_property_expression_new(TS_TYPE_JOB, NULL, "title"));
    gtk_string_filter_set_match_mode(self->name_filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
    gtk_string_filter_set_ignore_case(self->name_filter, TRUE);
    gtk_string_filter_set_search(self->name_filter, NULL);
    self->state_filter = gtk_string_filter_new(gtk_property_expression_new(TS_TYPE_JOB, NULL, "state"));
    gtk_string_filter_set_match_mode(self->state_filter, GTK_STRING_FILTER_MATCH_MODE_EXACT);
    gtk_string_filter_set_search(self->state_filter, NULL);
    GtkEveryFilter *both = gtk_every_filter_new();
    gtk_multi_filter_append(GTK_MULTI_FILTER(both), g_object_ref(GTK_FILTER(self->name_filter)));
    gtk_multi_filter_append(GTK_MULTI_FILTER(both), g_object_ref(GTK_FILTER(self->state_filter)));
    return G_LIST_MODEL(gtk_filter_list_model_new(g_object_ref(G_LIST_MODEL(ts_session_get_jobs(self->session))),
                                                  GTK_FILTER(both)));
}

/* ---- submit ---- */

static void on_submitted(TsWindow *self, gint64 id)
{
    self->select_when_listed = id;
    ts_session_refresh_jobs(self->session);
}

void ts_window_submit(TsWindow *self, const char *scene)
{
    TsSubmitDialog *dialog = ts_submit_dialog_new(GTK_WINDOW(self), self->session);
    if (scene)
        ts_submit_dialog_set_scene(dialog, scene);
    g_signal_connect_object(dialog, "submitted", G_CALLBACK(on_submitted), self, G_CONNECT_SWAPPED);
    gtk_window_present(GTK_WINDOW(dialog));
}

static void on_submit_clicked(TsWindow *self)
{
    ts_window_submit(self, NULL);
}

/* A .blend dropped on the window opens the form with it. */
static gboolean on_drop(GtkDropTarget *target, const GValue *value, double x, double y, TsWindow *self)
{
    GFile *file = NULL;
    if (G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST)) {
        GSList *files = g_value_get_boxed(value);
        file = files ? files->data : NULL;
    } else if (G_VALUE_HOLDS(value, G_TYPE_FILE)) {
        file = g_value_get_object(value);
    }
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    if (!path)
        return FALSE;
    ts_window_submit(self, path);
    return TRUE;
}

/* ---- downloads: every finished output of the shown job, into Downloads/tessera/job-N ---- */

static void download_next(TsWindow *self);

static void saved_one(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsWindow *self = ud;
    g_autoptr(GError) error = NULL;
    if (!ts_session_download_finish(TS_SESSION(source), result, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        g_autofree char *msg = g_strdup_printf("Download failed: %s", error->message);
        gtk_label_set_text(self->download_label, msg);
        g_ptr_array_set_size(self->downloads, 0);
        gtk_widget_set_sensitive(GTK_WIDGET(self->download_button), TRUE);
        return;
    }
    download_next(self);
}

static void download_next(TsWindow *self)
{
    if (self->downloads->len == 0) {
        g_autofree char *msg = g_strdup_printf("Saved %d file%s to %s", self->downloads_total,
                                               self->downloads_total == 1 ? "" : "s", self->download_dir);
        gtk_label_set_text(self->download_label, msg);
        gtk_widget_set_sensitive(GTK_WIDGET(self->download_button), TRUE);
        return;
    }
    g_autofree char *entry = g_ptr_array_steal_index(self->downloads, 0);
    char *tab = strchr(entry, '\t');
    *tab = '\0';
    g_autofree char *dest = g_build_filename(self->download_dir, tab + 1, NULL);
    g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT "/outputs/%s", self->shown_job, entry);
    g_autofree char *msg = g_strdup_printf("Saving %s (%d of %d)…", tab + 1,
                                           self->downloads_total - (int)self->downloads->len, self->downloads_total);
    gtk_label_set_text(self->download_label, msg);
    ts_session_download_async(self->session, path, dest, self->cancel, saved_one, self);
}

/* A name from the master, kept to one plain file name in the folder. */
static gboolean plain_name(const char *name)
{
    return name && name[0] && name[0] != '.' && !strchr(name, '/');
}

static void outputs_listed(GObject *source, GAsyncResult *result, gpointer ud)
{
    TsWindow *self = ud;
    g_autoptr(GError) error = NULL;
    json_t *job = ts_session_get_json_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    gtk_widget_set_sensitive(GTK_WIDGET(self->download_button), TRUE);
    if (!job) {
        g_autofree char *msg = g_strdup_printf("Cannot list the outputs: %s", error->message);
        gtk_label_set_text(self->download_label, msg);
        return;
    }
    const char *base = g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD);
    g_autofree char *fallback = g_build_filename(g_get_home_dir(), "Downloads", NULL);
    g_free(self->download_dir);
    self->download_dir = g_strdup_printf("%s/tessera/job-%" G_GINT64_FORMAT, base ? base : fallback,
                                         self->shown_job);
    g_ptr_array_set_size(self->downloads, 0);
    size_t i;
    const json_t *out;
    json_array_foreach(json_object_get(job, "outputs"), i, out) {
        const char *name = json_string_value(json_object_get(out, "name"));
        if (plain_name(name))
            g_ptr_array_add(self->downloads, g_strdup_printf("%d\t%s", (int)json_integer_value(json_object_get(out, "frame")),
                                                             name));
    }
    json_decref(job);
    self->downloads_total = (int)self->downloads->len;
    if (self->downloads_total == 0) {
        gtk_label_set_text(self->download_label, "No finished frames yet.");
        return;
    }
    if (g_mkdir_with_parents(self->download_dir, 0755) != 0) {
        g_autofree char *msg = g_strdup_printf("%s: %s", self->download_dir, g_strerror(errno));
        gtk_label_set_text(self->download_label, msg);
        return;
    }
    gtk_widget_set_sensitive(GTK_WIDGET(self->download_button), FALSE);
    download_next(self);
}

static void on_download_clicked(TsWindow *self)
{
    if (!self->shown_job || self->downloads->len)
        return;
    g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT, self->shown_job);
    gtk_widget_set_sensitive(GTK_WIDGET(self->download_button), FALSE);
    gtk_label_set_text(self->download_label, "Listing the outputs…");
    ts_session_get_json_async(self->session, path, self->cancel, outputs_listed, self);
}

/* ---- the object ---- */

static void dispose(GObject *object)
{
    TsWindow *self = TS_WINDOW(object);
    if (self->cancel)
        g_cancellable_cancel(self->cancel);
    g_clear_handle_id(&self->refresh_source, g_source_remove);
    if (self->session) {
        g_signal_handlers_disconnect_by_data(self->session, self);
        ts_session_stop(self->session);
    }
    g_clear_object(&self->session);
    g_clear_object(&self->selection);
    g_clear_object(&self->name_filter);
    g_clear_object(&self->state_filter);
    g_clear_object(&self->model);
    g_clear_object(&self->cancel);
    g_clear_pointer(&self->fetching, g_hash_table_unref);
    g_clear_pointer(&self->downloads, g_ptr_array_unref);
    g_clear_pointer(&self->download_dir, g_free);
    g_clear_pointer(&self->shown_state, g_free);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_WINDOW);
    G_OBJECT_CLASS(ts_window_parent_class)->dispose(object);
}

static void ts_window_class_init(TsWindowClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    g_type_ensure(TS_TYPE_MOSAIC_VIEW);
    g_type_ensure(TS_TYPE_FILMSTRIP);
    g_type_ensure(TS_TYPE_JOB_CONTROLS);
    g_type_ensure(TS_TYPE_WALLET_PAGE);
    g_type_ensure(TS_TYPE_FARM_PAGE);
    g_type_ensure(TS_TYPE_JOB); /* the list items' templates look its properties up by name */
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-window.ui");
    gtk_widget_class_bind_template_child(wc, TsWindow, submit_button);
    gtk_widget_class_bind_template_child(wc, TsWindow, download_button);
    gtk_widget_class_bind_template_child(wc, TsWindow, connection_label);
    gtk_widget_class_bind_template_child(wc, TsWindow, mosaic_label);
    gtk_widget_class_bind_template_child(wc, TsWindow, tile_label);
    gtk_widget_class_bind_template_child(wc, TsWindow, download_label);
    gtk_widget_class_bind_template_child(wc, TsWindow, jobs_view);
    gtk_widget_class_bind_template_child(wc, TsWindow, mosaic);
    gtk_widget_class_bind_template_child(wc, TsWindow, filmstrip);
    gtk_widget_class_bind_template_child(wc, TsWindow, name_filter_entry);
    gtk_widget_class_bind_template_child(wc, TsWindow, state_filter_dropdown);
    gtk_widget_class_bind_template_child(wc, TsWindow, controls);
    gtk_widget_class_bind_template_child(wc, TsWindow, wallet_page);
    gtk_widget_class_bind_template_child(wc, TsWindow, farm_page);
    gtk_widget_class_bind_template_callback(wc, on_filter_changed);
    gtk_widget_class_bind_template_callback(wc, on_submit_clicked);
    gtk_widget_class_bind_template_callback(wc, on_download_clicked);
}

static void ts_window_init(TsWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
    self->model = ts_mosaic_model_new();
    self->fetching = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->downloads = g_ptr_array_new_with_free_func(g_free);
    ts_mosaic_view_set_model(self->mosaic, self->model);
    g_signal_connect_swapped(self->mosaic, "tile-selected", G_CALLBACK(on_tile_selected), self);
    g_signal_connect_swapped(self->filmstrip, "frame-activated", G_CALLBACK(on_frame_activated), self);
    GtkDropTarget *drop = gtk_drop_target_new(G_TYPE_INVALID, GDK_ACTION_COPY);
    gtk_drop_target_set_gtypes(drop, (GType[]){GDK_TYPE_FILE_LIST, G_TYPE_FILE}, 2);
    g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}

TsWindow *ts_window_new(GtkApplication *app, TsSession *session)
{
    TsWindow *self = g_object_new(TS_TYPE_WINDOW, "application", app, NULL);
    self->session = g_object_ref(session);
    g_autofree char *title = g_strdup_printf("tessera — %s", ts_session_get_config(session)->master);
    gtk_window_set_title(GTK_WINDOW(self), title);
    self->selection = gtk_single_selection_new(filtered_jobs(self));
    gtk_single_selection_set_autoselect(self->selection, FALSE);
    gtk_single_selection_set_can_unselect(self->selection, TRUE);
    gtk_single_selection_set_selected(self->selection, GTK_INVALID_LIST_POSITION);
    gtk_column_view_set_model(self->jobs_view, GTK_SELECTION_MODEL(self->selection));
    g_signal_connect_swapped(self->selection, "notify::selected", G_CALLBACK(on_selection), self);
    g_signal_connect_swapped(session, "status-changed", G_CALLBACK(on_status), self);
    g_signal_connect_swapped(session, "event", G_CALLBACK(on_event), self);
    g_signal_connect_swapped(session, "resync", G_CALLBACK(schedule_refresh), self);
    g_signal_connect_swapped(session, "jobs-refreshed", G_CALLBACK(on_jobs_refreshed), self);
    g_signal_connect_object(ts_session_get_jobs(session), "job-ended", G_CALLBACK(on_job_ended), self,
                            G_CONNECT_SWAPPED);
    ts_job_controls_set_session(self->controls, session);
    ts_wallet_page_set_session(self->wallet_page, session);
    ts_farm_page_set_session(self->farm_page, session);
    ts_filmstrip_set_session(self->filmstrip, session);
    on_status(self);
    ts_session_start(session);
    return self;
}
