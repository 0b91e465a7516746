/* ts_segcheck: decodes encoded segments and their cut inputs for the verifier: frames, pts, digest, PSNR. */
#include "verifier/ts_segcheck.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_hash.h"
#include "slave/ts_segenc.h"    /* self-test only */
#include "splitter/ts_segplan.h" /* self-test only */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The self-test encodes with ts_segenc, in slave/: the selftest binary links it, the master (a user of this file
   through libtessera.a) does not. A weak reference keeps the master linking; the self-test fails without it. */
#pragma weak ts_segenc_encode

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
static int collect(reader_t *r, int tb_num, int tb_den, ts_segcheck_facts_t *facts)
{
    AVRational tb = {tb_num, tb_den};
    int cap = 0;
    ts_hasher_t *h = ts_hasher_new();
    if (!h)
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
        if ((rc = hash_frame(h, f, r->path)) < 0)
            break;
    }
    ts_hasher_finish(&h, facts->digest);
    if (rc < 0)
        return -1;
    return 0;
}

int ts_segcheck_output(const char *path, int tb_num, int tb_den, ts_segcheck_facts_t *facts)
{
    memset(facts, 0, sizeof *facts);
    if (check_tb(path, tb_num, tb_den) < 0)
        return -1;
    reader_t r;
    int rc = reader_open(&r, path, true);
    if (rc == 0)
        rc = collect(&r, tb_num, tb_den, facts);
    if (rc == 0 && facts->frames == 0)
        rc = ts_error_set("%s: no video frame decodes", path);
    reader_close(&r);
    if (rc < 0)
        ts_segcheck_facts_free(facts);
    return rc;
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

int ts_segcheck_planned(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                        ts_segcheck_facts_t *facts)
{
    memset(facts, 0, sizeof *facts);
    reader_t r;
    int rc = open_planned(&r, input, start_pts, end_pts, tb_num, tb_den);
    if (rc == 0)
        rc = collect(&r, tb_num, tb_den, facts);
    if (rc == 0 && facts->frames == 0)
        rc = no_owned_frame(input, start_pts, end_pts);
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

typedef struct {
    struct SwsContext *sws_in, *sws_out;
    AVFrame *conv_in, *conv_out;
    double nmse_sum; /* sum over frames of the pooled, peak-normalised mean squared error */
    int64_t frames;
} psnr_t;

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
/* Self-test: a synthetic clip planned and cut by ts_segplan, encoded by the slave's ts_segenc.          */

#define TEST_FRAMES 48
#define TEST_W 160
#define TEST_H 120
#define TEST_TB_DEN 1000   /* matroska's time base: the cut NUT files store a finer one, so pts are rescaled */
#define TEST_GOP 12
#define TEST_B_FRAMES 2    /* open GOPs: the cut files carry postroll that must not be counted */
#define TEST_SEGMENT_SECONDS 0.45 /* with 25 fps and a 12-frame GOP: 4 segments of 12 frames */
#define TEST_MIN_SEGMENTS 3
#define TEST_SEGMENT 1     /* the segment encoded in several ways */
#define TEST_VCODEC "libx264"
#define TEST_PRESET "veryfast"
#define TEST_CRF_GOOD 18
#define TEST_CRF_BAD 45
#define TEST_CRF_LOSSLESS 0
#define TEST_SCALED_W 96
#define TEST_SCALED_H 72
#define TEST_MIN_GOOD_PSNR 30.0 /* dB: crf 18 against the source */
#define TEST_MIN_PSNR_GAP 3.0   /* dB: crf 18 over crf 45, and over a wrong segment */
#define TEST_GARBAGE_BYTES 4096
#define TEST_MAX_FAILURES 30

static int s_failures;

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            if (s_failures++ < TEST_MAX_FAILURES) {                                                        \
                fprintf(stderr, "ts_segcheck: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);     \
                fprintf(stderr, __VA_ARGS__);                                                              \
                fprintf(stderr, "\n");                                                                     \
            }                                                                                              \
        }                                                                                                  \
    } while (0)

static int write_garbage(const char *path)
{
    FILE *f = fopen(path, "wb");
    uint32_t x = 0x12345678u;
    for (int i = 0; f && i < TEST_GARBAGE_BYTES; i++) {
        x = x * 1664525u + 1013904223u; /* an LCG: the same noise on every run */
        fputc((int)(x >> 24), f);
    }
    return f && fclose(f) == 0 ? 0 : -1;
}

static int64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* ts_segcheck_output fails and names the file (and `needle`, when given). */
static void expect_output_fails(const char *path, const char *needle, bool verbose)
{
    ts_segcheck_facts_t f;
    int rc = ts_segcheck_output(path, 1, TEST_TB_DEN, &f);
    const char *m = ts_error();
    CHECK(rc == -1 && f.pts == NULL && f.frames == 0, "%s: accepted (%d frames)", path, f.frames);
    CHECK(strstr(m, path) && (!needle || strstr(m, needle)), "%s: message \"%s\" lacks the file or \"%s\"", path, m,
          needle ? needle : "");
    if (verbose)
        fprintf(stderr, "ts_segcheck: refused: %s\n", m);
    ts_segcheck_facts_free(&f);
}

static int encode(const char *cut, const ts_segment_t *s, const ts_encode_settings_t *set, const char *out)
{
    int64_t n = 0;
    int rc = ts_segenc_encode(cut, s->start_pts, s->end_pts, set, out, &n, NULL);
    CHECK(rc == 0, "%s: %s", out, ts_error());
    CHECK(rc != 0 || n == s->frames, "%s: %lld frames encoded, segment owns %lld", out, (long long)n,
          (long long)s->frames);
    return rc;
}

static double psnr_of(const char *cut, const ts_segment_t *s, const ts_segplan_t *plan, const char *out)
{
    double db = NAN;
    int rc = ts_segcheck_psnr(cut, s->start_pts, s->end_pts, plan->tb_num, plan->tb_den, out, &db);
    CHECK(rc == 0, "psnr of %s: %s", out, ts_error());
    return db;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every segment: planned facts agree with the plan and the source's packets, and with the encode's facts. */
static void check_segments(const char *src, const ts_segplan_t *plan, char cut[][PATH_MAX], char enc[][PATH_MAX],
                           const ts_encode_settings_t *set, ts_segcheck_facts_t *planned, ts_segcheck_facts_t *out,
                           bool verbose)
{
    ts_segplan_tpkt_t *v = NULL;
    int nv = 0;
    int rc = ts_segplan_test_packets(src, 'v', plan->tb_num, plan->tb_den, &v, &nv);
    CHECK(rc == 0 && nv == TEST_FRAMES, "%s: %d packets: %s", src, nv, ts_error());
    int64_t *all = calloc((size_t)TEST_FRAMES, sizeof *all);
    CHECK(all != NULL, "out of memory");
    int total = 0;
    for (int i = 0; i < plan->count && rc == 0 && all; i++) {
        const ts_segment_t *s = &plan->segments[i];
        CHECK(ts_segcheck_planned(cut[i], s->start_pts, s->end_pts, plan->tb_num, plan->tb_den, &planned[i]) == 0,
              "%s: %s", cut[i], ts_error());
        CHECK(planned[i].frames == s->frames && planned[i].width == TEST_W && planned[i].height == TEST_H &&
                  strcmp(planned[i].codec, "mpeg4") == 0 && planned[i].bytes == file_size(cut[i]),
              "%s: planned %d frames %dx%d %s %lld bytes, plan %lld frames", cut[i], planned[i].frames,
              planned[i].width, planned[i].height, planned[i].codec, (long long)planned[i].bytes,
              (long long)s->frames);
        /* The source's own packet pts in the range, sorted, are the planned pts. */
        int want = 0;
        for (int k = 0; k < nv; k++)
            if (v[k].pts >= s->start_pts && v[k].pts < s->end_pts && total + want < TEST_FRAMES)
                all[total + want++] = v[k].pts;
        qsort(all + total, (size_t)want, sizeof *all, cmp_i64);
        CHECK(want == planned[i].frames, "%s: source has %d frames in range, planned %d", cut[i], want,
              planned[i].frames);
        for (int k = 0; k < want && k < planned[i].frames; k++)
            CHECK(planned[i].pts[k] == all[total + k], "%s: planned frame %d pts %lld, source %lld", cut[i], k,
                  (long long)planned[i].pts[k], (long long)all[total + k]);
        total += want;

        if (encode(cut[i], s, set, enc[i]) < 0)
            continue;
        CHECK(ts_segcheck_output(enc[i], plan->tb_num, plan->tb_den, &out[i]) == 0, "%s: %s", enc[i], ts_error());
        CHECK(ts_segcheck_match(&planned[i], &out[i], 0, 0, enc[i]) == 0, "%s", ts_error());
        CHECK(strcmp(out[i].codec, "h264") == 0 && strcmp(out[i].pix_fmt, "yuv420p") == 0 &&
                  out[i].bytes == file_size(enc[i]) && out[i].bytes > 0 && ts_hash_valid(out[i].digest),
              "%s: codec %s %s, %lld bytes, digest %s", enc[i], out[i].codec, out[i].pix_fmt,
              (long long)out[i].bytes, out[i].digest);
        if (verbose)
            fprintf(stderr, "ts_segcheck: segment %d [%lld, %lld): %d frames planned, %d decoded, pts %lld..%lld, %lld "
                    "bytes, digest %.16s...\n", i, (long long)s->start_pts, (long long)s->end_pts, planned[i].frames,
                    out[i].frames, out[i].frames ? (long long)out[i].pts[0] : -1LL,
                    out[i].frames ? (long long)out[i].pts[out[i].frames - 1] : -1LL, (long long)out[i].bytes,
                    out[i].digest);
    }
    CHECK(total == TEST_FRAMES, "segments own %d frames of %d", total, TEST_FRAMES);
    free(all);
    free(v);
}

/* Which output pixel formats PSNR reads directly, and which it converts first. */
static void test_formats(void)
{
    static const struct {
        enum AVPixelFormat fmt;
        bool plain;
    } cases[] = {
        {AV_PIX_FMT_YUV420P, true},   {AV_PIX_FMT_YUV420P10LE, true}, {AV_PIX_FMT_YUV444P12BE, true},
        {AV_PIX_FMT_GBRP, true},      {AV_PIX_FMT_GRAY8, true},       {AV_PIX_FMT_YUVA420P, true},
        {AV_PIX_FMT_NV12, false},     {AV_PIX_FMT_P010LE, false},     {AV_PIX_FMT_RGB24, false},
        {AV_PIX_FMT_YUYV422, false},  {AV_PIX_FMT_PAL8, false},       {AV_PIX_FMT_MONOWHITE, false},
        {AV_PIX_FMT_GBRPF32LE, false}, {AV_PIX_FMT_NONE, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(plain_planar(cases[i].fmt) == cases[i].plain, "%s: plain planar should be %d",
              cases[i].fmt == AV_PIX_FMT_NONE ? "none" : av_get_pix_fmt_name(cases[i].fmt), cases[i].plain);
}

/* A frame of w x h in fmt (line alignment `align`, padding filled with junk), every sample of plane p set to
   value[p] (16-bit formats: little-endian words). */
static AVFrame *test_frame(int w, int h, enum AVPixelFormat fmt, int align, const int value[4])
{
    AVFrame *f = av_frame_alloc();
    if (!f)
        return NULL;
    f->width = w;
    f->height = h;
    f->format = fmt;
    if (av_frame_get_buffer(f, align) < 0) {
        av_frame_free(&f);
        return NULL;
    }
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    int bytes = d->comp[0].depth <= 8 ? 1 : 2;
    for (int p = 0; p < av_pix_fmt_count_planes(fmt); p++) {
        bool chroma = p == 1 || p == 2;
        int pw = chroma ? AV_CEIL_RSHIFT(w, d->log2_chroma_w) : w, ph = chroma ? AV_CEIL_RSHIFT(h, d->log2_chroma_h) : h;
        for (int y = 0; y < ph; y++) {
            uint8_t *row = f->data[p] + (ptrdiff_t)y * f->linesize[p];
            memset(row, 0xA5 + align, (size_t)f->linesize[p]);
            for (int x = 0; x < pw; x++) {
                if (bytes == 1)
                    row[x] = (uint8_t)value[p];
                else
                    AV_WL16(row + 2 * x, (unsigned)value[p]);
            }
        }
    }
    return f;
}

/* The digest sees visible bytes only; PSNR pools the planes as ffmpeg's psnr filter does. */
static void test_math(void)
{
    enum { W = 150, H = 99, ALIGN_TIGHT = 1, ALIGN_WIDE = 64 };
    const int grey[4] = {100, 128, 128, 0}, brighter[4] = {110, 128, 128, 0}, grey10[4] = {400, 512, 512, 0},
              brighter10[4] = {404, 512, 512, 0};
    AVFrame *a = test_frame(W, H, AV_PIX_FMT_YUV420P, ALIGN_TIGHT, grey);
    AVFrame *b = test_frame(W, H, AV_PIX_FMT_YUV420P, ALIGN_WIDE, grey);
    AVFrame *c = test_frame(W, H, AV_PIX_FMT_YUV420P, ALIGN_WIDE, brighter);
    AVFrame *a10 = test_frame(W, H, AV_PIX_FMT_YUV420P10LE, ALIGN_TIGHT, grey10);
    AVFrame *c10 = test_frame(W, H, AV_PIX_FMT_YUV420P10LE, ALIGN_WIDE, brighter10);
    CHECK(a && b && c && a10 && c10, "out of memory");
    if (a && b && c && a10 && c10) {
        char da[TS_HASH_HEX], db[TS_HASH_HEX], dc[TS_HASH_HEX];
        AVFrame *frames[3] = {a, b, c};
        char *digests[3] = {da, db, dc};
        for (int i = 0; i < 3; i++) {
            ts_hasher_t *h = ts_hasher_new();
            CHECK(h && hash_frame(h, frames[i], "test") == 0, "hash: %s", ts_error());
            if (h)
                ts_hasher_finish(&h, digests[i]);
        }
        CHECK(a->linesize[0] != b->linesize[0] && strcmp(da, db) == 0 && strcmp(da, dc) != 0,
              "digests: tight %s, padded %s, brighter %s", da, db, dc);
        /* Luma off by 10 of 255, chroma exact: mse = (100/255^2) * (W*H) / (W*H + 2*(75*50)). */
        psnr_t p = {0};
        double luma = (double)W * H, all = luma + 2.0 * ((W + 1) / 2) * ((H + 1) / 2);
        CHECK(psnr_add(&p, a, "a", c, "c") == 0 && psnr_add(&p, b, "b", b, "b") == 0, "psnr: %s", ts_error());
        double want = 0.5 * (100.0 / (255.0 * 255.0)) * luma / all;
        CHECK(p.frames == 2 && fabs(p.nmse_sum / 2 - want) < 1e-12, "8-bit mse %.12g, want %.12g", p.nmse_sum / 2,
              want);
        /* 10-bit: off by 4 of 1023. An 8-bit source against a 10-bit output is converted first. */
        psnr_t q = {0};
        CHECK(psnr_add(&q, a10, "a10", c10, "c10") == 0, "psnr: %s", ts_error());
        want = (16.0 / (1023.0 * 1023.0)) * luma / all;
        CHECK(q.frames == 1 && fabs(q.nmse_sum - want) < 1e-12, "10-bit mse %.12g, want %.12g", q.nmse_sum, want);
        psnr_t r = {.conv_in = av_frame_alloc()};
        CHECK(r.conv_in && psnr_add(&r, a, "a", a10, "a10") == 0 && r.frames == 1 && r.nmse_sum < 1e-5,
              "8-bit against 10-bit: mse %g: %s", r.nmse_sum, ts_error());
        sws_freeContext(r.sws_in);
        av_frame_free(&r.conv_in);
    }
    av_frame_free(&a);
    av_frame_free(&b);
    av_frame_free(&c);
    av_frame_free(&a10);
    av_frame_free(&c10);
}

static void run_test(const char *dir, bool verbose)
{
    char src[PATH_MAX], path[PATH_MAX], again[PATH_MAX], bad[PATH_MAX], lossless[PATH_MAX], scaled[PATH_MAX];
    snprintf(src, sizeof src, "%s/src.mkv", dir);
    snprintf(again, sizeof again, "%s/again.nut", dir);
    snprintf(bad, sizeof bad, "%s/bad.nut", dir);
    snprintf(lossless, sizeof lossless, "%s/lossless.nut", dir);
    snprintf(scaled, sizeof scaled, "%s/scaled.nut", dir);
    const ts_segplan_clip_t clip = {.format = "matroska", .frames = TEST_FRAMES, .width = TEST_W, .height = TEST_H,
                                    .tb_den = TEST_TB_DEN, .gop = TEST_GOP, .max_b_frames = TEST_B_FRAMES};
    ts_segplan_t *plan = NULL;
    int rc = ts_segplan_test_clip(src, &clip);
    CHECK(rc == 0, "%s", ts_error());
    if (rc == 0)
        CHECK((rc = ts_segplan_make(src, TEST_SEGMENT_SECONDS, &plan)) == 0, "%s", ts_error());
    if (rc != 0)
        return;
    CHECK(plan->count >= TEST_MIN_SEGMENTS && plan->frames == TEST_FRAMES, "%d segments, %lld frames", plan->count,
          (long long)plan->frames);
    int count = plan->count;
    char(*cut)[PATH_MAX] = calloc((size_t)count, sizeof *cut);
    char(*enc)[PATH_MAX] = calloc((size_t)count, sizeof *enc);
    const char **cuts = calloc((size_t)count, sizeof *cuts);
    ts_segcheck_facts_t *planned = calloc((size_t)count, sizeof *planned), *out = calloc((size_t)count, sizeof *out);
    ts_segcheck_facts_t f = {0}, g = {0};
    if (!cut || !enc || !cuts || !planned || !out || count < TEST_MIN_SEGMENTS) {
        CHECK(false, "out of memory or too few segments");
        goto done;
    }
    for (int i = 0; i < count; i++) {
        snprintf(cut[i], sizeof cut[i], "%s/cut-%d.nut", dir, i);
        snprintf(enc[i], sizeof enc[i], "%s/enc-%d.nut", dir, i);
        cuts[i] = cut[i];
    }
    CHECK((rc = ts_segplan_cut(plan, src, cuts)) == 0, "%s", ts_error());
    if (rc != 0)
        goto done;
    ts_encode_settings_t set = {.vcodec = TEST_VCODEC, .crf = TEST_CRF_GOOD, .preset = TEST_PRESET, .threads = 1,
                                .fps_num = plan->fps_num, .fps_den = plan->fps_den, .tb_num = plan->tb_num,
                                .tb_den = plan->tb_den};
    check_segments(src, plan, cut, enc, &set, planned, out, verbose);

    const int m = TEST_SEGMENT;
    const ts_segment_t *s = &plan->segments[m];
    const char *mcut = cut[m], *menc = enc[m];
    /* The same settings twice: the same decoded frames; another segment: another digest. */
    if (encode(mcut, s, &set, again) == 0) {
        CHECK(ts_segcheck_output(again, plan->tb_num, plan->tb_den, &f) == 0, "%s: %s", again, ts_error());
        CHECK(ts_segcheck_same(&f, &out[m]) && strcmp(f.digest, out[m].digest) == 0, "%s: digest %s, first encode %s",
              again, f.digest, out[m].digest);
        ts_segcheck_facts_free(&f);
    }
    CHECK(strcmp(out[m].digest, out[m + 1].digest) != 0 && !ts_segcheck_same(&out[m], &out[m + 1]),
          "segments %d and %d have the same digest", m, m + 1);

    /* A much higher crf: same frames and times, other pictures, clearly lower PSNR. A wrong segment's frames
       (same count) score low as well. */
    ts_encode_settings_t worse = set;
    worse.crf = TEST_CRF_BAD;
    double good = psnr_of(mcut, s, plan, menc);
    if (encode(mcut, s, &worse, bad) == 0) {
        CHECK(ts_segcheck_output(bad, plan->tb_num, plan->tb_den, &f) == 0, "%s: %s", bad, ts_error());
        CHECK(ts_segcheck_match(&planned[m], &f, 0, 0, bad) == 0, "%s", ts_error());
        CHECK(strcmp(f.digest, out[m].digest) != 0 && !ts_segcheck_same(&f, &out[m]), "%s: digest equals crf %d's",
              bad, TEST_CRF_GOOD);
        double low = psnr_of(mcut, s, plan, bad);
        CHECK(good >= TEST_MIN_GOOD_PSNR && good > low + TEST_MIN_PSNR_GAP, "PSNR crf %d %.2f dB, crf %d %.2f dB",
              TEST_CRF_GOOD, good, TEST_CRF_BAD, low);
        if (verbose)
            fprintf(stderr, "ts_segcheck: PSNR crf %d: %.2f dB (%lld bytes), crf %d: %.2f dB (%lld bytes)\n",
                    TEST_CRF_GOOD, good, (long long)out[m].bytes, TEST_CRF_BAD, low, (long long)f.bytes);
        ts_segcheck_facts_free(&f);
    }
    const ts_segment_t *other = &plan->segments[m + 1];
    double wrong = psnr_of(cut[m + 1], other, plan, menc);
    CHECK(other->frames != s->frames || wrong < good - TEST_MIN_PSNR_GAP, "PSNR against the wrong segment %.2f dB",
          wrong);
    if (verbose)
        fprintf(stderr, "ts_segcheck: PSNR of segment %d's encode against segment %d's source: %.2f dB\n", m, m + 1,
                wrong);

    /* Lossless: PSNR at its cap, and the output decodes to exactly the planned pictures (visible bytes only: x264
       pads the coded height to 128). The whole source against itself as well. */
    ts_encode_settings_t exact = set;
    exact.crf = TEST_CRF_LOSSLESS;
    if (encode(mcut, s, &exact, lossless) == 0) {
        double db = psnr_of(mcut, s, plan, lossless);
        CHECK(db == TS_SEGCHECK_PSNR_MAX, "lossless PSNR %.2f dB", db);
        CHECK(ts_segcheck_output(lossless, plan->tb_num, plan->tb_den, &f) == 0, "%s: %s", lossless, ts_error());
        CHECK(strcmp(f.digest, planned[m].digest) == 0 && ts_segcheck_same(&f, &planned[m]),
              "%s: digest %s, planned %s", lossless, f.digest, planned[m].digest);
        ts_segcheck_facts_free(&f);
        if (verbose)
            fprintf(stderr, "ts_segcheck: lossless PSNR %.2f dB, digest = the source frames' digest\n", db);
    }
    double self = NAN;
    CHECK(ts_segcheck_psnr(src, INT64_MIN, INT64_MAX, plan->tb_num, plan->tb_den, src, &self) == 0 &&
              self == TS_SEGCHECK_PSNR_MAX, "source against itself: %.2f dB: %s", self, ts_error());
    CHECK(ts_segcheck_planned(src, INT64_MIN, INT64_MAX, plan->tb_num, plan->tb_den, &f) == 0 &&
              ts_segcheck_output(src, plan->tb_num, plan->tb_den, &g) == 0 && f.frames == TEST_FRAMES &&
              ts_segcheck_same(&f, &g), "%s: planned and decoded whole: %d/%d frames, %s/%s: %s", src, f.frames,
          g.frames, f.digest, g.digest, ts_error());
    ts_segcheck_facts_free(&f);
    ts_segcheck_facts_free(&g);

    /* Scaled: the source is scaled to the output's size before the comparison. */
    ts_encode_settings_t small = set;
    small.width = TEST_SCALED_W;
    small.height = TEST_SCALED_H;
    if (encode(mcut, s, &small, scaled) == 0) {
        CHECK(ts_segcheck_output(scaled, plan->tb_num, plan->tb_den, &f) == 0, "%s: %s", scaled, ts_error());
        CHECK(ts_segcheck_match(&planned[m], &f, TEST_SCALED_W, TEST_SCALED_H, scaled) == 0, "%s", ts_error());
        CHECK(ts_segcheck_match(&planned[m], &f, 0, 0, scaled) == -1 && strstr(ts_error(), scaled),
              "%s: size not checked", scaled);
        double db = psnr_of(mcut, s, plan, scaled);
        CHECK(db >= TEST_MIN_GOOD_PSNR, "scaled PSNR %.2f dB", db);
        if (verbose)
            fprintf(stderr, "ts_segcheck: scaled to %dx%d: PSNR %.2f dB\n", f.width, f.height, db);
        ts_segcheck_facts_free(&f);
    }

    /* A shifted timestamp is caught by ts_segcheck_match. */
    if (out[m].frames > 1) {
        out[m].pts[1]++;
        CHECK(ts_segcheck_match(&planned[m], &out[m], 0, 0, menc) == -1 && strstr(ts_error(), "frame 1"),
              "a shifted pts passes: %s", ts_error());
        CHECK(!ts_segcheck_same(&out[m], &planned[m]), "a shifted pts is the same");
        out[m].pts[1]--;
    }

    /* Damaged outputs fail, naming the file. */
    snprintf(path, sizeof path, "%s/half.nut", dir);
    CHECK(ts_segplan_test_copy_prefix(menc, path, 0.5) == 0, "%s: cannot write", path);
    expect_output_fails(path, NULL, verbose);
    double db = NAN;
    CHECK(ts_segcheck_psnr(mcut, s->start_pts, s->end_pts, plan->tb_num, plan->tb_den, path, &db) == -1 &&
              strstr(ts_error(), path), "psnr of %s: %s", path, ts_error());
    snprintf(path, sizeof path, "%s/tail.nut", dir);
    CHECK(ts_segplan_test_copy_prefix(menc, path, 0.97) == 0, "%s: cannot write", path);
    expect_output_fails(path, NULL, verbose);
    snprintf(path, sizeof path, "%s/garbage.nut", dir);
    CHECK(write_garbage(path) == 0, "%s: cannot write", path);
    expect_output_fails(path, NULL, verbose);
    snprintf(path, sizeof path, "%s/missing.nut", dir);
    expect_output_fails(path, "no such file", verbose);
    snprintf(path, sizeof path, "%s/empty.nut", dir);
    CHECK(ts_segplan_test_copy_prefix(menc, path, 0) == 0, "%s: cannot write", path);
    expect_output_fails(path, "empty", verbose);
    snprintf(path, sizeof path, "%s/audio.nut", dir);
    ts_segplan_clip_t audio = {.format = "nut", .audio = "mp2", .audio_seconds = 1};
    CHECK(ts_segplan_test_clip(path, &audio) == 0, "%s", ts_error());
    expect_output_fails(path, "no video stream", verbose);

    /* Frame counts that differ, empty ranges, bad time bases. */
    CHECK(ts_segcheck_psnr(src, INT64_MIN, INT64_MAX, plan->tb_num, plan->tb_den, menc, &db) == -1 &&
              strstr(ts_error(), menc) && strstr(ts_error(), src), "psnr with other counts: %s", ts_error());
    if (verbose)
        fprintf(stderr, "ts_segcheck: refused: %s\n", ts_error());
    CHECK(ts_segcheck_planned(mcut, INT64_MAX - 1, INT64_MAX, plan->tb_num, plan->tb_den, &f) == -1 &&
              strstr(ts_error(), mcut) && strstr(ts_error(), "no frame"), "range past the end: %s", ts_error());
    CHECK(ts_segcheck_planned(mcut, s->end_pts, s->start_pts, plan->tb_num, plan->tb_den, &f) == -1 &&
              strstr(ts_error(), mcut), "reversed range: %s", ts_error());
    CHECK(ts_segcheck_output(menc, 0, plan->tb_den, &f) == -1 && strstr(ts_error(), menc), "time base 0: %s",
          ts_error());

done:
    for (int i = 0; i < count; i++) {
        if (planned)
            ts_segcheck_facts_free(&planned[i]);
        if (out)
            ts_segcheck_facts_free(&out[i]);
    }
    free(planned);
    free(out);
    free(cuts);
    free(cut);
    free(enc);
    ts_segplan_destroy(&plan);
}

int ts_segcheck_test(bool verbose)
{
    s_failures = 0;
    if (!ts_segenc_encode) {
        fprintf(stderr, "ts_segcheck: the test needs slave/ts_segenc.c linked in\n");
        return -1;
    }
    char dir[] = "/tmp/ts_segcheck_test.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ts_segcheck: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    int level = av_log_get_level();
    if (!verbose)
        av_log_set_level(AV_LOG_QUIET);
    test_formats();
    test_math();
    run_test(dir, verbose);
    av_log_set_level(level);
    ts_file_remove_dir(dir);
    if (verbose)
        fprintf(stderr, "ts_segcheck: %d failures\n", s_failures);
    return s_failures ? -1 : 0;
}
