/* ts_jobreq: parsing and validating a job submission body (JSON from the HTTP API). */
#ifndef TS_JOBREQ_H
#define TS_JOBREQ_H

#include "master/ts_store.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TS_JOBREQ_DEFAULT_REQUESTER "default"  /* the account a job is paid from when the request names none */
#define TS_JOBREQ_DEFAULT_BUDGET "10"          /* tokens, when the request gives no budget */

/* Fills req from a JSON body: the common fields (type, inputs, priority, payment), then the type's own
   (ts_jobtype_t.parse); -1 with a message naming the field (req holds nothing to free). The bounds, defaults and
   names a request is checked against are lib/ts_request's, the same the CLI and the slave check with. A request that
   parsed is freed with ts_job_request_free. */
int ts_jobreq_parse(const char *body, size_t len, ts_job_request_t *req);

/* For the types' parsers: encoder settings (ts_request's rules, each encoder's own bounds) into req. */
int ts_jobreq_encode(json_t *o, ts_job_request_t *req);
/* The encoder settings of req (and the frame rate and time base pinned by the planner) as the JSON text slaves get. */
int ts_jobreq_encode_settings(const ts_job_request_t *r, char *out, size_t cap);
/* For the types' parsers: a manifest of the one input a type names in its own field (a render's scene). */
int ts_jobreq_input(const char *name, const char *hash, ts_job_request_t *req);

int ts_jobreq_test(bool verbose);

#endif
