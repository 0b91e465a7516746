/* ts_verifier: the master's thread that checks every result before it counts, samples spot checks and settles them. */
#ifndef TS_VERIFIER_H
#define TS_VERIFIER_H

#include "lib/ts_blobs.h"
#include "master/ts_store.h"

/* What the verifier works on and whom it tells: no back-pointer to the master. */
typedef struct {
    ts_store_t *store;
    ts_blobs_t *blobs;
    ts_check_policy_t policy;
    long check_wait_s;           /* a check (or tie-break) with no eligible node waits this long */
    void (*kick)(void *arg);     /* work to hand out: checks queued, results re-queued */
    void (*frame_ready)(void *arg); /* a frame's pieces are all accepted: stitch it */
    void *arg;
    bool manual;                 /* no thread: passes run only when ts_verifier_pass is called (the self-test) */
} ts_verifier_ctx_t;

typedef struct ts_verifier ts_verifier_t;
/* Starts the thread; its first pass picks up results a crashed run left unverified. */
ts_verifier_t *ts_verifier_new(const ts_verifier_ctx_t *ctx);
void ts_verifier_wake(ts_verifier_t *self);
void ts_verifier_destroy(ts_verifier_t **self_p);
/* One pass on the caller's thread (what the thread does when woken): every result waiting, then expired checks. */
void ts_verifier_pass(ts_verifier_t *self);

int ts_verifier_test(bool verbose);

#endif
