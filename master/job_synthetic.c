/* job_synthetic: the synthetic job type, a benchmark tool: N pieces with no input and a 32-byte output each, which
   take the whole path a real piece takes (assignment, signed result, verification with spot checks, the ledger's
   lock and pay), so that a scheduler benchmark measures the farm, not a bypass (bench/bench_scheduler.py,
   tessera-slavesim). Not offered in the artists' app.
   DESIGN: a pieces job (frame 0) like a contact sheet; piece i carries its index in start_pts, and its output is
   lib/ts_synthetic.h's bytes for (job, i), the same on every honest node, so spot checks compare them exactly. The
   join checks every accepted piece against those bytes and writes one line naming the job, its piece count and
   the BLAKE2b of the outputs in order. */
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_hash.h"
#include "lib/ts_kind.h"
#include "lib/ts_log.h"
#include "lib/ts_synthetic.h"
#include "master/ts_jobtype.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TASKS_MAX 1000000
#define OUTPUT_EXT "txt"

static int parse(json_t *o, ts_job_request_t *req)
{
    if (req->ninputs > 0)
        return ts_error_set("field 'inputs': a synthetic job has none");
    json_t *t = json_object_get(o, "tasks");
    if (!json_is_integer(t))
        return ts_error_set("field 'tasks' is required: how many pieces, a whole number 1..%d", TASKS_MAX);
    json_int_t tasks = json_integer_value(t);
    if (tasks < 1 || tasks > TASKS_MAX)
        return ts_error_set("field 'tasks': %lld is out of range 1..%d", (long long)tasks, TASKS_MAX);
    req->tiles_x = (int)tasks;
    req->tiles_y = 1;
    snprintf(req->settings, sizeof req->settings, "{\"tasks\":%d}", (int)tasks);
    snprintf(req->scene_name, sizeof req->scene_name, "synthetic: %d task%s", (int)tasks, tasks == 1 ? "" : "s");
    return 0;
}

static int64_t create(const ts_jobtype_ctx_t *ctx, const ts_job_request_t *req, bool *input_error)
{
    ts_store_segment_t *pieces = calloc((size_t)req->tiles_x, sizeof *pieces);
    *input_error = false;
    if (!pieces)
        return ts_error_set("out of memory planning %d synthetic pieces", req->tiles_x);
    for (int i = 0; i < req->tiles_x; i++) {
        pieces[i].start_pts = i; /* the piece's index, which its output is made from */
        pieces[i].end_pts = i + 1;
    }
    ts_store_pieces_job_t job = {.type = "synthetic", .kind = TS_KIND_SYNTHETIC, .tiles_x = req->tiles_x,
                                 .tiles_y = 1, .format = OUTPUT_EXT, .ext = OUTPUT_EXT, .params = req->settings};
    int64_t id = ts_store_job_create_pieces(ctx->store, req, &job, pieces, req->tiles_x);
    *input_error = id == TS_STORE_REFUSED;
    if (id > 0)
        ts_info("job %lld submitted: %s", (long long)id, req->scene_name);
    free(pieces);
    return id;
}

/* Every piece is accepted: each must be its bytes; the output is one line over all of them. */
static int join(const ts_jobtype_ctx_t *ctx, const ts_job_t *job, int frame)
{
    int count = 0;
    char **paths = ts_jobtype_piece_paths(ctx, job->id, frame, TS_KIND_SYNTHETIC, &count);
    int rc = paths ? 0 : -1;
    ts_hasher_t *all = rc == 0 ? ts_hasher_new() : NULL;
    for (int i = 0; rc == 0 && i < count; i++) {
        uint8_t *got = NULL, want[TS_SYNTHETIC_OUTPUT_BYTES];
        size_t len = 0;
        ts_synthetic_piece_output((uint64_t)job->id, i, want);
        rc = ts_file_read(paths[i], TS_SYNTHETIC_OUTPUT_BYTES, 0, &got, &len);
        if (rc == 0 && (len != sizeof want || memcmp(got, want, sizeof want) != 0))
            rc = ts_error_set("piece %d's accepted output is not its synthetic bytes", i);
        if (rc == 0 && all)
            ts_hasher_update(all, got, len);
        free(got);
    }
    char digest[TS_HASH_HEX] = "", out[PATH_MAX] = "", line[256];
    if (all)
        ts_hasher_finish(&all, digest);
    if (rc == 0)
        rc = ts_jobtype_tmp_path(ctx->blobs, out, sizeof out, OUTPUT_EXT);
    if (rc == 0) {
        int n = snprintf(line, sizeof line, "synthetic job %lld: %d pieces, BLAKE2b-256 of their outputs in order %s\n",
                         (long long)job->id, count, digest);
        rc = ts_file_write_atomic(out, line, (size_t)n);
    }
    if (rc == 0)
        rc = ts_jobtype_store_output(ctx, job->id, frame, out);
    if (rc == 0)
        ts_info("job %lld: %d synthetic pieces joined", (long long)job->id, count);
    else if (out[0])
        unlink(out);
    ts_jobtype_paths_free(paths, count);
    return rc;
}

static void output_name(const ts_job_t *job, int frame, char *name, size_t cap)
{
    snprintf(name, cap, "synthetic.%s", job->ext);
}

const ts_jobtype_t ts_job_synthetic = {
    .name = "synthetic",
    .summary = "a benchmark's pieces with no input and a few bytes out, through the whole path a real piece takes",
    .parse = parse,
    .create = create,
    .join = join,
    .output_name = output_name,
    .single_output = true,
};
