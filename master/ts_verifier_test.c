/* ts_verifier_test: self-test of the verifier thread's pass on its own (a store, a blob store, two callbacks). */
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "master/ts_verifier.h"
#include "splitter/ts_image.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SCENE "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define TILE_W 10
#define TILE_H 10
#define MAX_TASK_ID 200 /* more than this test ever creates */

typedef struct {
    int kicks, frames_ready;
} calls_t;

static void kick(void *arg) { ((calls_t *)arg)->kicks++; }
static void frame_ready(void *arg) { ((calls_t *)arg)->frames_ready++; }

/* A TILE_W x TILE_H RGBA EXR blob whose first `changed` pixels are raised by `by`; its hash. */
static int tile_blob(ts_blobs_t *blobs, const char *dir, int changed, float by, char hash[TS_HASH_HEX])
{
    float px[TILE_W * TILE_H * 4];
    for (int i = 0; i < TILE_W * TILE_H; i++)
        for (int c = 0; c < 4; c++)
            px[i * 4 + c] = (c == 3 ? 1.0f : 0.25f) + (i < changed && c < 3 ? by : 0.0f);
    char path[512];
    snprintf(path, sizeof path, "%s/tile.exr", dir);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = ts_image_write(path, TILE_W, TILE_H, 4, px) == 0 && ts_file_read(path, 0, 1, &data, &len) == 0 &&
                     ts_blobs_put_buf(blobs, data, len, hash) == 0
                 ? 0
                 : -1;
    free(data);
    return rc;
}

/* A one-tile render job, planned, with adaptive sampling (noisy) or not; its id. */
static int64_t one_tile_job(ts_store_t *s, bool noisy)
{
    ts_job_request_t req = {.frame_start = 1, .frame_end = 1, .tiles_x = 1, .tiles_y = 1};
    strcpy(req.scene, SCENE);
    strcpy(req.scene_name, "x.blend");
    strcpy(req.format, "exr");
    strcpy(req.device, "cpu");
    int64_t job = ts_store_job_create(s, &req, 0);
    ts_task_t probe;
    if (job <= 0 || ts_store_assign(s, NA, "4.0", false, NULL, 3, &probe, 1) != 1 ||
        ts_store_probe_done(s, probe.id, NA) != 0)
        return -1;
    ts_scene_facts_t facts = {.width = TILE_W, .height = TILE_H, .frame_start = 1, .frame_end = 1, .adaptive = noisy};
    strcpy(facts.ext, "exr");
    ts_store_rect_t rect = {0, 0, TILE_W, TILE_H};
    return ts_store_job_plan(s, job, &facts, &rect, 1) == 0 ? job : -1;
}

/* The state/verify of the job's tile. */
static const char *tile_state(ts_store_t *s, int64_t job, char *buf)
{
    ts_task_t t;
    snprintf(buf, 40, "?");
    for (int64_t id = 1; id < MAX_TASK_ID; id++)
        if (ts_store_task_get(s, id, &t) == 1 && t.job_id == job && t.kind == TS_KIND_TILE && t.check_of == 0)
            snprintf(buf, 40, "%s/%s", t.state, t.verify);
    return buf;
}

/* Node takes the job's next task and returns blob hash as its result. */
static int work(ts_store_t *s, const char *node, const char *hash)
{
    ts_task_t t;
    if (ts_store_assign(s, node, "4.0", false, NULL, 3, &t, 1) != 1)
        return -1;
    return ts_store_result_in(s, t.id, node, hash, 1000, "cpu-a", 1.0) == 1 ? 0 : -1;
}

int ts_verifier_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts_verifier_test.XXXXXX", path[600], b[40];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    ts_store_t *s = ts_store_open(path);
    snprintf(path, sizeof path, "%s/blobs", dir);
    ts_blobs_t *blobs = ts_blobs_new(path);
    calls_t calls = {0};
    ts_verifier_ctx_t ctx = {.store = s,
                             .blobs = blobs,
                             .policy = {.rates = {.trust = 10, .floor = 0.05, .first = 1}, .quarantine_after = 3, .max_failures = 3},
                             .check_wait_s = 3600,
                             .kick = kick,
                             .frame_ready = frame_ready,
                             .arg = &calls,
                             .manual = true};
    ts_verifier_t *v = NULL;
    char same[TS_HASH_HEX], noisy[TS_HASH_HEX], cheat[TS_HASH_HEX], junk[TS_HASH_HEX];
    TS_TEST_CHECK(s && blobs, "store and blobs: %s", ts_error());
    if (!s || !blobs)
        goto out;
    /* the verifier links and runs with only its context (no master), as a thread or pass by pass */
    ts_verifier_ctx_t threaded = ctx;
    threaded.manual = false;
    v = ts_verifier_new(&threaded);
    TS_TEST_CHECK(v != NULL, "new: %s", ts_error());
    ts_verifier_destroy(&v);
    TS_TEST_CHECK(ts_store_node_seen(s, NA, "a", "4.0", "[\"CPU\"]", "cpu", "", 2, 1 << 30) == 0 &&
                      ts_store_node_seen(s, NB, "b", "4.0", "[\"CPU\"]", "cpu", "", 2, 1 << 30) == 0,
                  "nodes");
    TS_TEST_CHECK(tile_blob(blobs, dir, 0, 0, same) == 0 && tile_blob(blobs, dir, 5, 1e-3f, noisy) == 0 &&
                      tile_blob(blobs, dir, 60, 0.5f, cheat) == 0 && ts_blobs_put_buf(blobs, "junk", 4, junk) == 0,
                  "blobs: %s", ts_error());

    /* a result that does not decode is refused: the tile goes back to the queue */
    int64_t job = one_tile_job(s, false);
    TS_TEST_CHECK(job > 0 && work(s, NA, junk) == 0, "job 1: %s", ts_error());
    ts_verifier_t *pass = ts_verifier_new(&ctx);
    TS_TEST_CHECK(pass != NULL, "verifier");
    if (!pass)
        goto out;
    ts_verifier_pass(pass);
    TS_TEST_CHECK(strcmp(tile_state(s, job, b), "queued/") == 0 && calls.kicks >= 1, "junk refused: %s", b);

    /* a valid result of a new node is checked by the other; identical: passed, the frame is ready */
    TS_TEST_CHECK(work(s, NA, same) == 0, "tile again");
    ts_verifier_pass(pass);
    TS_TEST_CHECK(strcmp(tile_state(s, job, b), "checking/pending") == 0, "sampled: %s", b);
    TS_TEST_CHECK(work(s, NB, same) == 0, "check");
    int ready = calls.frames_ready;
    ts_verifier_pass(pass);
    TS_TEST_CHECK(strcmp(tile_state(s, job, b), "done/passed") == 0 && calls.frames_ready == ready + 1,
                  "check agreed: %s, frames ready %d", b, calls.frames_ready);

    /* adaptive sampling on (a noisy renderer): 5 of 100 pixels off by 1e-3 agree (5 <= 16 allowed); the same
       difference without adaptive sampling is a dispute; 60 pixels off by 0.5 is one in any job */
    static const struct {
        bool noisy;
        const char *check, *want, *what;
    } rounds[] = {{true, "noisy", "done/passed", "noise tolerated"},
                  {false, "noisy", "checking/tiebreak", "exact rule disputes"},
                  {true, "cheat", "checking/tiebreak", "a cheat is disputed"}};
    for (size_t i = 0; i < sizeof rounds / sizeof rounds[0]; i++) {
        int64_t j = one_tile_job(s, rounds[i].noisy);
        TS_TEST_CHECK(j > 0 && work(s, NA, same) == 0, "%s: job", rounds[i].what);
        ts_verifier_pass(pass);
        TS_TEST_CHECK(work(s, NB, strcmp(rounds[i].check, "cheat") == 0 ? cheat : noisy) == 0, "%s: check",
                      rounds[i].what);
        ts_verifier_pass(pass);
        TS_TEST_CHECK(strcmp(tile_state(s, j, b), rounds[i].want) == 0, "%s: %s", rounds[i].what, b);
    }
    ts_verifier_destroy(&pass);
    if (verbose)
        printf("  verifier: refusal, check, noise rule, exact rule, dispute; no master\n");
out:
    ts_verifier_destroy(&v);
    ts_blobs_destroy(&blobs);
    ts_store_destroy(&s);
    ts_file_remove_dir(dir);
    return failures ? -1 : 0;
}
