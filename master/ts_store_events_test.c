/* ts_store_events_test: the store's events: a job's life recorded in order, paging, the requester filter, nothing for
   a rolled-back change, pruning (ids never reused, across a reopen), the watcher, and the webhooks' cursors. */
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "master/ts_store.h"
#include "tests/ts_test.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(cond) TS_TEST_REQUIRE(cond)

#define MAX_EVENTS 64

static int64_t new_job(ts_store_t *s, const char *requester)
{
    ts_job_request_t req = {.frame_start = 1, .frame_end = 2, .tiles_x = 2, .tiles_y = 1};
    strcpy(req.scene, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    strcpy(req.scene_name, "x.blend");
    strcpy(req.format, "png");
    strcpy(req.device, "cpu");
    strcpy(req.requester, requester);
    snprintf(req.name, sizeof req.name, "%s's", requester);
    return ts_store_job_create(s, &req, 0);
}

/* Every event of one task or of the job itself (task 0) continues from the state the one before it left: the
   first is new (from ""), each next one's from is the previous one's to. 1 when so. */
static int chained(const ts_event_t *ev, int n, int64_t job, int64_t task)
{
    const char *last = NULL;
    for (int i = 0; i < n; i++) {
        if (ev[i].job_id != job || ev[i].task_id != task)
            continue;
        if (strcmp(ev[i].from, last ? last : "") != 0)
            return 0;
        last = ev[i].to;
    }
    return last != NULL;
}

static void count_stored(void *arg)
{
    (*(int *)arg)++;
}

int ts_store_events_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts_store_events_test.XXXXXX", path[256];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    ts_store_t *s = ts_store_open(path);
    ts_event_t ev[MAX_EVENTS], one[1];
    int64_t next = 0, oldest = 0, latest = 0;
    int stored = 0;
    ts_store_watch_t watch = {count_stored, &stored};
    REQUIRE(s);
    ts_store_events_watch(s, &watch);

    /* A job's life: created, its probe run, planned into tiles, one tile done, then cancelled. */
    int64_t job = new_job(s, "ann");
    REQUIRE(job > 0);
    REQUIRE(stored == 2); /* the job and its probe, told before anything reads them */
    ts_task_t t[8];
    REQUIRE(ts_store_assign(s, "n1", "3.4.1", false, NULL, 3, t, 8) == 1 && t[0].kind == TS_KIND_PROBE);
    int64_t probe = t[0].id;
    REQUIRE(ts_store_probe_done(s, probe, "n1") == 0);
    ts_scene_facts_t facts = {.width = 10, .height = 4, .frame_start = 1, .frame_end = 5};
    strcpy(facts.ext, "png");
    ts_store_rect_t rects[2] = {{0, 0, 5, 4}, {5, 0, 10, 4}};
    REQUIRE(ts_store_job_plan(s, job, &facts, rects, 2) == 0);
    REQUIRE(ts_store_assign(s, "n2", "3.4.1", false, NULL, 3, t, 1) == 1 && t[0].kind == TS_KIND_TILE);
    int64_t tile = t[0].id;
    REQUIRE(ts_store_task_requeue(s, tile, false, NULL, 3) == 0); /* its node went silent */
    REQUIRE(ts_store_job_cancel(s, job) == 0);

    int n = ts_store_events_after(s, 0, NULL, 0, ev, MAX_EVENTS, &next);
    REQUIRE(n > 10 && n < MAX_EVENTS);
    for (int i = 1; i < n; i++)
        REQUIRE(ev[i].id > ev[i - 1].id && ev[i].at >= ev[i - 1].at - 1e-3);
    REQUIRE(next == ev[n - 1].id);
    /* the job: new (queued), running once planned, cancelled; nothing else */
    const char *job_life[][2] = {{"", "queued"}, {"queued", "running"}, {"running", "cancelled"}};
    int k = 0;
    for (int i = 0; i < n; i++)
        if (ev[i].task_id == 0) {
            REQUIRE(k < 3 && strcmp(ev[i].from, job_life[k][0]) == 0 && strcmp(ev[i].to, job_life[k][1]) == 0);
            REQUIRE(strcmp(ev[i].name, "ann's") == 0 && strcmp(ev[i].requester, "ann") == 0);
            k++;
        }
    REQUIRE(k == 3);
    REQUIRE(ev[0].task_id == 0 && ev[1].task_id == probe && ev[1].kind == TS_KIND_PROBE && !ev[1].from[0]);
    /* the probe: queued, assigned to n1, done; the tile back to the queue names the node that had it */
    REQUIRE(chained(ev, n, job, 0) && chained(ev, n, job, probe) && chained(ev, n, job, tile));
    int tile_events = 0;
    for (int i = 0; i < n; i++)
        if (ev[i].task_id == tile) {
            static const char *const life[] = {"queued", "assigned", "queued", "cancelled"};
            REQUIRE(tile_events < 4 && strcmp(ev[i].to, life[tile_events]) == 0);
            REQUIRE((tile_events != 1 && tile_events != 2) || strcmp(ev[i].node, "n2") == 0);
            tile_events++;
        } else if (ev[i].task_id == probe && strcmp(ev[i].to, "assigned") == 0) {
            REQUIRE(strcmp(ev[i].node, "n1") == 0);
        }
    REQUIRE(tile_events == 4);
    json_t *o = ts_store_event_json(&ev[1]);
    REQUIRE(o && json_is_null(json_object_get(o, "from")) &&
            !strcmp(json_string_value(json_object_get(o, "kind")), "probe") &&
            !strcmp(json_string_value(json_object_get(o, "type")), "task") &&
            json_integer_value(json_object_get(o, "job")) == job);
    json_decref(o);
    o = ts_store_event_json(&ev[0]);
    REQUIRE(o && !json_object_get(o, "task") && !strcmp(json_string_value(json_object_get(o, "type")), "job"));
    json_decref(o);

    /* One at a time gives the same events; of one job only. */
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        REQUIRE(ts_store_events_after(s, at, NULL, job, one, 1, &at) == 1 && one[0].id == ev[i].id);
        REQUIRE(at == one[0].id);
    }
    REQUIRE(ts_store_events_after(s, at, NULL, job, one, 1, &at) == 0 && at == ev[n - 1].id);

    /* The requester filter: bob sees his job alone; ann's read past bob's events moves her place on. */
    int64_t bobs = new_job(s, "bob");
    REQUIRE(bobs > job);
    REQUIRE(ts_store_events_after(s, 0, "bob", 0, ev, MAX_EVENTS, &next) == 2 && ev[0].job_id == bobs &&
            ev[1].job_id == bobs);
    REQUIRE(ts_store_events_after(s, at, "ann", 0, ev, MAX_EVENTS, &next) == 0 && next == ev[1].id);
    REQUIRE(ts_store_events_after(s, 0, "carol", 0, ev, MAX_EVENTS, &next) == 0);

    /* A change rolled back leaves no event. */
    ts_store_events_span(s, &oldest, &latest);
    sqlite3 *db = ts_store_db(s);
    REQUIRE(sqlite3_exec(db, "BEGIN; UPDATE jobs SET state='paused'; ROLLBACK;", NULL, NULL, NULL) == SQLITE_OK);
    int64_t latest2 = 0;
    ts_store_events_span(s, &oldest, &latest2);
    REQUIRE(ts_store_events_after(s, latest, NULL, 0, ev, MAX_EVENTS, &next) == 0 && oldest == 1 && latest2 == latest);

    /* Webhooks: pending from the job's first event; delivered up to an id; a failure waits for its retry. */
    double now = ts_clock_wall();
    ts_notify_target_t due[4];
    double next_due = 0;
    REQUIRE(ts_store_notify_set(s, bobs, "http://127.0.0.1:9/hook") == 0);
    REQUIRE(ts_store_notify_due(s, now, due, 4, &next_due) == 1 && due[0].job_id == bobs && due[0].sent == 0 &&
            !strcmp(due[0].url, "http://127.0.0.1:9/hook"));
    REQUIRE(ts_store_events_after(s, 0, NULL, bobs, ev, MAX_EVENTS, &next) == 2);
    REQUIRE(ts_store_notify_sent(s, bobs, ev[0].id) == 0);
    REQUIRE(ts_store_notify_failed(s, bobs, now + 60, "HTTP 500") == 0);
    REQUIRE(ts_store_notify_due(s, now, due, 4, &next_due) == 0 && next_due == now + 60);
    REQUIRE(ts_store_notify_due(s, now + 61, due, 4, &next_due) == 1 && due[0].sent == ev[0].id &&
            due[0].failures == 1);
    o = ts_store_notify_json(s, bobs);
    REQUIRE(o && json_integer_value(json_object_get(o, "delivered")) == ev[0].id &&
            !strcmp(json_string_value(json_object_get(o, "error")), "HTTP 500") && !json_object_get(o, "url"));
    json_decref(o);
    REQUIRE(ts_store_notify_sent(s, bobs, ev[1].id) == 0);
    REQUIRE(ts_store_notify_due(s, now + 61, due, 4, &next_due) == 0 && next_due == 0);
    REQUIRE(ts_store_notify_json(s, job) == NULL);

    /* Pruning: nothing is young enough to go; then all but the newest 3; then all, and ids go on from there, also
       after a reopen. */
    ts_store_events_span(s, &oldest, &latest);
    REQUIRE(ts_store_events_prune(s, 0, now - 3600) == 0);
    REQUIRE(ts_store_events_prune(s, 3, now + 60) == latest - 3);
    ts_store_events_span(s, &oldest, &latest2);
    REQUIRE(oldest == latest - 2 && latest2 == latest);
    REQUIRE(ts_store_events_prune(s, 0, now + 60) == 3);
    ts_store_events_span(s, &oldest, &latest2);
    REQUIRE(oldest == latest + 1 && latest2 == latest);
    REQUIRE(stored >= n + 2); /* told of every event (and of those rolled back: a reader then finds nothing new) */
    ts_store_events_watch(s, NULL);
    int told = stored;
    ts_store_destroy(&s);
    s = ts_store_open(path);
    REQUIRE(s);
    REQUIRE(new_job(s, "ann") > bobs);
    REQUIRE(ts_store_events_after(s, 0, NULL, 0, ev, MAX_EVENTS, &next) == 2 && ev[0].id == latest + 1);
    REQUIRE(stored == told);
out:
    if (s)
        ts_store_events_watch(s, NULL);
    ts_store_destroy(&s);
    if (ts_test_remove_dir(dir) < 0)
        failures++;
    if (verbose || failures)
        fprintf(failures ? stderr : stdout, "ts_store_events: %s\n", failures ? "FAILED" : "ok");
    return failures ? -1 : 0;
}
