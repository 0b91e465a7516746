/* ts_job_list_test: snapshots keep the list newest first, update jobs in place (the same objects), insert and remove
   only what changed, and pick the job the mosaic shows with none selected. */
#include "gui/ts_job_list.h"
#include "tests/ts_test.h"
#include <jansson.h>

typedef struct {
    int inserted, removed;
} counts_t;

static void on_changed(GListModel *m, guint pos, guint removed, guint added, counts_t *c)
{
    c->inserted += (int)added;
    c->removed += (int)removed;
}

int ts_job_list_test(gboolean verbose)
{
    int failures = 0;
    TsJobList *list = ts_job_list_new();
    counts_t c = {0};
    g_signal_connect(list, "items-changed", G_CALLBACK(on_changed), &c);
    json_t *s1 = json_loads("[{\"id\":1,\"type\":\"render\",\"state\":\"done\",\"name\":\"a\",\"tasks_done\":4,\"tasks_total\":4},"
                            " {\"id\":2,\"type\":\"transcode\",\"state\":\"running\",\"name\":\"b\"}]", 0, NULL);
    ts_job_list_apply(list, s1);
    TS_TEST_CHECK(g_list_model_get_n_items(G_LIST_MODEL(list)) == 2 && c.inserted == 2, "two jobs");
    TsJob *first = g_list_model_get_item(G_LIST_MODEL(list), 0);
    TS_TEST_CHECK(ts_job_get_id(first) == 2, "newest first");
    TS_TEST_CHECK(ts_job_get_id(ts_job_list_newest_shown(list)) == 1, "no running render: the newest render");

    json_t *s2 = json_loads("[{\"id\":2,\"type\":\"transcode\",\"state\":\"done\",\"name\":\"b\"},"
                            " {\"id\":3,\"type\":\"render\",\"state\":\"running\",\"tasks_done\":1,\"tasks_total\":5}]", 0, NULL);
    c = (counts_t){0};
    ts_job_list_apply(list, s2);
    TS_TEST_CHECK(c.inserted == 1 && c.removed == 1, "one in, one out: %d, %d", c.inserted, c.removed);
    TsJob *again = ts_job_list_find(list, 2);
    TS_TEST_CHECK(again == first && g_strcmp0(ts_job_get_state(again), "done") == 0, "updated in place");
    TsJob *three = ts_job_list_find(list, 3);
    double progress = 0;
    g_object_get(three, "progress", &progress, NULL);
    TS_TEST_CHECK(three && progress > 0.19 && progress < 0.21, "progress 1/5: %f", progress);
    TS_TEST_CHECK(ts_job_list_newest_shown(list) == three, "the running render is shown");
    TS_TEST_CHECK(ts_job_allows(three, TS_JOB_PAUSE) && ts_job_allows(three, TS_JOB_CANCEL) &&
                  !ts_job_allows(three, TS_JOB_RESUME) && !ts_job_allows(three, TS_JOB_REQUEUE_FAILED),
                  "a running job: pause and cancel");
    TS_TEST_CHECK(!ts_job_allows(again, TS_JOB_PAUSE) && !ts_job_allows(again, TS_JOB_CANCEL) &&
                  !ts_job_allows(again, TS_JOB_RESUME), "a done job: nothing");
    json_t *s3 = json_loads("[{\"id\":2,\"type\":\"transcode\",\"state\":\"failed\"},"
                            " {\"id\":3,\"type\":\"render\",\"state\":\"paused\"},"
                            " {\"id\":4,\"type\":\"render\",\"state\":\"failed\"}]", 0, NULL);
    ts_job_list_apply(list, s3);
    TS_TEST_CHECK(ts_job_allows(three, TS_JOB_RESUME) && !ts_job_allows(three, TS_JOB_PAUSE) &&
                  ts_job_allows(three, TS_JOB_CANCEL), "a paused job: resume and cancel");
    TS_TEST_CHECK(ts_job_allows(ts_job_list_find(list, 4), TS_JOB_REQUEUE_FAILED) &&
                  !ts_job_allows(again, TS_JOB_REQUEUE_FAILED), "requeue: a failed render's, not a transcode's");
    json_decref(s3);
    g_object_unref(first);
    json_decref(s1);
    json_decref(s2);
    g_object_unref(list);
    if (verbose)
        printf("joblist: ok\n");
    return failures ? -1 : 0;
}
