/* ts_store_test: the store's self-test: the task state machine end to end, failures, cancel, reopen. */
#include "lib/ts_error.h"
#include "master/ts_store.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(cond) TS_TEST_REQUIRE(cond)

static const char *job_state(ts_store_t *s, int64_t id, char *buf)
{
    ts_job_t j;
    if (ts_store_job_get(s, id, &j) != 1)
        return "?";
    strcpy(buf, j.state);
    return buf;
}

int ts_store_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts_store_test.XXXXXX", path[256], st[16];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    int rc = -1;
    ts_store_t *s = ts_store_open(path);
    REQUIRE(s);
    ts_job_request_t req = {.frame_start = 1, .frame_end = 2, .tiles_x = 2, .tiles_y = 1, .priority = 0};
    strcpy(req.scene, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    strcpy(req.scene_name, "x.blend");
    strcpy(req.format, "png");
    strcpy(req.device, "cpu");
    int64_t job = ts_store_job_create(s, &req, 0);
    REQUIRE(job > 0);
    REQUIRE(strcmp(job_state(s, job, st), "queued") == 0);

    /* The probe comes first; a GPU-only job would not go to a CPU node. */
    ts_task_t t[8];
    REQUIRE(ts_store_assign(s, "n1", "3.4.1", false, NULL, 3, t, 8) == 1 && t[0].kind == TS_KIND_PROBE);
    REQUIRE(ts_store_node_assigned_count(s, "n1") == 1);
    ts_scene_facts_t facts = {.width = 10, .height = 4, .frame_start = 1, .frame_end = 5};
    strcpy(facts.ext, "png");
    ts_store_rect_t rects[2] = {{0, 0, 5, 4}, {5, 0, 10, 4}};
    REQUIRE(ts_store_probe_done(s, t[0].id, "n1") == 0);
    REQUIRE(ts_store_job_plan(s, job, &facts, rects, 2) == 0);
    REQUIRE(strcmp(job_state(s, job, st), "running") == 0);

    /* Four tiles (2 frames x 2). A failure below the limit re-queues; the node that failed is not blocked yet. */
    int n = ts_store_assign(s, "n1", "3.4.1", false, NULL, 3, t, 8);
    REQUIRE(n == 4);
    REQUIRE(ts_store_task_requeue(s, t[0].id, true, "boom", 3) == 0);
    ts_task_t again;
    REQUIRE(ts_store_task_get(s, t[0].id, &again) == 1 && strcmp(again.state, "queued") == 0 && again.failures == 1);
    REQUIRE(ts_store_assign(s, "n2", "3.4.1", false, NULL, 3, &again, 1) == 1 && again.id == t[0].id);

    bool complete = false;
    REQUIRE(ts_store_tile_done(s, t[0].id, "h0", "n2", &complete) == 0 && !complete);
    REQUIRE(ts_store_tile_done(s, t[1].id, "h1", "n1", &complete) == 0 && complete);
    /* A duplicate result changes nothing. */
    REQUIRE(ts_store_tile_done(s, t[1].id, "hX", "n1", &complete) == 0 && !complete);
    int64_t jobs[4];
    int frames[4];
    REQUIRE(ts_store_frames_to_stitch(s, jobs, frames, 4) == 1 && jobs[0] == job && frames[0] == 1);
    char hashes[2][TS_HASH_HEX];
    REQUIRE(ts_store_frame_tiles(s, job, 1, TS_KIND_TILE, hashes, 2) == 0 && !strcmp(hashes[0], "h0") &&
            !strcmp(hashes[1], "h1"));
    REQUIRE(ts_store_frame_tiles(s, job, 2, TS_KIND_TILE, hashes, 2) == -1);
    REQUIRE(ts_store_frame_stitched(s, job, 1, "stitched1") == 0);
    REQUIRE(ts_store_frames_to_stitch(s, jobs, frames, 4) == 0);
    ts_task_t fin;
    REQUIRE(ts_store_assign(s, "n1", "3.4.1", false, NULL, 3, &fin, 1) == 1 && fin.kind == TS_KIND_FINISH &&
            strcmp(fin.input_hash, "stitched1") == 0);
    REQUIRE(ts_store_finish_done(s, fin.id, "out1", 123, "n1") == 0);
    char hash[TS_HASH_HEX];
    REQUIRE(ts_store_output(s, job, 1, hash) == 1 && !strcmp(hash, "out1"));
    REQUIRE(ts_store_output(s, job, 2, hash) == 0);
    REQUIRE(strcmp(job_state(s, job, st), "running") == 0);

    /* Survives a reopen (a master restart). */
    ts_store_destroy(&s);
    s = ts_store_open(path);
    REQUIRE(s);
    ts_task_t *assigned = NULL;
    int count = 0;
    REQUIRE(ts_store_tasks_assigned(s, NULL, &assigned, &count) == 0 && count == 2);
    free(assigned);

    /* Failing one task max times fails the job and drops its other tasks. */
    REQUIRE(ts_store_task_requeue(s, t[2].id, true, "crash", 2) == 0);
    /* n1 has now failed twice in this job: it is blocked for it, another node gets the task. */
    REQUIRE(ts_store_assign(s, "n1", "3.4.1", false, NULL, 2, &again, 1) == 0);
    REQUIRE(ts_store_assign(s, "n3", "3.4.1", false, NULL, 2, &again, 1) == 1 && again.id == t[2].id);
    REQUIRE(ts_store_task_requeue(s, t[2].id, true, "crash", 2) == 0);
    REQUIRE(strcmp(job_state(s, job, st), "failed") == 0);
    json_t *o = ts_store_job_json(s, job);
    REQUIRE(o && strstr(json_string_value(json_object_get(o, "error")), "failed 2 times"));
    json_decref(o);
    REQUIRE(ts_store_job_cancel(s, job) == TS_STORE_ENDED);
    REQUIRE(ts_store_job_cancel(s, job + 100) == TS_STORE_UNKNOWN);

    /* Cancelling a fresh job drops its queued probe. */
    int64_t job2 = ts_store_job_create(s, &req, 0);
    REQUIRE(ts_store_job_cancel(s, job2) == 0);
    REQUIRE(ts_store_assign(s, "n1", "3.4.1", false, NULL, 3, t, 8) == 0);

    /* Fit and priority: a GPU job never goes to a CPU-only node, a Blender version prefix must match, and
       among fitting jobs the higher priority goes first whatever its age. */
    ts_job_request_t gpu = req, old = req, urgent = req, v35 = req;
    strcpy(gpu.device, "gpu");
    gpu.priority = 9;
    strcpy(v35.blender, "3.5");
    v35.priority = 8;
    urgent.priority = 5;
    int64_t jgpu = ts_store_job_create(s, &gpu, 0), jold = ts_store_job_create(s, &old, 0);
    int64_t jv35 = ts_store_job_create(s, &v35, 0), jurgent = ts_store_job_create(s, &urgent, 0);
    REQUIRE(jgpu > 0 && jold > 0 && jv35 > 0 && jurgent > 0);
    REQUIRE(ts_store_assign(s, "cpu", "3.4.1", false, NULL, 3, t, 8) == 2 && t[0].job_id == jurgent &&
            t[1].job_id == jold);
    REQUIRE(ts_store_assign(s, "gpu", "3.5.0", true, NULL, 3, t, 8) == 2 && t[0].job_id == jgpu && t[1].job_id == jv35);
    rc = 0;
out:
    ts_store_destroy(&s);
    if (ts_test_remove_dir(dir) < 0)
        rc = -1;
    if (verbose || rc)
        fprintf(rc ? stderr : stdout, "ts_store: %s\n", rc ? "FAILED" : "ok");
    return rc;
}
