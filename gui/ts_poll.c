/* ts_poll: a function called while a widget is mapped: at once, then on a timer (see ts_poll.h). */
#include "gui/ts_poll.h"

typedef struct {
    void (*fn)(gpointer data);
    gpointer data;
    guint interval_ms, source;
} poll_t;

static void poll_free(gpointer p)
{
    poll_t *poll = p;
    g_clear_handle_id(&poll->source, g_source_remove);
    g_free(poll);
}

static gboolean tick(gpointer p)
{
    poll_t *poll = p;
    poll->fn(poll->data);
    return G_SOURCE_CONTINUE;
}

static void on_map(GtkWidget *widget, poll_t *poll)
{
    poll->fn(poll->data);
    if (!poll->source)
        poll->source = g_timeout_add(poll->interval_ms, tick, poll);
}

static void on_unmap(GtkWidget *widget, poll_t *poll)
{
    g_clear_handle_id(&poll->source, g_source_remove);
}

void ts_poll_while_mapped(GtkWidget *widget, guint interval_ms, void (*fn)(gpointer data), gpointer data)
{
    poll_t *poll = g_new0(poll_t, 1);
    *poll = (poll_t){fn, data, interval_ms, 0};
    g_object_set_data_full(G_OBJECT(widget), "ts-poll", poll, poll_free); /* freed, timer and all, with the widget */
    g_signal_connect(widget, "map", G_CALLBACK(on_map), poll);
    g_signal_connect(widget, "unmap", G_CALLBACK(on_unmap), poll);
    if (gtk_widget_get_mapped(widget))
        on_map(widget, poll);
}
