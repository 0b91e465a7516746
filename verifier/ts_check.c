/* ts_check: per-result checks (decodes, planned size, channels, frames, timestamps, byte bounds) and the
   comparison of two results of the same work, over files and plan facts.
   DESIGN: a result is judged only from what the master can decode itself; two results are compared by content
   (pixels, decoded frames), never by bytes, so container metadata cannot make honest work disagree. */
#include "verifier/ts_check.h"
#include "lib/ts_error.h"
#include "splitter/ts_image.h"
#include "verifier/ts_segcheck.h"
#include "verifier/ts_agree.h"
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
#define BYTES_RESULT_MAX 4096          /* a bytes result (a synthetic task's 32) larger than this is not believed */

/* Reads every row of an opened image: it decodes. */
static int image_decodes(ts_image_reader_t *r, int width, int height, int channels)
{
    float *row = malloc((size_t)width * (size_t)channels * sizeof *row);
    int rc = row ? 0 : ts_error_set("out of memory");
    for (int y = 0; rc == 0 && y < height; y++)
        rc = ts_image_reader_rows(r, y, y + 1, row);
    free(row);
    return rc;
}

/* Bounds before decoding: a header's claims (size, channels) and the file's bytes are checked against the plan
   first, so a hostile file never makes the master allocate or decode more than the planned image. */
static int check_image(const ts_result_facts_t *t, bool rgba, char *why, size_t cap)
{
    const char *path = t->path;
    int want_w = t->width, want_h = t->height;
    long long most = (long long)want_w * want_h * FLOAT_RGBA_BYTES * 2 + EXR_OVERHEAD_BYTES;
    if (t->size > most) {
        snprintf(why, cap, "the output is %lld bytes, more than %lld for %dx%d pixels", t->size, most, want_w, want_h);
        return 0;
    }
    /* read by the planned format's reader only (a tile is always an OpenEXR), which passes an OpenEXR file to the
       EXR library only when every header attribute fits in the file (ts_image's gate); opened once, for the
       header's claims and then the pixels */
    ts_image_reader_t *r = ts_image_reader_open_as(path, t->format);
    if (!r) {
        snprintf(why, cap, "the output does not decode: %s", ts_error());
        return 0;
    }
    int w = 0, h = 0, c = 0;
    ts_image_reader_size(r, &w, &h, &c);
    int pass = 0;
    if (w != want_w || h != want_h)
        snprintf(why, cap, "the output is %dx%d pixels, the task asked for %dx%d", w, h, want_w, want_h);
    else if (rgba ? c != 4 : (c < 1 || c > 4))
        snprintf(why, cap, "the output has %d channels, the task asked for %s", c, rgba ? "RGBA" : "1 to 4");
    else if (image_decodes(r, w, h, c) < 0)
        snprintf(why, cap, "the output does not decode: %s", ts_error());
    else
        pass = 1;
    ts_image_reader_destroy(&r);
    return pass;
}

static int check_segment(const ts_result_facts_t *t, char *why, size_t cap)
{
    if (t->tb_num <= 0 || t->tb_den <= 0) {
        snprintf(why, cap, "the segment has no time base for its frames");
        return -1;
    }
    ts_segcheck_facts_t want = {0}, got = {0};
    int rc = 1;
    if (ts_segcheck_output_frames(t->path, t->tb_num, t->tb_den, &got) < 0) {
        snprintf(why, cap, "the output does not decode: %s", ts_error());
        rc = 0;
    }
    /* what the segment owns: from the input's packets when the output matches that, else decoded as the slave's
       encoder decodes it (a damaged input, repeated timestamps), which is what the output is judged against */
    bool quick = rc == 1 &&
                 ts_segcheck_planned_packets(t->input, t->start_pts, t->end_pts, t->tb_num, t->tb_den, &want) == 0 &&
                 ts_segcheck_match(&want, &got, t->width, t->height, t->path) == 0;
    if (!quick) {
        ts_segcheck_facts_free(&want);
        if (ts_segcheck_planned_frames(t->input, t->start_pts, t->end_pts, t->tb_num, t->tb_den, &want) < 0) {
            snprintf(why, cap, "cannot read the segment's input: %s", ts_error());
            ts_segcheck_facts_free(&got);
            return -1;
        }
    }
    int want_w = t->width > 0 ? t->width : want.width, want_h = t->height > 0 ? t->height : want.height;
    if (rc == 1 && got.frames != want.frames) {
        snprintf(why, cap, "the output has %d frames, the segment owns %d", got.frames, want.frames);
        rc = 0;
    }
    for (int i = 0; rc == 1 && i < got.frames; i++)
        if (got.pts[i] != want.pts[i]) {
            snprintf(why, cap, "frame %d of the output is at %lld, the source's at %lld (time base %d/%d)", i,
                     (long long)got.pts[i], (long long)want.pts[i], t->tb_num, t->tb_den);
            rc = 0;
        }
    if (rc == 1 && (got.width != want_w || got.height != want_h)) {
        snprintf(why, cap, "the output is %dx%d, the job asked for %dx%d", got.width, got.height, want_w, want_h);
        rc = 0;
    }
    const AVCodec *dec = avcodec_find_decoder_by_name(got.codec);
    if (rc == 1 && t->codec && t->codec[0] && (!dec || strcmp(avcodec_get_name(dec->id), t->codec) != 0)) {
        snprintf(why, cap, "the output is %s, the job asked for %s", got.codec, t->codec);
        rc = 0;
    }
    long long most = (long long)want.frames * want_w * want_h * RAW_YUV444_BYTES + SEGMENT_OVERHEAD_BYTES;
    if (rc == 1 && t->size > most) {
        snprintf(why, cap, "the output is %lld bytes, more than %lld for %d frames of %dx%d", t->size, most,
                 want.frames, want_w, want_h);
        rc = 0;
    }
    ts_segcheck_facts_free(&want);
    ts_segcheck_facts_free(&got);
    return rc;
}

int ts_check_result(const ts_result_facts_t *t, char *why, size_t cap)
{
    why[0] = '\0';
    if (!t->path || !t->path[0]) {
        snprintf(why, cap, "no output");
        return 0;
    }
    const ts_kind_t *kind = ts_kind_get(t->kind);
    switch (kind ? kind->result : TS_KIND_RESULT_NONE) {
    case TS_KIND_RESULT_TILE:
        return check_image(t, true, why, cap);
    case TS_KIND_RESULT_FRAME:
        return check_image(t, false, why, cap);
    case TS_KIND_RESULT_VIDEO:
        return check_segment(t, why, cap);
    case TS_KIND_RESULT_BYTES:
        if (t->size >= 1 && t->size <= BYTES_RESULT_MAX)
            return 1;
        snprintf(why, cap, "the output is %lld bytes, a %s task's is 1..%d", t->size, ts_kind_name(t->kind),
                 BYTES_RESULT_MAX);
        return 0;
    case TS_KIND_RESULT_NONE:
        break;
    }
    /* nothing the verifier knows how to judge is accepted */
    snprintf(why, cap, "a %s task has no result the verifier can check", ts_kind_name(t->kind));
    return 0;
}

static int images_agree(const ts_result_facts_t *a, const ts_result_facts_t *b, bool noisy, char *detail, size_t cap)
{
    const char *pa = a->path, *pb = b->path;
    /* a finished frame is made from one stitched input by Blender's output path: it repeats itself */
    noisy = noisy && ts_kind_get(a->kind)->result == TS_KIND_RESULT_TILE;
    ts_agree_rule_t rule = ts_agree_image_rule(strcmp(a->dclass, b->dclass) == 0, noisy);
    ts_pixdiff_t d;
    bool part = a->width != b->width || a->height != b->height;
    if (part && a->width * a->height < b->width * b->height) { /* the whole first, the part second */
        const ts_result_facts_t *t = a;
        a = b;
        b = t;
        pa = a->path;
        pb = b->path;
    }
    int rc = part ? ts_image_compare_window(pa, pb, a->format, b->x - a->x, b->y - a->y, ts_agree_threshold(rule), &d)
                  : ts_image_compare_as(pa, pb, a->format, ts_agree_threshold(rule), &d);
    if (rc < 0) {
        /* both decoded with the planned size before: a difference here is in the content */
        snprintf(detail, cap, "%s", ts_error());
        return 0;
    }
    return ts_agree_images(rule, &d, detail, cap);
}

static int segments_agree(const ts_result_facts_t *a, const ts_result_facts_t *b, char *detail, size_t cap)
{
    if (a->tb_num <= 0 || a->tb_den <= 0) {
        snprintf(detail, cap, "the segment has no time base for its frames");
        return -1;
    }
    const char *pa = a->path, *pb = b->path;
    ts_segcheck_facts_t fa = {0}, fb = {0};
    int rc = ts_segcheck_output(pa, a->tb_num, a->tb_den, &fa) == 0 &&
                     ts_segcheck_output(pb, a->tb_num, a->tb_den, &fb) == 0
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
    if (ts_segcheck_psnr(a->input, a->start_pts, a->end_pts, a->tb_num, a->tb_den, pa, &qa) < 0 ||
        ts_segcheck_psnr(b->input, b->start_pts, b->end_pts, a->tb_num, a->tb_den, pb, &qb) < 0) {
        snprintf(detail, cap, "%s", ts_error());
        return -1;
    }
    return ts_agree_segments(qa, qb, (double)a->size, (double)b->size, detail, cap);
}

int ts_check_agree(const ts_result_facts_t *a, const ts_result_facts_t *b, bool noisy, char *detail, size_t cap)
{
    detail[0] = '\0';
    if (a->hash && b->hash && a->hash[0] && strcmp(a->hash, b->hash) == 0)
        return 1;
    const ts_kind_t *kind = ts_kind_get(a->kind);
    if (kind && kind->result == TS_KIND_RESULT_VIDEO)
        return segments_agree(a, b, detail, cap);
    if (kind && (kind->result == TS_KIND_RESULT_TILE || kind->result == TS_KIND_RESULT_FRAME))
        return images_agree(a, b, noisy, detail, cap);
    if (kind && kind->result == TS_KIND_RESULT_BYTES) { /* computed alike by every honest node: equal or not */
        snprintf(detail, cap, "the outputs differ (%.12s, %.12s)", a->hash ? a->hash : "?", b->hash ? b->hash : "?");
        return 0;
    }
    snprintf(detail, cap, "a %s task's results cannot be compared", ts_kind_name(a->kind));
    return -1;
}
