/* ts_segplan_test: the self-test of ts_segplan (boundaries, dts repair, plans and cuts of synthetic clips, errors). */
#include "splitter/ts_segplan.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "tests/ts_test.h"
#include "tests/ts_testmedia.h"
#include <libavutil/log.h>
#include <libavutil/rational.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_LENGTHS { 0.3, 1.0, 1.7, 1000.0 } /* segment lengths every clip is planned with */
#define TEST_NOPTS INT64_MIN

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ts_segplan_choose_bounds on a synthetic stream: pts in decode order, keys marked by a non-zero entry of key[]. */
static int check_bounds(const char *what, const int64_t *pts, const int *key, size_t n, double seconds,
                        const int64_t *want, int nwant)
{
    int failures = 0;
    bool k[64];
    for (size_t i = 0; i < n; i++)
        k[i] = key[i] != 0;
    int64_t *b = NULL;
    int nb = -1;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        lo = pts[i] < lo ? pts[i] : lo;
        hi = pts[i] > hi ? pts[i] : hi;
    }
    int rc = ts_segplan_choose_bounds(pts, k, n, lo, hi, 1, 1, seconds, &b, &nb);
    TS_TEST_CHECK(rc == 0 && nb == nwant, "%s: %d boundaries, want %d", what, nb, nwant);
    for (int i = 0; rc == 0 && i < nb && i < nwant; i++)
        TS_TEST_CHECK(b[i] == want[i], "%s: boundary %d at %lld, want %lld", what, i, (long long)b[i],
                      (long long)want[i]);
    free(b);
    return failures;
}

static int test_bounds(void)
{
    int failures = 0;
    /* Closed GOPs, no reordering. */
    int64_t p1[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    int k1[] = { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0 };
    failures += check_bounds("closed", p1, k1, 10, 3, (int64_t[]){ 4, 8 }, 2);
    failures += check_bounds("closed, long", p1, k1, 10, 5, (int64_t[]){ 8 }, 1);
    failures += check_bounds("closed, longer than the clip", p1, k1, 10, 100, NULL, 0);
    failures += check_bounds("closed, tiny length", p1, k1, 10, 1e-9, (int64_t[]){ 4, 8 }, 2);
    /* Open GOP: I0 P3 B1 B2 I6 B4 B5 P9 B7 B8; I6's leading B4 B5 follow it. */
    int64_t p2[] = { 0, 3, 1, 2, 6, 4, 5, 9, 7, 8 };
    int k2[] = { 1, 0, 0, 0, 1, 0, 0, 0, 0, 0 };
    failures += check_bounds("open", p2, k2, 10, 1, (int64_t[]){ 6 }, 1);
    /* Keyframe 3 comes after a packet with pts 5: not a boundary; 7 is. */
    int64_t p3[] = { 0, 5, 1, 2, 3, 4, 6, 7, 8 };
    int k3[] = { 1, 0, 0, 0, 1, 0, 0, 1, 0 };
    failures += check_bounds("reordered across a keyframe", p3, k3, 9, 1, (int64_t[]){ 7 }, 1);
    /* Keyframe 5: after its leading run (3) comes 6, then 4 < 5: not a boundary. */
    int64_t p4[] = { 0, 1, 2, 5, 3, 6, 4, 7 };
    int k4[] = { 1, 0, 0, 1, 0, 0, 0, 0 };
    failures += check_bounds("late packet below a keyframe", p4, k4, 8, 1, NULL, 0);
    /* A keyframe repeating the segment's start pts never ends it (no empty segment). */
    int64_t p5[] = { 0, 1, 2, 3 };
    int k5[] = { 1, 1, 1, 1 };
    failures += check_bounds("every packet a keyframe", p5, k5, 4, 2, (int64_t[]){ 2 }, 1);
    int64_t p6[] = { 0, 0, 1 };
    int k6[] = { 1, 1, 1 };
    failures += check_bounds("duplicate keyframe pts", p6, k6, 3, 1e-9, (int64_t[]){ 1 }, 1);
    /* Segment 0 starts at the smallest pts even when the first packet is not it. */
    int64_t p7[] = { 4, 2, 3, 8, 6, 7, 12 };
    int k7[] = { 1, 0, 0, 1, 0, 0, 1 };
    failures += check_bounds("open start", p7, k7, 7, 6, (int64_t[]){ 8 }, 1);
    return failures;
}

static int check_fill(const char *what, const int64_t *pts, const int64_t *in, size_t n, int64_t before,
                      const int64_t *want)
{
    int failures = 0;
    int64_t d[16];
    if (n > 0)
        memcpy(d, in, n * sizeof *d);
    int rc = ts_segplan_fill_dts(pts, d, n, before);
    if (!want) {
        TS_TEST_CHECK(rc == -1, "%s: filled", what);
        return failures;
    }
    TS_TEST_CHECK(rc == 0, "%s: not filled", what);
    for (size_t i = 0; rc == 0 && i < n; i++)
        TS_TEST_CHECK(d[i] == want[i], "%s: dts[%zu] %lld, want %lld", what, i, (long long)d[i], (long long)want[i]);
    return failures;
}

static int test_fill(void)
{
    int failures = 0;
    const int64_t N = TEST_NOPTS;
    int64_t p1[] = { 0, 3, 1, 2, 6, 4, 5 };
    failures +=
        check_fill("leading run", p1, (int64_t[]){ N, N, 0, 1, 2, 3, 4 }, 7, N, (int64_t[]){ -2, -1, 0, 1, 2, 3, 4 });
    failures +=
        check_fill("all known", p1, (int64_t[]){ -2, -1, 0, 1, 2, 3, 4 }, 7, N, (int64_t[]){ -2, -1, 0, 1, 2, 3, 4 });
    failures +=
        check_fill("middle run", p1, (int64_t[]){ -2, -1, 0, N, N, 3, 4 }, 7, N, (int64_t[]){ -2, -1, 0, 1, 2, 3, 4 });
    failures +=
        check_fill("trailing run", (int64_t[]){ 0, 1, 2 }, (int64_t[]){ 0, N, N }, 3, N, (int64_t[]){ 0, 1, 2 });
    failures += check_fill("trailing run, no room", (int64_t[]){ 0, 2, 1 }, (int64_t[]){ 0, N, N }, 3, N, NULL);
    failures += check_fill("before, no room", (int64_t[]){ 5, 6 }, (int64_t[]){ N, N }, 2, 5, NULL);
    failures += check_fill("before, room", (int64_t[]){ 5, 6 }, (int64_t[]){ N, N }, 2, 4, (int64_t[]){ 5, 6 });
    failures += check_fill("empty", NULL, NULL, 0, N, (int64_t[]){ 0 });
    return failures;
}

/* Index of the first packet of v[0..n) that is a keyframe with pts p; n when none. */
static int find_key(const ts_testmedia_pkt_t *v, int n, int64_t p)
{
    for (int i = 0; i < n; i++)
        if (v[i].key && v[i].pts == p)
            return i;
    return n;
}

/* Plans, cuts and decodes a clip; checks ownership, boundaries, the cut files' packets and decoded frames. */
static int check_clip(const char *dir, const char *path, double seconds, bool verbose)
{
    int failures = 0;
    ts_segplan_t *plan = NULL;
    ts_testmedia_pkt_t *v = NULL;
    int n = 0;
    int rc = ts_segplan_make(path, seconds, &plan);
    TS_TEST_CHECK(rc == 0, "%s at %g s: %s", path, seconds, ts_error());
    if (rc != 0)
        return failures;
    rc = ts_testmedia_packets(path, 'v', 0, 0, &v, &n);
    TS_TEST_CHECK(rc == 0 && n > 0, "%s: %s", path, ts_error());
    if (rc != 0) {
        ts_segplan_destroy(&plan);
        return failures;
    }
    AVRational tb = { plan->tb_num, plan->tb_den };
    if (verbose)
        fprintf(stderr, "ts_segplan: %s at %g s: %d segments, %lld frames, %.2f s, codec %s %dx%d, audio %d\n", path,
                seconds, plan->count, (long long)plan->frames, plan->duration_seconds, plan->codec, plan->width,
                plan->height, plan->has_audio);
    int64_t min_pts = INT64_MAX, max_pts = INT64_MIN, sum = 0, kept = 0;
    bool drop_before = false, drop_after = false;
    for (int k = 0; k < n; k++)
        if (!v[k].discard) {
            min_pts = v[k].pts < min_pts ? v[k].pts : min_pts;
            max_pts = v[k].pts > max_pts ? v[k].pts : max_pts;
            kept++;
        }
    for (int k = 0; k < n; k++) {
        drop_before = drop_before || (v[k].discard && v[k].pts < min_pts);
        drop_after = drop_after || (v[k].discard && v[k].pts > max_pts);
    }
    TS_TEST_CHECK(plan->frames == kept, "%s: plan has %lld frames, file %lld kept packets", path,
                  (long long)plan->frames, (long long)kept);
    TS_TEST_CHECK(plan->count >= 1 && (drop_before || plan->segments[0].start_pts == INT64_MIN) &&
                      (drop_after || plan->segments[plan->count - 1].end_pts == INT64_MAX), "%s: open ends", path);
    if (verbose && (drop_before || drop_after))
        fprintf(stderr, "ts_segplan: %s: discarded frames before %d, after %d\n", path, drop_before, drop_after);
    /* Discarded frames are owned by nobody. */
    for (int k = 0; k < n; k++)
        TS_TEST_CHECK(!v[k].discard || v[k].pts < plan->segments[0].start_pts ||
                          v[k].pts >= plan->segments[plan->count - 1].end_pts,
                      "%s: discarded packet %d owned", path, k);
    for (int i = 0; i < plan->count; i++) {
        const ts_segment_t *s = &plan->segments[i];
        int64_t owned = 0;
        for (int k = 0; k < n; k++)
            owned += !v[k].discard && v[k].pts >= s->start_pts && v[k].pts < s->end_pts;
        TS_TEST_CHECK(s->index == i && s->frames == owned && owned > 0,
                      "%s: segment %d owns %lld frames, plan says %lld", path, i, (long long)owned,
                      (long long)s->frames);
        TS_TEST_CHECK(s->start_seconds < s->end_seconds, "%s: segment %d seconds %.3f..%.3f", path, i, s->start_seconds,
                      s->end_seconds);
        sum += s->frames;
        if (i + 1 < plan->count) {
            TS_TEST_CHECK(s->end_pts == plan->segments[i + 1].start_pts, "%s: segments %d and %d not contiguous", path,
                          i, i + 1);
            TS_TEST_CHECK(find_key(v, n, s->end_pts) < n, "%s: segment %d ends at pts %lld, not a keyframe", path, i,
                          (long long)s->end_pts);
            int64_t start = i == 0 ? min_pts : s->start_pts;
            TS_TEST_CHECK((double)(s->end_pts - start) * tb.num >= seconds * tb.den, "%s: segment %d shorter than %g s",
                          path, i, seconds);
            /* The FIRST keyframe far enough (every keyframe of these clips is eligible). */
            for (int k = 0; k < n; k++)
                TS_TEST_CHECK(!(v[k].key && v[k].pts < s->end_pts && v[k].pts > start &&
                                (double)(v[k].pts - start) * tb.num >= seconds * tb.den),
                              "%s: segment %d could have ended at keyframe pts %lld", path, i, (long long)v[k].pts);
        }
    }
    TS_TEST_CHECK(sum == kept, "%s: segments own %lld frames of %lld", path, (long long)sum, (long long)kept);

    /* Cut, then look at every file. */
    char **paths = calloc((size_t)plan->count, sizeof *paths);
    for (int i = 0; paths && i < plan->count; i++)
        if (asprintf(&paths[i], "%s/seg-%d.nut", dir, i) < 0)
            paths[i] = NULL;
    rc = ts_segplan_cut(plan, path, (const char *const *)paths);
    TS_TEST_CHECK(rc == 0, "%s: cut at %g s: %s", path, seconds, ts_error());
    for (int i = 0; rc == 0 && i < plan->count; i++) {
        const ts_segment_t *s = &plan->segments[i];
        ts_testmedia_pkt_t *c = NULL;
        int cn = 0;
        int r = ts_testmedia_packets(paths[i], 'v', tb.num, tb.den, &c, &cn);
        TS_TEST_CHECK(r == 0, "%s: %s", paths[i], ts_error());
        /* Expected: input packets from the start keyframe through the end keyframe and its leading run. */
        int a = i == 0 ? 0 : find_key(v, n, s->start_pts);
        int b = i + 1 == plan->count ? n : find_key(v, n, s->end_pts) + 1;
        while (i + 1 < plan->count && b < n && v[b].pts < s->end_pts)
            b++;
        TS_TEST_CHECK(r != 0 || cn == b - a, "%s: %d packets, want %d", paths[i], cn, b - a);
        for (int k = 0; r == 0 && k < cn && k < b - a; k++)
            TS_TEST_CHECK(c[k].pts == v[a + k].pts && c[k].key == v[a + k].key,
                          "%s: packet %d pts %lld key %d, want %lld %d", paths[i], k, (long long)c[k].pts, c[k].key,
                          (long long)v[a + k].pts, v[a + k].key);
        TS_TEST_CHECK(r != 0 || (cn > 0 && c[0].key), "%s: does not start with a keyframe", paths[i]);
        free(c);
        /* Decoded, it yields exactly the frames the segment owns. */
        int64_t *got = NULL;
        int gn = 0;
        r = ts_testmedia_encode(plan, i, paths[i], NULL, 0, 0, &got, &gn);
        TS_TEST_CHECK(r == 0, "%s: %s", paths[i], ts_error());
        int64_t *want = malloc((size_t)n * sizeof *want);
        int wn = 0;
        for (int k = 0; want && k < n; k++)
            if (!v[k].discard && v[k].pts >= s->start_pts && v[k].pts < s->end_pts)
                want[wn++] = v[k].pts;
        if (r == 0 && want) {
            qsort(want, (size_t)wn, sizeof *want, cmp_i64);
            qsort(got, (size_t)gn, sizeof *got, cmp_i64);
            TS_TEST_CHECK(gn == wn, "%s: decodes to %d owned frames, want %d", paths[i], gn, wn);
            for (int k = 0; k < gn && k < wn; k++)
                TS_TEST_CHECK(got[k] == want[k], "%s: owned frame %d pts %lld, want %lld", paths[i], k,
                              (long long)got[k], (long long)want[k]);
        }
        free(want);
        free(got);
    }
    for (int i = 0; paths && i < plan->count; i++) {
        if (paths[i])
            unlink(paths[i]);
        free(paths[i]);
    }
    free(paths);
    free(v);
    ts_segplan_destroy(&plan);
    return failures;
}

static int expect_make_fails(const char *path, double seconds, const char *needle1, const char *needle2)
{
    int failures = 0;
    ts_segplan_t *plan = (ts_segplan_t *)&plan; /* not NULL: must be reset */
    int rc = ts_segplan_make(path, seconds, &plan);
    TS_TEST_CHECK(rc == -1 && plan == NULL, "%s at %g s: accepted", path, seconds);
    const char *m = ts_error();
    TS_TEST_CHECK(strstr(m, path) && (strstr(m, needle1) || (needle2 && strstr(m, needle2))),
                  "%s at %g s: message \"%s\" lacks \"%s\"", path, seconds, m, needle1);
    if (rc == 0)
        ts_segplan_destroy(&plan);
    return failures;
}


static bool dir_has_tmp(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s", dir);
    bool found = false;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        found = found || strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return found;
}

static int test_errors(const char *dir, const char *good, const char *good_mp4, const char *good_mkv)
{
    int failures = 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/missing.mkv", dir);
    failures += expect_make_fails(path, 1, "no such file", NULL);
    failures += expect_make_fails(dir, 1, "directory", NULL);
    snprintf(path, sizeof path, "%s/empty.mp4", dir);
    FILE *f = fopen(path, "wb");
    TS_TEST_CHECK(f && fclose(f) == 0, "%s: cannot create", path);
    failures += expect_make_fails(path, 1, "empty", NULL);
    /* Text: short ones are no media at all; long .txt files are "tty" text art to libavformat. */
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    f = fopen(path, "w");
    for (int i = 0; f && i < 200; i++)
        fprintf(f, "line %d: this is a plain text file, not a video at all.\n", i);
    TS_TEST_CHECK(f && fclose(f) == 0, "%s: cannot create", path);
    failures += expect_make_fails(path, 1, "text file", "not a media file");
    snprintf(path, sizeof path, "%s/short.txt", dir);
    f = fopen(path, "w");
    TS_TEST_CHECK(f && fputs("hello\n", f) >= 0 && fclose(f) == 0, "%s: cannot create", path);
    failures += expect_make_fails(path, 1, "text file", "not a media file");
    snprintf(path, sizeof path, "%s/audio.nut", dir);
    ts_testmedia_clip_t audio = { .format = "nut", .audio = "mp2", .audio_seconds = 2 };
    TS_TEST_CHECK(ts_testmedia_clip(path, &audio) == 0, "%s", ts_error());
    failures += expect_make_fails(path, 1, "no video stream", NULL);
    snprintf(path, sizeof path, "%s/trunc.mp4", dir);
    TS_TEST_CHECK(ts_testmedia_copy_prefix(good_mp4, path, 0.5) == 0, "%s: cannot write", path);
    failures += expect_make_fails(path, 1, "truncated", "damaged");
    snprintf(path, sizeof path, "%s/trunc.mkv", dir);
    TS_TEST_CHECK(ts_testmedia_copy_prefix(good_mkv, path, 0.5) == 0, "%s: cannot write", path);
    failures += expect_make_fails(path, 1, "truncated", "damaged");
    snprintf(path, sizeof path, "%s/head.mkv", dir);
    TS_TEST_CHECK(ts_testmedia_copy_prefix(good_mkv, path, 0.02) == 0, "%s: cannot write", path);
    failures += expect_make_fails(path, 1, "truncated", "damaged");
    failures += expect_make_fails(good, 0, "segment length", NULL);
    failures += expect_make_fails(good, -1, "segment length", NULL);
    failures += expect_make_fails(good, NAN, "segment length", NULL);
    failures += expect_make_fails(good, INFINITY, "segment length", NULL);

    /* Cutting a different input than the one planned fails and leaves no file behind. */
    ts_segplan_t *plan = NULL;
    int rc = ts_segplan_make(good, 1, &plan);
    TS_TEST_CHECK(rc == 0, "%s: %s", good, ts_error());
    if (rc == 0) {
        char **paths = calloc((size_t)plan->count, sizeof *paths);
        for (int i = 0; paths && i < plan->count; i++)
            if (asprintf(&paths[i], "%s/bad-%d.nut", dir, i) < 0)
                paths[i] = NULL;
        rc = ts_segplan_cut(plan, good_mkv, (const char *const *)paths);
        TS_TEST_CHECK(rc == -1 && strstr(ts_error(), good_mkv) && strstr(ts_error(), "changed"),
                      "cut of another file: %s", rc == 0 ? "accepted" : ts_error());
        for (int i = 0; paths && i < plan->count; i++) {
            TS_TEST_CHECK(!paths[i] || access(paths[i], F_OK) != 0, "%s left behind", paths[i]);
            free(paths[i]);
        }
        free(paths);
        /* A plan tampered with (a boundary that is no keyframe) is caught as well. */
        if (plan->count > 1) {
            plan->segments[0].end_pts++;
            plan->segments[1].start_pts++;
            char *one[64] = { 0 };
            for (int i = 0; i < plan->count && i < 64; i++)
                if (asprintf(&one[i], "%s/bad-%d.nut", dir, i) < 0)
                    one[i] = NULL;
            rc = plan->count <= 64 ? ts_segplan_cut(plan, good, (const char *const *)one) : -1;
            TS_TEST_CHECK(rc == -1 && strstr(ts_error(), "changed"), "cut with a bad plan: %s",
                          rc == 0 ? "accepted" : ts_error());
            for (int i = 0; i < 64; i++) {
                TS_TEST_CHECK(!one[i] || access(one[i], F_OK) != 0, "%s left behind", one[i]);
                free(one[i]);
            }
        }
        ts_segplan_destroy(&plan);
    }
    TS_TEST_CHECK(!dir_has_tmp(dir), "%s: temporary files left behind", dir);
    return failures;
}

int ts_segplan_test(bool verbose)
{
    int failures = 0;
    int level = av_log_get_level();
    if (!verbose)
        av_log_set_level(AV_LOG_QUIET);
    failures += test_bounds();
    failures += test_fill();

    char dir[] = "/tmp/ts_segplan_test.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ts_segplan: mkdtemp: %s\n", strerror(errno));
        av_log_set_level(level);
        return -1;
    }
    static const struct {
        const char *name;
        ts_testmedia_clip_t clip;
    } clips[] = {
        { "open.nut", { .format = "nut", .frames = 100, .width = 160, .height = 120, .tb_den = 25, .gop = 12,
                        .max_b_frames = 2, .audio = "mp2" } },
        { "vfr.mkv", { .format = "matroska", .frames = 90, .width = 128, .height = 96, .tb_den = 1000, .vfr = true,
                       .gop = 10, .max_b_frames = 2 } },
        { "cfr.mp4", { .format = "mp4", .frames = 75, .width = 160, .height = 112, .tb_den = 12800, .gop = 15,
                       .max_b_frames = 1, .audio = "aac", .faststart = true } },
        { "closed.nut", { .format = "nut", .frames = 40, .width = 96, .height = 64, .tb_den = 25, .gop = 5 } },
    };
    char paths[4][PATH_MAX];
    const double lengths[] = TEST_LENGTHS;
    for (int c = 0; c < 4; c++) {
        snprintf(paths[c], sizeof paths[c], "%s/%s", dir, clips[c].name);
        int rc = ts_testmedia_clip(paths[c], &clips[c].clip);
        TS_TEST_CHECK(rc == 0, "%s", ts_error());
        for (size_t l = 0; rc == 0 && l < sizeof lengths / sizeof lengths[0]; l++)
            failures += check_clip(dir, paths[c], lengths[l], verbose);
    }
    failures += test_errors(dir, paths[0], paths[2], paths[1]);
    ts_file_remove_dir(dir);
    av_log_set_level(level);
    if (verbose)
        fprintf(stderr, "ts_segplan: %d failures\n", failures);
    return failures ? -1 : 0;
}
