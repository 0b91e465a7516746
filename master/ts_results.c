/* ts_results: what the master does with a slave's Result: check it, store its output, move the state machine.
   DESIGN: a result is taken only with a valid signature by the node's identity key over (task id, output
   hash) and an output whose hash is the one signed. A probe's facts become the job's plan (frames, tiles).
   Tiles, segments and finishes go to the verifier (ts_verifier.c), which decides whether they count. */
#include "lib/ts_error.h"
#include "lib/ts_identity.h"
#include "lib/ts_log.h"
#include "master/ts_results.h"
#include "splitter/ts_tileplan.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUPPORTED_ENGINE "CYCLES"
#define TS_RESULTS_MEMORY_MAX (1ULL << 42) /* a renderer's peak above 4 TiB is not believed */

/* The job's input is at fault: the job fails with a message naming the scene. */
static int fail_job(const ts_results_ctx_t *m, const ts_task_t *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_job(const ts_results_ctx_t *m, const ts_task_t *t, const char *fmt, ...)
{
    ts_job_t job;
    char msg[1024], full[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* named by what the user knows: the task's own input's file name (an image of a contact sheet), else the job's */
    const ts_kind_t *kind = ts_kind_get(t->kind);
    char input[256];
    if (kind && kind->own_input && ts_store_job_input_name(m->store, t->job_id, t->input_hash, input,
                                                           sizeof input) == 1)
        snprintf(full, sizeof full, "%s: %s", input, msg);
    else if (ts_store_job_get(m->store, t->job_id, &job) == 1)
        snprintf(full, sizeof full, "%s: %s", job.scene_name, msg);
    else
        snprintf(full, sizeof full, "%s", msg);
    ts_warn("job %lld failed: %s", (long long)t->job_id, full);
    return ts_store_job_fail(m->store, t->job_id, full);
}

static int accept_probe(const ts_results_ctx_t *m, const ts_task_t *t, const char *node, const Tessera__SceneInfo *s)
{
    ts_store_t *store = m->store;
    ts_job_t job;
    if (ts_store_job_get(store, t->job_id, &job) != 1)
        return ts_error_set("job %lld is gone", (long long)t->job_id);
    if (!s)
        return fail_job(m, t, "the probe returned no scene facts");
    if (strcmp(s->engine, SUPPORTED_ENGINE) != 0)
        return fail_job(m, t, "the scene renders with %s; tessera tiles %s scenes only", s->engine, SUPPORTED_ENGINE);
    if (job.frame_start < s->frame_start || job.frame_end > s->frame_end)
        return fail_job(m, t, "frames %d-%d are outside the scene's frame range %d-%d", job.frame_start,
                        job.frame_end, s->frame_start, s->frame_end);
    /* Cycles' adaptive sampling decides each pixel's samples with its neighbours: such tiles are rendered
       with a margin of context pixels that stitching crops away. The probe reports the margin that makes
       tiles exact (one pixel per convergence check); --tile-margin N overrides it (docs/DESIGN.md). */
    int margin = job.margin >= 0 ? job.margin : s->tile_margin;
    if (margin < 0 || margin > TS_TILEPLAN_MAX_SIZE)
        return fail_job(m, t, "the probe reported a tile margin of %d pixels", margin);
    const char *frame_ext = strcmp(job.format, "scene") == 0 ? s->ext : job.format;
    if (ts_job_encodes(&job) && strcmp(frame_ext, "png") != 0)
        return fail_job(m, t, "a render that ends in an encode needs PNG frames, and this one writes %s "
                              "(add --format png)", frame_ext);
    ts_tile_t *tiles = NULL;
    int count = 0;
    if (ts_tileplan_make(s->width, s->height, job.tiles_x, job.tiles_y, margin, &tiles, &count) < 0)
        return fail_job(m, t, "%s (the frame is %dx%d pixels)", ts_error(), s->width, s->height);
    ts_store_rect_t *render = calloc((size_t)count, sizeof *render);
    for (int i = 0; render && i < count; i++)
        render[i] = (ts_store_rect_t){tiles[i].render.x0, tiles[i].render.y0, tiles[i].render.x1, tiles[i].render.y1};
    ts_scene_facts_t facts = {.width = s->width, .height = s->height, .frame_start = s->frame_start,
                              .frame_end = s->frame_end, .margin = margin, .fps_num = s->fps_num,
                              .fps_den = s->fps_den, .samples = s->samples,
                              .adaptive = s->adaptive};
    snprintf(facts.ext, sizeof facts.ext, "%s", s->ext && s->ext[0] ? s->ext : "png");
    int rc = render ? ts_store_probe_done(store, t->id, node) : ts_error_set("out of memory");
    if (rc >= 0)
        rc = ts_store_job_plan(store, t->job_id, &facts, render, count);
    free(render);
    free(tiles);
    if (rc >= 0)
        ts_info("job %lld planned: %dx%d pixels, frames %d-%d, %d tiles each, margin %d", (long long)t->job_id,
                s->width, s->height, job.frame_start, job.frame_end, count, margin);
    return rc;
}

int ts_results_accept(const ts_results_ctx_t *m, const ts_result_origin_t *from, const Tessera__Result *r)
{
    const char *node = from->id;
    ts_store_t *store = m->store;
    ts_task_t t;
    int found = ts_store_task_get(store, (int64_t)r->task_id, &t);
    if (found != 1)
        return ts_error_set("unknown task");
    if (strcmp(t.state, "done") == 0 || strcmp(t.state, "cancelled") == 0 || strcmp(t.state, "failed") == 0 ||
        strcmp(t.state, "superseded") == 0)
        return ts_error_set("task is already %s", t.state);
    if (strcmp(t.node, node) != 0 && strcmp(t.state, "queued") != 0)
        return ts_error_set("task is assigned to another node");
    if (!r->ok) {
        const char *err = r->error && r->error[0] ? r->error : "unknown error";
        if (r->input_error) {
            ts_store_task_requeue(store, t.id, false, NULL, m->max_failures);
            return fail_job(m, &t, "%s", err) < 0 ? -1 : 0;
        }
        ts_warn("task %lld failed on node %.12s: %s", (long long)t.id, node, err);
        return ts_store_task_requeue(store, t.id, true, err, m->max_failures);
    }
    /* Signature over (task, hash) by the node's key, and the output must be what was signed. */
    char hash[TS_HASH_HEX];
    ts_hash_buf(r->output.data, r->output.len, hash);
    if (!r->output_hash || strcmp(hash, r->output_hash) != 0 ||
        !ts_identity_verify_result(from->key, TS_IDENTITY_PUBLIC_BYTES, r->task_id, r->output_hash,
                                   r->signature.data, r->signature.len)) {
        ts_store_task_requeue(store, t.id, true, "result signature or hash invalid", m->max_failures);
        return ts_error_set("signature or output hash invalid");
    }
    if (r->peak_memory > 0 && r->peak_memory < TS_RESULTS_MEMORY_MAX &&
        ts_store_job_memory(store, t.job_id, (int64_t)r->peak_memory) < 0)
        ts_warn("job %lld: its memory need: %s", (long long)t.job_id, ts_error());
    if (t.kind == TS_KIND_PROBE)
        return accept_probe(m, &t, node, r->scene);
    if (r->output.len == 0) {
        ts_store_task_requeue(store, t.id, true, "empty output", m->max_failures);
        return ts_error_set("empty output");
    }
    char stored[TS_HASH_HEX];
    if (ts_blobs_put_buf(m->blobs, r->output.data, r->output.len, stored) < 0) {
        ts_store_task_requeue(store, t.id, false, NULL, m->max_failures);
        return -1;
    }
    /* the verifier decides whether it counts (ts_verifier.c) */
    const char *dclass = strcmp(t.device, "gpu") == 0 ? from->gpu_class : from->cpu_class;
    double busy = r->cpu_seconds > 0 && r->cpu_seconds < (double)m->task_timeout_s ? r->cpu_seconds : 0;
    int rc = ts_store_result_in(store, t.id, node, stored, (int64_t)r->output.len, dclass, busy);
    if (rc == 1 && m->result_in)
        m->result_in(m->arg);
    return rc == 1 ? 0 : -1;
}
