/* ts_store_requeue_test: self-test of requeue in the store: chosen frames of a done job, the failed frames of a failed
   job, a video made again, the payments of each (on the local ledger), and every refusal. */
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "master/ts_store.h"
#include "tests/ts_test.h"
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(cond) TS_TEST_REQUIRE(cond)

#define T(x) ((int64_t)(x) * TS_TOKEN_UNIT)
#define MAX_FAILURES 1 /* a task that fails once fails its job; a node that fails once is blocked for it */
#define SCENE "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"

static ts_job_request_t render_request(const char *requester, int64_t budget, const char *settings)
{
    ts_job_request_t r = {.frame_start = 1, .frame_end = 3, .tiles_x = 2, .tiles_y = 1, .budget = budget};
    strcpy(r.scene, SCENE);
    strcpy(r.scene_name, "x.blend");
    strcpy(r.format, "png");
    strcpy(r.device, "cpu");
    strcpy(r.requester, requester);
    snprintf(r.settings, sizeof r.settings, "%s", settings);
    return r;
}

/* A new render job of frames 1-3 in 2 tiles of 5x4 pixels each, probed and planned: its id, or -1. */
static int64_t planned_job(ts_store_t *s, const ts_job_request_t *r)
{
    int64_t job = ts_store_job_create(s, r, 0);
    ts_task_t probe;
    if (job <= 0 || ts_store_assign(s, "n1", "3.4.1", false, NULL, MAX_FAILURES, &probe, 1) != 1 ||
        probe.kind != TS_KIND_PROBE || ts_store_probe_done(s, probe.id, "n1") < 0)
        return -1;
    ts_scene_facts_t facts = {.width = 10, .height = 4, .frame_start = 1, .frame_end = 3, .samples = 1};
    strcpy(facts.ext, "png");
    ts_store_rect_t rects[2] = {{0, 0, 5, 4}, {5, 0, 10, 4}};
    return ts_store_job_plan(s, job, &facts, rects, 2) == 0 ? job : -1;
}

/* Does everything queued on node as the master's threads would (results accepted unchecked, frames stitched, a
   video cut into one segment and joined), until nothing moves; outputs are named "<tag>:<task id>". 0, or -1. */
static int drain(ts_store_t *s, const char *node, const char *tag)
{
    for (int round = 0; round < 64; round++) {
        ts_task_t t[16];
        int n = ts_store_assign(s, node, "3.4.1", false, NULL, MAX_FAILURES, t, 16);
        for (int i = 0; i < n; i++) {
            char hash[64];
            snprintf(hash, sizeof hash, "%s:%lld", tag, (long long)t[i].id);
            bool complete;
            int rc = t[i].kind == TS_KIND_FINISH ? ts_store_finish_done(s, t[i].id, hash, 1, node)
                                                 : ts_store_tile_done(s, t[i].id, hash, node, &complete);
            if (rc < 0)
                return -1;
        }
        int64_t jobs[16];
        int frames[16];
        int k = ts_store_frames_to_stitch(s, jobs, frames, 16);
        for (int i = 0; i < k; i++) {
            char hash[64];
            snprintf(hash, sizeof hash, "%s:frame%d", tag, frames[i]);
            if ((frames[i] == TS_VIDEO_FRAME ? ts_store_frame_output(s, jobs[i], frames[i], hash, 1)
                                             : ts_store_frame_stitched(s, jobs[i], frames[i], hash)) < 0)
                return -1;
        }
        int v = ts_store_videos_to_cut(s, jobs, 16);
        ts_store_segment_t seg = {.start_pts = INT64_MIN, .end_pts = INT64_MAX, .frames = 3};
        snprintf(seg.hash, sizeof seg.hash, "%s:cut", tag);
        for (int i = 0; i < v; i++)
            if (ts_store_video_segments(s, jobs[i], &seg, 1, 1, 24, 24, 1) < 0)
                return -1;
        if (n < 0 || k < 0 || v < 0)
            return -1;
        if (n == 0 && k == 0 && v == 0)
            return 0;
    }
    return ts_error_set("the farm did not settle");
}

/* The first column of a query with integer binds (a job, frames...) as int64; -1 when it fails. */
static int64_t query(ts_store_t *s, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ts_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_int64(st, 2, b);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* A wallet figure of one account (-1 when absent), or with account NULL whether minted equals held (1) or not (0). */
static int64_t wallet(ts_store_t *s, const char *account, const char *field)
{
    json_t *w = ts_store_wallet_json(s);
    int64_t v = -1;
    if (!account)
        v = json_integer_value(json_object_get(w, "minted")) == json_integer_value(json_object_get(w, "held"));
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(w, "accounts"), i, a)
        if (account && strcmp(json_string_value(json_object_get(a, "account")), account) == 0)
            v = json_integer_value(json_object_get(a, field));
    json_decref(w);
    return v;
}

static bool job_is(ts_store_t *s, int64_t id, const char *state)
{
    ts_job_t j;
    return ts_store_job_get(s, id, &j) == 1 && strcmp(j.state, state) == 0;
}

/* ts_store_job_requeue (the last result's frames freed first). */
static int requeue(ts_store_t *s, int64_t job, const int *frames, int n, bool failed, ts_requeue_result_t *out)
{
    ts_requeue_request_t req = {.frames = frames, .nframes = n, .failed = failed};
    free(out->frames);
    out->frames = NULL;
    return ts_store_job_requeue(s, job, &req, out);
}

/* What was paid for the pieces of frames 1 and 3 of a job in one state. */
static int64_t paid_frames_1_3(ts_store_t *s, int64_t job, const char *state)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ts_store_db(s), "SELECT coalesce(sum(price),0) FROM tasks WHERE job_id=? AND check_of=0 AND "
                                            "paid>0 AND frame IN (1,3) AND state=?", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, job);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

int ts_store_requeue_test(bool verbose)
{
    int failures = 0, rc = -1;
    char dir[] = "/tmp/ts_store_requeue_test.XXXXXX", path[256];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    ts_escrow_t *escrow = NULL;
    ts_requeue_result_t r = {0};
    ts_store_t *s = ts_store_open(path);
    REQUIRE(s);
    ts_escrow_config_t cfg = {.backend = "local", .requester_mint = T(100), .farm_mint = T(5), .slash_share = 0.5};
    escrow = ts_escrow_new(&cfg, ts_store_db(s));
    REQUIRE(escrow);
    ts_pay_policy_t policy = {.min_task_price = 1, .deadline_s = 3600};
    ts_store_set_escrow(s, escrow, &policy);

    /* A done job: 3 frames of 2 tiles (20 units each) and a finish (40 units); 60 tokens: 20 a frame. */
    ts_job_request_t req = render_request("studio", T(60), "");
    int64_t job = planned_job(s, &req);
    REQUIRE(job > 0);
    REQUIRE(drain(s, "n1", "first") == 0 && job_is(s, job, "done"));
    REQUIRE(wallet(s, "studio", "balance") == T(40) && wallet(s, NULL, NULL) == 1);

    /* Refusals change nothing. */
    int all[] = {1, 2, 3}, outside[] = {2, 7}, chosen[] = {3, 1, 3};
    REQUIRE(requeue(s, job, all, 3, false, &r) == TS_STORE_REFUSED && strstr(ts_error(), "costs 60") &&
            strstr(ts_error(), "balance 40 is below the price 60"));
    REQUIRE(requeue(s, job, outside, 2, false, &r) == TS_STORE_INVALID &&
            strstr(ts_error(), "field 'frames': frame 7 is outside job") && strstr(ts_error(), "frames 1-3"));
    REQUIRE(requeue(s, job, all, 0, false, &r) == TS_STORE_INVALID && strstr(ts_error(), "the list is empty"));
    REQUIRE(requeue(s, job, NULL, 0, false, &r) == TS_STORE_INVALID && strstr(ts_error(), "nothing to requeue"));
    REQUIRE(requeue(s, job, NULL, 0, true, &r) == TS_STORE_CONFLICT && strstr(ts_error(), "no failed frames"));
    REQUIRE(requeue(s, job + 1000, all, 1, false, &r) == TS_STORE_UNKNOWN);
    REQUIRE(job_is(s, job, "done") && wallet(s, "studio", "balance") == T(40) &&
            query(s, "SELECT count(*) FROM tasks WHERE state='superseded'", 0, 0) == 0);

    /* Frames 3 and 1 again: their 6 tasks set aside, 4 fresh tiles queued, the job running, 40 tokens paid in
       (exactly the balance). */
    int64_t old_tile = query(s, "SELECT min(id) FROM tasks WHERE job_id=? AND frame=1 AND kind=?", job, TS_KIND_TILE);
    REQUIRE(requeue(s, job, chosen, 3, false, &r) == 0 && r.nframes == 2 && r.frames[0] == 1 && r.frames[1] == 3 &&
            r.tiles == 4 && !r.video && r.price == T(40));
    REQUIRE(job_is(s, job, "running") && query(s, "SELECT finished IS NULL FROM jobs WHERE id=?", job, 0) == 1);
    ts_task_t old;
    REQUIRE(ts_store_task_get(s, old_tile, &old) == 1 && strcmp(old.state, "superseded") == 0);
    REQUIRE(query(s, "SELECT count(*) FROM tasks WHERE job_id=? AND state='superseded'", job, 0) == 6);
    REQUIRE(query(s, "SELECT count(*) FROM tasks WHERE job_id=? AND state='queued' AND kind=? AND failures=0 AND "
                     "frame IN (1,3)", job, TS_KIND_TILE) == 4);
    char hash[TS_HASH_HEX];
    REQUIRE(ts_store_output(s, job, 1, hash) == 0 && ts_store_output(s, job, 2, hash) == 1);
    json_t *view = ts_store_job_json(s, job);
    REQUIRE(view && json_integer_value(json_object_get(view, "tasks_superseded")) == 6 &&
            json_integer_value(json_object_get(view, "frames_done")) == 1 &&
            json_integer_value(json_object_get(view, "tasks_total")) == 1 + 3 + 4);
    json_decref(view);
    REQUIRE(wallet(s, "studio", "balance") == 0 && wallet(s, "studio", "locked") == T(40) &&
            wallet(s, NULL, NULL) == 1);

    /* Done again: the new pieces are paid as the old ones were (each once), the old payments stand. */
    REQUIRE(drain(s, "n1", "second") == 0 && job_is(s, job, "done"));
    REQUIRE(ts_store_output(s, job, 1, hash) == 1 && strncmp(hash, "second:", 7) == 0);
    REQUIRE(paid_frames_1_3(s, job, "superseded") == T(40) && paid_frames_1_3(s, job, "done") == T(40));
    REQUIRE(query(s, "SELECT count(*) FROM tasks WHERE job_id=? AND paid>1", job, 0) == 0);
    REQUIRE(wallet(s, "studio", "balance") == 0 && wallet(s, "studio", "locked") == 0 && wallet(s, NULL, NULL) == 1);

    /* A failed job: frame 1 done, a tile of frame 2 fails on node "bad" (blocked for the job), frame 3 never ran. */
    ts_job_request_t req2 = render_request("ann", T(6), "");
    int64_t job2 = planned_job(s, &req2);
    REQUIRE(job2 > 0);
    ts_task_t t[8];
    bool complete;
    REQUIRE(ts_store_assign(s, "n1", "3.4.1", false, NULL, MAX_FAILURES, t, 2) == 2 && t[0].frame == 1 &&
            t[1].frame == 1);
    REQUIRE(ts_store_tile_done(s, t[0].id, "a", "n1", &complete) == 0 &&
            ts_store_tile_done(s, t[1].id, "b", "n1", &complete) == 0 && complete);
    REQUIRE(ts_store_frame_stitched(s, job2, 1, "st") == 0);
    REQUIRE(ts_store_assign(s, "n1", "3.4.1", false, NULL, MAX_FAILURES, t, 1) == 1 && t[0].kind == TS_KIND_FINISH &&
            ts_store_finish_done(s, t[0].id, "f1", 1, "n1") == 0);
    REQUIRE(ts_store_assign(s, "bad", "3.4.1", false, NULL, MAX_FAILURES, &t[2], 1) == 1 && t[2].frame == 2);
    REQUIRE(ts_store_task_requeue(s, t[2].id, true, "boom", MAX_FAILURES) == 0 && job_is(s, job2, "failed"));
    /* a child submitted after it failed is held */
    ts_job_request_t child_req = render_request("carl", T(6), "");
    child_req.after[0] = job2;
    child_req.nafter = 1;
    int64_t child = ts_store_job_create(s, &child_req, 0);
    REQUIRE(child > 0 && job_is(s, child, "held"));
    int one[] = {1};
    REQUIRE(requeue(s, job2, one, 1, false, &r) == TS_STORE_INVALID &&
            strstr(ts_error(), "frames 2, 3 did not finish"));
    REQUIRE(requeue(s, job2, NULL, 0, true, &r) == 0 && r.nframes == 2 && r.frames[0] == 2 && r.frames[1] == 3 &&
            r.tiles == 4 && r.price == T(4));
    REQUIRE(job_is(s, job2, "running") && query(s, "SELECT error IS NULL FROM jobs WHERE id=?", job2, 0) == 1);
    REQUIRE(job_is(s, child, "waiting"));
    ts_task_t failed;
    REQUIRE(ts_store_task_get(s, t[2].id, &failed) == 1 && strcmp(failed.state, "superseded") == 0);
    /* the node that failed stays blocked; a healthy one gets the fresh tiles, with no failures counted */
    REQUIRE(ts_store_assign(s, "bad", "3.4.1", false, NULL, MAX_FAILURES, t, 8) == 0);
    REQUIRE(drain(s, "n1", "healthy") == 0 && job_is(s, job2, "done"));
    REQUIRE(!job_is(s, child, "held") && !job_is(s, child, "waiting")); /* released when its parent was done */
    REQUIRE(query(s, "SELECT max(failures) FROM tasks WHERE job_id=? AND state='done'", job2, 0) == 0);
    REQUIRE(wallet(s, "ann", "balance") == T(100) - query(s, "SELECT sum(price) FROM tasks WHERE job_id=? AND paid>0",
                                                          job2, 0) &&
            wallet(s, "ann", "locked") == 0 && wallet(s, NULL, NULL) == 1);

    /* A render that ends in a video: requeueing a frame makes the video again, its old output gone until then. */
    ts_job_request_t req3 = render_request("bob", T(6), "{\"vcodec\":\"libx264\",\"crf\":23}");
    int64_t job3 = planned_job(s, &req3);
    REQUIRE(job3 > 0 && drain(s, "n1", "v1") == 0 && job_is(s, job3, "done"));
    REQUIRE(ts_store_output(s, job3, TS_VIDEO_FRAME, hash) == 1 && strcmp(hash, "v1:frame-2147483648") == 0);
    int two[] = {2};
    int64_t bob = wallet(s, "bob", "balance");
    REQUIRE(requeue(s, job3, two, 1, false, &r) == 0 && r.video && r.nframes == 1);
    REQUIRE(ts_store_output(s, job3, TS_VIDEO_FRAME, hash) == 0 &&
            query(s, "SELECT count(*) FROM tasks WHERE job_id=? AND kind=? AND state='superseded'", job3,
                  TS_KIND_SEGMENT) == 1);
    REQUIRE(drain(s, "n1", "v2") == 0 && job_is(s, job3, "done"));
    REQUIRE(ts_store_output(s, job3, TS_VIDEO_FRAME, hash) == 1 && strcmp(hash, "v2:frame-2147483648") == 0);
    REQUIRE(wallet(s, "bob", "balance") == bob - query(s, "SELECT sum(price) FROM tasks WHERE job_id=? AND paid>0 AND "
                                                          "id>(SELECT max(id) FROM tasks WHERE job_id=?1 AND "
                                                          "state='superseded')", job3, 0) &&
            wallet(s, NULL, NULL) == 1);

    /* Jobs that cannot be requeued: cancelled, still probing, not a render. */
    int64_t probing = ts_store_job_create(s, &req2, 0);
    REQUIRE(requeue(s, probing, one, 1, false, &r) == TS_STORE_CONFLICT && strstr(ts_error(), "still probing"));
    REQUIRE(ts_store_job_cancel(s, probing) == 0);
    REQUIRE(requeue(s, probing, one, 1, false, &r) == TS_STORE_CONFLICT && strstr(ts_error(), "was cancelled"));
    ts_store_pieces_job_t pieces = {.type = "transcode", .kind = TS_KIND_SEGMENT, .format = "mp4", .ext = "mp4",
                                    .params = "{}", .per_frame_units = true};
    ts_store_segment_t seg = {.hash = SCENE, .start_pts = INT64_MIN, .end_pts = INT64_MAX, .frames = 10};
    int64_t transcode = ts_store_job_create_pieces(s, &req2, &pieces, &seg, 1);
    REQUIRE(transcode > 0);
    REQUIRE(requeue(s, transcode, one, 1, false, &r) == TS_STORE_INVALID &&
            strstr(ts_error(), "is a transcode job: only render jobs can be requeued"));
    REQUIRE(wallet(s, NULL, NULL) == 1);
    rc = 0;
out:
    free(r.frames);
    if (s)
        ts_store_set_escrow(s, NULL, NULL);
    ts_escrow_destroy(&escrow);
    ts_store_destroy(&s);
    if (ts_test_remove_dir(dir) < 0)
        rc = -1;
    if (verbose || rc)
        fprintf(rc ? stderr : stdout, "ts_store_requeue: %s\n", rc ? "FAILED" : "ok");
    return rc;
}
