/* ts_stitcher: the master's thread that joins finished pieces, off the reactor: a frame's tiles into one float
   frame (then a finish task), or a transcode's encoded segments and the input's audio into the output file.
   DESIGN: the store says what waits (frames in state 'stitching'), so a restarted master simply resumes;
   the joined result goes into the blob store and the next state into the store in one transaction. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_worker.h"
#include "master/ts_stitcher.h"
#include "master/ts_transcode_cut.h"
#include "splitter/ts_concat.h"
#include "splitter/ts_framevid.h"
#include <jansson.h>
#include "splitter/ts_stitch.h"
#include "splitter/ts_tileplan.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STITCH_BATCH 16
#define IDLE_WAIT_S 1

struct ts_stitcher {
    ts_stitcher_ctx_t ctx;
    ts_worker_t *worker;
};

/* A path for a new file in the blob store's temporary folder, with the extension the writer needs. */
static int tmp_path(ts_blobs_t *blobs, char *out, size_t cap, const char *ext)
{
    int fd = ts_blobs_tmp(blobs, out, cap - strlen(ext) - 2);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(out);
    strcat(out, ".");
    strcat(out, ext);
    return 0;
}

/* The container a job's video goes in: the transcode's ext, or the encode settings of a render. */
static void video_container(const ts_job_t *job, char *out, size_t cap)
{
    json_t *p = json_loads(job->params, 0, NULL);
    const char *c = json_string_value(json_object_get(p, "container"));
    snprintf(out, cap, "%s", strcmp(job->type, "transcode") == 0 ? job->ext : c ? c : "mp4");
    json_decref(p);
}

/* Joins the encoded segments of a job's video (frame 0 of a transcode, TS_VIDEO_FRAME of a render). */
static int assemble_video(const ts_stitcher_ctx_t *m, const ts_job_t *job, int frame)
{
    ts_store_t *store = m->store;
    ts_blobs_t *blobs = m->blobs;
    int count = ts_store_segment_count(store, job->id);
    if (count <= 0)
        return ts_error_set("no segments");
    char (*hashes)[TS_HASH_HEX] = calloc((size_t)count, sizeof *hashes);
    char **paths = calloc((size_t)count, sizeof *paths);
    char input[PATH_MAX], out[PATH_MAX], hash[TS_HASH_HEX];
    int64_t frames = 0;
    char container[16];
    video_container(job, container, sizeof container);
    bool has_source_audio = strcmp(job->type, "transcode") == 0;
    int rc = hashes && paths ? ts_store_frame_tiles(store, job->id, frame, TS_KIND_SEGMENT, hashes, count)
                             : ts_error_set("out of memory");
    for (int i = 0; rc == 0 && i < count; i++) {
        if (!(paths[i] = malloc(PATH_MAX)))
            rc = ts_error_set("out of memory");
        else
            ts_blobs_path(blobs, hashes[i], paths[i], PATH_MAX);
    }
    ts_blobs_path(blobs, job->scene, input, sizeof input);
    if (rc == 0)
        rc = tmp_path(blobs, out, sizeof out, container);
    if (rc == 0)
        rc = ts_concat((const char *const *)paths, count, has_source_audio ? input : NULL, container, out, &frames);
    if (rc == 0)
        rc = ts_blobs_put_file(blobs, out, NULL, hash);
    if (rc == 0) {
        char path[PATH_MAX];
        ts_blobs_path(blobs, hash, path, sizeof path);
        FILE *f = fopen(path, "rb");
        long size = 0;
        if (f && fseek(f, 0, SEEK_END) == 0)
            size = ftell(f);
        if (f)
            fclose(f);
        rc = ts_store_frame_output(store, job->id, frame, hash, size);
        ts_info("job %lld assembled: %d segments, %lld frames, %ld bytes", (long long)job->id, count,
                (long long)frames, size);
    }
    for (int i = 0; paths && i < count; i++)
        free(paths[i]);
    free(paths);
    free(hashes);
    return rc;
}

static int stitch_one(const ts_stitcher_ctx_t *m, int64_t job_id, int frame)
{
    ts_store_t *store = m->store;
    ts_blobs_t *blobs = m->blobs;
    ts_job_t job;
    if (ts_store_job_get(store, job_id, &job) != 1)
        return ts_error_set("job %lld is gone", (long long)job_id);
    if (strcmp(job.type, "transcode") == 0 || frame == TS_VIDEO_FRAME)
        return assemble_video(m, &job, frame);
    ts_tile_t *tiles = NULL;
    int count = 0;
    if (ts_tileplan_make(job.width, job.height, job.tiles_x, job.tiles_y, job.margin, &tiles, &count) < 0)
        return -1;
    char (*hashes)[TS_HASH_HEX] = calloc((size_t)count, sizeof *hashes);
    char **paths = calloc((size_t)count, sizeof *paths);
    char out[PATH_MAX], hash[TS_HASH_HEX];
    int rc = hashes && paths ? ts_store_frame_tiles(store, job_id, frame, TS_KIND_TILE, hashes, count) : ts_error_set("out of memory");
    for (int i = 0; rc == 0 && i < count; i++) {
        paths[i] = malloc(PATH_MAX);
        if (!paths[i])
            rc = ts_error_set("out of memory");
        else
            ts_blobs_path(blobs, hashes[i], paths[i], PATH_MAX);
    }
    if (rc == 0)
        rc = tmp_path(blobs, out, sizeof out, "exr");
    if (rc == 0)
        rc = ts_stitch_frame(out, job.width, job.height, tiles, (const char *const *)paths, count);
    if (rc == 0)
        rc = ts_blobs_put_file(blobs, out, NULL, hash);
    if (rc == 0)
        rc = ts_store_frame_stitched(store, job_id, frame, hash);
    for (int i = 0; paths && i < count; i++)
        free(paths[i]);
    free(paths);
    free(hashes);
    free(tiles);
    return rc;
}

/* A render that ends in an encode, all frames done: its PNG frames become one video stream, cut into segments. */
static int cut_video(const ts_stitcher_ctx_t *m, int64_t job_id)
{
    ts_store_t *store = m->store;
    ts_blobs_t *blobs = m->blobs;
    ts_job_t job;
    if (ts_store_job_get(store, job_id, &job) != 1)
        return ts_error_set("job %lld is gone", (long long)job_id);
    json_t *p = json_loads(job.params, 0, NULL);
    int fps_num = (int)json_integer_value(json_object_get(p, "fps_num"));
    int fps_den = (int)json_integer_value(json_object_get(p, "fps_den"));
    double seconds = json_number_value(json_object_get(p, "segment_seconds"));
    json_decref(p);
    char (*hashes)[TS_HASH_HEX] = NULL;
    int count = 0;
    if (ts_store_frame_outputs(store, job_id, &hashes, &count) < 0)
        return -1;
    char **paths = calloc((size_t)count, sizeof *paths);
    char video[PATH_MAX];
    int rc = paths ? 0 : ts_error_set("out of memory");
    for (int i = 0; rc == 0 && i < count; i++) {
        if (!(paths[i] = malloc(PATH_MAX)))
            rc = ts_error_set("out of memory");
        else
            ts_blobs_path(blobs, hashes[i], paths[i], PATH_MAX);
    }
    if (rc == 0)
        rc = tmp_path(blobs, video, sizeof video, "nut");
    if (rc == 0)
        rc = ts_framevid_write((const char *const *)paths, count, job.width, job.height, fps_num, fps_den, video);
    ts_transcode_cut_t cut = {0};
    bool input_error = false;
    if (rc == 0)
        rc = ts_transcode_cut(blobs, video, "the rendered frames", seconds > 0 ? seconds : 10.0, &cut, &input_error);
    if (rc == 0)
        rc = ts_store_video_segments(store, job_id, cut.segments, cut.count, cut.tb_num, cut.tb_den, fps_num, fps_den);
    if (rc == 0)
        ts_info("job %lld: %d frames become a video (%s)", (long long)job_id, count, cut.summary);
    unlink(video);
    free(cut.segments);
    for (int i = 0; paths && i < count; i++)
        free(paths[i]);
    free(paths);
    free(hashes);
    return rc;
}

/* One pass: videos to cut, then frames to stitch. */
static void pass(void *arg)
{
    ts_stitcher_t *self = arg;
    int64_t jobs[STITCH_BATCH];
    int frames[STITCH_BATCH];
    int nv = ts_store_videos_to_cut(self->ctx.store, jobs, STITCH_BATCH);
    for (int i = 0; i < nv; i++)
        if (cut_video(&self->ctx, jobs[i]) < 0) {
            char msg[1200];
            snprintf(msg, sizeof msg, "encoding the frames: %s", ts_error());
            ts_err("job %lld %s", (long long)jobs[i], msg);
            ts_store_job_fail(self->ctx.store, jobs[i], msg);
        }
    if (nv > 0)
        self->ctx.kick(self->ctx.arg);
    int n = ts_store_frames_to_stitch(self->ctx.store, jobs, frames, STITCH_BATCH);
    for (int i = 0; i < n; i++) {
        if (stitch_one(&self->ctx, jobs[i], frames[i]) < 0) {
            char msg[1200];
            snprintf(msg, sizeof msg, "frame %d: joining failed: %s", frames[i], ts_error());
            ts_err("job %lld %s", (long long)jobs[i], msg);
            ts_store_job_fail(self->ctx.store, jobs[i], msg);
        } else {
            ts_debug("job %lld frame %d stitched", (long long)jobs[i], frames[i]);
        }
    }
    if (n > 0)
        self->ctx.kick(self->ctx.arg);
}

ts_stitcher_t *ts_stitcher_new(const ts_stitcher_ctx_t *ctx)
{
    ts_stitcher_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = *ctx;
    /* the first pass picks up frames a crashed run left waiting */
    if (!(self->worker = ts_worker_new("stitcher", pass, self, IDLE_WAIT_S, true))) {
        free(self);
        return NULL;
    }
    return self;
}

void ts_stitcher_wake(ts_stitcher_t *self)
{
    ts_worker_wake(self->worker);
}

void ts_stitcher_destroy(ts_stitcher_t **self_p)
{
    ts_stitcher_t *self = *self_p;
    if (!self)
        return;
    ts_worker_destroy(&self->worker);
    free(self);
    *self_p = NULL;
}
