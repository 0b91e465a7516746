/* ts_verifier: the master's thread that checks every result before it counts, samples spot checks and settles them.
   DESIGN: the reactor only checks a result's signature and stores its output; the task then waits in state
   'verifying'. This thread decodes the output (ts_check), refuses what is not as planned, and for ordinary work
   draws against the node's spot-check rate (ts_check_rate) whether another node re-does it. A check's result is
   compared with the one it checks, a tie-break's with both. The store keeps every step, so a restarted master
   picks up where it was. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_worker.h"
#include "master/ts_check.h"
#include "master/ts_verifier.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_BATCH 16
#define IDLE_WAIT_S 1
#define DRAW_RESOLUTION (1u << 30)

struct ts_verifier {
    ts_verifier_ctx_t ctx;
    ts_worker_t *worker;
};

static double draw(void)
{
    return (double)randombytes_uniform(DRAW_RESOLUTION) / (double)DRAW_RESOLUTION;
}

static void report(const ts_verifier_ctx_t *m, const ts_task_t *t, const ts_verdict_t *v, const char *detail)
{
    for (int i = 0; i < v->punished && i < 2; i++)
        ts_warn("node %.12s failed a check on task %lld of job %lld (%s): blocked for the job, %d result(s) of it "
                "re-queued%s",
                v->punished_node[i], (long long)t->id, (long long)t->job_id, detail, v->requeued,
                v->quarantined ? "; quarantined" : "");
    if (v->frame_complete)
        m->frame_ready(m->arg);
}

static void verify_check(const ts_verifier_ctx_t *m, const ts_job_t *job, const ts_task_t *c)
{
    const ts_check_policy_t *p = &m->policy;
    ts_store_t *store = m->store;
    ts_task_t o, d;
    int rc = ts_store_check_parties(store, c->id, &o, &d);
    if (rc <= 0) {
        if (rc < 0)
            ts_err("check %lld: %s", (long long)c->id, ts_error());
        ts_store_check_drop(store, c->id);
        return;
    }
    char detail[512] = "", other[512] = "";
    ts_task_facts_t fo, fc, fd;
    ts_blobs_t *blobs = m->blobs;
    int a = ts_task_facts(blobs, job, &o, &fo, detail, sizeof detail) < 0 ||
                    ts_task_facts(blobs, job, c, &fc, detail, sizeof detail) < 0
                ? -1
                : ts_check_agree(&fo.facts, &fc.facts, job->noisy, detail, sizeof detail);
    int b = !d.id ? 0
            : ts_task_facts(blobs, job, &d, &fd, other, sizeof other) < 0
                ? -1
                : ts_check_agree(&fd.facts, &fc.facts, job->noisy, other, sizeof other);
    if (a < 0 || b < 0) {
        ts_err("check %lld of task %lld cannot be compared: %s", (long long)c->id, (long long)o.id,
               a < 0 ? detail : other);
        return; /* stays 'verifying'; tried again */
    }
    int mask = (a ? TS_AGREES_ORIGINAL : 0) | (b ? TS_AGREES_DISPUTED : 0);
    const char *why = d.id ? (mask & TS_AGREES_ORIGINAL ? other : detail) : detail;
    if (!d.id && !a)
        ts_info("task %lld: results of %.12s and %.12s disagree (%s); a third node decides", (long long)o.id, o.node,
                c->node, detail);
    ts_verdict_t v;
    if (ts_store_check_settle(store, c->id, mask, why, p, &v) < 0) {
        ts_err("check %lld: %s", (long long)c->id, ts_error());
        return;
    }
    report(m, &o, &v, why);
}

/* A check that returned the very bytes of the result it re-does: those bytes passed every per-result check when the
   original came in, so they are not decoded again (an honest segment encodes to the same bytes on every node). */
static bool repeats_checked_bytes(ts_store_t *store, const ts_task_t *t)
{
    ts_task_t o;
    return t->check_of && t->result[0] && ts_store_task_get(store, t->check_of, &o) == 1 &&
           strcmp(o.state, "checking") == 0 && strcmp(o.result, t->result) == 0;
}

static void verify_one(const ts_verifier_ctx_t *m, int64_t id)
{
    const ts_check_policy_t *p = &m->policy;
    ts_store_t *store = m->store;
    ts_task_t t;
    ts_job_t job;
    if (ts_store_task_get(store, id, &t) != 1 || ts_store_job_get(store, t.job_id, &job) != 1)
        return;
    char why[512];
    ts_task_facts_t f;
    int valid = repeats_checked_bytes(store, &t)                            ? 1
                : ts_task_facts(m->blobs, &job, &t, &f, why, sizeof why) < 0 ? -1
                                                                             : ts_check_result(&f.facts, why, sizeof why);
    if (valid <= 0) {
        ts_warn("result of task %lld from node %.12s refused: %s", (long long)t.id, t.node, why);
        if (ts_store_result_invalid(store, t.id, why, p) < 0)
            ts_err("task %lld: %s", (long long)t.id, ts_error());
        return;
    }
    if (t.check_of) {
        verify_check(m, &job, &t);
        return;
    }
    ts_verdict_t v;
    if (ts_store_result_valid(store, t.id, draw(), p, &v) < 0)
        ts_err("task %lld: %s", (long long)t.id, ts_error());
    else
        report(m, &t, &v, "");
}

/* One pass: every result waiting, then checks nobody may take. */
void ts_verifier_pass(ts_verifier_t *self)
{
    const ts_verifier_ctx_t *m = &self->ctx;
    int64_t ids[VERIFY_BATCH];
    int n;
    while ((n = ts_store_results_to_verify(m->store, ids, VERIFY_BATCH)) > 0) {
        for (int i = 0; i < n; i++)
            verify_one(m, ids[i]);
        m->kick(m->arg); /* checks to hand out, work re-queued */
        if (n < VERIFY_BATCH)
            break;
    }
    ts_verdict_t v;
    int expired = ts_store_checks_expire(m->store, (double)m->check_wait_s, &m->policy, &v);
    if (expired > 0) {
        if (expired > v.unresolved)
            ts_info("%d spot check(s) found no other eligible node within %ld s: accepted unchecked",
                    expired - v.unresolved, m->check_wait_s);
        if (v.unresolved > 0)
            ts_warn("%d dispute(s) found no third node within %ld s: unresolved, nobody punished, the piece keeps "
                    "the result of the node with the longer run",
                    v.unresolved, m->check_wait_s);
        if (v.frame_complete)
            m->frame_ready(m->arg);
        m->kick(m->arg);
    }
}

static void pass(void *arg)
{
    ts_verifier_pass(arg);
}

ts_verifier_t *ts_verifier_new(const ts_verifier_ctx_t *ctx)
{
    ts_verifier_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = *ctx;
    if (ctx->manual)
        return self;
    /* the first pass picks up results a crashed run left unverified */
    if (!(self->worker = ts_worker_new("verifier", pass, self, IDLE_WAIT_S, true))) {
        free(self);
        return NULL;
    }
    return self;
}

void ts_verifier_wake(ts_verifier_t *self)
{
    if (self && self->worker)
        ts_worker_wake(self->worker);
}

void ts_verifier_destroy(ts_verifier_t **self_p)
{
    ts_verifier_t *self = *self_p;
    if (!self)
        return;
    ts_worker_destroy(&self->worker);
    free(self);
    *self_p = NULL;
}
