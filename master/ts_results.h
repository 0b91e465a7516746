/* ts_results: what the master does with a slave's Result: check its signature, store its output, move the task on. */
#ifndef TS_RESULTS_H
#define TS_RESULTS_H

#include "lib/tessera.pb-c.h"
#include "lib/ts_blobs.h"
#include "master/ts_store.h"
#include <stdbool.h>
#include <stdint.h>

/* What results work on and whom they tell: no back-pointer to the master. */
typedef struct {
    ts_store_t *store;
    ts_blobs_t *blobs;
    int max_failures;            /* a task failing this often fails its job */
    long task_timeout_s;         /* a node's reported seconds above this are not believed */
    void (*result_in)(void *arg); /* a result waits for the verifier */
    void *arg;
} ts_results_ctx_t;

/* Who sent a result. */
typedef struct {
    const char *id;             /* node id (hex public key) */
    const uint8_t *key;         /* its Ed25519 public key */
    const char *cpu_class;      /* its device class for CPU work: Blender version and CPU model */
    const char *gpu_class;      /* for GPU work: Blender version and GPU device types */
} ts_result_origin_t;

/* Takes one Result, on the reactor thread: 0, or -1 when it was refused (ts_error() says why; the task has been
   dealt with). */
int ts_results_accept(const ts_results_ctx_t *ctx, const ts_result_origin_t *from, const Tessera__Result *r);

int ts_results_test(bool verbose);

#endif
