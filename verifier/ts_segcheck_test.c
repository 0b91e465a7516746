/* ts_segcheck_test: the self-test of ts_segcheck: a synthetic clip planned and cut by ts_segplan, encoded by the
   slave's ts_segenc (ts_selftest links the slave's objects), checked frame by frame; digest and PSNR arithmetic. */
#include "verifier/ts_segcheck.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_hash.h"
#include "slave/ts_segenc.h"
#include "splitter/ts_segplan.h"
#include "tests/ts_test.h"
#include "tests/ts_testmedia.h"
#include <libavutil/frame.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
static int expect_output_fails(const char *path, const char *needle, bool verbose)
{
    int failures = 0;
    ts_segcheck_facts_t f;
    int rc = ts_segcheck_output(path, 1, TEST_TB_DEN, &f);
    const char *m = ts_error();
    TS_TEST_CHECK(rc == -1 && f.pts == NULL && f.frames == 0, "%s: accepted (%d frames)", path, f.frames);
    TS_TEST_CHECK(strstr(m, path) && (!needle || strstr(m, needle)), "%s: message \"%s\" lacks the file or \"%s\"",
                  path, m, needle ? needle : "");
    if (verbose)
        fprintf(stderr, "ts_segcheck: refused: %s\n", m);
    ts_segcheck_facts_free(&f);
    return failures;
}

/* Encodes segment s of cut to out as the slave does; checks (counted into *fails) that it owns s->frames. */
static int encode(const char *cut, const ts_segment_t *s, const ts_encode_settings_t *set, const char *out,
                  int *fails)
{
    int failures = 0;
    int64_t n = 0;
    int rc = ts_segenc_encode(cut, s->start_pts, s->end_pts, set, out, &n, NULL);
    TS_TEST_CHECK(rc == 0, "%s: %s", out, ts_error());
    TS_TEST_CHECK(rc != 0 || n == s->frames, "%s: %lld frames encoded, segment owns %lld", out, (long long)n,
                  (long long)s->frames);
    *fails += failures;
    return rc;
}

/* PSNR of out against segment s of cut; a failure to measure is counted into *fails. */
static double psnr_of(const char *cut, const ts_segment_t *s, const ts_segplan_t *plan, const char *out, int *fails)
{
    int failures = 0;
    double db = NAN;
    int rc = ts_segcheck_psnr(cut, s->start_pts, s->end_pts, plan->tb_num, plan->tb_den, out, &db);
    TS_TEST_CHECK(rc == 0, "psnr of %s: %s", out, ts_error());
    *fails += failures;
    return db;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every segment: planned facts agree with the plan and the source's packets, and with the encode's facts. */
static int check_segments(const char *src, const ts_segplan_t *plan, char cut[][PATH_MAX], char enc[][PATH_MAX],
                          const ts_encode_settings_t *set, ts_segcheck_facts_t *planned, ts_segcheck_facts_t *out,
                          bool verbose)
{
    int failures = 0;
    ts_testmedia_pkt_t *v = NULL;
    int nv = 0;
    int rc = ts_testmedia_packets(src, 'v', plan->tb_num, plan->tb_den, &v, &nv);
    TS_TEST_CHECK(rc == 0 && nv == TEST_FRAMES, "%s: %d packets: %s", src, nv, ts_error());
    int64_t *all = calloc((size_t)TEST_FRAMES, sizeof *all);
    TS_TEST_CHECK(all != NULL, "out of memory");
    int total = 0;
    for (int i = 0; i < plan->count && rc == 0 && all; i++) {
        const ts_segment_t *s = &plan->segments[i];
        TS_TEST_CHECK(ts_segcheck_planned(cut[i], s->start_pts, s->end_pts, plan->tb_num, plan->tb_den,
                                          &planned[i]) == 0,
                      "%s: %s", cut[i], ts_error());
        TS_TEST_CHECK(planned[i].frames == s->frames && planned[i].width == TEST_W && planned[i].height == TEST_H &&
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
        TS_TEST_CHECK(want == planned[i].frames, "%s: source has %d frames in range, planned %d", cut[i], want,
                      planned[i].frames);
        for (int k = 0; k < want && k < planned[i].frames; k++)
            TS_TEST_CHECK(planned[i].pts[k] == all[total + k], "%s: planned frame %d pts %lld, source %lld", cut[i], k,
                          (long long)planned[i].pts[k], (long long)all[total + k]);
        total += want;

        if (encode(cut[i], s, set, enc[i], &failures) < 0)
            continue;
        TS_TEST_CHECK(ts_segcheck_output(enc[i], plan->tb_num, plan->tb_den, &out[i]) == 0, "%s: %s", enc[i],
                      ts_error());
        TS_TEST_CHECK(ts_segcheck_match(&planned[i], &out[i], 0, 0, enc[i]) == 0, "%s", ts_error());
        TS_TEST_CHECK(strcmp(out[i].codec, "h264") == 0 && strcmp(out[i].pix_fmt, "yuv420p") == 0 &&
                          out[i].bytes == file_size(enc[i]) && out[i].bytes > 0 && ts_hash_valid(out[i].digest),
                      "%s: codec %s %s, %lld bytes, digest %s", enc[i], out[i].codec, out[i].pix_fmt,
                      (long long)out[i].bytes, out[i].digest);
        /* the cheaper facts of a single result's check: the same frames and times, no digest */
        ts_segcheck_facts_t lean = {0}, lean_planned = {0};
        TS_TEST_CHECK(ts_segcheck_output_frames(enc[i], plan->tb_num, plan->tb_den, &lean) == 0 &&
                          ts_segcheck_planned_frames(cut[i], s->start_pts, s->end_pts, plan->tb_num, plan->tb_den,
                                                     &lean_planned) == 0 &&
                          lean.frames == out[i].frames && lean_planned.frames == planned[i].frames &&
                          !memcmp(lean.pts, out[i].pts, (size_t)lean.frames * sizeof *lean.pts) &&
                          ts_segcheck_match(&lean_planned, &lean, 0, 0, enc[i]) == 0 && !lean.digest[0] &&
                          !lean_planned.digest[0],
                      "%s: facts without the digest differ", enc[i]);
        ts_segcheck_facts_free(&lean_planned);
        /* the plan read from packets alone is the decoded plan for a clean cut */
        TS_TEST_CHECK(ts_segcheck_planned_packets(cut[i], s->start_pts, s->end_pts, plan->tb_num, plan->tb_den,
                                                  &lean_planned) == 0 &&
                          lean_planned.frames == planned[i].frames &&
                          !memcmp(lean_planned.pts, planned[i].pts, (size_t)lean_planned.frames * sizeof *lean.pts) &&
                          lean_planned.width == planned[i].width && lean_planned.height == planned[i].height &&
                          !strcmp(lean_planned.pix_fmt, planned[i].pix_fmt) &&
                          ts_segcheck_match(&lean_planned, &lean, 0, 0, enc[i]) == 0,
                      "%s: the plan from packets differs from the decoded plan (%d frames, %d decoded)", cut[i],
                      lean_planned.frames, planned[i].frames);
        ts_segcheck_facts_free(&lean);
        ts_segcheck_facts_free(&lean_planned);
        if (verbose)
            fprintf(stderr, "ts_segcheck: segment %d [%lld, %lld): %d frames planned, %d decoded, pts %lld..%lld, %lld "
                    "bytes, digest %.16s...\n", i, (long long)s->start_pts, (long long)s->end_pts, planned[i].frames,
                    out[i].frames, out[i].frames ? (long long)out[i].pts[0] : -1LL,
                    out[i].frames ? (long long)out[i].pts[out[i].frames - 1] : -1LL, (long long)out[i].bytes,
                    out[i].digest);
    }
    TS_TEST_CHECK(total == TEST_FRAMES, "segments own %d frames of %d", total, TEST_FRAMES);
    free(all);
    free(v);
    return failures;
}

/* Which output pixel formats PSNR reads directly, and which it converts first. */
static int test_formats(void)
{
    int failures = 0;
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
        TS_TEST_CHECK(ts_segcheck_plain_planar(cases[i].fmt) == cases[i].plain, "%s: plain planar should be %d",
                      cases[i].fmt == AV_PIX_FMT_NONE ? "none" : av_get_pix_fmt_name(cases[i].fmt), cases[i].plain);
    return failures;
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
static int test_math(void)
{
    int failures = 0;
    enum { W = 150, H = 99, ALIGN_TIGHT = 1, ALIGN_WIDE = 64 };
    const int grey[4] = {100, 128, 128, 0}, brighter[4] = {110, 128, 128, 0}, grey10[4] = {400, 512, 512, 0},
              brighter10[4] = {404, 512, 512, 0};
    AVFrame *a = test_frame(W, H, AV_PIX_FMT_YUV420P, ALIGN_TIGHT, grey);
    AVFrame *b = test_frame(W, H, AV_PIX_FMT_YUV420P, ALIGN_WIDE, grey);
    AVFrame *c = test_frame(W, H, AV_PIX_FMT_YUV420P, ALIGN_WIDE, brighter);
    AVFrame *a10 = test_frame(W, H, AV_PIX_FMT_YUV420P10LE, ALIGN_TIGHT, grey10);
    AVFrame *c10 = test_frame(W, H, AV_PIX_FMT_YUV420P10LE, ALIGN_WIDE, brighter10);
    TS_TEST_CHECK(a && b && c && a10 && c10, "out of memory");
    if (a && b && c && a10 && c10) {
        char da[TS_HASH_HEX], db[TS_HASH_HEX], dc[TS_HASH_HEX];
        AVFrame *frames[3] = {a, b, c};
        char *digests[3] = {da, db, dc};
        for (int i = 0; i < 3; i++) {
            ts_hasher_t *h = ts_hasher_new();
            TS_TEST_CHECK(h && ts_segcheck_hash_frame(h, frames[i], "test") == 0, "hash: %s", ts_error());
            if (h)
                ts_hasher_finish(&h, digests[i]);
        }
        TS_TEST_CHECK(a->linesize[0] != b->linesize[0] && strcmp(da, db) == 0 && strcmp(da, dc) != 0,
                      "digests: tight %s, padded %s, brighter %s", da, db, dc);
        /* Luma off by 10 of 255, chroma exact: mse = (100/255^2) * (W*H) / (W*H + 2*(75*50)). */
        ts_segcheck_psnr_t p = {0};
        double luma = (double)W * H, all = luma + 2.0 * ((W + 1) / 2) * ((H + 1) / 2);
        TS_TEST_CHECK(ts_segcheck_psnr_add(&p, a, "a", c, "c") == 0 && ts_segcheck_psnr_add(&p, b, "b", b, "b") == 0,
                      "psnr: %s", ts_error());
        double want = 0.5 * (100.0 / (255.0 * 255.0)) * luma / all;
        TS_TEST_CHECK(p.frames == 2 && fabs(p.nmse_sum / 2 - want) < 1e-12, "8-bit mse %.12g, want %.12g",
                      p.nmse_sum / 2, want);
        /* 10-bit: off by 4 of 1023. An 8-bit source against a 10-bit output is converted first. */
        ts_segcheck_psnr_t q = {0};
        TS_TEST_CHECK(ts_segcheck_psnr_add(&q, a10, "a10", c10, "c10") == 0, "psnr: %s", ts_error());
        want = (16.0 / (1023.0 * 1023.0)) * luma / all;
        TS_TEST_CHECK(q.frames == 1 && fabs(q.nmse_sum - want) < 1e-12, "10-bit mse %.12g, want %.12g", q.nmse_sum,
                      want);
        ts_segcheck_psnr_t r = {.conv_in = av_frame_alloc()};
        TS_TEST_CHECK(r.conv_in && ts_segcheck_psnr_add(&r, a, "a", a10, "a10") == 0 && r.frames == 1 &&
                          r.nmse_sum < 1e-5,
                      "8-bit against 10-bit: mse %g: %s", r.nmse_sum, ts_error());
        sws_freeContext(r.sws_in);
        av_frame_free(&r.conv_in);
    }
    av_frame_free(&a);
    av_frame_free(&b);
    av_frame_free(&c);
    av_frame_free(&a10);
    av_frame_free(&c10);
    return failures;
}

static int run_test(const char *dir, bool verbose)
{
    int failures = 0;
    char src[PATH_MAX], path[PATH_MAX], again[PATH_MAX], bad[PATH_MAX], lossless[PATH_MAX], scaled[PATH_MAX];
    snprintf(src, sizeof src, "%s/src.mkv", dir);
    snprintf(again, sizeof again, "%s/again.nut", dir);
    snprintf(bad, sizeof bad, "%s/bad.nut", dir);
    snprintf(lossless, sizeof lossless, "%s/lossless.nut", dir);
    snprintf(scaled, sizeof scaled, "%s/scaled.nut", dir);
    const ts_testmedia_clip_t clip = {.format = "matroska", .frames = TEST_FRAMES, .width = TEST_W, .height = TEST_H,
                                    .tb_den = TEST_TB_DEN, .gop = TEST_GOP, .max_b_frames = TEST_B_FRAMES};
    ts_segplan_t *plan = NULL;
    int rc = ts_testmedia_clip(src, &clip);
    TS_TEST_CHECK(rc == 0, "%s", ts_error());
    if (rc == 0)
        TS_TEST_CHECK((rc = ts_segplan_make(src, TEST_SEGMENT_SECONDS, &plan)) == 0, "%s", ts_error());
    if (rc != 0)
        return failures;
    TS_TEST_CHECK(plan->count >= TEST_MIN_SEGMENTS && plan->frames == TEST_FRAMES, "%d segments, %lld frames",
                  plan->count, (long long)plan->frames);
    int count = plan->count;
    char(*cut)[PATH_MAX] = calloc((size_t)count, sizeof *cut);
    char(*enc)[PATH_MAX] = calloc((size_t)count, sizeof *enc);
    const char **cuts = calloc((size_t)count, sizeof *cuts);
    ts_segcheck_facts_t *planned = calloc((size_t)count, sizeof *planned), *out = calloc((size_t)count, sizeof *out);
    ts_segcheck_facts_t f = {0}, g = {0};
    if (!cut || !enc || !cuts || !planned || !out || count < TEST_MIN_SEGMENTS) {
        TS_TEST_CHECK(false, "out of memory or too few segments");
        goto done;
    }
    for (int i = 0; i < count; i++) {
        snprintf(cut[i], sizeof cut[i], "%s/cut-%d.nut", dir, i);
        snprintf(enc[i], sizeof enc[i], "%s/enc-%d.nut", dir, i);
        cuts[i] = cut[i];
    }
    TS_TEST_CHECK((rc = ts_segplan_cut(plan, src, cuts)) == 0, "%s", ts_error());
    if (rc != 0)
        goto done;
    ts_encode_settings_t set = {.vcodec = TEST_VCODEC, .crf = TEST_CRF_GOOD, .preset = TEST_PRESET, .threads = 1,
                                .fps_num = plan->fps_num, .fps_den = plan->fps_den, .tb_num = plan->tb_num,
                                .tb_den = plan->tb_den};
    failures += check_segments(src, plan, cut, enc, &set, planned, out, verbose);

    const int m = TEST_SEGMENT;
    const ts_segment_t *s = &plan->segments[m];
    const char *mcut = cut[m], *menc = enc[m];
    /* The same settings twice: the same decoded frames; another segment: another digest. */
    if (encode(mcut, s, &set, again, &failures) == 0) {
        TS_TEST_CHECK(ts_segcheck_output(again, plan->tb_num, plan->tb_den, &f) == 0, "%s: %s", again, ts_error());
        TS_TEST_CHECK(ts_segcheck_same(&f, &out[m]) && strcmp(f.digest, out[m].digest) == 0,
                      "%s: digest %s, first encode %s", again, f.digest, out[m].digest);
        ts_segcheck_facts_free(&f);
    }
    TS_TEST_CHECK(strcmp(out[m].digest, out[m + 1].digest) != 0 && !ts_segcheck_same(&out[m], &out[m + 1]),
                  "segments %d and %d have the same digest", m, m + 1);

    /* A much higher crf: same frames and times, other pictures, clearly lower PSNR. A wrong segment's frames
       (same count) score low as well. */
    ts_encode_settings_t worse = set;
    worse.crf = TEST_CRF_BAD;
    double good = psnr_of(mcut, s, plan, menc, &failures);
    if (encode(mcut, s, &worse, bad, &failures) == 0) {
        TS_TEST_CHECK(ts_segcheck_output(bad, plan->tb_num, plan->tb_den, &f) == 0, "%s: %s", bad, ts_error());
        TS_TEST_CHECK(ts_segcheck_match(&planned[m], &f, 0, 0, bad) == 0, "%s", ts_error());
        TS_TEST_CHECK(strcmp(f.digest, out[m].digest) != 0 && !ts_segcheck_same(&f, &out[m]),
                      "%s: digest equals crf %d's", bad, TEST_CRF_GOOD);
        double low = psnr_of(mcut, s, plan, bad, &failures);
        TS_TEST_CHECK(good >= TEST_MIN_GOOD_PSNR && good > low + TEST_MIN_PSNR_GAP,
                      "PSNR crf %d %.2f dB, crf %d %.2f dB", TEST_CRF_GOOD, good, TEST_CRF_BAD, low);
        if (verbose)
            fprintf(stderr, "ts_segcheck: PSNR crf %d: %.2f dB (%lld bytes), crf %d: %.2f dB (%lld bytes)\n",
                    TEST_CRF_GOOD, good, (long long)out[m].bytes, TEST_CRF_BAD, low, (long long)f.bytes);
        ts_segcheck_facts_free(&f);
    }
    const ts_segment_t *other = &plan->segments[m + 1];
    double wrong = psnr_of(cut[m + 1], other, plan, menc, &failures);
    TS_TEST_CHECK(other->frames != s->frames || wrong < good - TEST_MIN_PSNR_GAP,
                  "PSNR against the wrong segment %.2f dB", wrong);
    if (verbose)
        fprintf(stderr, "ts_segcheck: PSNR of segment %d's encode against segment %d's source: %.2f dB\n", m, m + 1,
                wrong);

    /* Lossless: PSNR at its cap, and the output decodes to exactly the planned pictures (visible bytes only: x264
       pads the coded height to 128). The whole source against itself as well. */
    ts_encode_settings_t exact = set;
    exact.crf = TEST_CRF_LOSSLESS;
    if (encode(mcut, s, &exact, lossless, &failures) == 0) {
        double db = psnr_of(mcut, s, plan, lossless, &failures);
        TS_TEST_CHECK(db == TS_SEGCHECK_PSNR_MAX, "lossless PSNR %.2f dB", db);
        TS_TEST_CHECK(ts_segcheck_output(lossless, plan->tb_num, plan->tb_den, &f) == 0, "%s: %s", lossless,
                      ts_error());
        TS_TEST_CHECK(strcmp(f.digest, planned[m].digest) == 0 && ts_segcheck_same(&f, &planned[m]),
                      "%s: digest %s, planned %s", lossless, f.digest, planned[m].digest);
        ts_segcheck_facts_free(&f);
        if (verbose)
            fprintf(stderr, "ts_segcheck: lossless PSNR %.2f dB, digest = the source frames' digest\n", db);
    }
    double self = NAN;
    TS_TEST_CHECK(ts_segcheck_psnr(src, INT64_MIN, INT64_MAX, plan->tb_num, plan->tb_den, src, &self) == 0 &&
                      self == TS_SEGCHECK_PSNR_MAX, "source against itself: %.2f dB: %s", self, ts_error());
    TS_TEST_CHECK(ts_segcheck_planned(src, INT64_MIN, INT64_MAX, plan->tb_num, plan->tb_den, &f) == 0 &&
                      ts_segcheck_output(src, plan->tb_num, plan->tb_den, &g) == 0 && f.frames == TEST_FRAMES &&
                      ts_segcheck_same(&f, &g), "%s: planned and decoded whole: %d/%d frames, %s/%s: %s", src, f.frames,
                  g.frames, f.digest, g.digest, ts_error());
    ts_segcheck_facts_free(&f);
    ts_segcheck_facts_free(&g);

    /* Scaled: the source is scaled to the output's size before the comparison. */
    ts_encode_settings_t small = set;
    small.width = TEST_SCALED_W;
    small.height = TEST_SCALED_H;
    if (encode(mcut, s, &small, scaled, &failures) == 0) {
        TS_TEST_CHECK(ts_segcheck_output(scaled, plan->tb_num, plan->tb_den, &f) == 0, "%s: %s", scaled, ts_error());
        TS_TEST_CHECK(ts_segcheck_match(&planned[m], &f, TEST_SCALED_W, TEST_SCALED_H, scaled) == 0, "%s", ts_error());
        TS_TEST_CHECK(ts_segcheck_match(&planned[m], &f, 0, 0, scaled) == -1 && strstr(ts_error(), scaled),
                      "%s: size not checked", scaled);
        double db = psnr_of(mcut, s, plan, scaled, &failures);
        TS_TEST_CHECK(db >= TEST_MIN_GOOD_PSNR, "scaled PSNR %.2f dB", db);
        if (verbose)
            fprintf(stderr, "ts_segcheck: scaled to %dx%d: PSNR %.2f dB\n", f.width, f.height, db);
        ts_segcheck_facts_free(&f);
    }

    /* A shifted timestamp is caught by ts_segcheck_match. */
    if (out[m].frames > 1) {
        out[m].pts[1]++;
        TS_TEST_CHECK(ts_segcheck_match(&planned[m], &out[m], 0, 0, menc) == -1 && strstr(ts_error(), "frame 1"),
                      "a shifted pts passes: %s", ts_error());
        TS_TEST_CHECK(!ts_segcheck_same(&out[m], &planned[m]), "a shifted pts is the same");
        out[m].pts[1]--;
    }

    /* Damaged outputs fail, naming the file. */
    snprintf(path, sizeof path, "%s/half.nut", dir);
    TS_TEST_CHECK(ts_testmedia_copy_prefix(menc, path, 0.5) == 0, "%s: cannot write", path);
    failures += expect_output_fails(path, NULL, verbose);
    double db = NAN;
    TS_TEST_CHECK(ts_segcheck_psnr(mcut, s->start_pts, s->end_pts, plan->tb_num, plan->tb_den, path, &db) == -1 &&
                      strstr(ts_error(), path), "psnr of %s: %s", path, ts_error());
    snprintf(path, sizeof path, "%s/tail.nut", dir);
    TS_TEST_CHECK(ts_testmedia_copy_prefix(menc, path, 0.97) == 0, "%s: cannot write", path);
    failures += expect_output_fails(path, NULL, verbose);
    snprintf(path, sizeof path, "%s/garbage.nut", dir);
    TS_TEST_CHECK(write_garbage(path) == 0, "%s: cannot write", path);
    failures += expect_output_fails(path, NULL, verbose);
    snprintf(path, sizeof path, "%s/missing.nut", dir);
    failures += expect_output_fails(path, "no such file", verbose);
    snprintf(path, sizeof path, "%s/empty.nut", dir);
    TS_TEST_CHECK(ts_testmedia_copy_prefix(menc, path, 0) == 0, "%s: cannot write", path);
    failures += expect_output_fails(path, "empty", verbose);
    snprintf(path, sizeof path, "%s/audio.nut", dir);
    ts_testmedia_clip_t audio = {.format = "nut", .audio = "mp2", .audio_seconds = 1};
    TS_TEST_CHECK(ts_testmedia_clip(path, &audio) == 0, "%s", ts_error());
    failures += expect_output_fails(path, "no video stream", verbose);

    /* Frame counts that differ, empty ranges, bad time bases. */
    TS_TEST_CHECK(ts_segcheck_psnr(src, INT64_MIN, INT64_MAX, plan->tb_num, plan->tb_den, menc, &db) == -1 &&
                      strstr(ts_error(), menc) && strstr(ts_error(), src), "psnr with other counts: %s", ts_error());
    if (verbose)
        fprintf(stderr, "ts_segcheck: refused: %s\n", ts_error());
    TS_TEST_CHECK(ts_segcheck_planned(mcut, INT64_MAX - 1, INT64_MAX, plan->tb_num, plan->tb_den, &f) == -1 &&
                      strstr(ts_error(), mcut) && strstr(ts_error(), "no frame"), "range past the end: %s", ts_error());
    TS_TEST_CHECK(ts_segcheck_planned(mcut, s->end_pts, s->start_pts, plan->tb_num, plan->tb_den, &f) == -1 &&
                      strstr(ts_error(), mcut), "reversed range: %s", ts_error());
    TS_TEST_CHECK(ts_segcheck_output(menc, 0, plan->tb_den, &f) == -1 && strstr(ts_error(), menc), "time base 0: %s",
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
    return failures;
}

int ts_segcheck_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts_segcheck_test.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ts_segcheck: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    int level = av_log_get_level();
    if (!verbose)
        av_log_set_level(AV_LOG_QUIET);
    failures += test_formats();
    failures += test_math();
    failures += run_test(dir, verbose);
    av_log_set_level(level);
    ts_file_remove_dir(dir);
    if (verbose)
        fprintf(stderr, "ts_segcheck: %d failures\n", failures);
    return failures ? -1 : 0;
}
