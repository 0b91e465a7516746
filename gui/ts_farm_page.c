/* ts_farm_page: the Farm page: the nodes list refreshed while shown (see ts_farm_page.h). */
#include "gui/ts_farm_page.h"
#include "gui/ts_node_list.h"
#include "gui/ts_poll.h"
#include <jansson.h>

struct _TsFarmPage {
    GtkBox parent;
    GtkLabel *status_label;
    GtkColumnView *nodes_view;
    TsSession *session;
    TsNodeList *nodes;
    GCancellable *cancel;
    gboolean fetching;
};

G_DEFINE_FINAL_TYPE(TsFarmPage, ts_farm_page, GTK_TYPE_BOX)

/* "2 nodes: 1 online, 1 busy" */
static char *summary(TsNodeList *nodes)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(nodes));
    g_autoptr(GHashTable) states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    for (guint i = 0; i < n; i++) {
        g_autoptr(TsNode) node = g_list_model_get_item(G_LIST_MODEL(nodes), i);
        g_auto(GStrv) words = g_strsplit(ts_node_get_state(node), " ", 2); /* "paused (in use)": paused */
        guint count = GPOINTER_TO_UINT(g_hash_table_lookup(states, words[0]));
        if (!count)
            g_ptr_array_add(order, g_strdup(words[0]));
        g_hash_table_insert(states, g_strdup(words[0]), GUINT_TO_POINTER(count + 1));
    }
    GString *s = g_string_new(NULL);
    g_string_printf(s, "%u node%s", n, n == 1 ? "" : "s");
    for (guint i = 0; i < order->len; i++) {
        char *state = g_ptr_array_index(order, i);
        g_string_append_printf(s, "%s%u %s", i ? ", " : ": ", GPOINTER_TO_UINT(g_hash_table_lookup(states, state)),
                               state);
        g_free(state);
    }
    return g_string_free(s, FALSE);
}

static void nodes_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_autoptr(GError) error = NULL;
    json_t *o = ts_session_get_json_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    TsFarmPage *self = ud;
    self->fetching = FALSE;
    if (!o) {
        g_autofree char *msg = g_strdup_printf("Cannot list the farm's nodes: %s", error->message);
        gtk_label_set_text(self->status_label, msg);
        return;
    }
    ts_node_list_apply(self->nodes, json_object_get(o, "nodes"));
    json_decref(o);
    g_autofree char *text = summary(self->nodes);
    gtk_label_set_text(self->status_label, text);
}

static void refresh(gpointer data)
{
    TsFarmPage *self = data;
    if (!self->session || self->fetching)
        return;
    self->fetching = TRUE;
    ts_session_get_json_async(self->session, "/api/v1/nodes", self->cancel, nodes_done, self);
}

static void on_resync(TsFarmPage *self)
{
    if (gtk_widget_get_mapped(GTK_WIDGET(self)))
        refresh(self);
}

static void dispose(GObject *object)
{
    TsFarmPage *self = TS_FARM_PAGE(object);
    g_cancellable_cancel(self->cancel);
    if (self->session)
        g_signal_handlers_disconnect_by_data(self->session, self);
    g_clear_object(&self->session);
    g_clear_object(&self->nodes);
    g_clear_object(&self->cancel);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_FARM_PAGE);
    G_OBJECT_CLASS(ts_farm_page_parent_class)->dispose(object);
}

static void ts_farm_page_class_init(TsFarmPageClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    g_type_ensure(TS_TYPE_NODE); /* the columns' templates look its properties up by name */
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-farm-page.ui");
    gtk_widget_class_bind_template_child(wc, TsFarmPage, status_label);
    gtk_widget_class_bind_template_child(wc, TsFarmPage, nodes_view);
}

static void ts_farm_page_init(TsFarmPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
    self->nodes = ts_node_list_new();
    GtkNoSelection *none = gtk_no_selection_new(g_object_ref(G_LIST_MODEL(self->nodes)));
    gtk_column_view_set_model(self->nodes_view, GTK_SELECTION_MODEL(none));
    g_object_unref(none);
    ts_poll_while_mapped(GTK_WIDGET(self), TS_FARM_POLL_MS, refresh, self);
}

void ts_farm_page_set_session(TsFarmPage *self, TsSession *session)
{
    g_return_if_fail(!self->session);
    self->session = g_object_ref(session);
    g_signal_connect_swapped(session, "resync", G_CALLBACK(on_resync), self);
    on_resync(self);
}
