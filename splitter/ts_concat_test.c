/* ts_concat_test: the self-test of ts_concat (dts rebuilding, round trips through ts_segplan and back, errors). */
#include "splitter/ts_concat.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "splitter/ts_segplan.h"
#include "tests/ts_test.h"
#include "tests/ts_testmedia.h"
#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ts_concat.c's dts rebuilding, exported for this test only (not part of ts_concat.h's interface). */

#define TEST_SEGMENT_SECONDS 0.5
#define TEST_AAC_FRAME 1024

static int check_assign(const char *what, const int64_t *pts, const int64_t *in, int64_t n, const int64_t *want)
{
    int failures = 0;
    int64_t d[16];
    memcpy(d, in, (size_t)n * sizeof *d);
    int64_t bad = ts_concat_assign_dts(pts, d, n);
    TS_TEST_CHECK(bad == -1, "%s: failed at %lld", what, (long long)bad);
    for (int64_t k = 0; bad == -1 && k < n; k++)
        TS_TEST_CHECK(d[k] == want[k], "%s: dts[%lld] %lld, want %lld", what, (long long)k, (long long)d[k],
                      (long long)want[k]);
    return failures;
}

static int test_assign(void)
{
    int failures = 0;
    const int64_t N = AV_NOPTS_VALUE;
    /* Segment 2's B-frame delay reaches back into segment 1's dts: pushed up one by one. */
    int64_t p1[] = { 0, 3, 1, 2, 4, 7, 5, 6 };
    failures +=
        check_assign("join", p1, (int64_t[]){ -1, 0, 1, 2, 2, 3, 4, 5 }, 8, (int64_t[]){ -1, 0, 1, 2, 3, 4, 5, 6 });
    /* Pushing up alone would give the B-frame pts 4 a dts of 5: the earlier dts are lowered to make room. */
    int64_t p2[] = { 0, 1, 2, 3, 5, 4 };
    failures += check_assign("room", p2, (int64_t[]){ 0, 1, 2, 2, 3, 4 }, 6, (int64_t[]){ -1, 0, 1, 2, 3, 4 });
    /* Unknown dts: after the previous, or the bound for the first. */
    int64_t p3[] = { 0, 3, 1, 2 };
    failures += check_assign("unknown", p3, (int64_t[]){ N, N, 0, 1 }, 4, (int64_t[]){ -1, 0, 1, 2 });
    failures += check_assign("untouched", p3, (int64_t[]){ -3, -2, 0, 1 }, 4, (int64_t[]){ -3, -2, 0, 1 });
    /* Equal pts (a time base too coarse) still get distinct dts. */
    int64_t p4[] = { 10, 10, 10 };
    failures += check_assign("coarse", p4, (int64_t[]){ 10, 10, 10 }, 3, (int64_t[]){ 8, 9, 10 });
    return failures;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *name;
    ts_testmedia_clip_t clip;
    bool reencoded_in_mp4; /* its audio cannot be stored in MP4 */
} test_clip_t;

/* Checks a joined file against the source: every frame once (pts set), dts valid, audio complete and in sync. */
static int check_output(const char *src, const char *out, const ts_segplan_t *plan, bool audio_copied,
                        bool audio_expected, int64_t frames_out)
{
    int failures = 0;
    ts_testmedia_pkt_t *iv = NULL, *ov = NULL, *ia = NULL, *oa = NULL;
    int niv = 0, nov = 0, nia = 0, noa = 0;
    int rc = ts_testmedia_packets(src, 'v', 0, 0, &iv, &niv);
    TS_TEST_CHECK(rc == 0, "%s", ts_error());
    rc = rc == 0 ? ts_testmedia_packets(out, 'v', 0, 0, &ov, &nov) : rc;
    TS_TEST_CHECK(rc == 0, "%s", ts_error());
    AVFormatContext *ic = NULL;
    AVRational vtb = { 0, 1 }, atb = { 0, 1 };
    if (rc == 0 && avformat_open_input(&ic, out, NULL, NULL) == 0 && avformat_find_stream_info(ic, NULL) >= 0) {
        for (unsigned i = 0; i < ic->nb_streams; i++) {
            if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && vtb.num == 0)
                vtb = ic->streams[i]->time_base;
            if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && atb.num == 0)
                atb = ic->streams[i]->time_base;
        }
    }
    avformat_close_input(&ic);
    if (rc != 0 || vtb.num == 0) {
        TS_TEST_CHECK(0, "%s: unreadable", out);
        goto done;
    }
    AVRational stb = { plan->tb_num, plan->tb_den };
    int64_t *want = malloc((size_t)niv * sizeof *want), *got = malloc((size_t)nov * sizeof *got);
    int nwant = 0;
    for (int k = 0; want && k < niv; k++)
        if (!iv[k].discard) /* frames an edit list drops are no frames */
            want[nwant++] = av_rescale_q(iv[k].pts, stb, vtb);
    niv = nwant;
    TS_TEST_CHECK(nov == niv && frames_out == niv && plan->frames == niv, "%s: %d frames (%lld reported), source %d",
                  out, nov, (long long)frames_out, niv);
    /* MP4 stores dts (MKV does not: its demuxer guesses them). */
    size_t len = strlen(out);
    bool has_dts = len > 4 && strcmp(out + len - 4, ".mp4") == 0;
    for (int k = 0; got && k < nov; k++) {
        got[k] = ov[k].pts;
        TS_TEST_CHECK(!has_dts || (ov[k].dts != INT64_MIN && ov[k].dts <= ov[k].pts), "%s: packet %d dts %lld pts %lld",
                      out, k, (long long)ov[k].dts, (long long)ov[k].pts);
        TS_TEST_CHECK(!has_dts || k == 0 || ov[k].dts > ov[k - 1].dts, "%s: packet %d dts %lld after %lld", out, k,
                      (long long)ov[k].dts, (long long)ov[k - 1].dts);
    }
    int64_t shift = 0; /* the container may move the whole timeline (MKV makes dts >= 0) */
    if (want && got && nov == niv && nov > 0) {
        qsort(want, (size_t)niv, sizeof *want, cmp_i64);
        qsort(got, (size_t)nov, sizeof *got, cmp_i64);
        shift = got[0] - want[0];
        for (int k = 0; k < nov; k++)
            if (got[k] - shift != want[k]) {
                TS_TEST_CHECK(0, "%s: frame %d at pts %lld, source %lld (shift %lld)", out, k, (long long)got[k],
                              (long long)want[k], (long long)shift);
                break;
            }
    }
    free(want);
    free(got);
    if (!audio_expected) {
        TS_TEST_CHECK(atb.num == 0, "%s: has audio", out);
        goto done;
    }
    TS_TEST_CHECK(atb.num != 0, "%s: no audio", out);
    if (atb.num == 0 || ts_testmedia_packets(src, 'a', 0, 0, &ia, &nia) < 0 ||
        ts_testmedia_packets(out, 'a', 0, 0, &oa, &noa) < 0) {
        TS_TEST_CHECK(0, "%s: audio unreadable: %s", out, ts_error());
        goto done;
    }
    AVRational src_atb = { 0, 1 };
    if (avformat_open_input(&ic, src, NULL, NULL) == 0 && avformat_find_stream_info(ic, NULL) >= 0)
        for (unsigned i = 0; i < ic->nb_streams && src_atb.num == 0; i++)
            if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
                src_atb = ic->streams[i]->time_base;
    avformat_close_input(&ic);
    int64_t ashift = av_rescale_q(shift, vtb, atb); /* the same shift, in the audio time base */
    if (audio_copied) {
        TS_TEST_CHECK(noa == nia, "%s: %d audio packets, source %d", out, noa, nia);
        for (int k = 0; k < noa && k < nia; k++)
            if (llabs(oa[k].pts - ashift - av_rescale_q(ia[k].pts, src_atb, atb)) > 1) {
                TS_TEST_CHECK(0,
                              "%s: audio packet %d at %lld, source %lld, shift %lld (video %lld in %d/%d): out of sync",
                              out, k, (long long)oa[k].pts, (long long)av_rescale_q(ia[k].pts, src_atb, atb),
                              (long long)ashift, (long long)shift, vtb.num, vtb.den);
                break;
            }
    } else {
        /* Re-encoded: the same span of time, starting where the source's does (AAC priming aside). */
        double s_first = ia[0].pts * av_q2d(src_atb), s_last = ia[nia - 1].pts * av_q2d(src_atb);
        double o_first = (oa[0].pts - ashift) * av_q2d(atb), o_last = (oa[noa - 1].pts - ashift) * av_q2d(atb);
        double frame = (double)TEST_AAC_FRAME / 48000;
        TS_TEST_CHECK(fabs(o_first + frame - s_first) <= 0.002 || fabs(o_first - s_first) <= 0.002,
                      "%s: AAC audio starts at %.4f s, source %.4f s", out, o_first, s_first);
        TS_TEST_CHECK(fabs(o_last - s_last) <= 3 * frame, "%s: AAC audio ends at %.4f s, source %.4f s", out, o_last,
                      s_last);
    }
done:
    free(iv);
    free(ov);
    free(ia);
    free(oa);
    return failures;
}

/* Plans and cuts a clip, encodes every segment with the stand-in slave, joins into MP4 and MKV and checks. */
static int check_round_trip(const char *dir, const test_clip_t *t, bool verbose)
{
    int failures = 0;
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s/%s", dir, t->name);
    int rc = ts_testmedia_clip(src, &t->clip);
    TS_TEST_CHECK(rc == 0, "%s", ts_error());
    ts_segplan_t *plan = NULL;
    if (rc != 0 || ts_segplan_make(src, TEST_SEGMENT_SECONDS, &plan) < 0) {
        TS_TEST_CHECK(0, "%s: %s", src, ts_error());
        return failures;
    }
    int n = plan->count;
    TS_TEST_CHECK(n >= 3, "%s: only %d segments", src, n);
    char **cut = calloc((size_t)n, sizeof *cut), **enc = calloc((size_t)n, sizeof *enc);
    for (int i = 0; cut && enc && i < n; i++) {
        if (asprintf(&cut[i], "%s/%s-cut-%d.nut", dir, t->name, i) < 0)
            cut[i] = NULL;
        if (asprintf(&enc[i], "%s/%s-enc-%d.nut", dir, t->name, i) < 0)
            enc[i] = NULL;
    }
    rc = ts_segplan_cut(plan, src, (const char *const *)cut);
    TS_TEST_CHECK(rc == 0, "%s: %s", src, ts_error());
    int64_t total = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        int kept = 0;
        rc = ts_testmedia_encode(plan, i, cut[i], enc[i], 0, 0, NULL, &kept);
        TS_TEST_CHECK(rc == 0, "%s", ts_error());
        total += kept;
    }
    TS_TEST_CHECK(rc != 0 || total == plan->frames, "%s: segments encode %lld frames of %lld", src, (long long)total,
                  (long long)plan->frames);
    const char *containers[] = { "mp4", "mkv" };
    for (int c = 0; rc == 0 && c < 2; c++) {
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/%s-joined.%s", dir, t->name, containers[c]);
        int64_t frames = -1;
        int r = ts_concat((const char *const *)enc, n, t->clip.audio ? src : NULL, containers[c], out, &frames);
        TS_TEST_CHECK(r == 0, "%s: %s", out, ts_error());
        if (r == 0) {
            bool copied = !(t->reencoded_in_mp4 && c == 0);
            failures += check_output(src, out, plan, copied, t->clip.audio != NULL, frames);
            if (verbose)
                fprintf(stderr, "ts_concat: %s: %d segments, %lld frames, audio %s\n", out, n, (long long)frames,
                        !t->clip.audio ? "none" : copied ? "copied" : "re-encoded to AAC");
        }
        unlink(out);
    }
    /* Joined without an audio source: video only. */
    if (rc == 0 && t->clip.audio) {
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/%s-mute.mkv", dir, t->name);
        int64_t frames = -1;
        int r = ts_concat((const char *const *)enc, n, NULL, "mkv", out, &frames);
        TS_TEST_CHECK(r == 0, "%s: %s", out, ts_error());
        if (r == 0)
            failures += check_output(src, out, plan, true, false, frames);
        unlink(out);
    }
    for (int i = 0; cut && enc && i < n; i++) {
        if (cut[i])
            unlink(cut[i]);
        if (enc[i])
            unlink(enc[i]);
        free(cut[i]);
        free(enc[i]);
    }
    free(cut);
    free(enc);
    ts_segplan_destroy(&plan);
    return failures;
}

static int expect_fails(const char *what, const char *const *paths, int count, const char *audio,
                        const char *container, const char *out, const char *needle1, const char *needle2)
{
    int failures = 0;
    int64_t frames = 7;
    int rc = ts_concat(paths, count, audio, container, out, &frames);
    const char *m = ts_error();
    TS_TEST_CHECK(rc == -1, "%s: accepted", what);
    TS_TEST_CHECK(rc == 0 || (strstr(m, needle1) && (!needle2 || strstr(m, needle2))),
                  "%s: message \"%s\" lacks \"%s\" / \"%s\"", what, m, needle1, needle2 ? needle2 : "");
    TS_TEST_CHECK(access(out, F_OK) != 0, "%s: %s written", what, out);
    TS_TEST_CHECK(frames == 0, "%s: frames_out %lld", what, (long long)frames);
    return failures;
}

static int test_errors(const char *dir, bool verbose)
{
    int failures = 0;
    char src[PATH_MAX], out[PATH_MAX], missing[PATH_MAX], text[PATH_MAX];
    snprintf(src, sizeof src, "%s/err.nut", dir);
    snprintf(out, sizeof out, "%s/err-out.mp4", dir);
    snprintf(missing, sizeof missing, "%s/missing.nut", dir);
    snprintf(text, sizeof text, "%s/notes.nut", dir);
    ts_testmedia_clip_t clip = { .format = "nut", .frames = 60, .width = 96, .height = 64, .tb_den = 25, .gop = 12,
                               .max_b_frames = 2, .audio = "mp2" };
    ts_segplan_t *plan = NULL;
    if (ts_testmedia_clip(src, &clip) < 0 || ts_segplan_make(src, TEST_SEGMENT_SECONDS, &plan) < 0 ||
        plan->count < 3) {
        TS_TEST_CHECK(0, "%s: %s", src, ts_error());
        ts_segplan_destroy(&plan);
        return failures;
    }
    char cut[3][PATH_MAX], enc[3][PATH_MAX], wide[PATH_MAX];
    const char *cuts[64];
    char cutbuf[64][PATH_MAX];
    int n = plan->count < 64 ? plan->count : 64;
    for (int i = 0; i < n; i++) {
        snprintf(cutbuf[i], sizeof cutbuf[i], "%s/err-cut-%d.nut", dir, i);
        cuts[i] = cutbuf[i];
    }
    int rc = plan->count <= 64 ? ts_segplan_cut(plan, src, cuts) : -1;
    TS_TEST_CHECK(rc == 0, "%s: %s", src, ts_error());
    for (int i = 0; rc == 0 && i < 3; i++) {
        snprintf(cut[i], sizeof cut[i], "%s", cuts[i]);
        snprintf(enc[i], sizeof enc[i], "%s/err-enc-%d.nut", dir, i);
        rc = ts_testmedia_encode(plan, i, cut[i], enc[i], 0, 0, NULL, NULL);
        TS_TEST_CHECK(rc == 0, "%s", ts_error());
    }
    snprintf(wide, sizeof wide, "%s/err-wide-1.nut", dir);
    if (rc == 0) {
        rc = ts_testmedia_encode(plan, 1, cut[1], wide, plan->width + 16, plan->height, NULL, NULL);
        TS_TEST_CHECK(rc == 0, "%s", ts_error());
    }
    FILE *f = fopen(text, "w");
    TS_TEST_CHECK(f && fputs("not a video\n", f) >= 0 && fclose(f) == 0, "%s", text);
    if (rc == 0) {
        const char *good[] = { enc[0], enc[1], enc[2] };
        const char *mism[] = { enc[0], wide, enc[2] };
        const char *miss[] = { enc[0], missing, enc[2] };
        const char *twice[] = { enc[0], enc[1], enc[1] };
        const char *order[] = { enc[0], enc[2], enc[1] };
        const char *texts[] = { enc[0], text };
        const char *raw[] = { cut[0], cut[1] }; /* the cut files overlap: postroll */
        failures += expect_fails("size mismatch", mism, 3, NULL, "mkv", out, wide, "frame size");
        failures += expect_fails("missing segment", miss, 3, NULL, "mp4", out, missing, "no such file");
        failures += expect_fails("segment twice", twice, 3, NULL, "mp4", out, enc[1], "overlap");
        failures += expect_fails("out of order", order, 3, NULL, "mp4", out, enc[1], "out of order");
        failures += expect_fails("text segment", texts, 2, NULL, "mp4", out, text, NULL);
        failures += expect_fails("unjoined cut files", raw, 2, NULL, "mkv", out, cut[1], "overlap");
        failures += expect_fails("unknown container", good, 3, NULL, "avi", out, "avi", NULL);
        failures += expect_fails("no container", good, 3, NULL, NULL, out, out, NULL);
        failures += expect_fails("no segments", good, 0, NULL, "mp4", out, out, NULL);
        failures += expect_fails("missing audio source", good, 3, missing, "mp4", out, missing, NULL);
        failures += expect_fails("text audio source", good, 3, text, "mp4", out, text, NULL);
        snprintf(missing, sizeof missing, "%s/no-such-dir/out.mp4", dir);
        failures += expect_fails("unwritable output", good, 3, src, "mp4", missing, missing, NULL);
        /* A prefix of the segments joins fine (the plan is the caller's business). */
        int64_t frames = 0;
        rc = ts_concat(good, 2, src, "mp4", out, &frames);
        TS_TEST_CHECK(rc == 0 && frames == plan->segments[0].frames + plan->segments[1].frames, "prefix: %s",
                      rc ? ts_error() : "wrong frame count");
        unlink(out);
    }
    if (verbose)
        fprintf(stderr, "ts_concat: error cases done\n");
    ts_segplan_destroy(&plan);
    return failures;
}

/* Removes the test's directory; a temporary file left in it is a failure. */
static int remove_dir(const char *dir)
{
    int failures = 0;
    DIR *d = opendir(dir);
    int tmp = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        tmp += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    ts_file_remove_dir(dir);
    TS_TEST_CHECK(tmp == 0, "%s: %d temporary files left behind", dir, tmp);
    return failures;
}

int ts_concat_test(bool verbose)
{
    int failures = 0;
    int level = av_log_get_level();
    if (!verbose)
        av_log_set_level(AV_LOG_QUIET);
    failures += test_assign();
    char dir[] = "/tmp/ts_concat_test.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ts_concat: mkdtemp: %s\n", strerror(errno));
        av_log_set_level(level);
        return -1;
    }
    static const test_clip_t clips[] = {
        { "open.nut", { .format = "nut", .frames = 80, .width = 160, .height = 120, .tb_den = 25, .gop = 12,
                        .max_b_frames = 2, .audio = "mp2" }, false },
        { "vfr.mkv", { .format = "matroska", .frames = 90, .width = 128, .height = 96, .tb_den = 1000, .vfr = true,
                       .gop = 10, .max_b_frames = 2 }, false },
        { "aac.mp4", { .format = "mp4", .frames = 60, .width = 160, .height = 112, .tb_den = 12800, .gop = 9,
                       .max_b_frames = 1, .audio = "aac", .audio_seconds = 2.7 }, false },
        { "pcm.mkv", { .format = "matroska", .frames = 50, .width = 96, .height = 64, .tb_den = 1000, .gop = 6,
                       .max_b_frames = 2, .audio = "pcm_s16le" }, true },
    };
    for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++)
        failures += check_round_trip(dir, &clips[i], verbose);
    failures += test_errors(dir, verbose);
    failures += remove_dir(dir);
    av_log_set_level(level);
    if (verbose)
        fprintf(stderr, "ts_concat: %d failures\n", failures);
    return failures ? -1 : 0;
}
