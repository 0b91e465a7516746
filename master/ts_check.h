/* ts_check: what the verifier checks in one result, and whether two results of the same work agree. */
#ifndef TS_CHECK_H
#define TS_CHECK_H

#include "lib/ts_blobs.h"
#include "master/ts_store.h"
#include <stddef.h>

/* Checks the result of task t of job j (its output is blob t->result): it decodes, and its dimensions, channels,
   frame count and timestamps are the planned ones, its size within bounds. 1 valid; 0 invalid (why says what
   is wrong); -1 when the check itself could not run (why says why). */
int ts_check_result(ts_blobs_t *blobs, const ts_job_t *j, const ts_task_t *t, char *why, size_t cap);

/* Whether results a and b of the same work agree, by the rules of verifier/ts_agree.h: tiles and frames by
   their pixels (exact, render noise or cross class, from the device classes and the job's renderer);
   segments by decoded frames, else by quality against the source and size. 1 agree, 0 disagree (detail says how), -1 error (detail says why). */
int ts_check_agree(ts_blobs_t *blobs, const ts_job_t *j, const ts_task_t *a, const ts_task_t *b, char *detail,
                   size_t cap);

#endif
