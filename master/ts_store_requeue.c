/* ts_store_requeue: frames of an ended render job rendered again and paid as new work (tessera requeue).
   DESIGN: one transaction. Only a render job that has ended done or failed is requeued: a running job's frames move
   under the stitcher, and a cancelled job stays cancelled. The requester pays first, the share of the budget of the
   new pieces' work units (each chosen frame's tiles as planned, its finish, and the video's encode when the job ends
   in one), so a short balance refuses the whole requeue. Then, for each chosen frame, every tile task of its current
   generation is copied (same rectangle and units, so the same price; no failures yet), every older task of the frame
   (tiles, their checks, the finish, in whatever state; not the job's probe) is set aside as 'superseded', and the
   frame is reopened as a verdict reopens one (sdb_frame_reopen: rendering again, outputs dropped, the video cut
   again). The job is running again with its error and finish time cleared, and the children it held by failing
   wait for it again; blocklists stay as they are. */
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES_NAMED 8 /* frames a message lists before "and N more" */

/* Sets ts_error() and returns code (a TS_STORE_* outcome). */
static int refuse(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ts_error_set("%s", msg);
    return code;
}

static int by_value(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sorts frames and drops repeats; the new count. */
static int sort_unique(int *frames, int n)
{
    qsort(frames, (size_t)n, sizeof *frames, by_value);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (kept == 0 || frames[kept - 1] != frames[i])
            frames[kept++] = frames[i];
    return kept;
}

/* "2, 5, 7" (and how many more) for messages. */
static void frames_text(const int *frames, int n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n && i < FRAMES_NAMED && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? ", " : "", frames[i]);
    if (n > FRAMES_NAMED && len < cap)
        snprintf(out + len, cap - len, " and %d more", n - FRAMES_NAMED);
}

/* Whether the job may be requeued at all: 0, or a TS_STORE_* outcome saying why not. */
static int check_job(ts_store_t *self, const ts_job_t *j)
{
    long long id = (long long)j->id;
    if (strcmp(j->type, "render") != 0)
        return refuse(TS_STORE_INVALID, "job %lld is a %s job: only render jobs can be requeued", id, j->type);
    if (strcmp(j->state, "cancelled") == 0)
        return refuse(TS_STORE_CONFLICT, "job %lld was cancelled: a cancelled job cannot be requeued (submit it again)",
                      id);
    bool planned = sdb_int(self, 0, "SELECT count(*) FROM frames WHERE job_id=? AND frame!=?", "ii", j->id,
                           (int64_t)TS_VIDEO_FRAME) > 0;
    bool ended = strcmp(j->state, "done") == 0 || strcmp(j->state, "failed") == 0;
    if (!planned && ended)
        return refuse(TS_STORE_CONFLICT, "job %lld failed before its frames were planned: submit it again", id);
    bool probing = strcmp(j->state, "queued") == 0 || strcmp(j->state, "running") == 0;
    if (!planned)
        return refuse(TS_STORE_CONFLICT, "job %lld %s (%s): it has no frames to requeue yet", id,
                      probing ? "is still probing its scene" : "has not started", j->state);
    if (!ended)
        return refuse(TS_STORE_CONFLICT, "job %lld is %s: only a job that has ended (done or failed) can be requeued",
                      id, j->state);
    return 0;
}

/* The frames (not the video) that did not finish, ascending (malloc'd); how many, or -1. */
static int unfinished_frames(ts_store_t *self, int64_t id, int **out)
{
    *out = NULL;
    sqlite3_stmt *st = sdb_prep(self, "SELECT frame FROM frames WHERE job_id=? AND frame!=? AND state!='done' "
                                      "ORDER BY frame");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, TS_VIDEO_FRAME);
    int n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            int *grown = realloc(*out, (size_t)cap * sizeof *grown);
            if (!grown) {
                sdb_done(self, st);
                free(*out);
                *out = NULL;
                return ts_error_set("out of memory");
            }
            *out = grown;
        }
        (*out)[n++] = sqlite3_column_int(st, 0);
    }
    sdb_done(self, st);
    return n;
}

/* The frames to render again (out->frames): the chosen and, with req->failed, the unfinished ones, each inside the
   job; a failed job's unfinished frames must be among them. 0, or a TS_STORE_* outcome. */
static int choose(ts_store_t *self, const ts_job_t *j, const ts_requeue_request_t *req, bool video_failed,
                  ts_requeue_result_t *out)
{
    long long id = (long long)j->id;
    bool failed = strcmp(j->state, "failed") == 0;
    if (!req->frames && !req->failed)
        return refuse(TS_STORE_INVALID, "nothing to requeue: give 'frames' (a list of frame numbers) or 'failed': "
                                        "true");
    if (req->frames && req->nframes == 0)
        return refuse(TS_STORE_INVALID, "field 'frames': the list is empty");
    for (int i = 0; req->frames && i < req->nframes; i++)
        if (req->frames[i] < j->frame_start || req->frames[i] > j->frame_end)
            return refuse(TS_STORE_INVALID, "field 'frames': frame %d is outside job %lld's frames %d-%d",
                          req->frames[i], id, j->frame_start, j->frame_end);
    int *left = NULL;
    int nleft = failed ? unfinished_frames(self, j->id, &left) : 0;
    if (nleft < 0)
        return -1;
    if (req->failed && nleft == 0 && !video_failed) {
        free(left);
        return refuse(TS_STORE_CONFLICT, "job %lld has no failed frames: it is %s (choose frames to render again)", id,
                      j->state);
    }
    int n = req->frames ? req->nframes : 0;
    out->frames = malloc(((size_t)n + (size_t)nleft + 1) * sizeof *out->frames);
    if (!out->frames) {
        free(left);
        return ts_error_set("out of memory");
    }
    if (n > 0)
        memcpy(out->frames, req->frames, (size_t)n * sizeof *out->frames);
    out->nframes = sort_unique(out->frames, n);
    /* the job cannot finish without its unfinished frames: with 'failed' they are added, else they must be chosen */
    int missing = 0;
    for (int i = 0; i < nleft; i++)
        if (!bsearch(&left[i], out->frames, (size_t)out->nframes, sizeof *out->frames, by_value))
            left[missing++] = left[i];
    int rc = 0;
    if (missing > 0 && req->failed) {
        memcpy(out->frames + out->nframes, left, (size_t)missing * sizeof *left);
        out->nframes = sort_unique(out->frames, out->nframes + missing);
    } else if (missing > 0) {
        char list[160];
        frames_text(left, missing, list, sizeof list);
        rc = refuse(TS_STORE_INVALID, "field 'frames': job %lld failed and its frame%s %s did not finish: requeue %s "
                    "too ('failed': true adds them)", id, missing > 1 ? "s" : "", list, missing > 1 ? "them" : "it");
    }
    free(left);
    return rc;
}

/* The work units of a frame's current tiles (*tiles gets how many there are). */
static int64_t tile_units(ts_store_t *self, int64_t job, int frame, int *tiles)
{
    *tiles = (int)sdb_int(self, 0, "SELECT count(*) FROM tasks WHERE job_id=? AND frame=? AND kind=? AND check_of=0 "
                                   "AND state!='superseded'", "iii", job, (int64_t)frame, (int64_t)TS_KIND_TILE);
    return sdb_int(self, 0, "SELECT sum(units) FROM tasks WHERE job_id=? AND frame=? AND kind=? AND check_of=0 AND "
                            "state!='superseded'", "iii", job, (int64_t)frame, (int64_t)TS_KIND_TILE);
}

/* What the new work weighs: each frame's tiles and finish, and the encode when the video is made again. */
static int work_units(ts_store_t *self, const ts_job_t *j, const ts_requeue_result_t *out, int64_t *units)
{
    *units = out->video ? sdb_int(self, 0, "SELECT encode_units FROM jobs WHERE id=?", "i", j->id) : 0;
    for (int i = 0; i < out->nframes; i++) {
        int tiles = 0;
        *units += tile_units(self, j->id, out->frames[i], &tiles) + (int64_t)j->width * j->height;
        if (tiles == 0)
            return ts_error_set("job %lld frame %d has no planned tiles", (long long)j->id, out->frames[i]);
    }
    return 0;
}

/* The requester pays for the new work (ref: once per requeue); 0, or a TS_STORE_* outcome. */
static int pay(ts_store_t *self, const ts_job_t *j, const char *ref, ts_requeue_result_t *out)
{
    int64_t units = 0;
    if (work_units(self, j, out, &units) < 0)
        return -1;
    int rc = sdb_pay_more(self, j->id, units, ref, &out->price);
    if (rc == 0)
        return 0;
    char list[160], price[32];
    frames_text(out->frames, out->nframes, list, sizeof list);
    ts_amount_format(out->price, price, sizeof price);
    return refuse(rc == 1 ? TS_STORE_CONFLICT : TS_STORE_REFUSED, "requeueing job %lld (frames %s%s) costs %s: %s",
                  (long long)j->id, out->nframes ? list : "none", out->video ? " and the video" : "", price,
                  ts_error());
}

/* One frame's next generation: a copy of each current tile task, then everything older set aside, then the frame
   reopened. Tasks up to id `last` are the older ones. */
static int renew_frame(ts_store_t *self, int64_t job, int frame, int64_t last, int *tiles)
{
    int rc = sdb_run(self, "INSERT INTO tasks(job_id,kind,frame,tile,x0,y0,x1,y1,units,state) "
                           "SELECT job_id,kind,frame,tile,x0,y0,x1,y1,units,'queued' FROM tasks WHERE job_id=? AND "
                           "frame=? AND kind=? AND check_of=0 AND state!='superseded' AND id<=? ORDER BY tile",
                     "iiii", job, (int64_t)frame, (int64_t)TS_KIND_TILE, last);
    if (rc == 0)
        *tiles += sqlite3_changes(self->db);
    if (rc == 0)
        rc = sdb_run(self, "UPDATE tasks SET state='superseded' WHERE job_id=? AND frame=? AND id<=? AND kind!=? AND "
                           "state!='superseded'", "iiii", job, (int64_t)frame, last, (int64_t)TS_KIND_PROBE);
    return rc == 0 ? sdb_frame_reopen(self, job, frame, TS_KIND_TILE) : rc;
}

int ts_store_job_requeue(ts_store_t *self, int64_t id, const ts_requeue_request_t *req, ts_requeue_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (sdb_begin(self) < 0)
        return -1;
    ts_job_t j;
    int rc = sdb_job_get(self, id, &j);
    if (rc != 1)
        return sdb_end(self, rc == 0 ? TS_STORE_UNKNOWN : -1);
    rc = check_job(self, &j);
    bool encodes = ts_job_encodes(&j);
    bool video_failed = encodes && strcmp(j.state, "failed") == 0 &&
                        sdb_int(self, 0, "SELECT state!='done' FROM frames WHERE job_id=? AND frame=?", "ii", id,
                                (int64_t)TS_VIDEO_FRAME) == 1;
    if (rc == 0)
        rc = choose(self, &j, req, video_failed, out);
    out->video = encodes && (out->nframes > 0 || video_failed);
    /* the tasks that exist now are the ones set aside; the id after them names this requeue's payment */
    int64_t last = sdb_int(self, 0, "SELECT coalesce(max(id),0) FROM tasks", "");
    char ref[40];
    snprintf(ref, sizeof ref, "requeue after task %" PRId64, last);
    if (rc == 0)
        rc = pay(self, &j, ref, out);
    for (int i = 0; rc == 0 && i < out->nframes; i++)
        rc = renew_frame(self, id, out->frames[i], last, &out->tiles);
    if (rc == 0 && out->video)
        rc = sdb_video_reopen(self, id);
    if (rc == 0)
        rc = sdb_run(self, "UPDATE jobs SET state='running', error=NULL, finished=NULL WHERE id=?", "i", id);
    /* the children it held by failing wait for it again (settled at once: one another parent holds stays held) */
    if (rc == 0)
        rc = sdb_run(self, "UPDATE jobs SET state='waiting', error=NULL WHERE state='held' AND id IN (SELECT job_id "
                           "FROM job_deps WHERE parent_id=?)", "i", id);
    if (rc == 0)
        rc = sdb_job_children_release(self, id, "running");
    rc = sdb_end(self, rc);
    if (rc != 0) {
        free(out->frames);
        out->frames = NULL;
        out->nframes = 0;
    }
    return rc;
}
