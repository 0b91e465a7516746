/* job_render: the render job type: a .blend's frames, each split into tiles that slaves render with Blender, stitched
   on the master and finished through Blender's output path; optionally encoded into a video at the end.
   DESIGN: the job starts as one probe task; the probe's facts plan the frames and tiles (ts_results.c). A frame's
   tiles join into one float EXR (splitter/ts_stitch) and a finish task; a render that ends in an encode turns its
   PNG frames into a stream once every frame is done, cut into segments like a transcode's (ts_transcode_cut.h). */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_manifest.h"
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
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SEGMENT_SECONDS 10.0
#define PROJECT_PATH_MAX 4096 /* a missing file's path, as the artist's machine names it */

/* A project's fields: the scene is one of the inputs (its name the scene_name), the root they were taken from, and
   the files the artist let go missing. */
static int parse_project(json_t *o, ts_job_request_t *req)
{
    bool found = false;
    for (int i = 0; i < req->ninputs && !found; i++)
        if (strcmp(req->inputs[i].name, req->scene_name) == 0) {
            if (strcmp(req->inputs[i].hash, req->scene) != 0)
                return ts_error_set("field 'scene': the input '%s' has another hash", req->scene_name);
            found = true;
        }
    if (!found)
        return ts_error_set("field 'scene_name': '%s' is not among the inputs", req->scene_name);
    if (ts_request_json_string(o, "project_root", NULL, req->project_root, sizeof req->project_root) < 0 ||
        ts_manifest_root_check(req->project_root) < 0)
        return ts_error_prefix("field 'project_root'");
    json_t *allow = json_object_get(o, "allow_missing");
    if (allow && !json_is_null(allow) && !json_is_boolean(allow))
        return ts_error_set("field 'allow_missing' must be true or false");
    req->allow_missing = json_is_true(allow);
    json_t *missing = json_object_get(o, "missing");
    if (!missing || json_is_null(missing))
        return 0;
    if (!json_is_array(missing) || json_array_size(missing) > TS_REQUEST_INPUTS_MAX)
        return ts_error_set("field 'missing' must be a list of at most %d file paths", TS_REQUEST_INPUTS_MAX);
    size_t i;
    json_t *m;
    json_array_foreach(missing, i, m) {
        if (!json_is_string(m) || json_string_length(m) == 0 || json_string_length(m) > PROJECT_PATH_MAX)
            return ts_error_set("field 'missing': entry %zu must be a file path of 1 to %d bytes", i + 1,
                                PROJECT_PATH_MAX);
        for (const char *c = json_string_value(m); *c; c++) /* shown by `tessera status`: no terminal controls */
            if ((unsigned char)*c < ' ' || *c == 0x7f)
                return ts_error_set("field 'missing': entry %zu contains a control character", i + 1);
    }
    if (json_array_size(missing) > 0 && !req->allow_missing)
        return ts_error_set("field 'missing': files may be missing only with 'allow_missing': true");
    if (json_array_size(missing) > 0 && !(req->missing = json_dumps(missing, JSON_COMPACT)))
        return ts_error_set("out of memory");
    return 0;
}

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
    json_t *chunk = json_object_get(o, "chunk");
    if (chunk && !json_is_null(chunk)) {
        if (!json_is_integer(chunk) || json_integer_value(chunk) < 1 || json_integer_value(chunk) > TS_REQUEST_CHUNK_MAX)
            return ts_error_set("field 'chunk' must be a whole number of frames within 1..%d", TS_REQUEST_CHUNK_MAX);
        req->chunk = (int)json_integer_value(chunk);
        if (req->chunk > 1 && req->tiles_x * req->tiles_y != 1)
            return ts_error_set("field 'chunk': frames are grouped into chunks only without tiles (tiles 1x1, "
                                "not %dx%d)", req->tiles_x, req->tiles_y);
    }
    if (ts_request_json_string(o, "out_pattern", "", req->out_pattern, sizeof req->out_pattern) < 0)
        return -1;
    if (req->out_pattern[0] && ts_request_out_pattern_check(req->out_pattern) < 0)
        return ts_error_prefix("field 'out_pattern'");
    json_t *nd = json_object_get(o, "no_denoise");
    if (nd && !json_is_null(nd)) {
        if (!json_is_boolean(nd))
            return ts_error_set("field 'no_denoise' must be true or false");
        req->no_denoise = json_is_true(nd);
    }
    if (req->ninputs == 0) /* a scene alone (its files packed into it, or none) */
        return ts_jobreq_input(req->scene_name, req->scene, req);
    return parse_project(o, req);
}

/* A project's manifest, the blob slaves lay the job's folder out from (lib/ts_manifest.h): the root, the scene and
   every file with its hash and stored size. A file of TS_MANIFEST_TORRENT_MIN or more gets its torrent when a slave
   first asks for it (GET torrents/{hash}), so a submit of many big files does not wait for them to be hashed. */
static int project_manifest(const ts_jobtype_ctx_t *ctx, const ts_job_request_t *req, char hash[TS_HASH_HEX])
{
    json_t *files = json_array();
    json_t *m = json_pack("{s:i,s:s,s:s,s:b,s:o}", "version", TS_MANIFEST_VERSION, "root", req->project_root, "scene",
                          req->scene_name, "allow_missing", req->allow_missing, "files", files);
    int rc = m ? 0 : ts_error_set("out of memory");
    for (int i = 0; rc == 0 && i < req->ninputs; i++) {
        char path[PATH_MAX];
        struct stat st;
        ts_blobs_path(ctx->blobs, req->inputs[i].hash, path, sizeof path);
        if (stat(path, &st) < 0)
            rc = ts_error_set("%s: input %s is gone from the store", req->inputs[i].name, req->inputs[i].hash);
        else
            json_array_append_new(files, json_pack("{s:s,s:s,s:I}", "name", req->inputs[i].name, "hash",
                                                   req->inputs[i].hash, "size", (json_int_t)st.st_size));
    }
    char *text = rc == 0 ? json_dumps(m, JSON_COMPACT) : NULL;
    if (rc == 0 && !text)
        rc = ts_error_set("out of memory");
    ts_manifest_t check; /* what every slave will read must read back (its size, escaped names) */
    if (rc == 0 && ts_manifest_parse(text, strlen(text), &check) < 0)
        rc = ts_error_prefix("the project's manifest would not read back");
    else if (rc == 0)
        ts_manifest_free(&check);
    if (rc == 0)
        rc = ts_blobs_put_buf(ctx->blobs, text, strlen(text), hash);
    free(text);
    json_decref(m);
    return rc;
}

static int64_t create(const ts_jobtype_ctx_t *ctx, const ts_job_request_t *in, bool *input_error)
{
    *input_error = true;
    if (!ts_jobtype_blob_is_blend(ctx->blobs, in->scene))
        return ts_error_set("%s: not a .blend file (no BLENDER header)", in->scene_name);
    ts_job_request_t project = *in; /* shares the request's lists; only the manifest's hash is added */
    const ts_job_request_t *req = &project;
    if (in->project_root[0] && project_manifest(ctx, in, project.manifest) < 0) {
        *input_error = false;
        return -1;
    }
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
    } else if (job->out_pattern[0]) {
        ts_request_out_name(job->out_pattern, frame, job->ext, name, cap);
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
