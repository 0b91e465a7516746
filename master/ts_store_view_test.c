/* ts_store_view_test: the mosaic's queries: an unplanned job has no frames; a planned frame lists every tile with its
   own rectangle top-down; a tile follows its task (node, time) through a spot check to "passed"; only a verified
   result is served, with the render rectangle it holds; frames count their done tiles. */
#include "lib/ts_error.h"
#include "master/ts_store_view.h"
#include "splitter/ts_tileplan.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(cond) TS_TEST_REQUIRE(cond)

#define N1 "1111111111111111111111111111111111111111111111111111111111111111"
#define N2 "2222222222222222222222222222222222222222222222222222222222222222"
#define RESULT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CHECK "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define W 10
#define H 4
#define MARGIN 1

/* A tile's member from the frame's view: its string, or "" */
static const char *tile_str(json_t *view, int tile, const char *key)
{
    const char *s = json_string_value(json_object_get(json_array_get(json_object_get(view, "tiles"), (size_t)tile), key));
    return s ? s : "";
}

static json_int_t tile_int(json_t *view, int tile, const char *key)
{
    return json_integer_value(json_object_get(json_array_get(json_object_get(view, "tiles"), (size_t)tile), key));
}

/* The frame's view afresh (the previous one freed). */
static json_t *view_of(ts_store_t *s, ts_job_t *job, int frame, json_t **old)
{
    json_decref(*old);
    *old = NULL;
    ts_store_job_get(s, job->id, job);
    if (ts_store_view_frame(s, job, frame, old) != 1)
        *old = NULL;
    return *old;
}

int ts_store_view_test(bool verbose)
{
    int failures = 0, rc = -1;
    char dir[] = "/tmp/ts_store_view_test.XXXXXX", path[256];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    ts_store_t *s = ts_store_open(path);
    json_t *view = NULL, *frames = NULL;
    ts_tile_t *plan = NULL;
    REQUIRE(s);
    REQUIRE(ts_store_node_seen(s, N1, "one", "4.0", "[\"CPU\"]", "cpu", "", 2, 1 << 30) == 0);
    REQUIRE(ts_store_node_seen(s, N2, "two", "4.0", "[\"CPU\"]", "cpu", "", 2, 1 << 30) == 0);
    ts_job_request_t req = {.frame_start = 1, .frame_end = 1, .tiles_x = 2, .tiles_y = 2};
    strcpy(req.scene, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    strcpy(req.scene_name, "x.blend");
    strcpy(req.format, "png");
    strcpy(req.device, "cpu");
    ts_job_t job = {.id = ts_store_job_create(s, &req, 0)};
    REQUIRE(job.id > 0 && ts_store_job_get(s, job.id, &job) == 1);
    REQUIRE(ts_store_view_frame(s, &job, 1, &view) == 0 && !view); /* not planned: no frame yet */

    /* planned as the job compiler plans: render rectangles with a margin */
    ts_task_t t;
    REQUIRE(ts_store_assign(s, N1, "4.0", false, NULL, 3, &t, 1) == 1 && t.kind == TS_KIND_PROBE);
    int count = 0;
    REQUIRE(ts_tileplan_make(W, H, 2, 2, MARGIN, &plan, &count) == 0 && count == 4);
    ts_store_rect_t render[4];
    for (int i = 0; i < 4; i++)
        render[i] = (ts_store_rect_t){plan[i].render.x0, plan[i].render.y0, plan[i].render.x1, plan[i].render.y1};
    ts_scene_facts_t facts = {.width = W, .height = H, .frame_start = 1, .frame_end = 1, .margin = MARGIN};
    strcpy(facts.ext, "png");
    REQUIRE(ts_store_probe_done(s, t.id, N1) == 0 && ts_store_job_plan(s, job.id, &facts, render, 4) == 0);

    REQUIRE(view_of(s, &job, 1, &view));
    TS_TEST_CHECK(json_array_size(json_object_get(view, "tiles")) == 4, "4 tiles");
    TS_TEST_CHECK(strcmp(json_string_value(json_object_get(view, "state")), "rendering") == 0, "frame rendering");
    /* tile 0 is Blender's bottom-left: x 0..5, y 0..2 from the bottom, so rows 2..4 from the top; tile 3 top-right */
    TS_TEST_CHECK(tile_int(view, 0, "x") == 0 && tile_int(view, 0, "y") == 2 && tile_int(view, 0, "width") == 5 &&
                      tile_int(view, 0, "height") == 2, "tile 0's own rectangle top-down");
    TS_TEST_CHECK(tile_int(view, 3, "x") == 5 && tile_int(view, 3, "y") == 0, "tile 3 is the top right");
    for (int i = 0; i < 4; i++)
        TS_TEST_CHECK(strcmp(tile_str(view, i, "state"), "queued") == 0 && tile_int(view, i, "task") > 0,
                      "tile %d queued with its task", i);
    REQUIRE(failures == 0);
    REQUIRE(ts_store_view_frame(s, &job, 2, &view) == 0); /* outside the job */
    view = NULL;

    /* a tile on a node, then its result in (its node reported 1.5 s), sampled for a spot check */
    REQUIRE(ts_store_assign(s, N1, "4.0", false, NULL, 3, &t, 1) == 1 && t.kind == TS_KIND_TILE);
    int tile = t.tile;
    int64_t task = t.id;
    REQUIRE(view_of(s, &job, 1, &view));
    TS_TEST_CHECK(strcmp(tile_str(view, tile, "state"), "assigned") == 0 &&
                      strcmp(tile_str(view, tile, "node_name"), "one") == 0, "the tile is on node one");
    char hash[TS_HASH_HEX];
    ts_store_rect_t got_render, got_own;
    REQUIRE(ts_store_view_tile_result(s, &job, 1, tile, hash, &got_render, &got_own) == 0); /* no result yet */
    REQUIRE(ts_store_result_in(s, task, N1, RESULT, 100, "cpu-a", 1.5) == 1);
    REQUIRE(ts_store_view_tile_result(s, &job, 1, tile, hash, &got_render, &got_own) == 0); /* not verified yet */
    ts_check_policy_t p = {.rates = {.trust = 10, .floor = 0.05, .first = 1}, .area = 1, .quarantine_after = 9,
                           .max_failures = 3};
    ts_verdict_t v = {0};
    REQUIRE(ts_store_result_valid(s, task, 0.0, &p, &v) == 0 && v.sampled);
    REQUIRE(view_of(s, &job, 1, &view));
    json_t *checks = json_object_get(json_array_get(json_object_get(view, "tiles"), (size_t)tile), "checks");
    TS_TEST_CHECK(strcmp(tile_str(view, tile, "state"), "checking") == 0 &&
                      strcmp(tile_str(view, tile, "verify"), "pending") == 0, "under a spot check");
    TS_TEST_CHECK(json_array_size(checks) == 1 &&
                      strcmp(json_string_value(json_object_get(json_array_get(checks, 0), "state")), "queued") == 0,
                  "its check is queued");
    TS_TEST_CHECK(json_real_value(json_object_get(json_array_get(json_object_get(view, "tiles"), (size_t)tile),
                                                  "seconds")) == 1.5, "the node's seconds");
    REQUIRE(ts_store_view_tile_result(s, &job, 1, tile, hash, &got_render, &got_own) == 1);
    TS_TEST_CHECK(strcmp(hash, RESULT) == 0, "the tile's result");
    TS_TEST_CHECK(memcmp(&got_render, &render[tile], sizeof got_render) == 0, "the rectangle the result holds");
    TS_TEST_CHECK(got_own.x0 == plan[tile].own.x0 && got_own.y1 == plan[tile].own.y1, "the tile's own pixels");

    /* node two re-does it and agrees: passed, the check done by "two" */
    int64_t check = 0;
    for (int i = 0; i < 4 && !check; i++) { /* two takes the check (it may get other tiles first) */
        REQUIRE(ts_store_assign(s, N2, "4.0", false, NULL, 3, &t, 1) == 1);
        if (t.check_of == task)
            check = t.id;
    }
    REQUIRE(check > 0);
    REQUIRE(ts_store_result_in(s, check, N2, CHECK, 100, "cpu-a", 1.0) == 1);
    REQUIRE(ts_store_check_settle(s, check, TS_AGREES_ORIGINAL, "", &p, &v) == 0);
    REQUIRE(view_of(s, &job, 1, &view));
    checks = json_object_get(json_array_get(json_object_get(view, "tiles"), (size_t)tile), "checks");
    TS_TEST_CHECK(strcmp(tile_str(view, tile, "state"), "done") == 0 &&
                      strcmp(tile_str(view, tile, "verify"), "passed") == 0, "passed: %s/%s",
                  tile_str(view, tile, "state"), tile_str(view, tile, "verify"));
    json_t *c0 = json_array_get(checks, 0);
    TS_TEST_CHECK(c0 && strcmp(json_string_value(json_object_get(c0, "node_name")), "two") == 0 &&
                      strcmp(json_string_value(json_object_get(c0, "state")), "done") == 0,
                  "checked by two");

    frames = ts_store_view_frames(s, &job);
    json_t *f0 = json_array_get(json_object_get(frames, "frames"), 0);
    TS_TEST_CHECK(json_array_size(json_object_get(frames, "frames")) == 1 &&
                      json_integer_value(json_object_get(f0, "frame")) == 1 &&
                      json_integer_value(json_object_get(f0, "tiles")) == 4 &&
                      json_integer_value(json_object_get(f0, "tiles_done")) == 1,
                  "frame 1 has 1 of 4 tiles done");
    rc = failures ? -1 : 0;
    if (verbose)
        printf("store_view: tile %d followed through its spot check\n", tile);
out:
    free(plan);
    json_decref(view);
    json_decref(frames);
    ts_store_destroy(&s);
    if (ts_test_remove_dir(dir) < 0)
        fprintf(stderr, "ts_store_view_test: could not remove %s\n", dir);
    return failures ? -1 : rc;
}
