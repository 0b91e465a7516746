/* ts_node_list_test: snapshots keep the nodes by name, update them in place (the same objects), insert and remove
   only what changed, and the Farm page's texts: GPU models or "CPU", an unsandboxed node UNSAFE, the checks. */
#include "gui/ts_node_list.h"
#include "tests/ts_test.h"
#include <jansson.h>
#include <string.h>

typedef struct {
    int inserted, removed;
} counts_t;

static void on_changed(GListModel *m, guint pos, guint removed, guint added, counts_t *c)
{
    c->inserted += (int)added;
    c->removed += (int)removed;
}

static TsNode *nth(TsNodeList *list, guint i)
{
    g_autoptr(TsNode) n = g_list_model_get_item(G_LIST_MODEL(list), i);
    return n; /* the list holds it */
}

int ts_node_list_test(gboolean verbose)
{
    int failures = 0;
    TsNodeList *list = ts_node_list_new();
    counts_t c = {0};
    g_signal_connect(list, "items-changed", G_CALLBACK(on_changed), &c);
    json_t *s1 = json_loads("[{\"id\":\"f1\",\"name\":\"zeta\",\"state\":\"online\",\"gpus\":[],\"sandbox\":\"bwrap\","
                            "  \"reputation\":7,\"checks_passed\":3,\"checks_failed\":1},"
                            " {\"id\":\"a2\",\"name\":\"alpha\",\"state\":\"paused\",\"paused_reason\":\"in use\","
                            "  \"gpus\":[{\"name\":\"RTX 4090\"},{\"name\":\"UHD 770\"}],\"sandbox\":\"none\"},"
                            " {\"name\":\"no id\"}]", 0, NULL);
    ts_node_list_apply(list, s1);
    TS_TEST_CHECK(g_list_model_get_n_items(G_LIST_MODEL(list)) == 2 && c.inserted == 2, "two nodes (one without an id)");
    TsNode *alpha = nth(list, 0), *zeta = nth(list, 1);
    TS_TEST_CHECK(strcmp(ts_node_get_name(alpha), "alpha") == 0 && strcmp(ts_node_get_name(zeta), "zeta") == 0,
                  "by name: %s, %s", ts_node_get_name(alpha), ts_node_get_name(zeta));
    TS_TEST_CHECK(strcmp(ts_node_get_gpus(alpha), "RTX 4090, UHD 770") == 0, "gpus: %s", ts_node_get_gpus(alpha));
    TS_TEST_CHECK(strcmp(ts_node_get_gpus(zeta), "CPU") == 0, "no GPU: %s", ts_node_get_gpus(zeta));
    TS_TEST_CHECK(strstr(ts_node_get_sandbox(alpha), "UNSAFE") && !strstr(ts_node_get_sandbox(zeta), "UNSAFE"),
                  "sandbox: %s, %s", ts_node_get_sandbox(alpha), ts_node_get_sandbox(zeta));
    TS_TEST_CHECK(strcmp(ts_node_get_state(alpha), "paused (in use)") == 0, "state: %s", ts_node_get_state(alpha));
    TS_TEST_CHECK(strstr(ts_node_get_checks(zeta), "reputation 7") && strstr(ts_node_get_checks(zeta), "3 passed, 1 failed"),
                  "checks: %s", ts_node_get_checks(zeta));

    /* alpha goes, zeta is renamed to beta (still first after alpha's gone) and changes state, gamma comes */
    json_t *s2 = json_loads("[{\"id\":\"f1\",\"name\":\"beta\",\"state\":\"busy\",\"sandbox\":\"bwrap\"},"
                            " {\"id\":\"c3\",\"name\":\"gamma\",\"state\":\"online\",\"sandbox\":\"bwrap\"}]", 0, NULL);
    g_object_ref(zeta);
    c = (counts_t){0};
    ts_node_list_apply(list, s2);
    TS_TEST_CHECK(g_list_model_get_n_items(G_LIST_MODEL(list)) == 2, "two nodes again");
    TS_TEST_CHECK(ts_node_list_find(list, "f1") == zeta && strcmp(ts_node_get_state(zeta), "busy") == 0,
                  "updated in place: %s", ts_node_get_state(zeta));
    TS_TEST_CHECK(!ts_node_list_find(list, "a2") && ts_node_list_find(list, "c3"), "alpha out, gamma in");
    TS_TEST_CHECK(nth(list, 0) == zeta && strcmp(ts_node_get_name(nth(list, 1)), "gamma") == 0, "still by name");
    c = (counts_t){0};
    ts_node_list_apply(list, s2);
    TS_TEST_CHECK(c.inserted == 0 && c.removed == 0, "the same snapshot changes nothing: %d in, %d out", c.inserted,
                  c.removed);
    g_object_unref(zeta);
    json_decref(s1);
    json_decref(s2);
    g_object_unref(list);
    if (verbose)
        printf("nodelist: ok\n");
    return failures ? -1 : 0;
}
