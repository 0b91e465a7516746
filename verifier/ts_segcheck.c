/* ts_segcheck: decodes encoded segments and their cut inputs for the verifier: frames, pts, digest, PSNR. */
#include "verifier/ts_segcheck.h"
#include "lib/ts_error.h"
#include "lib/ts_hash.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DECODER_THREADS 1 /* as the slave's encoder decodes; also keeps error reports deterministic */
#define SWS_FLAGS (SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT) /* the slave's scaler settings */
#define PTS_INITIAL 256   /* first allocation of facts->pts */
#define PALETTE_BYTES (256 * 4)
#define MAX_SAMPLE_DEPTH 16
#define FALLBACK_YUV AV_PIX_FMT_YUV444P16LE /* PSNR of outputs in packed/semi-planar/odd formats */
#define FALLBACK_RGB AV_PIX_FMT_GBRP16LE

/* ---------------------------------------------------------------------------------------------------- */
/* A frame source: one video stream decoded in order, optionally keeping only the owned frames.          */

typedef struct {
    const char *path;
    bool strict;     /* an output: any damage fails; else the slave's rules (damage skipped, range, dedupe) */
    bool ranged;     /* keep only start <= pts < end (in rtb) */
    AVRational rtb;
    int64_t start, end;
    AVFormatContext *ic;
    AVStream *st;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    int64_t size;    /* file bytes */
    int64_t packets; /* video packets read */
    int64_t decoded; /* frames out of the decoder */
    int64_t kept;
    int64_t last_pts; /* of the last kept frame, stream time base */
    bool flushing;
} reader_t;

static void reader_close(reader_t *r)
{
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->ic);
    av_packet_free(&r->pkt);
    av_frame_free(&r->frame);
}

static int reader_fail(const reader_t *r, const char *what, int err)
{
    return ts_error_set("%s: %s: %s", r->path, what, av_err2str(err));
}

/* Opens path's first video stream (cover art excluded) and its decoder. */
static int reader_open(reader_t *r, const char *path, bool strict)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->strict = strict;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ts_error_set("%s: %s", path, errno == ENOENT ? "no such file" : strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return ts_error_set("%s: not a regular file", path);
    if (sb.st_size == 0)
        return ts_error_set("%s: empty file (0 bytes), not a video", path);
    r->size = (int64_t)sb.st_size;
    if (!(r->pkt = av_packet_alloc()) || !(r->frame = av_frame_alloc()))
        return ts_error_set("%s: out of memory", path);
    int ret = avformat_open_input(&r->ic, path, NULL, NULL);
    if (ret < 0)
        return reader_fail(r, "not a media file, or damaged", ret);
    if ((ret = avformat_find_stream_info(r->ic, NULL)) < 0)
        return reader_fail(r, "cannot read its streams (damaged or truncated)", ret);
    for (unsigned i = 0; i < r->ic->nb_streams; i++) {
        AVStream *st = r->ic->streams[i];
        if (!r->st && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            r->st = st;
        else
            st->discard = AVDISCARD_ALL;
    }
    if (!r->st)
        return ts_error_set("%s: no video stream", path);
    const AVCodec *dc = avcodec_find_decoder(r->st->codecpar->codec_id);
    if (!dc)
        return ts_error_set("%s: no decoder for its video codec \"%s\"", path,
                            avcodec_get_name(r->st->codecpar->codec_id));
    if (!(r->dec = avcodec_alloc_context3(dc)))
        return ts_error_set("%s: out of memory", path);
    if ((ret = avcodec_parameters_to_context(r->dec, r->st->codecpar)) < 0)
        return reader_fail(r, "bad codec parameters", ret);
    r->dec->pkt_timebase = r->st->time_base;
    r->dec->thread_count = DECODER_THREADS;
    if (strict)
        r->dec->err_recognition |= AV_EF_EXPLODE;
    else
        r->dec->flags2 |= AV_CODEC_FLAG2_SHOW_ALL; /* as ts_segenc decodes a segment file */
    if ((ret = avcodec_open2(r->dec, dc, NULL)) < 0)
        return reader_fail(r, "cannot open the decoder", ret);
    return 0;
}

/* True when the reader keeps a frame with stream pts `pts`: ts_segenc's take_frame rules. */
static bool reader_keeps(const reader_t *r, int64_t pts)
{
    if (r->strict)
        return true;
    if (r->ranged && ((r->start != INT64_MIN && av_compare_ts(pts, r->st->time_base, r->start, r->rtb) < 0) ||
                      (r->end != INT64_MAX && av_compare_ts(pts, r->st->time_base, r->end, r->rtb) >= 0)))
        return false;
    return r->kept == 0 || pts > r->last_pts;
}

/* The next kept frame in r->frame (valid until the next call): 1, 0 at the end, -1 on error. */
static int reader_next(reader_t *r)
{
    av_frame_unref(r->frame);
    for (;;) {
        int ret = avcodec_receive_frame(r->dec, r->frame);
        if (ret >= 0) {
            r->decoded++;
            if (r->strict && (r->frame->decode_error_flags || (r->frame->flags & AV_FRAME_FLAG_CORRUPT)))
                return ts_error_set("%s: frame %lld decodes damaged", r->path, (long long)r->decoded - 1);
            int64_t pts = r->frame->best_effort_timestamp;
            if (pts == AV_NOPTS_VALUE)
                return ts_error_set("%s: decoded frame %lld has no timestamp", r->path, (long long)r->decoded - 1);
            if (!reader_keeps(r, pts)) {
                av_frame_unref(r->frame);
                continue;
            }
            r->last_pts = pts;
            r->kept++;
            return 1;
        }
        if (ret == AVERROR_EOF)
            return 0;
        if (ret == AVERROR_INVALIDDATA && !r->strict)
            continue;
        if (ret != AVERROR(EAGAIN))
            return reader_fail(r, "decoding", ret);
        if (r->flushing)
            return ts_error_set("%s: the decoder stalled at the end", r->path);
        ret = av_read_frame(r->ic, r->pkt);
        if (ret == AVERROR_EOF) {
            r->flushing = true;
            if ((ret = avcodec_send_packet(r->dec, NULL)) < 0)
                return reader_fail(r, "decoding", ret);
            continue;
        }
        if (ret < 0)
            return reader_fail(r, "reading (damaged or truncated)", ret);
        if (r->pkt->stream_index != r->st->index) {
            av_packet_unref(r->pkt);
            continue;
        }
        int64_t index = r->packets++;
        if (r->strict && (r->pkt->flags & AV_PKT_FLAG_CORRUPT)) {
            av_packet_unref(r->pkt);
            return ts_error_set("%s: video packet %lld is damaged or truncated", r->path, (long long)index);
        }
        ret = avcodec_send_packet(r->dec, r->pkt);
        av_packet_unref(r->pkt);
        if (ret < 0 && !(ret == AVERROR_INVALIDDATA && !r->strict)) {
            char what[64];
            snprintf(what, sizeof what, "video packet %lld does not decode", (long long)index);
            return reader_fail(r, what, ret);
        }
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* Facts.                                                                                                */

void ts_segcheck_facts_free(ts_segcheck_facts_t *facts)
{
    if (!facts)
        return;
    free(facts->pts);
    memset(facts, 0, sizeof *facts);
}

static int check_tb(const char *path, int tb_num, int tb_den)
{
    if (tb_num <= 0 || tb_den <= 0)
        return ts_error_set("%s: time base %d/%d is not positive", path, tb_num, tb_den);
    return 0;
}

/* Hashes a frame: width, height, pixel format name, then each plane's visible bytes row by row. */
static int hash_frame(ts_hasher_t *h, const AVFrame *f, const char *path)
{
    enum AVPixelFormat fmt = f->format;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    if (!d || (d->flags & AV_PIX_FMT_FLAG_HWACCEL))
        return ts_error_set("%s: frames in pixel format %d cannot be hashed", path, f->format);
    uint8_t head[8];
    AV_WL32(head, (uint32_t)f->width);
    AV_WL32(head + 4, (uint32_t)f->height);
    ts_hasher_update(h, head, sizeof head);
    ts_hasher_update(h, d->name, strlen(d->name) + 1);
    int lines[4];
    ptrdiff_t lines_p[4];
    size_t sizes[4];
    if (av_image_fill_linesizes(lines, fmt, f->width) < 0)
        return ts_error_set("%s: frame size %dx%d %s is invalid", path, f->width, f->height, d->name);
    for (int p = 0; p < 4; p++)
        lines_p[p] = lines[p];
    if (av_image_fill_plane_sizes(sizes, fmt, f->height, lines_p) < 0)
        return ts_error_set("%s: frame size %dx%d %s is invalid", path, f->width, f->height, d->name);
    bool pal = (d->flags & AV_PIX_FMT_FLAG_PAL) != 0;
    int planes = pal ? 1 : av_pix_fmt_count_planes(fmt);
    for (int p = 0; p < planes; p++) {
        if (lines[p] <= 0)
            continue;
        size_t rows = sizes[p] / (size_t)lines[p];
        for (size_t y = 0; y < rows; y++)
            ts_hasher_update(h, f->data[p] + (ptrdiff_t)y * f->linesize[p], (size_t)lines[p]);
    }
    if (pal)
        ts_hasher_update(h, f->data[1], PALETTE_BYTES);
    return 0;
}

/* Reads every kept frame of r into facts. */
static int collect(reader_t *r, int tb_num, int tb_den, bool digest, ts_segcheck_facts_t *facts)
{
    AVRational tb = {tb_num, tb_den};
    int cap = 0;
    ts_hasher_t *h = digest ? ts_hasher_new() : NULL;
    if (digest && !h)
        return ts_error_set("%s: out of memory", r->path);
    facts->bytes = r->size;
    snprintf(facts->codec, sizeof facts->codec, "%s", r->dec->codec->name);
    int rc;
    while ((rc = reader_next(r)) == 1) {
        const AVFrame *f = r->frame;
        if (facts->frames == 0) {
            facts->width = f->width;
            facts->height = f->height;
            const char *name = av_get_pix_fmt_name(f->format);
            snprintf(facts->pix_fmt, sizeof facts->pix_fmt, "%s", name ? name : "none");
        } else if (r->strict && (f->width != facts->width || f->height != facts->height)) {
            rc = ts_error_set("%s: frame %d is %dx%d, the first was %dx%d", r->path, facts->frames, f->width,
                              f->height, facts->width, facts->height);
            break;
        }
        if (facts->frames == INT_MAX) {
            rc = ts_error_set("%s: too many frames", r->path);
            break;
        }
        if (facts->frames == cap) {
            int ncap = cap ? (cap > INT_MAX / 2 ? INT_MAX : 2 * cap) : PTS_INITIAL;
            int64_t *np = realloc(facts->pts, (size_t)ncap * sizeof *np);
            if (!np) {
                rc = ts_error_set("%s: out of memory", r->path);
                break;
            }
            facts->pts = np;
            cap = ncap;
        }
        facts->pts[facts->frames++] = av_rescale_q(f->best_effort_timestamp, r->st->time_base, tb);
        if (h && (rc = hash_frame(h, f, r->path)) < 0)
            break;
    }
    if (h)
        ts_hasher_finish(&h, facts->digest);
    if (rc < 0)
        return -1;
    return 0;
}

static int output_facts(const char *path, int tb_num, int tb_den, bool digest, ts_segcheck_facts_t *facts)
{
    memset(facts, 0, sizeof *facts);
    if (check_tb(path, tb_num, tb_den) < 0)
        return -1;
    reader_t r;
    int rc = reader_open(&r, path, true);
    if (rc == 0)
        rc = collect(&r, tb_num, tb_den, digest, facts);
    if (rc == 0 && facts->frames == 0)
        rc = ts_error_set("%s: no video frame decodes", path);
    reader_close(&r);
    if (rc < 0)
        ts_segcheck_facts_free(facts);
    return rc;
}

int ts_segcheck_output(const char *path, int tb_num, int tb_den, ts_segcheck_facts_t *facts)
{
    return output_facts(path, tb_num, tb_den, true, facts);
}

int ts_segcheck_output_frames(const char *path, int tb_num, int tb_den, ts_segcheck_facts_t *facts)
{
    return output_facts(path, tb_num, tb_den, false, facts);
}

static int open_planned(reader_t *r, const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den)
{
    memset(r, 0, sizeof *r);
    if (check_tb(input, tb_num, tb_den) < 0)
        return -1;
    if (start_pts >= end_pts)
        return ts_error_set("%s: empty range [%lld, %lld)", input, (long long)start_pts, (long long)end_pts);
    if (reader_open(r, input, false) < 0)
        return -1;
    r->ranged = true;
    r->rtb = (AVRational){tb_num, tb_den};
    r->start = start_pts;
    r->end = end_pts;
    return 0;
}

static int no_owned_frame(const char *input, int64_t start_pts, int64_t end_pts)
{
    return ts_error_set("%s: no frame with pts in [%lld, %lld)", input, (long long)start_pts, (long long)end_pts);
}

static int planned_facts(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                         bool digest, ts_segcheck_facts_t *facts)
{
    memset(facts, 0, sizeof *facts);
    reader_t r;
    int rc = open_planned(&r, input, start_pts, end_pts, tb_num, tb_den);
    if (rc == 0)
        rc = collect(&r, tb_num, tb_den, digest, facts);
    if (rc == 0 && facts->frames == 0)
        rc = no_owned_frame(input, start_pts, end_pts);
    reader_close(&r);
    if (rc < 0)
        ts_segcheck_facts_free(facts);
    return rc;
}

int ts_segcheck_planned(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                        ts_segcheck_facts_t *facts)
{
    return planned_facts(input, start_pts, end_pts, tb_num, tb_den, true, facts);
}

int ts_segcheck_planned_frames(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                               ts_segcheck_facts_t *facts)
{
    return planned_facts(input, start_pts, end_pts, tb_num, tb_den, false, facts);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int ts_segcheck_planned_packets(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                                ts_segcheck_facts_t *facts)
{
    memset(facts, 0, sizeof *facts);
    reader_t r;
    int rc = open_planned(&r, input, start_pts, end_pts, tb_num, tb_den);
    int cap = 0;
    AVRational tb = {tb_num, tb_den};
    while (rc == 0) {
        int ret = av_read_frame(r.ic, r.pkt);
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0) {
            rc = reader_fail(&r, "reading (damaged or truncated)", ret);
            break;
        }
        int64_t pts = r.pkt->pts;
        bool mine = r.pkt->stream_index == r.st->index, damaged = r.pkt->flags & (AV_PKT_FLAG_CORRUPT | AV_PKT_FLAG_DISCARD);
        av_packet_unref(r.pkt);
        if (!mine)
            continue;
        if (damaged || pts == AV_NOPTS_VALUE) {
            rc = ts_error_set("%s: a video packet without a usable timestamp: the plan needs decoding", input);
            break;
        }
        if (!reader_keeps(&r, pts))
            continue; /* outside the range (r.kept stays 0: reader_keeps applies only the range; the dedupe is
                         done below, on sorted timestamps) */
        if (facts->frames == cap) {
            int ncap = cap ? (cap > INT_MAX / 2 ? INT_MAX : 2 * cap) : PTS_INITIAL;
            int64_t *np = ncap > cap ? realloc(facts->pts, (size_t)ncap * sizeof *np) : NULL;
            if (!np) {
                rc = ts_error_set("%s: out of memory", input);
                break;
            }
            facts->pts = np;
            cap = ncap;
        }
        facts->pts[facts->frames++] = pts;
    }
    if (rc == 0 && facts->frames == 0)
        rc = no_owned_frame(input, start_pts, end_pts);
    if (rc == 0) {
        /* presentation order, one frame per timestamp (the encoder drops repeated ones), in the caller's time base */
        qsort(facts->pts, (size_t)facts->frames, sizeof *facts->pts, cmp_i64);
        int n = 0;
        for (int i = 0; i < facts->frames; i++)
            if (n == 0 || facts->pts[i] != facts->pts[n - 1])
                facts->pts[n++] = facts->pts[i];
        facts->frames = n;
        for (int i = 0; i < n; i++)
            facts->pts[i] = av_rescale_q(facts->pts[i], r.st->time_base, tb);
        facts->width = r.st->codecpar->width;
        facts->height = r.st->codecpar->height;
        const char *name = av_get_pix_fmt_name(r.st->codecpar->format);
        snprintf(facts->pix_fmt, sizeof facts->pix_fmt, "%s", name ? name : "none");
        snprintf(facts->codec, sizeof facts->codec, "%s", r.dec->codec->name);
        facts->bytes = r.size;
    }
    reader_close(&r);
    if (rc < 0)
        ts_segcheck_facts_free(facts);
    return rc;
}

int ts_segcheck_match(const ts_segcheck_facts_t *planned, const ts_segcheck_facts_t *output, int width, int height,
                      const char *output_path)
{
    int w = width > 0 ? width : planned->width, hgt = height > 0 ? height : planned->height;
    if (output->frames != planned->frames)
        return ts_error_set("%s: %d frames, the segment owns %d", output_path, output->frames, planned->frames);
    for (int i = 0; i < output->frames; i++)
        if (output->pts[i] != planned->pts[i])
            return ts_error_set("%s: frame %d has pts %lld, planned %lld", output_path, i, (long long)output->pts[i],
                                (long long)planned->pts[i]);
    if (output->width != w || output->height != hgt)
        return ts_error_set("%s: %dx%d, planned %dx%d", output_path, output->width, output->height, w, hgt);
    return 0;
}

bool ts_segcheck_same(const ts_segcheck_facts_t *a, const ts_segcheck_facts_t *b)
{
    if (a->frames != b->frames || a->width != b->width || a->height != b->height || strcmp(a->digest, b->digest) != 0)
        return false;
    for (int i = 0; i < a->frames; i++)
        if (a->pts[i] != b->pts[i])
            return false;
    return true;
}

/* ---------------------------------------------------------------------------------------------------- */
/* PSNR.                                                                                                 */

/* True when every component of fmt has a plane of its own with one 8..16-bit sample per 1 or 2 bytes. */
static bool plain_planar(enum AVPixelFormat fmt)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    if (!d || (d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL |
                           AV_PIX_FMT_FLAG_FLOAT)))
        return false;
    if (d->nb_components > 1 && !(d->flags & AV_PIX_FMT_FLAG_PLANAR))
        return false;
    unsigned planes = 0;
    for (int i = 0; i < d->nb_components; i++) {
        const AVComponentDescriptor *c = &d->comp[i];
        int bytes = c->depth <= 8 ? 1 : 2;
        if (c->depth < 1 || c->depth > MAX_SAMPLE_DEPTH || c->step != bytes || c->offset != 0 || c->shift != 0 ||
            (planes & (1u << c->plane)))
            return false;
        planes |= 1u << c->plane;
    }
    return true;
}

typedef ts_segcheck_psnr_t psnr_t; /* the header declares it for the self-test */

/* Converts src into dst (reallocated) at w x h, fmt. */
static int convert(struct SwsContext **sws, const AVFrame *src, AVFrame *dst, int w, int h, enum AVPixelFormat fmt,
                   const char *path)
{
    *sws = sws_getCachedContext(*sws, src->width, src->height, src->format, w, h, fmt, SWS_FLAGS, NULL, NULL, NULL);
    if (!*sws)
        return ts_error_set("%s: cannot convert %dx%d %s to %dx%d %s", path, src->width, src->height,
                            av_get_pix_fmt_name(src->format), w, h, av_get_pix_fmt_name(fmt));
    av_frame_unref(dst);
    dst->width = w;
    dst->height = h;
    dst->format = fmt;
    int ret = av_frame_get_buffer(dst, 0);
    if (ret < 0)
        return ts_error_set("%s: %s", path, av_err2str(ret));
    if (sws_scale(*sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dst->data, dst->linesize) <= 0)
        return ts_error_set("%s: converting a frame failed", path);
    return 0;
}

/* Sum of squared differences of one component plane, samples of `bytes` bytes. */
static double plane_sse(const AVFrame *a, const AVFrame *b, int plane, int w, int h, int bytes, bool be)
{
    double sse = 0;
    for (int y = 0; y < h; y++) {
        const uint8_t *ra = a->data[plane] + (ptrdiff_t)y * a->linesize[plane];
        const uint8_t *rb = b->data[plane] + (ptrdiff_t)y * b->linesize[plane];
        uint64_t row = 0;
        for (int x = 0; x < w; x++) {
            int va, vb;
            if (bytes == 1) {
                va = ra[x];
                vb = rb[x];
            } else if (be) {
                va = AV_RB16(ra + 2 * x);
                vb = AV_RB16(rb + 2 * x);
            } else {
                va = AV_RL16(ra + 2 * x);
                vb = AV_RL16(rb + 2 * x);
            }
            int64_t d = va - vb;
            row += (uint64_t)(d * d);
        }
        sse += (double)row;
    }
    return sse;
}

/* Adds one pair of frames (source, output) to the PSNR sums. */
static int psnr_add(psnr_t *p, const AVFrame *src, const char *src_path, const AVFrame *out, const char *out_path)
{
    int w = out->width, h = out->height;
    enum AVPixelFormat fmt = out->format;
    if (!plain_planar(fmt)) {
        const AVPixFmtDescriptor *od = av_pix_fmt_desc_get(fmt);
        fmt = od && (od->flags & AV_PIX_FMT_FLAG_RGB) ? FALLBACK_RGB : FALLBACK_YUV;
        if (convert(&p->sws_out, out, p->conv_out, w, h, fmt, out_path) < 0)
            return -1;
        out = p->conv_out;
    }
    if (src->width != w || src->height != h || src->format != fmt) {
        if (convert(&p->sws_in, src, p->conv_in, w, h, fmt, src_path) < 0)
            return -1;
        src = p->conv_in;
    }
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    bool rgb = (d->flags & AV_PIX_FMT_FLAG_RGB) != 0, be = (d->flags & AV_PIX_FMT_FLAG_BE) != 0;
    double weighted = 0, samples = 0;
    for (int i = 0; i < d->nb_components; i++) {
        const AVComponentDescriptor *c = &d->comp[i];
        bool chroma = !rgb && d->nb_components >= 3 && (i == 1 || i == 2);
        int cw = chroma ? AV_CEIL_RSHIFT(w, d->log2_chroma_w) : w;
        int ch = chroma ? AV_CEIL_RSHIFT(h, d->log2_chroma_h) : h;
        double peak = (double)((1 << c->depth) - 1);
        weighted += plane_sse(src, out, c->plane, cw, ch, c->depth <= 8 ? 1 : 2, be) / (peak * peak);
        samples += (double)cw * ch;
    }
    if (samples <= 0)
        return ts_error_set("%s: empty frame", out_path);
    p->nmse_sum += weighted / samples;
    p->frames++;
    return 0;
}

/* Counts the frames left in r (after a mismatch). */
static int64_t count_rest(reader_t *r)
{
    int64_t n = 0;
    while (reader_next(r) == 1)
        n++;
    return n;
}

int ts_segcheck_psnr(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                     const char *output, double *psnr_db)
{
    reader_t in, out;
    psnr_t p = {0};
    memset(&out, 0, sizeof out);
    int rc = open_planned(&in, input, start_pts, end_pts, tb_num, tb_den);
    if (rc == 0)
        rc = reader_open(&out, output, true);
    if (rc == 0 && (!(p.conv_in = av_frame_alloc()) || !(p.conv_out = av_frame_alloc())))
        rc = ts_error_set("%s: out of memory", output);
    while (rc == 0) {
        int a = reader_next(&in);
        if (a < 0) {
            rc = -1;
            break;
        }
        int b = reader_next(&out);
        if (b < 0) {
            rc = -1;
            break;
        }
        if (a == 0 && b == 0)
            break;
        if (a != b) {
            int64_t owned = in.kept + count_rest(&in), got = out.kept + count_rest(&out);
            rc = ts_error_set("%s: %lld frames, but %s owns %lld in [%lld, %lld)", output, (long long)got, input,
                              (long long)owned, (long long)start_pts, (long long)end_pts);
            break;
        }
        rc = psnr_add(&p, in.frame, input, out.frame, output);
    }
    if (rc == 0 && p.frames == 0)
        rc = no_owned_frame(input, start_pts, end_pts);
    if (rc == 0) {
        double mse = p.nmse_sum / (double)p.frames;
        double db = mse > 0 ? -10.0 * log10(mse) : TS_SEGCHECK_PSNR_MAX;
        *psnr_db = db < TS_SEGCHECK_PSNR_MAX ? db : TS_SEGCHECK_PSNR_MAX;
    }
    sws_freeContext(p.sws_in);
    sws_freeContext(p.sws_out);
    av_frame_free(&p.conv_in);
    av_frame_free(&p.conv_out);
    reader_close(&in);
    reader_close(&out);
    return rc;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Internals exported for the self-test (verifier/ts_segcheck_test.c).                                   */

bool ts_segcheck_plain_planar(int fmt)
{
    return plain_planar((enum AVPixelFormat)fmt);
}

int ts_segcheck_hash_frame(ts_hasher_t *h, const AVFrame *f, const char *path)
{
    return hash_frame(h, f, path);
}

int ts_segcheck_psnr_add(ts_segcheck_psnr_t *p, const AVFrame *src, const char *src_path, const AVFrame *out,
                         const char *out_path)
{
    return psnr_add(p, src, src_path, out, out_path);
}
