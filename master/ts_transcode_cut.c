/* ts_transcode_cut: a video indexed at its keyframes and cut into segments by stream copy, each stored as a blob: the
   plan of a transcode (job_transcode.c) and of the video at the end of a render (job_render.c).
   DESIGN: indexing reads packet headers only and cutting is stream copy, so a submission is planned on the API
   thread that received it and a bad input (not media, no video stream, truncated, empty) is refused there with
   a 400 naming it. Audio is not cut: the joiner copies it from the original input (ts_videojoin.c). */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "master/ts_jobtype.h"
#include "master/ts_transcode_cut.h"
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
        rc = paths[i] ? ts_jobtype_tmp_path(blobs, paths[i], PATH_MAX, "nut") : ts_error_set("out of memory");
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
