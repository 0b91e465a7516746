/* ts_node: one farm node as the app shows it: its master's JSON turned into the Farm page's texts. */
#include "gui/ts_node.h"
#include <jansson.h>

enum { PROP_0, PROP_NAME, PROP_STATE, PROP_GPUS, PROP_SANDBOX, PROP_CHECKS, N_PROPS };
static GParamSpec *props[N_PROPS];

struct _TsNode {
    GObject parent;
    char *id;
    char *text[N_PROPS]; /* each shown property's text, by its PROP_ */
};

G_DEFINE_FINAL_TYPE(TsNode, ts_node, G_TYPE_OBJECT)

static void get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    if (id > PROP_0 && id < N_PROPS)
        g_value_set_string(value, TS_NODE(object)->text[id]);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void finalize(GObject *object)
{
    TsNode *self = TS_NODE(object);
    g_free(self->id);
    for (int i = 0; i < N_PROPS; i++)
        g_free(self->text[i]);
    G_OBJECT_CLASS(ts_node_parent_class)->finalize(object);
}

static void ts_node_class_init(TsNodeClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    oc->get_property = get_property;
    oc->finalize = finalize;
    GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
    props[PROP_NAME] = g_param_spec_string("name", NULL, NULL, "", ro);
    props[PROP_STATE] = g_param_spec_string("state", NULL, NULL, "", ro);
    props[PROP_GPUS] = g_param_spec_string("gpus", NULL, NULL, "", ro);
    props[PROP_SANDBOX] = g_param_spec_string("sandbox", NULL, NULL, "", ro);
    props[PROP_CHECKS] = g_param_spec_string("checks", NULL, NULL, "", ro);
    g_object_class_install_properties(oc, N_PROPS, props);
}

static void ts_node_init(TsNode *self)
{
    for (int i = 1; i < N_PROPS; i++)
        self->text[i] = g_strdup("");
}

static const char *str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* "NVIDIA RTX 4090, Intel UHD 770": the models the slave listed; "CPU" when it has none. */
static char *gpus_text(const json_t *gpus)
{
    g_autoptr(GString) s = g_string_new(NULL);
    size_t i;
    const json_t *g;
    json_array_foreach(gpus, i, g) {
        const char *name = str(g, "name");
        if (name[0])
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", name);
    }
    return s->len ? g_string_free(g_steal_pointer(&s), FALSE) : g_strdup("CPU");
}

/* What its renderers run in: "bwrap"; a node whose owner turned the sandbox off is named unsafe. */
static char *sandbox_text(const char *sandbox)
{
    if (g_strcmp0(sandbox, "none") == 0)
        return g_strdup("UNSAFE (none)");
    return g_strdup(sandbox[0] ? sandbox : "unknown");
}

/* "reputation 12 · checks 3 passed, 0 failed": its run of valid results, and its spot checks. */
static char *checks_text(const json_t *o)
{
    return g_strdup_printf("reputation %" JSON_INTEGER_FORMAT " · checks %" JSON_INTEGER_FORMAT " passed, %"
                           JSON_INTEGER_FORMAT " failed", json_integer_value(json_object_get(o, "reputation")),
                           json_integer_value(json_object_get(o, "checks_passed")),
                           json_integer_value(json_object_get(o, "checks_failed")));
}

static char *state_text(const json_t *o)
{
    const char *state = str(o, "state"), *why = str(o, "paused_reason");
    return why[0] ? g_strdup_printf("%s (%s)", state, why) : g_strdup(state);
}

/* Sets one property's text (taking it); notifies when it changed. */
static void take(TsNode *self, int prop, char *text)
{
    if (g_strcmp0(self->text[prop], text) == 0) {
        g_free(text);
        return;
    }
    g_free(self->text[prop]);
    self->text[prop] = text;
    g_object_notify_by_pspec(G_OBJECT(self), props[prop]);
}

void ts_node_update(TsNode *self, const void *json)
{
    const json_t *o = json;
    g_object_freeze_notify(G_OBJECT(self));
    take(self, PROP_NAME, g_strdup(str(o, "name")));
    take(self, PROP_STATE, state_text(o));
    take(self, PROP_GPUS, gpus_text(json_object_get(o, "gpus")));
    take(self, PROP_SANDBOX, sandbox_text(str(o, "sandbox")));
    take(self, PROP_CHECKS, checks_text(o));
    g_object_thaw_notify(G_OBJECT(self));
}

TsNode *ts_node_new_from_json(const void *json)
{
    TsNode *self = g_object_new(TS_TYPE_NODE, NULL);
    self->id = g_strdup(str(json, "id"));
    ts_node_update(self, json);
    return self;
}

const char *ts_node_get_id(TsNode *self) { return self->id; }
const char *ts_node_get_name(TsNode *self) { return self->text[PROP_NAME]; }
const char *ts_node_get_state(TsNode *self) { return self->text[PROP_STATE]; }
const char *ts_node_get_gpus(TsNode *self) { return self->text[PROP_GPUS]; }
const char *ts_node_get_sandbox(TsNode *self) { return self->text[PROP_SANDBOX]; }
const char *ts_node_get_checks(TsNode *self) { return self->text[PROP_CHECKS]; }
