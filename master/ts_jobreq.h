/* ts_jobreq: parsing and validating a job submission body (JSON from the HTTP API). */
#ifndef TS_JOBREQ_H
#define TS_JOBREQ_H

#include "master/ts_store.h"
#include <stdbool.h>
#include <stddef.h>

#define TS_JOBREQ_DEFAULT_REQUESTER "default"  /* the account a job is paid from when the request names none */
#define TS_JOBREQ_DEFAULT_BUDGET "10"          /* tokens, when the request gives no budget */

/* Fills req from a JSON body; -1 with a message naming the field and what is wrong. The bounds, defaults and
   names a request is checked against are lib/ts_request's, the same the CLI and the slave check with. */
int ts_jobreq_parse(const char *body, size_t len, ts_job_request_t *req);
/* Checks that the first bytes of a scene look like a .blend (plain, gzip or zstd compressed). */
bool ts_jobreq_looks_like_blend(const unsigned char *head, size_t len);

int ts_jobreq_test(bool verbose);

#endif
