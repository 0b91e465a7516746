/* ts_jobtype: the job types, one table: a request's own fields, how a job is created and planned, how its pieces are
   joined, what its outputs are called.
   DESIGN: shaped like the escrow backends (escrow/ts_escrow_impl.h + BACKENDS[]): a job type is one file,
   master/job_<name>.c, defining a ts_jobtype_t, and one line in TYPES[] (master/ts_jobtypes.c). What its tasks are
   and how slaves run them are the task kinds' table (lib/ts_kind.c) and the slave's runners (slave/ts_executor.c);
   docs/adding-a-job-type.md walks through one. A type not in the table is refused at submit. */
#ifndef TS_JOBTYPE_H
#define TS_JOBTYPE_H

#include "lib/ts_blobs.h"
#include "master/ts_store.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* What a job type works with: no back-pointer to the master. */
typedef struct {
    ts_store_t *store;
    ts_blobs_t *blobs;
    int tile_margin;             /* the master's --tile-margin (-1: the probe's) */
} ts_jobtype_ctx_t;

typedef struct {
    const char *name;            /* the request's "type" */
    const char *summary;         /* one line, for listings */
    /* The type's own fields of a request body (type, priority, payment and inputs are read before, by ts_jobreq):
       fills req; -1 with a message naming the field. Pure: no store, no files (the fuzzer runs it). */
    int (*parse)(json_t *body, ts_job_request_t *req);
    /* Checks the stored inputs (every one in req->inputs is uploaded) and creates the job with its first tasks, on
       the API thread that got the request. The job id; -1 (*input_error when the request or an input is at fault)
       or TS_STORE_REFUSED (the budget). */
    int64_t (*create)(const ts_jobtype_ctx_t *ctx, const ts_job_request_t *req, bool *input_error);
    /* Every piece of `frame` is accepted: joins them into the frame's next state (a stitched frame, the job's
       output), on the stitcher thread. */
    int (*join)(const ts_jobtype_ctx_t *ctx, const ts_job_t *job, int frame);
    /* Every frame is done and the job still has work to plan after them (a render that ends in an encode);
       NULL when the type never does. */
    int (*frames_done)(const ts_jobtype_ctx_t *ctx, const ts_job_t *job);
    /* The file name of a frame's output (the stored job row: its ext and params). */
    void (*output_name)(const ts_job_t *job, int frame, char *name, size_t cap);
    bool single_output;          /* one output file (the CLI's --out names it), not a folder of frames */
} ts_jobtype_t;

/* The type of that name, or NULL. */
const ts_jobtype_t *ts_jobtype_find(const char *name);
/* The known types' names, ", " between them (for messages). */
const char *ts_jobtype_names(void);
/* A frame's output name for a stored job, whatever its type ("output_<frame>" for a type this master lacks). */
void ts_jobtype_output_name(const ts_job_t *job, int frame, char *name, size_t cap);

/* Helpers the types share. */
/* Whether a stored blob is a .blend (plain, gzip or zstd compressed), by its first bytes. */
bool ts_jobtype_blob_is_blend(ts_blobs_t *blobs, const char *hash);
/* A new temporary file name in the blob store, ending in .ext (for writers that choose their format by it). */
int ts_jobtype_tmp_path(ts_blobs_t *blobs, char *out, size_t cap, const char *ext);
/* The stored blobs' paths, in the order of hashes (malloc'd; ts_jobtype_paths_free); NULL when out of memory. */
char **ts_jobtype_blob_paths(ts_blobs_t *blobs, const char (*hashes)[TS_HASH_HEX], int count);
/* The paths of a frame's accepted pieces of one kind (its tiles, segments, thumbnails), in order; *count gets how
   many. NULL with ts_error() when there are none or the store fails. */
char **ts_jobtype_piece_paths(const ts_jobtype_ctx_t *ctx, int64_t job, int frame, int kind, int *count);
void ts_jobtype_paths_free(char **paths, int count);
/* Stores a finished file as the frame's output (the frame is done, and the job when every frame is). */
int ts_jobtype_store_output(const ts_jobtype_ctx_t *ctx, int64_t job, int frame, const char *path);

int ts_jobtype_test(bool verbose);

#endif
