/* ts_job_list_test: snapshots keep the list newest first, update jobs in place (the same objects), insert and remove
   only what changed, and pick the job the mosaic shows with none selected; a job's end is news once (what a desktop
   notification says of it); a job's money as the master's view has it, or unknown where it does not say. */
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

static void on_ended(TsJobList *list, TsJob *job, GPtrArray *notices)
{
    g_ptr_array_add(notices, ts_job_end_notice(job));
}

/* Ends are news once: running -> done, running -> failed (with the error), not a job first seen ended, not the
   same end in the next snapshot; a requeued job that ends again is news again. */
static int ends_test(void)
{
    int failures = 0;
    TsJobList *list = ts_job_list_new();
    g_autoptr(GPtrArray) notices = g_ptr_array_new_with_free_func(g_free);
    g_signal_connect(list, "job-ended", G_CALLBACK(on_ended), notices);
    const char *snaps[] = {
        "[{\"id\":5,\"state\":\"running\"},{\"id\":6,\"state\":\"queued\"},{\"id\":7,\"state\":\"done\"}]",
        "[{\"id\":5,\"state\":\"done\",\"error\":null},{\"id\":6,\"state\":\"failed\",\"error\":\"scene missing\"},"
        " {\"id\":7,\"state\":\"done\"}]",
        "[{\"id\":5,\"state\":\"done\"},{\"id\":6,\"state\":\"failed\",\"error\":\"scene missing\"},{\"id\":7,\"state\":\"done\"}]",
        "[{\"id\":5,\"state\":\"done\"},{\"id\":6,\"state\":\"running\",\"error\":null},{\"id\":7,\"state\":\"done\"}]",
        "[{\"id\":5,\"state\":\"done\"},{\"id\":6,\"state\":\"cancelled\"},{\"id\":7,\"state\":\"done\"}]",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(snaps); i++) {
        json_t *snap = json_loads(snaps[i], 0, NULL);
        ts_job_list_apply(list, snap);
        json_decref(snap);
    }
    TS_TEST_CHECK(notices->len == 3, "three ends, each once: %u", notices->len);
    const char *want[] = {"Job #5 done", "Job #6 failed: scene missing", "Job #6 cancelled"};
    for (guint i = 0; i < notices->len && i < G_N_ELEMENTS(want); i++)
        TS_TEST_CHECK(g_strcmp0(g_ptr_array_index(notices, i), want[i]) == 0, "notice %u: '%s', not '%s'", i,
                      (char *)g_ptr_array_index(notices, i), want[i]);
    g_autofree char *again = ts_job_end_notice(ts_job_list_find(list, 5));
    TS_TEST_CHECK(g_strcmp0(again, "Job #5 done") == 0, "an ended job's notice: '%s'", again);
    g_object_unref(list);
    return failures;
}

/* Money from the job's view: paid as the Cost column writes it; held and refunded, or -1 where absent. */
static int money_test(void)
{
    int failures = 0;
    json_t *j = json_loads("{\"id\":8,\"state\":\"running\",\"budget\":3500000,\"paid\":1250000,"
                           "\"locked\":2000000,\"refunded\":250000}", 0, NULL);
    g_autoptr(TsJob) job = ts_job_new_from_json(j);
    g_autofree char *cost = NULL, *money = NULL;
    g_object_get(job, "cost-text", &cost, "money-text", &money, NULL);
    TS_TEST_CHECK(ts_job_get_locked(job) == 2000000 && ts_job_get_refunded(job) == 250000, "held and refunded read");
    TS_TEST_CHECK(g_strcmp0(cost, "1.25") == 0, "cost '%s'", cost);
    TS_TEST_CHECK(g_strcmp0(money, "budget 3.5 · paid 1.25 · held 2 · refunded 0.25") == 0, "money '%s'", money);
    json_t *chain = json_loads("{\"id\":8,\"state\":\"running\",\"budget\":3500000,\"paid\":1250000}", 0, NULL);
    ts_job_update(job, chain);
    TS_TEST_CHECK(ts_job_get_locked(job) == -1 && ts_job_get_refunded(job) == -1, "a view without them: unknown");
    TS_TEST_CHECK(ts_job_end_notice(job) == NULL, "a running job has no end notice");
    json_decref(j);
    json_decref(chain);
    return failures;
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
    failures += ends_test();
    failures += money_test();
    if (verbose)
        printf("joblist: ok\n");
    return failures ? -1 : 0;
}
