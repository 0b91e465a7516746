/* ts_check: per-result checks (decodes, planned size, channels, frames, timestamps, byte bounds) and the
   comparison of two results of the same work, for the verifier.
   DESIGN: a result is judged only from what the master can decode itself; two results are compared by content
   (pixels, decoded frames), never by bytes, so container metadata cannot make honest work disagree. */
#include "master/ts_check.h"
#include "lib/ts_error.h"
#include "splitter/ts_image.h"
#include "verifier/ts_segcheck.h"
#include "verifier/ts_agree.h"
#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXR_OVERHEAD_BYTES (1 << 20)   /* headers, offsets tables, metadata */
#define FLOAT_RGBA_BYTES 16            /* one float32 RGBA pixel */
#define RAW_YUV444_BYTES 3             /* bytes per pixel of an uncompressed 8-bit 4:4:4 frame */
#define SEGMENT_OVERHEAD_BYTES (1 << 20)

static void blob_path(ts_blobs_t *blobs, const ts_task_t *t, char *out, size_t cap)
{
    ts_blobs_path(blobs, t->result, out, cap);
}

/* Reads every row of an image file: it decodes. */
static int image_decodes(const char *path, int width, int height, int channels)
{
    ts_image_reader_t *r = ts_image_reader_new(path);
    if (!r)
        return -1;
    float *row = malloc((size_t)width * (size_t)channels * sizeof *row);
    int rc = row ? 0 : ts_error_set("out of memory");
    for (int y = 0; rc == 0 && y < height; y++)
        rc = ts_image_reader_rows(r, y, y + 1, row);
    free(row);
    ts_image_reader_destroy(&r);
    return rc;
}

static int check_image(ts_blobs_t *blobs, const ts_task_t *t, int want_w, int want_h, bool rgba, char *why, size_t cap)
{
    char path[PATH_MAX];
    blob_path(blobs, t, path, sizeof path);
    int w = 0, h = 0, c = 0;
    if (ts_image_info(path, &w, &h, &c) < 0 || image_decodes(path, w, h, c) < 0) {
        snprintf(why, cap, "the output does not decode: %s", ts_error());
        return 0;
    }
    if (w != want_w || h != want_h) {
        snprintf(why, cap, "the output is %dx%d pixels, the task asked for %dx%d", w, h, want_w, want_h);
        return 0;
    }
    if (rgba ? c != 4 : (c < 1 || c > 4)) {
        snprintf(why, cap, "the output has %d channels, the task asked for %s", c, rgba ? "RGBA" : "1 to 4");
        return 0;
    }
    long long most = (long long)w * h * FLOAT_RGBA_BYTES * 2 + EXR_OVERHEAD_BYTES;
    if (t->result_size > most) {
        snprintf(why, cap, "the output is %lld bytes, more than %lld for %dx%d pixels", (long long)t->result_size,
                 most, w, h);
        return 0;
    }
    return 1;
}

typedef struct {
    int width, height;     /* 0: the source's */
    char codec[32];        /* the codec the job's encoder writes (libavcodec's name), "" when unknown */
    int tb_num, tb_den;
} segment_plan_t;

static int segment_plan(const ts_task_t *t, segment_plan_t *p, char *why, size_t cap)
{
    memset(p, 0, sizeof *p);
    json_t *params = json_loads(t->params, 0, NULL);
    if (!params) {
        snprintf(why, cap, "task %lld has no encoder settings", (long long)t->id);
        return -1;
    }
    p->width = (int)json_integer_value(json_object_get(params, "width"));
    p->height = (int)json_integer_value(json_object_get(params, "height"));
    p->tb_num = (int)json_integer_value(json_object_get(params, "tb_num"));
    p->tb_den = (int)json_integer_value(json_object_get(params, "tb_den"));
    const char *vcodec = json_string_value(json_object_get(params, "vcodec"));
    const AVCodec *enc = vcodec ? avcodec_find_encoder_by_name(vcodec) : NULL;
    if (enc)
        snprintf(p->codec, sizeof p->codec, "%s", avcodec_get_name(enc->id));
    json_decref(params);
    if (p->tb_num <= 0 || p->tb_den <= 0) {
        snprintf(why, cap, "task %lld has no time base for its frames", (long long)t->id);
        return -1;
    }
    return 0;
}

static int check_segment(ts_blobs_t *blobs, const ts_task_t *t, char *why, size_t cap)
{
    segment_plan_t plan;
    if (segment_plan(t, &plan, why, cap) < 0)
        return -1;
    char in[PATH_MAX], out[PATH_MAX];
    ts_blobs_path(blobs, t->input_hash, in, sizeof in);
    blob_path(blobs, t, out, sizeof out);
    ts_segcheck_facts_t want = {0}, got = {0};
    if (ts_segcheck_planned(in, t->start_pts, t->end_pts, plan.tb_num, plan.tb_den, &want) < 0) {
        snprintf(why, cap, "cannot read the segment's input: %s", ts_error());
        return -1;
    }
    int rc = 1;
    if (ts_segcheck_output(out, plan.tb_num, plan.tb_den, &got) < 0) {
        snprintf(why, cap, "the output does not decode: %s", ts_error());
        rc = 0;
    }
    int want_w = plan.width > 0 ? plan.width : want.width, want_h = plan.height > 0 ? plan.height : want.height;
    if (rc == 1 && got.frames != want.frames) {
        snprintf(why, cap, "the output has %d frames, the segment owns %d", got.frames, want.frames);
        rc = 0;
    }
    for (int i = 0; rc == 1 && i < got.frames; i++)
        if (got.pts[i] != want.pts[i]) {
            snprintf(why, cap, "frame %d of the output is at %lld, the source's at %lld (time base %d/%d)", i,
                     (long long)got.pts[i], (long long)want.pts[i], plan.tb_num, plan.tb_den);
            rc = 0;
        }
    if (rc == 1 && (got.width != want_w || got.height != want_h)) {
        snprintf(why, cap, "the output is %dx%d, the job asked for %dx%d", got.width, got.height, want_w, want_h);
        rc = 0;
    }
    const AVCodec *dec = avcodec_find_decoder_by_name(got.codec);
    if (rc == 1 && plan.codec[0] && (!dec || strcmp(avcodec_get_name(dec->id), plan.codec) != 0)) {
        snprintf(why, cap, "the output is %s, the job asked for %s", got.codec, plan.codec);
        rc = 0;
    }
    long long most = (long long)want.frames * want_w * want_h * RAW_YUV444_BYTES + SEGMENT_OVERHEAD_BYTES;
    if (rc == 1 && t->result_size > most) {
        snprintf(why, cap, "the output is %lld bytes, more than %lld for %d frames of %dx%d",
                 (long long)t->result_size, most, want.frames, want_w, want_h);
        rc = 0;
    }
    ts_segcheck_facts_free(&want);
    ts_segcheck_facts_free(&got);
    return rc;
}

int ts_check_result(ts_blobs_t *blobs, const ts_job_t *j, const ts_task_t *t, char *why, size_t cap)
{
    why[0] = '\0';
    if (!ts_hash_valid(t->result)) {
        snprintf(why, cap, "no output");
        return 0;
    }
    const ts_kind_t *kind = ts_kind_get(t->kind);
    switch (kind ? kind->result : TS_KIND_RESULT_NONE) {
    case TS_KIND_RESULT_TILE:
        return check_image(blobs, t, t->x1 - t->x0, t->y1 - t->y0, true, why, cap);
    case TS_KIND_RESULT_FRAME:
        return check_image(blobs, t, j->width, j->height, false, why, cap);
    case TS_KIND_RESULT_VIDEO:
        return check_segment(blobs, t, why, cap);
    case TS_KIND_RESULT_NONE:
        break;
    }
    /* nothing the verifier knows how to judge is accepted */
    snprintf(why, cap, "a %s task has no result the verifier can check", ts_kind_name(t->kind));
    return 0;
}

static int images_agree(ts_blobs_t *blobs, const ts_job_t *j, const ts_task_t *a, const ts_task_t *b, char *detail,
                        size_t cap)
{
    char pa[PATH_MAX], pb[PATH_MAX];
    blob_path(blobs, a, pa, sizeof pa);
    blob_path(blobs, b, pb, sizeof pb);
    /* a finished frame is made from one stitched input by Blender's output path: it repeats itself */
    bool noisy = j->noisy && ts_kind_get(a->kind)->result == TS_KIND_RESULT_TILE;
    ts_agree_rule_t rule = ts_agree_image_rule(strcmp(a->dclass, b->dclass) == 0, noisy);
    ts_pixdiff_t d;
    if (ts_image_compare(pa, pb, ts_agree_threshold(rule), &d) < 0) {
        /* both decoded with the planned size before: a difference here is in the content */
        snprintf(detail, cap, "%s", ts_error());
        return 0;
    }
    return ts_agree_images(rule, &d, detail, cap);
}

static int segments_agree(ts_blobs_t *blobs, const ts_task_t *a, const ts_task_t *b, char *detail, size_t cap)
{
    segment_plan_t plan;
    if (segment_plan(a, &plan, detail, cap) < 0)
        return -1;
    char in[PATH_MAX], pa[PATH_MAX], pb[PATH_MAX];
    ts_blobs_path(blobs, a->input_hash, in, sizeof in);
    blob_path(blobs, a, pa, sizeof pa);
    blob_path(blobs, b, pb, sizeof pb);
    ts_segcheck_facts_t fa = {0}, fb = {0};
    int rc = ts_segcheck_output(pa, plan.tb_num, plan.tb_den, &fa) == 0 &&
                     ts_segcheck_output(pb, plan.tb_num, plan.tb_den, &fb) == 0
                 ? 0
                 : -1;
    if (rc < 0)
        snprintf(detail, cap, "%s", ts_error());
    bool same = rc == 0 && strcmp(fa.digest, fb.digest) == 0;
    ts_segcheck_facts_free(&fa);
    ts_segcheck_facts_free(&fb);
    if (rc < 0 || same)
        return rc < 0 ? -1 : 1;
    /* different decoded frames: each against the source, and their sizes, never one against the other */
    double qa = 0, qb = 0;
    if (ts_segcheck_psnr(in, a->start_pts, a->end_pts, plan.tb_num, plan.tb_den, pa, &qa) < 0 ||
        ts_segcheck_psnr(in, b->start_pts, b->end_pts, plan.tb_num, plan.tb_den, pb, &qb) < 0) {
        snprintf(detail, cap, "%s", ts_error());
        return -1;
    }
    return ts_agree_segments(qa, qb, (double)a->result_size, (double)b->result_size, detail, cap);
}

int ts_check_agree(ts_blobs_t *blobs, const ts_job_t *j, const ts_task_t *a, const ts_task_t *b, char *detail,
                   size_t cap)
{
    detail[0] = '\0';
    if (strcmp(a->result, b->result) == 0)
        return 1;
    const ts_kind_t *kind = ts_kind_get(a->kind);
    if (kind && kind->result == TS_KIND_RESULT_VIDEO)
        return segments_agree(blobs, a, b, detail, cap);
    if (kind && (kind->result == TS_KIND_RESULT_TILE || kind->result == TS_KIND_RESULT_FRAME))
        return images_agree(blobs, j, a, b, detail, cap);
    snprintf(detail, cap, "a %s task's results cannot be compared", ts_kind_name(a->kind));
    return -1;
}
