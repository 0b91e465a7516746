/* job_transcode: the transcode job type: a video cut at its keyframes into segments that slaves encode in parallel
   with pinned settings, joined back with the input's audio.
   DESIGN: the plan is made at submit (ts_transcode_cut.c reads packet headers and stream-copies), so a bad input is
   refused with a 400 naming it; every segment is one task with its own input (its cut) and the frames it owns. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_request.h"
#include "master/ts_jobreq.h"
#include "master/ts_jobtype.h"
#include "master/ts_transcode_cut.h"
#include "master/ts_videojoin.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(json_t *o, ts_job_request_t *req)
{
    if (ts_request_json_string(o, "input", NULL, req->scene, sizeof req->scene) < 0 ||
        ts_request_json_string(o, "input_name", "input", req->scene_name, sizeof req->scene_name) < 0)
        return -1;
    if (!ts_hash_valid(req->scene))
        return ts_error_set("field 'input': '%s' is not a content hash (64 lower-case hex digits)", req->scene);
    if (req->ninputs > 0)
        return ts_error_set("field 'inputs': a transcode's input is its 'input'");
    if (ts_jobreq_encode(o, req) < 0)
        return -1;
    return ts_jobreq_input(req->scene_name, req->scene, req);
}

static int64_t create(const ts_jobtype_ctx_t *ctx, const ts_job_request_t *req, bool *input_error)
{
    char input[PATH_MAX];
    ts_blobs_path(ctx->blobs, req->scene, input, sizeof input);
    ts_transcode_cut_t cut;
    if (ts_transcode_cut(ctx->blobs, input, req->scene_name, req->segment_seconds, &cut, input_error) < 0)
        return -1;
    ts_job_request_t pinned = *req; /* the whole source's frame rate and time base, for every segment */
    pinned.fps_num = cut.fps_num;
    pinned.fps_den = cut.fps_den;
    pinned.tb_num = cut.tb_num;
    pinned.tb_den = cut.tb_den;
    int64_t id = -1;
    if (ts_jobreq_encode_settings(&pinned, pinned.settings, sizeof pinned.settings) == 0) {
        ts_store_pieces_job_t job = {.type = "transcode", .kind = TS_KIND_SEGMENT, .tiles_x = 1, .tiles_y = 1,
                                     .format = req->container, .ext = req->container, .params = pinned.settings,
                                     .per_frame_units = true};
        id = ts_store_job_create_pieces(ctx->store, &pinned, &job, cut.segments, cut.count);
    }
    *input_error = id == TS_STORE_REFUSED;
    if (id > 0)
        ts_info("job %lld submitted: transcode %s (%s), %s crf %d preset %s", (long long)id, req->scene_name,
                cut.summary, req->vcodec, req->crf, req->preset);
    free(cut.segments);
    return id;
}

static int join(const ts_jobtype_ctx_t *ctx, const ts_job_t *job, int frame)
{
    return ts_videojoin(ctx, job, frame, job->ext, true);
}

static void output_name(const ts_job_t *job, int frame, char *name, size_t cap)
{
    snprintf(name, cap, "output.%s", job->ext);
}

const ts_jobtype_t ts_job_transcode = {
    .name = "transcode",
    .summary = "a video cut at its keyframes into segments encoded in parallel with pinned settings, audio copied",
    .parse = parse,
    .create = create,
    .join = join,
    .output_name = output_name,
    .single_output = true,
};
