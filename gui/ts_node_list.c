/* ts_node_list: the farm's nodes, ordered by name, as a GListModel kept in step with the master's snapshots. */
#include "gui/ts_node_list.h"
#include <jansson.h>

struct _TsNodeList {
    GObject parent;
    GPtrArray *nodes; /* TsNode, by name then id */
};

static GType get_item_type(GListModel *m) { return TS_TYPE_NODE; }
static guint get_n_items(GListModel *m) { return TS_NODE_LIST(m)->nodes->len; }
static gpointer get_item(GListModel *m, guint i)
{
    TsNodeList *self = TS_NODE_LIST(m);
    return i < self->nodes->len ? g_object_ref(g_ptr_array_index(self->nodes, i)) : NULL;
}

static void model_init(GListModelInterface *iface)
{
    iface->get_item_type = get_item_type;
    iface->get_n_items = get_n_items;
    iface->get_item = get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE(TsNodeList, ts_node_list, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, model_init))

static void dispose(GObject *object)
{
    g_clear_pointer(&TS_NODE_LIST(object)->nodes, g_ptr_array_unref);
    G_OBJECT_CLASS(ts_node_list_parent_class)->dispose(object);
}

static void ts_node_list_class_init(TsNodeListClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
}

static void ts_node_list_init(TsNodeList *self)
{
    self->nodes = g_ptr_array_new_with_free_func(g_object_unref);
}

TsNodeList *ts_node_list_new(void)
{
    return g_object_new(TS_TYPE_NODE_LIST, NULL);
}

static const char *id_of(const json_t *o)
{
    return json_string_value(json_object_get(o, "id"));
}

static const json_t *find_json(const json_t *nodes, const char *id)
{
    size_t i;
    const json_t *n;
    json_array_foreach(nodes, i, n) if (g_strcmp0(id_of(n), id) == 0) return n;
    return NULL;
}

static int order(TsNode *a, TsNode *b)
{
    int c = g_strcmp0(ts_node_get_name(a), ts_node_get_name(b));
    return c ? c : g_strcmp0(ts_node_get_id(a), ts_node_get_id(b));
}

static void insert_sorted(TsNodeList *self, TsNode *node)
{
    guint at = 0;
    while (at < self->nodes->len && order(g_ptr_array_index(self->nodes, at), node) < 0)
        at++;
    g_ptr_array_insert(self->nodes, (gint)at, node);
    g_list_model_items_changed(G_LIST_MODEL(self), at, 0, 1);
}

void ts_node_list_apply(TsNodeList *self, const void *nodes_json)
{
    const json_t *nodes = nodes_json;
    if (!json_is_array(nodes))
        return;
    g_autoptr(GPtrArray) moved = g_ptr_array_new(); /* renamed: taken out, put back at their new places */
    for (guint i = self->nodes->len; i-- > 0;) {
        TsNode *node = g_ptr_array_index(self->nodes, i);
        const json_t *n = find_json(nodes, ts_node_get_id(node));
        g_autofree char *name = g_strdup(ts_node_get_name(node));
        if (n)
            ts_node_update(node, n);
        if (n && g_strcmp0(name, ts_node_get_name(node)) == 0)
            continue;
        TsNode *taken = g_ptr_array_steal_index(self->nodes, i);
        g_list_model_items_changed(G_LIST_MODEL(self), i, 1, 0);
        if (n)
            g_ptr_array_add(moved, taken);
        else
            g_object_unref(taken); /* gone from the master's list */
    }
    for (guint i = 0; i < moved->len; i++)
        insert_sorted(self, g_ptr_array_index(moved, i));
    size_t k;
    const json_t *n;
    json_array_foreach(nodes, k, n) {
        const char *id = id_of(n);
        if (id && id[0] && !ts_node_list_find(self, id))
            insert_sorted(self, ts_node_new_from_json(n));
    }
}

TsNode *ts_node_list_find(TsNodeList *self, const char *id)
{
    for (guint i = 0; i < self->nodes->len; i++)
        if (g_strcmp0(ts_node_get_id(g_ptr_array_index(self->nodes, i)), id) == 0)
            return g_ptr_array_index(self->nodes, i);
    return NULL;
}
