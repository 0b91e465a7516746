/* ts_transcode_job: the job compiler of a transcode: index the input's keyframes, cut it into segments by stream
   copy (blobs), and queue one encode task per segment; also used for the video at the end of a render.
   DESIGN: indexing reads packet headers only and cutting is stream copy, so a submission is planned on the API
   thread that received it and a bad input (not media, no video stream, truncated, empty) is refused there with
   a 400 naming it. Audio is not cut: the assembler copies it from the original input when it joins. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "master/ts_master.h"
#include "splitter/ts_segplan.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ts_transcode_cut(ts_blobs_t *blobs, const char *input, const char *name, double seconds, ts_transcode_cut_t *cut,
                     bool *input_error)
{
    memset(cut, 0, sizeof *cut);
    *input_error = true;
    ts_segplan_t *plan = NULL;
    if (ts_segplan_make(input, seconds, &plan) < 0) {
        /* the message names the blob's path; the user knows the file by its name */
        char msg[1024];
        const char *e = ts_error();
        const char *tail = strncmp(e, input, strlen(input)) == 0 ? e + strlen(input) : e;
        snprintf(msg, sizeof msg, "%s", tail[0] == ':' ? tail + 2 : tail);
        return ts_error_set("%s: %s", name, msg);
    }
    *input_error = false;
    int n = plan->count;
    char **paths = calloc((size_t)n, sizeof *paths);
    cut->segments = calloc((size_t)n, sizeof *cut->segments);
    int rc = paths && cut->segments ? 0 : ts_error_set("out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        paths[i] = malloc(PATH_MAX);
        int fd = paths[i] ? ts_blobs_tmp(blobs, paths[i], PATH_MAX - 8) : -1;
        if (fd < 0) {
            rc = -1;
            break;
        }
        close(fd);
        unlink(paths[i]);
        strcat(paths[i], ".nut");
    }
    if (rc == 0)
        rc = ts_segplan_cut(plan, input, (const char *const *)paths);
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = ts_blobs_put_file(blobs, paths[i], NULL, cut->segments[i].hash);
        cut->segments[i].start_pts = plan->segments[i].start_pts;
        cut->segments[i].end_pts = plan->segments[i].end_pts;
        cut->segments[i].frames = plan->segments[i].frames;
    }
    cut->count = n;
    cut->tb_num = plan->tb_num;
    cut->tb_den = plan->tb_den;
    cut->fps_num = plan->fps_num;
    cut->fps_den = plan->fps_den;
    snprintf(cut->summary, sizeof cut->summary, "%dx%d %s, %lld frames, %.2f s, in %d segments", plan->width,
             plan->height, plan->codec, (long long)plan->frames, plan->duration_seconds, n);
    for (int i = 0; paths && i < n; i++) {
        if (paths[i])
            unlink(paths[i]);
        free(paths[i]);
    }
    free(paths);
    ts_segplan_destroy(&plan);
    if (rc < 0) {
        free(cut->segments);
        cut->segments = NULL;
    }
    return rc;
}

int64_t ts_transcode_job_create(ts_master_t *m, const ts_job_request_t *req, bool *input_error)
{
    char input[PATH_MAX];
    ts_blobs_path(ts_master_blobs(m), req->scene, input, sizeof input);
    ts_transcode_cut_t cut;
    if (ts_transcode_cut(ts_master_blobs(m), input, req->scene_name, req->segment_seconds, &cut, input_error) < 0)
        return -1;
    ts_job_request_t pinned = *req;
    pinned.fps_num = cut.fps_num;
    pinned.fps_den = cut.fps_den;
    pinned.tb_num = cut.tb_num;
    pinned.tb_den = cut.tb_den;
    int64_t id = ts_store_job_create_transcode(ts_master_store(m), &pinned, cut.segments, cut.count);
    if (id == TS_STORE_REFUSED)
        *input_error = true;
    if (id > 0)
        ts_info("job %lld submitted: transcode %s (%s), %s crf %d preset %s", (long long)id, req->scene_name,
                cut.summary, req->vcodec, req->crf, req->preset);
    free(cut.segments);
    return id;
}
