/* ts_node_list: the farm's nodes by name, as a GListModel of TsNode, kept equal to the master's list by snapshots
   (GET /api/v1/nodes): a snapshot updates the nodes in place and inserts or removes only what changed, so the Farm
   page keeps its scroll. No display needed. */
#ifndef TS_NODE_LIST_H
#define TS_NODE_LIST_H

#include "gui/ts_node.h"
#include <gio/gio.h>

G_BEGIN_DECLS

#define TS_TYPE_NODE_LIST (ts_node_list_get_type())
G_DECLARE_FINAL_TYPE(TsNodeList, ts_node_list, TS, NODE_LIST, GObject)

TsNodeList *ts_node_list_new(void);
/* Makes the list the nodes of the JSON array (a json_t *: GET /api/v1/nodes's "nodes"); entries without an id are
   skipped. */
void ts_node_list_apply(TsNodeList *self, const void *nodes);
/* The node with that id, or NULL (borrowed). */
TsNode *ts_node_list_find(TsNodeList *self, const char *id);

int ts_node_list_test(gboolean verbose);

G_END_DECLS

#endif
