/* ts_results_test: self-test of results on their own (a store, a blob store, a callback), and of a job type's whole
   path without the master: a contact sheet created by its type, its thumbnails returned as signed Results, verified,
   and joined into the sheet. */
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_identity.h"
#include "master/ts_jobreq.h"
#include "master/ts_jobtype.h"
#include "master/ts_results.h"
#include "master/ts_verifier.h"
#include "splitter/ts_image.h"
#include "splitter/ts_sheet.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CELL_W 24
#define CELL_H 16
#define IMAGES 3

static void count(void *arg) { (*(int *)arg)++; }

/* A small PNG image blob whose pixels depend on `seed`; its hash. */
static int image_blob(ts_blobs_t *blobs, const char *dir, int seed, char hash[TS_HASH_HEX])
{
    float px[20 * 10 * 3];
    for (int i = 0; i < 20 * 10 * 3; i++)
        px[i] = (float)((i * (seed + 3)) % 11) / 10.0f;
    char path[600];
    snprintf(path, sizeof path, "%s/in%d.png", dir, seed);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = ts_image_write(path, 20, 10, 3, px) == 0 && ts_file_read(path, 0, 1, &data, &len) == 0 &&
                     ts_blobs_put_buf(blobs, data, len, hash) == 0
                 ? 0
                 : -1;
    free(data);
    return rc;
}

/* A Result for task id with output bytes, signed by who (or by a stranger when forged). */
static int result_of(const ts_results_ctx_t *ctx, ts_identity_t *who, ts_identity_t *signer, int64_t id,
                     const char *path, const char *dclass)
{
    Tessera__Result r = TESSERA__RESULT__INIT;
    uint8_t *data = NULL, sig[TS_IDENTITY_SIGNATURE_BYTES];
    size_t len = 0;
    char hash[TS_HASH_HEX];
    if (ts_file_read(path, 0, 1, &data, &len) < 0)
        return -1;
    ts_hash_buf(data, len, hash);
    ts_identity_sign_result(signer, (uint64_t)id, hash, sig);
    r.task_id = (uint64_t)id;
    r.ok = true;
    r.output.data = data;
    r.output.len = len;
    r.output_hash = hash;
    r.signature.data = sig;
    r.signature.len = sizeof sig;
    r.cpu_seconds = 0.5;
    ts_result_origin_t from = {.id = ts_identity_id(who), .key = ts_identity_public(who), .cpu_class = dclass,
                               .gpu_class = dclass};
    int rc = ts_results_accept(ctx, &from, &r);
    free(data);
    return rc;
}

int ts_results_test(bool verbose)
{
    int failures = 0, results_in = 0, kicks = 0;
    char dir[] = "/tmp/ts_results_test.XXXXXX", path[600];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    ts_store_t *s = ts_store_open(path);
    snprintf(path, sizeof path, "%s/blobs", dir);
    ts_blobs_t *blobs = ts_blobs_new(path);
    ts_identity_t *a = ts_identity_new_ephemeral(), *b = ts_identity_new_ephemeral();
    ts_results_ctx_t rc = {.store = s, .blobs = blobs, .max_failures = 3, .task_timeout_s = 600,
                           .result_in = count, .arg = &results_in};
    ts_verifier_ctx_t vc = {.store = s, .blobs = blobs,
                            .policy = {.rates = {.trust = 10, .floor = 0.05, .first = 1}, .quarantine_after = 3, .max_failures = 3},
                            .check_wait_s = 3600, .kick = count, .frame_ready = count, .arg = &kicks, .manual = true};
    ts_verifier_t *v = s && blobs ? ts_verifier_new(&vc) : NULL;
    ts_jobtype_ctx_t jc = {.store = s, .blobs = blobs, .tile_margin = -1};
    ts_job_request_t req = {0};
    TS_TEST_CHECK(s && blobs && a && b && v, "setup: %s", ts_error());
    if (!s || !blobs || !a || !b || !v)
        goto out;
    TS_TEST_CHECK(ts_store_node_seen(s, ts_identity_id(a), "a", "4.0", "[\"CPU\"]", "cpu", "", 2, 1 << 30) == 0 &&
                      ts_store_node_seen(s, ts_identity_id(b), "b", "4.0", "[\"CPU\"]", "cpu", "", 2, 1 << 30) == 0,
                  "nodes");

    /* a contact sheet of three images, created by its type from a parsed request */
    char body[2048], hashes[IMAGES][TS_HASH_HEX];
    int at = snprintf(body, sizeof body, "{\"type\":\"contactsheet\",\"columns\":2,\"cell\":\"%dx%d\",\"inputs\":[",
                      CELL_W, CELL_H);
    for (int i = 0; i < IMAGES; i++) {
        TS_TEST_CHECK(image_blob(blobs, dir, i, hashes[i]) == 0, "image %d: %s", i, ts_error());
        at += snprintf(body + at, sizeof body - (size_t)at, "%s{\"name\":\"shot%d.png\",\"hash\":\"%s\"}", i ? "," : "",
                       i, hashes[i]);
    }
    snprintf(body + at, sizeof body - (size_t)at, "]}");
    bool input_error = false;
    int64_t job = -1;
    if (ts_jobreq_parse(body, strlen(body), &req) == 0)
        job = ts_jobtype_find("contactsheet")->create(&jc, &req, &input_error);
    TS_TEST_CHECK(job > 0, "contact sheet created: %s", ts_error());

    /* node a takes every thumbnail; results that are not its to give, or forged, are refused */
    ts_task_t t[IMAGES];
    int got = ts_store_assign(s, ts_identity_id(a), "4.0", false, NULL, 3, t, IMAGES);
    TS_TEST_CHECK(got == IMAGES && t[0].kind == TS_KIND_THUMB && t[0].x1 == CELL_W && t[0].y1 == CELL_H &&
                      strcmp(t[0].input_hash, hashes[0]) == 0,
                  "assigned %d thumbnails", got);
    if (got != IMAGES)
        goto out;
    char thumb[IMAGES][600];
    for (int i = 0; i < IMAGES; i++) {
        char in[600];
        ts_blobs_path(blobs, t[i].input_hash, in, sizeof in);
        snprintf(thumb[i], sizeof thumb[i], "%s/thumb%d.png", dir, i);
        TS_TEST_CHECK(ts_sheet_thumb(in, CELL_W, CELL_H, thumb[i]) == 0, "thumb %d: %s", i, ts_error());
    }
    TS_TEST_CHECK(result_of(&rc, b, b, t[0].id, thumb[0], "cpu-a") == -1 && strstr(ts_error(), "another node"),
                  "a result from a node the task is not assigned to: %s", ts_error());
    TS_TEST_CHECK(result_of(&rc, a, b, t[0].id, thumb[0], "cpu-a") == -1 && strstr(ts_error(), "signature"),
                  "a result signed by another key: %s", ts_error());
    TS_TEST_CHECK(result_of(&rc, a, a, 999999, thumb[0], "cpu-a") == -1 && strstr(ts_error(), "unknown task"),
                  "a result for no task: %s", ts_error());
    /* the forged one counted as a failure and put the task back: a takes it again */
    ts_task_t again;
    TS_TEST_CHECK(ts_store_assign(s, ts_identity_id(a), "4.0", false, NULL, 3, &again, 1) == 1 && again.id == t[0].id,
                  "the refused task is queued again");
    for (int i = 0; i < IMAGES; i++)
        TS_TEST_CHECK(result_of(&rc, a, a, t[i].id, thumb[i], "cpu-a") == 0, "thumb %d taken: %s", i, ts_error());
    TS_TEST_CHECK(results_in == IMAGES, "the verifier was told of %d results", results_in);

    /* a is new: the verifier samples each thumbnail for a check by b, who makes the same thumbnails */
    ts_verifier_pass(v);
    ts_task_t checks[IMAGES];
    got = ts_store_assign(s, ts_identity_id(b), "4.0", false, NULL, 3, checks, IMAGES);
    TS_TEST_CHECK(got == IMAGES && checks[0].check_of != 0, "%d checks for b", got);
    for (int i = 0; i < got; i++) {
        int k = 0;
        while (k < IMAGES && t[k].id != checks[i].check_of)
            k++;
        TS_TEST_CHECK(k < IMAGES && result_of(&rc, b, b, checks[i].id, thumb[k], "cpu-a") == 0, "check %d: %s", i,
                      ts_error());
    }
    ts_verifier_pass(v);

    /* every thumbnail accepted: the type joins them into the sheet, the job's one output */
    ts_job_t j;
    int64_t jobs[4];
    int frames[4];
    int n = ts_store_frames_to_stitch(s, jobs, frames, 4);
    TS_TEST_CHECK(n == 1 && jobs[0] == job && frames[0] == 0, "%d frames to join", n);
    TS_TEST_CHECK(ts_store_job_get(s, job, &j) == 1 && ts_jobtype_find(j.type)->join(&jc, &j, 0) == 0,
                  "join: %s", ts_error());
    char out[TS_HASH_HEX], sheet[600], local[600];
    TS_TEST_CHECK(ts_store_output(s, job, 0, out) == 1, "the sheet is stored");
    ts_blobs_path(blobs, out, sheet, sizeof sheet);
    snprintf(local, sizeof local, "%s/local.png", dir);
    const char *list[IMAGES] = {thumb[0], thumb[1], thumb[2]};
    ts_pixdiff_t d;
    TS_TEST_CHECK(ts_sheet_compose(list, IMAGES, 2, CELL_W, CELL_H, local) == 0 &&
                      ts_image_compare_as(sheet, local, "png", 0, &d) == 0 && d.pixels_over == 0,
                  "the joined sheet is the thumbnails in order: %s", ts_error());
    TS_TEST_CHECK(ts_store_job_get(s, job, &j) == 1 && strcmp(j.state, "done") == 0, "job %s", j.state);
    char name[64];
    ts_jobtype_output_name(&j, 0, name, sizeof name);
    TS_TEST_CHECK(strcmp(name, "sheet.png") == 0, "output name %s", name);
    json_t *inputs = ts_store_job_inputs_json(s, job);
    TS_TEST_CHECK(json_array_size(inputs) == IMAGES &&
                      strcmp(json_string_value(json_object_get(json_array_get(inputs, 2), "name")), "shot2.png") == 0,
                  "the manifest");
    json_decref(inputs);
    if (verbose)
        printf("  results: a contact sheet of %d images created, verified and joined without a master\n", IMAGES);
out:
    ts_job_request_free(&req);
    ts_verifier_destroy(&v);
    ts_identity_destroy(&a);
    ts_identity_destroy(&b);
    ts_blobs_destroy(&blobs);
    ts_store_destroy(&s);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "ts_results_test: could not remove %s\n", dir);
    return failures ? -1 : 0;
}
