/* ts_store_verify_test: self-test of the store's verification: sampling, checks, tie-breaks, blocks, quarantine. */
#include "lib/ts_error.h"
#include "master/ts_store.h"
#include "tests/ts_test.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(cond) TS_TEST_REQUIRE(cond)

#define N1 "1111111111111111111111111111111111111111111111111111111111111111"
#define N2 "2222222222222222222222222222222222222222222222222222222222222222"
#define N3 "3333333333333333333333333333333333333333333333333333333333333333"
#define N4 "4444444444444444444444444444444444444444444444444444444444444444"
#define H(c) c "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char *task_state(ts_store_t *s, int64_t id, char *buf)
{
    ts_task_t t;
    if (ts_store_task_get(s, id, &t) != 1)
        return "?";
    snprintf(buf, 40, "%s/%s", t.state, t.verify);
    return buf;
}

/* The node's entry in nodes_json. */
static json_t *node_json(ts_store_t *s, const char *id)
{
    json_t *all = ts_store_nodes_json(s, &(ts_check_rates_t){.trust = 10, .floor = 0.05, .first = 1}), *found = NULL;
    size_t i;
    json_t *n;
    json_array_foreach(all, i, n) if (strcmp(json_string_value(json_object_get(n, "id")), id) == 0) found =
        json_incref(n);
    json_decref(all);
    return found;
}

static bool node_is(ts_store_t *s, const char *id, const char *state, int cv, int passed, int failed)
{
    json_t *n = node_json(s, id);
    bool ok = n && strcmp(json_string_value(json_object_get(n, "state")), state) == 0 &&
              json_integer_value(json_object_get(n, "reputation")) == cv &&
              json_integer_value(json_object_get(n, "checks_passed")) == passed &&
              json_integer_value(json_object_get(n, "checks_failed")) == failed;
    if (!ok && n) {
        char *text = json_dumps(n, JSON_COMPACT);
        fprintf(stderr, "ts_store_verify: node %.4s: %s\n", id, text);
        free(text);
    }
    json_decref(n);
    return ok;
}

static int checks_failed(ts_store_t *s, const char *id)
{
    json_t *n = node_json(s, id);
    int f = n ? (int)json_integer_value(json_object_get(n, "checks_failed")) : -1;
    json_decref(n);
    return f;
}

/* A result from node for task id, in and judged valid with draw. */
static int result(ts_store_t *s, int64_t id, const char *node, const char *hash, double draw,
                  const ts_check_policy_t *p, ts_verdict_t *v)
{
    if (ts_store_result_in(s, id, node, hash, 100, "cpu-a", 1.0) != 1)
        return -1;
    return ts_store_result_valid(s, id, draw, p, v);
}

/* Assigns one task of the queue to node; its id, or 0. */
static int64_t take(ts_store_t *s, const char *node)
{
    ts_task_t t;
    return ts_store_assign(s, node, "4.0", false, NULL, 3, &t, 1) == 1 ? t.id : 0;
}

/* Nodes N1..N3 seen by the store, and a render request of one frame in tiles_x x 1 tiles. 0, or -1. */
static int seed(ts_store_t *s, int tiles_x, ts_job_request_t *req)
{
    static const char *const nodes[][2] = {{N1, "one"}, {N2, "two"}, {N3, "three"}};
    for (int i = 0; i < 3; i++)
        if (ts_store_node_seen(s, nodes[i][0], nodes[i][1], "4.0", "[\"CPU\"]", "cpu", "", 2, 1 << 30) != 0)
            return -1;
    *req = (ts_job_request_t){.frame_start = 1, .frame_end = 1, .tiles_x = tiles_x, .tiles_y = 1};
    strcpy(req->scene, H("b"));
    strcpy(req->scene_name, "x.blend");
    strcpy(req->format, "png");
    strcpy(req->device, "cpu");
    return 0;
}

/* A tile's check re-renders a random window of a quarter of its pixels, its tie-break the same window; a node that
   window checks find out is not replaced by a window: the tile is done again. Store in dir/w.db. */
static int window_checks(const char *dir)
{
    int failures = 0, rc = -1;
    char path[256];
    snprintf(path, sizeof path, "%s/w.db", dir);
    ts_store_t *s = ts_store_open(path);
    REQUIRE(s);
    ts_job_request_t req;
    REQUIRE(seed(s, 2, &req) == 0);
    int64_t job = ts_store_job_create(s, &req, 0), probe;
    ts_scene_facts_t facts = {.width = 100, .height = 40, .frame_start = 1, .frame_end = 1};
    strcpy(facts.ext, "png");
    ts_store_rect_t rects[2] = {{0, 0, 64, 40}, {64, 0, 100, 40}};
    REQUIRE(job > 0 && (probe = take(s, N1)) > 0 && ts_store_probe_done(s, probe, N1) == 0 &&
            ts_store_job_plan(s, job, &facts, rects, 2) == 0);
    ts_check_policy_t p = {.rates = {.trust = 10, .floor = 0.05, .first = 1}, .area = 0.25, .quarantine_after = 9,
                           .max_failures = 3};
    ts_verdict_t v;
    ts_task_t o, c, t;
    int64_t t0 = take(s, N1), t1 = take(s, N1);
    REQUIRE(t0 > 0 && t1 > 0 && ts_store_task_get(s, t0, &o) == 1 && o.x1 - o.x0 == 64);
    REQUIRE(result(s, t0, N1, H("0"), 0, &p, &v) == 0 && v.sampled);
    int64_t c0 = take(s, N2);
    /* 64x40: half of each side, 32x20, inside the tile */
    REQUIRE(c0 > 0 && ts_store_task_get(s, c0, &c) == 1 && c.check_of == t0 && c.x1 - c.x0 == 32 &&
            c.y1 - c.y0 == 20 && c.x0 >= o.x0 && c.x1 <= o.x1 && c.y0 >= o.y0 && c.y1 <= o.y1);
    REQUIRE(ts_store_result_in(s, c0, N2, H("1"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_settle(s, c0, 0, "differs", &p, &v) == 0 && v.sampled);
    int64_t c1 = take(s, N3);
    REQUIRE(c1 > 0 && ts_store_task_get(s, c1, &t) == 1 && t.check_of == t0 && t.x0 == c.x0 && t.y0 == c.y0 &&
            t.x1 == c.x1 && t.y1 == c.y1); /* the tie-break re-does the same window */
    REQUIRE(ts_store_result_in(s, c1, N3, H("1"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_settle(s, c1, TS_AGREES_DISPUTED, "differs", &p, &v) == 0 && v.punished == 1 &&
            !strcmp(v.punished_node[0], N1));
    /* the window cannot stand for the tile: it is queued again, for anyone but the node found out */
    REQUIRE(ts_store_task_get(s, t0, &o) == 1 && !strcmp(o.state, "queued") && !o.result[0]);
    REQUIRE(take(s, N1) == 0 && take(s, N2) == t0);
    /* the tile done again is checked again; a narrower tile gets half of each side too (at least 16 pixels) */
    REQUIRE(ts_store_result_in(s, t1, N1, H("2"), 100, "cpu-a", 1) == 0); /* N1 is blocked for the job */
    REQUIRE(result(s, t0, N2, H("3"), 0, &p, &v) == 0 && v.sampled);
    int64_t t1b = take(s, N2), c2 = take(s, N3);
    REQUIRE(t1b == t1 && c2 > 0 && ts_store_task_get(s, c2, &c) == 1 && c.check_of == t0 && c.x1 - c.x0 == 32);
    REQUIRE(result(s, t1, N2, H("4"), 0, &p, &v) == 0 && v.sampled);
    int64_t c3 = take(s, N3);
    REQUIRE(c3 > 0 && ts_store_task_get(s, c3, &c) == 1 && c.check_of == t1 && c.x1 - c.x0 == 18 &&
            c.y1 - c.y0 == 20);
    rc = 0;
out:
    ts_store_destroy(&s);
    return failures ? -1 : rc;
}

int ts_store_verify_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts_store_verify_test.XXXXXX", path[256], b[40];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    int rc = -1;
    ts_store_t *s = ts_store_open(path);
    REQUIRE(s);

    ts_job_request_t req;
    REQUIRE(seed(s, 4, &req) == 0);
    int64_t job = ts_store_job_create(s, &req, 0);
    REQUIRE(job > 0);
    int64_t probe = take(s, N1);
    ts_scene_facts_t facts = {.width = 8, .height = 2, .frame_start = 1, .frame_end = 1};
    strcpy(facts.ext, "png");
    ts_store_rect_t rects[4] = {{0, 0, 2, 2}, {2, 0, 4, 2}, {4, 0, 6, 2}, {6, 0, 8, 2}};
    REQUIRE(probe > 0 && ts_store_probe_done(s, probe, N1) == 0 && ts_store_job_plan(s, job, &facts, rects, 4) == 0);
    ts_check_policy_t p = {.rates = {.trust = 10, .floor = 0.05, .first = 1}, .quarantine_after = 2, .max_failures = 3};
    ts_check_policy_t never = p;
    never.rates.floor = 0;
    ts_verdict_t v;

    /* A result is taken only from the node the task is assigned to, and waits for the verifier. */
    int64_t t0 = take(s, N1), t1 = take(s, N1), t2 = take(s, N1);
    REQUIRE(t0 && t1 && t2);
    REQUIRE(ts_store_result_in(s, t0, N2, H("0"), 100, "cpu-a", 1) == 0);
    int64_t ids[8];
    REQUIRE(ts_store_result_in(s, t0, N1, H("0"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_results_to_verify(s, ids, 8) == 1 && ids[0] == t0);
    /* A result that fails its checks goes back with a failure; the node's run restarts. */
    REQUIRE(ts_store_result_invalid(s, t0, "does not decode", &p) == 0);
    REQUIRE(strcmp(task_state(s, t0, b), "queued/") == 0);
    REQUIRE(take(s, N1) == t0);

    /* A new node is always checked (rate 1): the task waits, a check task goes to another node, never its own. */
    REQUIRE(result(s, t0, N1, H("0"), 0.999, &p, &v) == 0 && v.sampled && !v.frame_complete);
    REQUIRE(strcmp(task_state(s, t0, b), "checking/pending") == 0);
    int64_t t3 = take(s, N1);
    REQUIRE(t3 > 0 && t3 != t0);             /* the fourth tile, not the check */
    REQUIRE(take(s, N1) == 0);               /* the check is not for the node that did the work */
    int64_t c0 = take(s, N2);
    ts_task_t c, o, d;
    REQUIRE(c0 > 0 && ts_store_task_get(s, c0, &c) == 1 && c.check_of == t0 && c.tile == 0);
    REQUIRE(ts_store_result_in(s, c0, N2, H("0"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_parties(s, c0, &o, &d) == 1 && o.id == t0 && d.id == 0 && !strcmp(o.result, H("0")));
    REQUIRE(ts_store_check_settle(s, c0, TS_AGREES_ORIGINAL, "", &p, &v) == 0 && v.punished == 0);
    REQUIRE(strcmp(task_state(s, t0, b), "done/passed") == 0);
    REQUIRE(node_is(s, N1, "busy", 1, 1, 0) && node_is(s, N2, "online", 1, 1, 0));

    /* Accepted unchecked when not sampled. */
    REQUIRE(result(s, t2, N1, H("2"), 0.5, &never, &v) == 0 && !v.sampled);
    REQUIRE(strcmp(task_state(s, t2, b), "done/unchecked") == 0);

    /* Two results disagree: nobody is punished; a third node decides, not either of the two. */
    REQUIRE(result(s, t1, N1, H("1"), 0, &p, &v) == 0 && v.sampled);
    int64_t c1 = take(s, N2);
    REQUIRE(c1 > 0 && ts_store_result_in(s, c1, N2, H("9"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_settle(s, c1, 0, "differs", &p, &v) == 0 && v.punished == 0 && v.sampled);
    REQUIRE(strcmp(task_state(s, t1, b), "checking/tiebreak") == 0);
    REQUIRE(node_is(s, N1, "busy", 2, 1, 0) && node_is(s, N2, "online", 1, 1, 0));
    REQUIRE(take(s, N2) == 0);
    int64_t c1b = take(s, N3);
    REQUIRE(c1b > 0 && ts_store_result_in(s, c1b, N3, H("9"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_parties(s, c1b, &o, &d) == 1 && o.id == t1 && d.id == c1 && !strcmp(d.result, H("9")));
    /* The tie-break sides with the check: the original node is punished, the task keeps the confirmed result,
       and the node's unchecked result in the job (t2) and its work in flight (t3) are re-queued. */
    REQUIRE(ts_store_check_settle(s, c1b, TS_AGREES_DISPUTED, "1 sample", &p, &v) == 0);
    REQUIRE(v.punished == 1 && !strcmp(v.punished_node[0], N1) && v.requeued == 2 && !v.quarantined);
    REQUIRE(ts_store_task_get(s, t1, &o) == 1 && !strcmp(o.state, "done") && !strcmp(o.result, H("9")) &&
            !strcmp(o.node, N2));
    REQUIRE(strcmp(task_state(s, t2, b), "queued/") == 0 && strcmp(task_state(s, t3, b), "queued/") == 0);
    REQUIRE(strcmp(task_state(s, t0, b), "done/passed") == 0);   /* checked work stands */
    REQUIRE(node_is(s, N1, "blocked", 0, 1, 1) && node_is(s, N2, "online", 2, 2, 0) &&
            node_is(s, N3, "online", 1, 1, 0));
    REQUIRE(take(s, N1) == 0);                                    /* blocked for the job */
    REQUIRE(ts_store_result_in(s, t3, N1, H("3"), 100, "cpu-a", 1) == 0); /* its re-queued work is not taken back */

    /* The rest of the frame by honest nodes; the frame completes only when every tile is done. */
    int64_t a = take(s, N2), bb = take(s, N3);
    REQUIRE(a && bb && a != bb);
    REQUIRE(result(s, a, N2, H("a"), 0.5, &never, &v) == 0 && !v.frame_complete);
    REQUIRE(result(s, bb, N3, H("b"), 0.5, &never, &v) == 0 && v.frame_complete);
    char hashes[4][TS_HASH_HEX];
    REQUIRE(ts_store_frame_tiles(s, job, 1, TS_KIND_TILE, hashes, 4) == 0 && !strcmp(hashes[1], H("9")));
    json_t *jj = ts_store_job_json(s, job);
    REQUIRE(jj && json_integer_value(json_object_get(jj, "tasks_done")) == 5 &&
            json_integer_value(json_object_get(jj, "checks_done")) == 3); /* probe + 4 tiles; 2 checks + 1 tie-break */
    json_decref(jj);

    /* Blocked on a second job: quarantined farm-wide (quarantine_after 2); an operator lifts it. */
    int64_t job2 = ts_store_job_create(s, &req, 0);
    REQUIRE(job2 > 0 && (probe = take(s, N2)) > 0 && ts_store_probe_done(s, probe, N2) == 0 &&
            ts_store_job_plan(s, job2, &facts, rects, 4) == 0);
    int64_t u0 = take(s, N1);
    REQUIRE(u0 > 0 && result(s, u0, N1, H("c"), 0, &p, &v) == 0 && v.sampled);
    int64_t cu = take(s, N2);
    REQUIRE(cu > 0 && ts_store_result_in(s, cu, N2, H("d"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_settle(s, cu, 0, "differs", &p, &v) == 0);
    int64_t cu3 = take(s, N3);
    REQUIRE(cu3 > 0 && ts_store_result_in(s, cu3, N3, H("d"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_settle(s, cu3, TS_AGREES_DISPUTED, "differs", &p, &v) == 0 && v.quarantined);
    REQUIRE(node_is(s, N1, "quarantined", 0, 1, 2));
    int64_t job3 = ts_store_job_create(s, &req, 0);
    REQUIRE(job3 > 0 && take(s, N1) == 0);                        /* no work at all */
    REQUIRE(ts_store_node_lift(s, N1) == 0 && ts_store_node_lift(s, N1) == TS_STORE_NOT_QUARANTINED &&
            ts_store_node_lift(s, N3 "x") == TS_STORE_UNKNOWN);
    int64_t p3 = take(s, N1);                                   /* job3's probe: N1 is blocked on jobs 1 and 2 only */
    REQUIRE(node_is(s, N1, "blocked", 0, 1, 2) && p3 > 0);
    REQUIRE(ts_store_probe_done(s, p3, N1) == 0 && ts_store_job_plan(s, job3, &facts, rects, 4) == 0);

    /* Three answers: nobody is punished, the task is done again with a failure counted. */
    REQUIRE(ts_store_node_seen(s, N4, "four", "4.0", "[\"CPU\"]", "cpu", "", 2, 1 << 30) == 0);
    int64_t w0 = take(s, N2);
    REQUIRE(w0 > 0 && ts_store_task_get(s, w0, &o) == 1 && o.job_id == job2);
    REQUIRE(result(s, w0, N2, H("e"), 0, &p, &v) == 0 && v.sampled);
    int64_t cw = take(s, N3);
    REQUIRE(cw > 0 && ts_store_task_get(s, cw, &c) == 1 && c.check_of == w0);
    REQUIRE(ts_store_result_in(s, cw, N3, H("f"), 100, "cpu-a", 1) == 1 &&
            ts_store_check_settle(s, cw, 0, "x", &p, &v) == 0);
    int64_t cw4 = take(s, N4);
    REQUIRE(cw4 > 0 && ts_store_task_get(s, cw4, &c) == 1 && c.check_of == w0);
    REQUIRE(ts_store_result_in(s, cw4, N4, H("7"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_settle(s, cw4, 0, "x", &p, &v) == 0 && v.punished == 0);
    REQUIRE(ts_store_task_get(s, w0, &o) == 1 && !strcmp(o.state, "queued") && o.failures == 1);
    REQUIRE(checks_failed(s, N2) == 0 && checks_failed(s, N3) == 0 && checks_failed(s, N4) == 0);

    /* A check nobody else may take expires: the task is accepted unchecked. */
    REQUIRE(ts_store_node_state(s, N3, "offline") == 0 && ts_store_node_state(s, N4, "offline") == 0);
    int64_t x0 = take(s, N1);
    REQUIRE(x0 > 0 && ts_store_task_get(s, x0, &o) == 1 && o.job_id == job3 && o.kind == TS_KIND_TILE);
    REQUIRE(result(s, x0, N1, H("5"), 0, &p, &v) == 0 && v.sampled);   /* N2 is online */
    REQUIRE(ts_store_node_state(s, N2, "offline") == 0);
    REQUIRE(ts_store_checks_expire(s, 3600, &p, &v) == 0);            /* not yet */
    REQUIRE(ts_store_checks_expire(s, 0, &p, &v) == 1);
    REQUIRE(strcmp(task_state(s, x0, b), "done/unchecked") == 0);
    /* ... and with no other node online at all, nothing is sampled */
    int64_t x1 = take(s, N1);
    REQUIRE(x1 > 0 && result(s, x1, N1, H("6"), 0, &p, &v) == 0 && !v.sampled);

    /* Two nodes disagree and no third may take the tie-break: after the wait the dispute is left unresolved,
       nobody punished, the piece keeps the result of the longer run and the job goes on. */
    REQUIRE(ts_store_node_state(s, N2, "online") == 0);
    int64_t x2 = take(s, N1);
    REQUIRE(x2 > 0 && result(s, x2, N1, H("8"), 0, &p, &v) == 0 && v.sampled);
    int64_t cx = take(s, N2);
    for (int i = 0; i < 4 && cx > 0 && ts_store_task_get(s, cx, &c) == 1 && c.check_of != x2; i++) {
        REQUIRE(result(s, cx, N2, H("c"), 0.5, &never, &v) == 0); /* the job's other tiles come first */
        cx = take(s, N2);
    }
    REQUIRE(cx > 0 && ts_store_result_in(s, cx, N2, H("4"), 100, "cpu-a", 1) == 1);
    REQUIRE(ts_store_check_settle(s, cx, 0, "differs", &p, &v) == 0 && v.sampled);
    REQUIRE(strcmp(task_state(s, x2, b), "checking/tiebreak") == 0);
    json_t *n1 = node_json(s, N1), *n2 = node_json(s, N2);
    int run1 = (int)json_integer_value(json_object_get(n1, "reputation"));
    int run2 = (int)json_integer_value(json_object_get(n2, "reputation"));
    json_decref(n1);
    json_decref(n2);
    int failed1 = checks_failed(s, N1), failed2 = checks_failed(s, N2);
    REQUIRE(ts_store_checks_expire(s, 3600, &p, &v) == 0 && strcmp(task_state(s, x2, b), "checking/tiebreak") == 0);
    REQUIRE(ts_store_checks_expire(s, 0, &p, &v) == 1 && v.unresolved == 1 && v.punished == 0);
    REQUIRE(strcmp(task_state(s, x2, b), "done/disputed") == 0);
    REQUIRE(ts_store_task_get(s, x2, &o) == 1 && !strcmp(o.result, run2 > run1 ? H("4") : H("8")) &&
            !strcmp(o.node, run2 > run1 ? N2 : N1));
    REQUIRE(checks_failed(s, N1) == failed1 && checks_failed(s, N2) == failed2);
    REQUIRE(ts_store_task_get(s, cx, &c) == 1 && !strcmp(c.verify, "unresolved"));
    json_t *jc = ts_store_job_checks_json(s, job3);
    REQUIRE(jc && json_integer_value(json_object_get(jc, "disputes_unresolved")) == 1 &&
            json_integer_value(json_object_get(jc, "disputes_open")) == 0);
    json_decref(jc);
    REQUIRE(window_checks(dir) == 0);
    if (verbose)
        printf("  verify: sampling, checks, tie-breaks, blocks, quarantine, lift, expiry, unresolved disputes, "
               "window checks\n");
    rc = 0;
out:
    ts_store_destroy(&s);
    if (ts_test_remove_dir(dir) < 0)
        rc = -1;
    return rc;
}
