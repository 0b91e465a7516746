/* ts_stitcher: the master's thread that joins finished pieces, off the reactor: each frame whose pieces are all
   accepted goes to its job type's join (a render's tiles into a float frame, a transcode's segments into its video,
   a contact sheet's thumbnails into the sheet); a job whose frames are done and that has more to plan (a render
   that ends in an encode) goes to its type's frames_done.
   DESIGN: the store says what waits (frames in state 'stitching'), so a restarted master simply resumes;
   the joined result goes into the blob store and the next state into the store in one transaction. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_worker.h"
#include "master/ts_jobtype.h"
#include "master/ts_stitcher.h"
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

/* A job's type and its row; NULL when the job is gone or of a type this master lacks (ts_error() says which). */
static const ts_jobtype_t *job_type(ts_store_t *store, int64_t id, ts_job_t *job)
{
    if (ts_store_job_get(store, id, job) != 1)
        return ts_error_set("job %lld is gone", (long long)id), NULL;
    const ts_jobtype_t *type = ts_jobtype_find(job->type);
    if (!type)
        ts_error_set("job %lld is of a type this master does not know ('%s')", (long long)id, job->type);
    return type;
}

static int join_frame(const ts_jobtype_ctx_t *ctx, int64_t id, int frame)
{
    ts_job_t job;
    const ts_jobtype_t *type = job_type(ctx->store, id, &job);
    return type ? type->join(ctx, &job, frame) : -1;
}

static int frames_done(const ts_jobtype_ctx_t *ctx, int64_t id)
{
    ts_job_t job;
    const ts_jobtype_t *type = job_type(ctx->store, id, &job);
    if (!type)
        return -1;
    return type->frames_done ? type->frames_done(ctx, &job) : ts_error_set("a %s job has no work after its frames",
                                                                           type->name);
}

/* One pass: videos to cut, then frames to stitch. */
static void pass(void *arg)
{
    ts_stitcher_t *self = arg;
    int64_t jobs[STITCH_BATCH];
    int frames[STITCH_BATCH];
    ts_jobtype_ctx_t ctx = {.store = self->ctx.store, .blobs = self->ctx.blobs, .tile_margin = -1};
    int nv = ts_store_videos_to_cut(self->ctx.store, jobs, STITCH_BATCH);
    for (int i = 0; i < nv; i++)
        if (frames_done(&ctx, jobs[i]) < 0) {
            char msg[1200];
            snprintf(msg, sizeof msg, "encoding the frames: %s", ts_error());
            ts_err("job %lld %s", (long long)jobs[i], msg);
            ts_store_job_fail(self->ctx.store, jobs[i], msg);
        }
    if (nv > 0)
        self->ctx.kick(self->ctx.arg);
    int n = ts_store_frames_to_stitch(self->ctx.store, jobs, frames, STITCH_BATCH);
    for (int i = 0; i < n; i++) {
        if (join_frame(&ctx, jobs[i], frames[i]) < 0) {
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
