/* ts_node: one of the farm's nodes as the Farm page shows it (a GObject whose properties the columns bind to), from
   the master's JSON (an entry of GET /api/v1/nodes): its name, state, GPUs, sandbox and standing with the checks. */
#ifndef TS_NODE_H
#define TS_NODE_H

#include <glib-object.h>

G_BEGIN_DECLS

#define TS_TYPE_NODE (ts_node_get_type())
G_DECLARE_FINAL_TYPE(TsNode, ts_node, TS, NODE, GObject)

/* Properties (strings, as shown): "name"; "state" ("paused (in use)" with its reason); "gpus" (the models, "CPU"
   with none); "sandbox" ("UNSAFE (none)" for a node without one); "checks" (reputation and spot checks). */
TsNode *ts_node_new_from_json(const void *json);
/* Takes the JSON's values; notifies only the properties that changed. */
void ts_node_update(TsNode *self, const void *json);

const char *ts_node_get_id(TsNode *self);
const char *ts_node_get_name(TsNode *self);
const char *ts_node_get_state(TsNode *self);
const char *ts_node_get_gpus(TsNode *self);
const char *ts_node_get_sandbox(TsNode *self);
const char *ts_node_get_checks(TsNode *self);

G_END_DECLS

#endif
