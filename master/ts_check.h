/* ts_check (master side): a task's result as the verifier's facts (verifier/ts_check.h), from store rows. */
#ifndef TS_MASTER_CHECK_H
#define TS_MASTER_CHECK_H

#include "lib/ts_blobs.h"
#include "master/ts_store.h"
#include "verifier/ts_check.h"
#include <limits.h>

/* The facts and the storage their strings point into. */
typedef struct {
    ts_result_facts_t facts;
    char path[PATH_MAX], input[PATH_MAX];
    char codec[32];
} ts_task_facts_t;

/* Fills f for task t of job j (its result and input blobs' paths, its planned size, a segment's encoder plan);
   -1 with why when the task's plan cannot be read. */
int ts_task_facts(ts_blobs_t *blobs, const ts_job_t *j, const ts_task_t *t, ts_task_facts_t *f, char *why,
                  size_t cap);

#endif
