/* job_render: the render job type: a .blend's frames, each split into tiles that slaves render with Blender, stitched
   on the master and finished through Blender's output path; optionally encoded into a video at the end.
   DESIGN: the job starts as one probe task; the probe's facts plan the frames and tiles (ts_results.c). A frame's
   tiles join into one float EXR (splitter/ts_stitch) and a finish task; a render that ends in an encode turns its
   PNG frames into a stream once every frame is done, cut into segments like a transcode's (ts_transcode_cut.h). */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_request.h"
#include "master/ts_jobreq.h"
#include "master/ts_jobtype.h"
#include "master/ts_transcode_cut.h"
#include "master/ts_videojoin.h"
#include "splitter/ts_framevid.h"
#include "splitter/ts_stitch.h"
#include "splitter/ts_tileplan.h"
#include "tests/ts_test.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SEGMENT_SECONDS 10.0

static int parse(json_t *o, ts_job_request_t *req)
{
    char frames[64], tiles[32];
    if (ts_request_json_string(o, "scene", NULL, req->scene, sizeof req->scene) < 0)
        return -1;
    if (!ts_hash_valid(req->scene))
        return ts_error_set("field 'scene': '%s' is not a content hash (64 lower-case hex digits)", req->scene);
    if (ts_request_json_string(o, "scene_name", "scene.blend", req->scene_name, sizeof req->scene_name) < 0 ||
        ts_request_json_string(o, "frames", NULL, frames, sizeof frames) < 0 ||
        ts_request_json_string(o, "tiles", "1x1", tiles, sizeof tiles) < 0 ||
        ts_request_json_string(o, "format", "scene", req->format, sizeof req->format) < 0 ||
        ts_request_json_string(o, "device", "cpu", req->device, sizeof req->device) < 0 ||
        ts_request_json_string(o, "blender", "", req->blender, sizeof req->blender) < 0)
        return -1;
    if (ts_request_frames_parse(frames, &req->frame_start, &req->frame_end) < 0)
        return ts_error_prefix("field 'frames'");
    if (ts_request_grid_parse(tiles, &req->tiles_x, &req->tiles_y) < 0)
        return ts_error_prefix("field 'tiles'");
    if (ts_request_format_check(req->format) < 0)
        return ts_error_prefix("field 'format'");
    if (ts_request_device_check(req->device) < 0)
        return ts_error_prefix("field 'device'");
    json_t *enc = json_object_get(o, "encode");
    if (enc && !json_is_null(enc)) {
        if (!json_is_object(enc))
            return ts_error_set("field 'encode' must be an object of encoder settings");
        if (ts_jobreq_encode(enc, req) < 0)
            return ts_error_prefix("field 'encode'");
        req->encode = true;
        if (ts_jobreq_encode_settings(req, req->settings, sizeof req->settings) < 0)
            return -1;
    }
    json_t *nd = json_object_get(o, "no_denoise");
    if (nd && !json_is_null(nd)) {
        if (!json_is_boolean(nd))
            return ts_error_set("field 'no_denoise' must be true or false");
        req->no_denoise = json_is_true(nd);
    }
    if (req->ninputs > 0)
        return ts_error_set("field 'inputs': a render's input is its 'scene' (a scene's own files travel inside it)");
    return ts_jobreq_input(req->scene_name, req->scene, req);
}

static int64_t create(const ts_jobtype_ctx_t *ctx, const ts_job_request_t *req, bool *input_error)
{
    *input_error = true;
    if (!ts_jobtype_blob_is_blend(ctx->blobs, req->scene))
        return ts_error_set("%s: not a .blend file (no BLENDER header)", req->scene_name);
    int64_t id = ts_store_job_create(ctx->store, req, ctx->tile_margin);
    *input_error = id == TS_STORE_REFUSED;
    if (id > 0)
        ts_info("job %lld submitted: %s frames %d-%d tiles %dx%d", (long long)id, req->scene_name, req->frame_start,
                req->frame_end, req->tiles_x, req->tiles_y);
    return id;
}

/* The container the video at the end goes in: the encode settings'. */
static void video_container(const ts_job_t *job, char *out, size_t cap)
{
    json_t *p = json_loads(job->params, 0, NULL);
    const char *c = json_string_value(json_object_get(p, "container"));
    snprintf(out, cap, "%s", c && c[0] ? c : TS_REQUEST_CONTAINER_DEFAULT);
    json_decref(p);
}

/* A frame's tiles, cropped of their margins, into one float frame; then its finish task. */
static int stitch_tiles(const ts_jobtype_ctx_t *ctx, const ts_job_t *job, int frame)
{
    ts_tile_t *tiles = NULL;
    int count = 0;
    if (ts_tileplan_make(job->width, job->height, job->tiles_x, job->tiles_y, job->margin, &tiles, &count) < 0)
        return -1;
    int got = 0;
    char **paths = ts_jobtype_piece_paths(ctx, job->id, frame, TS_KIND_TILE, &got);
    char out[PATH_MAX], hash[TS_HASH_HEX];
    int rc = !paths ? -1 : got == count ? 0 : ts_error_set("frame %d has %d tiles, %d planned", frame, got, count);
    if (rc == 0)
        rc = ts_jobtype_tmp_path(ctx->blobs, out, sizeof out, "exr");
    if (rc == 0)
        rc = ts_stitch_frame(out, job->width, job->height, tiles, (const char *const *)paths, count);
    if (rc == 0)
        rc = ts_blobs_put_file(ctx->blobs, out, NULL, hash);
    if (rc == 0)
        rc = ts_store_frame_stitched(ctx->store, job->id, frame, hash);
    ts_jobtype_paths_free(paths, got);
    free(tiles);
    return rc;
}

static int join(const ts_jobtype_ctx_t *ctx, const ts_job_t *job, int frame)
{
    if (frame != TS_VIDEO_FRAME)
        return stitch_tiles(ctx, job, frame);
    char container[TS_REQUEST_CONTAINER_CAP];
    video_container(job, container, sizeof container);
    return ts_videojoin(ctx, job, frame, container, false);
}

/* Every frame is done and the job ends in an encode: its PNG frames become one video stream, cut into segments. */
static int frames_done(const ts_jobtype_ctx_t *ctx, const ts_job_t *job)
{
    json_t *p = json_loads(job->params, 0, NULL);
    int fps_num = (int)json_integer_value(json_object_get(p, "fps_num"));
    int fps_den = (int)json_integer_value(json_object_get(p, "fps_den"));
    double seconds = json_number_value(json_object_get(p, "segment_seconds"));
    json_decref(p);
    char (*hashes)[TS_HASH_HEX] = NULL;
    int count = 0;
    if (ts_store_frame_outputs(ctx->store, job->id, &hashes, &count) < 0)
        return -1;
    char **paths = ts_jobtype_blob_paths(ctx->blobs, (const char (*)[TS_HASH_HEX])hashes, count);
    char video[PATH_MAX];
    int rc = paths ? 0 : -1;
    if (rc == 0)
        rc = ts_jobtype_tmp_path(ctx->blobs, video, sizeof video, "nut");
    if (rc == 0)
        rc = ts_framevid_write((const char *const *)paths, count, job->width, job->height, fps_num, fps_den, video);
    ts_transcode_cut_t cut = {0};
    bool input_error = false;
    if (rc == 0)
        rc = ts_transcode_cut(ctx->blobs, video, "the rendered frames", seconds > 0 ? seconds : DEFAULT_SEGMENT_SECONDS,
                              &cut, &input_error);
    if (rc == 0)
        rc = ts_store_video_segments(ctx->store, job->id, cut.segments, cut.count, cut.tb_num, cut.tb_den, fps_num,
                                     fps_den);
    if (rc == 0)
        ts_info("job %lld: %d frames become a video (%s)", (long long)job->id, count, cut.summary);
    unlink(video);
    free(cut.segments);
    ts_jobtype_paths_free(paths, count);
    free(hashes);
    return rc;
}

static void output_name(const ts_job_t *job, int frame, char *name, size_t cap)
{
    char container[TS_REQUEST_CONTAINER_CAP];
    if (frame == TS_VIDEO_FRAME) {
        video_container(job, container, sizeof container);
        snprintf(name, cap, "video.%s", container);
    } else {
        snprintf(name, cap, "frame_%04d.%s", frame, job->ext);
    }
}

const ts_jobtype_t ts_job_render = {
    .name = "render",
    .summary = "a .blend's frames, split into tiles rendered by Blender on the slaves, optionally then encoded",
    .parse = parse,
    .create = create,
    .join = join,
    .frames_done = frames_done,
    .output_name = output_name,
    .single_output = false,
};
