/* ts_frame_window: a finished frame full size, fetched off the main thread (see the header). */
#include "gui/ts_frame_window.h"

struct _TsFrameWindow {
    GtkWindow parent;
    GtkPicture *picture;
    GtkLabel *status_label;
    GCancellable *cancel; /* the fetch, cancelled when the window goes */
    int frame;
};

G_DEFINE_FINAL_TYPE(TsFrameWindow, ts_frame_window, GTK_TYPE_WINDOW)

static void picture_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) t = ts_session_get_picture_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    TsFrameWindow *self = ud;
    if (!t) {
        g_autofree char *msg = g_strdup_printf("Cannot show frame %d: %s", self->frame, error->message);
        gtk_label_set_text(self->status_label, msg);
        return;
    }
    gtk_picture_set_paintable(self->picture, GDK_PAINTABLE(t));
    g_autofree char *msg = g_strdup_printf("Frame %d: %d × %d pixels", self->frame, gdk_texture_get_width(t),
                                           gdk_texture_get_height(t));
    gtk_label_set_text(self->status_label, msg);
}

static void on_close_clicked(TsFrameWindow *self)
{
    gtk_window_destroy(GTK_WINDOW(self));
}

static void dispose(GObject *object)
{
    TsFrameWindow *self = TS_FRAME_WINDOW(object);
    if (self->cancel)
        g_cancellable_cancel(self->cancel);
    g_clear_object(&self->cancel);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_FRAME_WINDOW);
    G_OBJECT_CLASS(ts_frame_window_parent_class)->dispose(object);
}

static void ts_frame_window_class_init(TsFrameWindowClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-frame-window.ui");
    gtk_widget_class_bind_template_child(wc, TsFrameWindow, picture);
    gtk_widget_class_bind_template_child(wc, TsFrameWindow, status_label);
    gtk_widget_class_bind_template_callback(wc, on_close_clicked);
}

static void ts_frame_window_init(TsFrameWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
}

TsFrameWindow *ts_frame_window_new(GtkWindow *parent, TsSession *session, gint64 job, int frame)
{
    TsFrameWindow *self = g_object_new(TS_TYPE_FRAME_WINDOW, "transient-for", parent, "destroy-with-parent", TRUE,
                                       NULL);
    self->frame = frame;
    g_autofree char *title = g_strdup_printf("Frame %d of job #%" G_GINT64_FORMAT, frame, job);
    gtk_window_set_title(GTK_WINDOW(self), title);
    g_autofree char *name = g_strdup_printf("Frame %d of job #%" G_GINT64_FORMAT ", full size", frame, job);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->picture), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
    g_autofree char *loading = g_strdup_printf("Loading frame %d…", frame);
    gtk_label_set_text(self->status_label, loading);
    g_autofree char *path = g_strdup_printf("/api/v1/jobs/%" G_GINT64_FORMAT "/frames/%d/preview.png?max=%d", job,
                                            frame, TS_FRAME_WINDOW_SIDE);
    ts_session_get_picture_async(session, path, self->cancel, picture_done, self);
    return self;
}
