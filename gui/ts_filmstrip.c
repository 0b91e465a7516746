/* ts_filmstrip: the strip of the shown job's finished frames, their previews fetched one at a time (see the
   header). */
#include "gui/ts_filmstrip.h"
#include "gui/ts_filmstrip_model.h"

#define THUMB_W 120 /* a thumbnail's box; the picture fits inside, its aspect kept */
#define THUMB_H 72

struct _TsFilmstrip {
    GtkBox parent;
    GtkLabel *status_label;
    GtkListView *strip_view;
    TsSession *session;
    TsFilmstripModel *model;
    GCancellable *cancel;  /* the shown job's fetches; another job cancels them */
    GHashTable *failed;    /* frames whose preview did not come: not asked again for this job */
    gboolean fetching;
};

enum { SIG_FRAME_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(TsFilmstrip, ts_filmstrip, GTK_TYPE_BOX)

typedef struct {
    TsFilmstrip *self;
    gint64 job;
    int frame;
} thumb_ask_t;

static void fetch_next(TsFilmstrip *self);

static void thumb_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_autofree thumb_ask_t *ask = ud;
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) t = ts_session_get_picture_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* another job is shown, or the strip is gone: its own fetch is under way */
    TsFilmstrip *self = ask->self;
    self->fetching = FALSE;
    if (t) {
        ts_filmstrip_model_set_picture(self->model, ask->job, ask->frame, t);
    } else {
        g_debug("frame %d's thumbnail: %s", ask->frame, error->message);
        g_hash_table_add(self->failed, GINT_TO_POINTER(ask->frame));
    }
    fetch_next(self);
}

static void fetch_next(TsFilmstrip *self)
{
    gint64 job = ts_filmstrip_model_get_job(self->model);
    int frame = ts_filmstrip_model_wanted(self->model, self->failed);
    if (!self->session || self->fetching || !job || frame < 0)
        return;
    thumb_ask_t *ask = g_new0(thumb_ask_t, 1);
    *ask = (thumb_ask_t){self, job, frame};
    g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT "/frames/%d/preview.png?max=%d", job,
                                            frame, TS_FILMSTRIP_THUMB_SIDE);
    self->fetching = TRUE;
    ts_session_get_picture_async(self->session, path, self->cancel, thumb_done, ask);
}

void ts_filmstrip_show(TsFilmstrip *self, gint64 job, const void *frames)
{
    if (job != ts_filmstrip_model_get_job(self->model)) {
        g_cancellable_cancel(self->cancel);
        g_object_unref(self->cancel);
        self->cancel = g_cancellable_new();
        self->fetching = FALSE;
        g_hash_table_remove_all(self->failed);
    }
    ts_filmstrip_model_apply(self->model, job, job ? frames : NULL);
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->model));
    g_autofree char *text = n == 0 ? g_strdup("No finished frames yet.")
                            : n < TS_FILMSTRIP_WINDOW ? g_strdup_printf("%u finished frame%s", n, n == 1 ? "" : "s")
                                                      : g_strdup_printf("The last %u finished frames", n);
    gtk_label_set_text(self->status_label, text);
    fetch_next(self);
}

/* ---- the thumbnails: a button each, named "Frame N", with the picture and the frame's number ---- */

static void on_thumb_clicked(GtkButton *button, TsFilmstrip *self)
{
    int frame = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(button), "frame"));
    g_signal_emit(self, signals[SIG_FRAME_ACTIVATED], 0, ts_filmstrip_model_get_job(self->model), frame);
}

static void setup_thumb(GtkSignalListItemFactory *f, GtkListItem *item, TsFilmstrip *self)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *picture = gtk_picture_new();
    gtk_widget_set_size_request(picture, THUMB_W, THUMB_H);
    gtk_picture_set_can_shrink(GTK_PICTURE(picture), TRUE);
    gtk_picture_set_content_fit(GTK_PICTURE(picture), GTK_CONTENT_FIT_CONTAIN);
    GtkWidget *caption = gtk_label_new(NULL);
    gtk_box_append(GTK_BOX(box), picture);
    gtk_box_append(GTK_BOX(box), caption);
    GtkWidget *button = gtk_button_new();
    gtk_button_set_child(GTK_BUTTON(button), box);
    gtk_widget_add_css_class(button, "flat");
    g_signal_connect(button, "clicked", G_CALLBACK(on_thumb_clicked), self);
    gtk_list_item_set_child(item, button);
    gtk_list_item_set_activatable(item, FALSE); /* the button takes the click */
}

static void bind_thumb(GtkSignalListItemFactory *f, GtkListItem *item, TsFilmstrip *self)
{
    TsFrameThumb *thumb = gtk_list_item_get_item(item);
    GtkWidget *button = gtk_list_item_get_child(item);
    GtkWidget *box = gtk_button_get_child(GTK_BUTTON(button));
    GtkWidget *picture = gtk_widget_get_first_child(box), *caption = gtk_widget_get_last_child(box);
    int frame = ts_frame_thumb_get_frame(thumb);
    g_autofree char *name = g_strdup_printf("Frame %d", frame);
    g_object_set_data(G_OBJECT(button), "frame", GINT_TO_POINTER(frame));
    gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
    gtk_widget_set_tooltip_text(button, name);
    gtk_label_set_text(GTK_LABEL(caption), name);
    GBinding *b = g_object_bind_property(thumb, "picture", picture, "paintable", G_BINDING_SYNC_CREATE);
    g_object_set_data(G_OBJECT(item), "binding", b);
}

static void unbind_thumb(GtkSignalListItemFactory *f, GtkListItem *item, TsFilmstrip *self)
{
    GBinding *b = g_object_steal_data(G_OBJECT(item), "binding");
    if (b)
        g_binding_unbind(b);
    GtkWidget *box = gtk_button_get_child(GTK_BUTTON(gtk_list_item_get_child(item)));
    gtk_picture_set_paintable(GTK_PICTURE(gtk_widget_get_first_child(box)), NULL);
}

/* ---- the object ---- */

static void dispose(GObject *object)
{
    TsFilmstrip *self = TS_FILMSTRIP(object);
    if (self->cancel)
        g_cancellable_cancel(self->cancel);
    g_clear_object(&self->cancel);
    g_clear_object(&self->session);
    g_clear_object(&self->model);
    g_clear_pointer(&self->failed, g_hash_table_unref);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_FILMSTRIP);
    G_OBJECT_CLASS(ts_filmstrip_parent_class)->dispose(object);
}

static void ts_filmstrip_class_init(TsFilmstripClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    signals[SIG_FRAME_ACTIVATED] = g_signal_new("frame-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT);
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-filmstrip.ui");
    gtk_widget_class_bind_template_child(wc, TsFilmstrip, status_label);
    gtk_widget_class_bind_template_child(wc, TsFilmstrip, strip_view);
}

static void ts_filmstrip_init(TsFilmstrip *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
    self->failed = g_hash_table_new(g_direct_hash, g_direct_equal);
    self->model = ts_filmstrip_model_new();
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(setup_thumb), self);
    g_signal_connect(factory, "bind", G_CALLBACK(bind_thumb), self);
    g_signal_connect(factory, "unbind", G_CALLBACK(unbind_thumb), self);
    gtk_list_view_set_factory(self->strip_view, factory);
    g_object_unref(factory);
    GtkNoSelection *none = gtk_no_selection_new(g_object_ref(G_LIST_MODEL(self->model)));
    gtk_list_view_set_model(self->strip_view, GTK_SELECTION_MODEL(none));
    g_object_unref(none);
}

void ts_filmstrip_set_session(TsFilmstrip *self, TsSession *session)
{
    g_return_if_fail(!self->session);
    self->session = g_object_ref(session);
}
