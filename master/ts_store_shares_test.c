/* ts_store_shares_test: fair share's self-test: requesters served by their node time over their weights, a
   requester's limit of running tasks, priority order when fair share is off, and chunks of frames. */
#include "lib/ts_error.h"
#include "master/ts_store.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(cond) TS_TEST_REQUIRE(cond)

/* A queued job of one requester on a device class: frames 1..frames, one tile each. */
static int64_t job_on(ts_store_t *s, const char *requester, int frames, int chunk, const char *device)
{
    ts_job_request_t req = {.frame_start = 1, .frame_end = frames, .tiles_x = 1, .tiles_y = 1, .chunk = chunk};
    strcpy(req.scene, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    strcpy(req.scene_name, "x.blend");
    strcpy(req.format, "png");
    snprintf(req.device, sizeof req.device, "%s", device);
    snprintf(req.requester, sizeof req.requester, "%s", requester);
    return ts_store_job_create(s, &req, 0);
}

static int64_t job_of(ts_store_t *s, const char *requester, int frames, int chunk)
{
    return job_on(s, requester, frames, chunk, "cpu");
}

/* Every job's probe (the only tasks queued) done by node "probe", and its frames planned. */
static int plan_all(ts_store_t *s, int count)
{
    ts_task_t probes[8];
    if (count > 8 || ts_store_assign(s, "probe", "4.0", false, NULL, 3, probes, count) != count)
        return -1;
    for (int i = 0; i < count; i++) {
        ts_job_t j;
        if (ts_store_job_get(s, probes[i].job_id, &j) != 1 || ts_store_probe_done(s, probes[i].id, "probe") < 0)
            return -1;
        ts_scene_facts_t facts = {.width = 8, .height = 4, .frame_start = j.frame_start, .frame_end = j.frame_end};
        strcpy(facts.ext, "png");
        ts_store_rect_t rect = {0, 0, 8, 4};
        if (ts_store_job_plan(s, j.id, &facts, &rect, 1) < 0)
            return -1;
    }
    return 0;
}

/* The newest job's probe done by node "probe" (its requester first by a huge weight) and its one frame planned as
   the rectangles given. */
static int plan_one(ts_store_t *s, int64_t job, const char *requester, const ts_store_rect_t *rects, int count)
{
    ts_task_t probe;
    if (ts_store_share_set(s, requester, 1000000, 0) < 0 ||
        ts_store_assign(s, "probe", "4.0", true, NULL, 3, &probe, 1) != 1 || probe.job_id != job ||
        ts_store_probe_done(s, probe.id, "probe") < 0)
        return -1;
    ts_scene_facts_t facts = {.width = 8, .height = 4, .frame_start = 1, .frame_end = 1};
    strcpy(facts.ext, "png");
    return ts_store_job_plan(s, job, &facts, rects, count);
}

static const char *requester_of(ts_store_t *s, const ts_task_t *t, char *buf)
{
    ts_job_t j;
    strcpy(buf, ts_store_job_get(s, t->job_id, &j) == 1 ? j.requester : "?");
    return buf;
}

static double node_seconds(ts_store_t *s, const char *requester)
{
    json_t *row = ts_store_shares_json(s, requester);
    double v = json_real_value(json_object_get(json_array_get(row, 0), "node_seconds"));
    json_decref(row);
    return v;
}

int ts_store_shares_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts_store_shares_test.XXXXXX", path[256], who[80];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    int rc = -1;
    ts_store_t *s = ts_store_open(path);
    REQUIRE(s);
    /* "big" submitted first: one 8-frame job; "small": two 2-frame jobs after it; "chunky" (paused until its
       turn below) in chunks of 3 frames. */
    int64_t big = job_of(s, "big", 8, 1), small1 = job_of(s, "small", 2, 1), small2 = job_of(s, "small", 2, 1);
    int64_t chunked = job_of(s, "chunky", 7, 3);
    REQUIRE(big > 0 && small1 > 0 && small2 > 0 && chunked > 0);
    ts_store_set_fair_share(s, false);
    REQUIRE(plan_all(s, 4) == 0);
    ts_store_set_fair_share(s, true);
    REQUIRE(ts_store_job_pause(s, chunked) == 0);

    /* Nothing used yet (but the probes' moments): the first node gets the oldest job's task, the next one the
       other requester's (the first one's task has held a node for 200 ms already). */
    ts_task_t a, b, c;
    REQUIRE(ts_store_assign(s, "n1", "4.0", false, NULL, 3, &a, 1) == 1 && a.job_id == big);
    usleep(200000);
    REQUIRE(ts_store_assign(s, "n2", "4.0", false, NULL, 3, &b, 1) == 1 &&
            strcmp(requester_of(s, &b, who), "small") == 0);

    /* Node time is charged when a task leaves its node: big's task held its node 500 ms, small's 100 ms. */
    usleep(100000);
    bool complete;
    REQUIRE(ts_store_tile_done(s, b.id, "hb", "n2", &complete) == 0);
    usleep(200000);
    REQUIRE(ts_store_tile_done(s, a.id, "ha", "n1", &complete) == 0);
    double used_big = node_seconds(s, "big"), used_small = node_seconds(s, "small");
    TS_TEST_CHECK(used_big > 0.45 && used_big < 1.0 && used_small > 0.09 && used_small < 0.3,
                  "node seconds charged: big %.3f, small %.3f", used_big, used_small);
    /* small has used less: it is served next, twice in a row while its running task's time stays below */
    REQUIRE(ts_store_assign(s, "n1", "4.0", false, NULL, 3, &a, 1) == 1 && strcmp(requester_of(s, &a, who), "small") == 0);
    REQUIRE(ts_store_assign(s, "n2", "4.0", false, NULL, 3, &b, 1) == 1 && strcmp(requester_of(s, &b, who), "small") == 0);

    /* A limit of one running task holds small back; a weight of 10 puts it first again once it may run more. */
    REQUIRE(ts_store_share_set(s, "small", 0, 1) == 0);
    REQUIRE(ts_store_assign(s, "n3", "4.0", false, NULL, 3, &c, 1) == 1 && strcmp(requester_of(s, &c, who), "big") == 0);
    REQUIRE(ts_store_task_requeue(s, c.id, false, NULL, 3) == 0);
    REQUIRE(ts_store_share_set(s, "small", 10, 0) == 0);
    json_t *row = ts_store_shares_json(s, "small");
    json_t *r0 = json_array_get(row, 0);
    TS_TEST_CHECK(json_real_value(json_object_get(r0, "weight")) == 10 &&
                      json_integer_value(json_object_get(r0, "max_running")) == 0 &&
                      json_integer_value(json_object_get(r0, "running")) == 2,
                  "small's row: %s", json_dumps(r0, JSON_COMPACT));
    json_decref(row);
    REQUIRE(ts_store_assign(s, "n3", "4.0", false, NULL, 3, &c, 1) == 1 && strcmp(requester_of(s, &c, who), "small") == 0);
    REQUIRE(ts_store_task_requeue(s, c.id, false, NULL, 3) == 0);

    /* Fair share off: priority and age across requesters, so big's older job comes first. */
    ts_store_set_fair_share(s, false);
    REQUIRE(ts_store_assign(s, "n3", "4.0", false, NULL, 3, &c, 1) == 1 && c.job_id == big);
    REQUIRE(ts_store_task_requeue(s, c.id, false, NULL, 3) == 0);
    ts_store_set_fair_share(s, true);

    /* Several slots: one choice at a time, so a limit of 2 running holds within one assignment. */
    REQUIRE(ts_store_share_set(s, "small", 0, 3) == 0);
    ts_task_t many[6];
    int n = ts_store_assign(s, "n4", "4.0", false, NULL, 3, many, 6);
    int smalls = 0;
    for (int i = 0; i < n; i++)
        smalls += strcmp(requester_of(s, &many[i], who), "small") == 0;
    TS_TEST_CHECK(n == 6 && smalls == 1, "6 slots: %d tasks, %d of small's (it had 2 running, limit 3)", n, smalls);

    /* A job in chunks of 3: one free slot takes three frames in a row of the same job. */
    REQUIRE(ts_store_job_resume(s, chunked) == 0);
    REQUIRE(ts_store_share_set(s, "chunky", 1000, 0) == 0);
    ts_task_t ch[8];
    n = ts_store_assign_chunks(s, "n5", "4.0", false, NULL, 3, ch, 1, 8);
    TS_TEST_CHECK(n == 3 && ch[0].job_id == chunked && ch[1].job_id == chunked && ch[2].job_id == chunked &&
                      ch[0].frame == 1 && ch[1].frame == 2 && ch[2].frame == 3,
                  "a chunk of 3: %d tasks, frames %d %d %d", n, n > 0 ? ch[0].frame : 0, n > 1 ? ch[1].frame : 0,
                  n > 2 ? ch[2].frame : 0);
    /* the room given bounds a chunk */
    n = ts_store_assign_chunks(s, "n6", "4.0", false, NULL, 3, ch, 1, 2);
    TS_TEST_CHECK(n == 2 && ch[0].frame == 4 && ch[1].frame == 5, "a chunk cut to the room: %d tasks", n);
    /* and to its requester's limit: 5 of its tasks on nodes, a limit of 6, so frame 6 alone */
    REQUIRE(ts_store_share_set(s, "chunky", 0, 6) == 0);
    n = ts_store_assign_chunks(s, "n7", "4.0", false, NULL, 3, ch, 1, 8);
    TS_TEST_CHECK(n == 1 && ch[0].frame == 6, "a chunk cut to the requester's limit: %d tasks", n);
    REQUIRE(ts_store_share_set(s, "chunky", 0, 0) == 0);

    /* A node its owner took back 3 times today gets a job's smaller tiles first; another node in the job's order. */
    int64_t uneven = job_of(s, "uneven", 1, 1);
    ts_store_rect_t rects[2] = {{0, 0, 6, 4}, {6, 0, 8, 4}};
    REQUIRE(uneven > 0 && plan_one(s, uneven, "uneven", rects, 2) == 0);
    for (int i = 0; i < 3; i++)
        REQUIRE(ts_store_node_pause(s, "cafe", "in use", 1) == 0);
    REQUIRE(ts_store_assign(s, "steady", "4.0", false, NULL, 3, &b, 1) == 1 && b.job_id == uneven && b.x1 - b.x0 == 6);
    REQUIRE(ts_store_task_requeue(s, b.id, false, NULL, 3) == 0);
    REQUIRE(ts_store_assign(s, "cafe", "4.0", false, NULL, 3, &a, 1) == 1 && a.job_id == uneven && a.x1 - a.x0 == 2);
    REQUIRE(ts_store_task_requeue(s, a.id, false, NULL, 3) == 0);
    REQUIRE(ts_store_share_set(s, "uneven", 1, 0) == 0);

    /* An owner's memory cap: a job whose renders needed 3 GiB goes to a node allowing 4 GiB, not to one allowing 1. */
    int64_t heavy = job_of(s, "heavy", 1, 1);
    REQUIRE(heavy > 0 && plan_one(s, heavy, "heavy", rects, 1) == 0);
    REQUIRE(ts_store_job_memory(s, heavy, 3LL << 30) == 0 && ts_store_job_memory(s, heavy, 1LL << 30) == 0);
    REQUIRE(ts_store_node_seen(s, "small", "small", "4.0", "[]", "", "", 2, 8LL << 30) == 0 &&
            ts_store_node_tags(s, "small", "", 1LL << 30) == 0);
    REQUIRE(ts_store_node_seen(s, "large", "large", "4.0", "[]", "", "", 2, 8LL << 30) == 0 &&
            ts_store_node_tags(s, "large", "", 4LL << 30) == 0);
    REQUIRE(ts_store_assign(s, "small", "4.0", false, NULL, 3, &a, 1) == 1 && a.job_id != heavy);
    REQUIRE(ts_store_assign(s, "large", "4.0", false, NULL, 3, &b, 1) == 1 && b.job_id == heavy);
    json_t *view = ts_store_job_json(s, heavy);
    TS_TEST_CHECK(json_integer_value(json_object_get(view, "memory_need_mb")) == 3072, "the job's need: 3072 MiB, "
                  "the largest seen (%s)", json_dumps(view, JSON_COMPACT));
    json_decref(view);

    /* A GPU job whose renders needed 3 GiB: not for a node whose lent GPUs have 2 GiB free, for one with 8. */
    int64_t vram = job_on(s, "vram", 1, 1, "gpu");
    REQUIRE(vram > 0 && plan_one(s, vram, "vram", rects, 1) == 0 && ts_store_job_memory(s, vram, 3LL << 30) == 0);
    REQUIRE(ts_store_node_seen(s, "gpu2", "gpu2", "4.0", "[\"CPU\",\"CUDA\"]", "", "", 2, 8LL << 30) == 0 &&
            ts_store_node_gpus(s, "gpu2", "[]", "bwrap", 2LL << 30) == 0);
    REQUIRE(ts_store_node_seen(s, "gpu8", "gpu8", "4.0", "[\"CPU\",\"CUDA\"]", "", "", 2, 8LL << 30) == 0 &&
            ts_store_node_gpus(s, "gpu8", "[]", "bwrap", 8LL << 30) == 0);
    int given = 0, wrong = 0;
    while (ts_store_assign(s, "gpu2", "4.0", true, NULL, 3, &a, 1) == 1 && given++ < 64)
        wrong += a.job_id == vram;
    TS_TEST_CHECK(wrong == 0, "the 2 GiB GPU was given the 3 GiB GPU job (%d of %d tasks)", wrong, given);
    REQUIRE(ts_store_assign(s, "gpu8", "4.0", true, NULL, 3, &b, 1) == 1);
    TS_TEST_CHECK(b.job_id == vram, "the 8 GiB GPU got job %lld, not the GPU job %lld", (long long)b.job_id,
                  (long long)vram);
    rc = failures ? -1 : 0;
out:
    ts_store_destroy(&s);
    if (ts_test_remove_dir(dir) < 0)
        rc = -1;
    if (verbose || rc)
        fprintf(rc ? stderr : stdout, "ts_store_shares: %s\n", rc ? "FAILED" : "ok");
    return rc;
}
