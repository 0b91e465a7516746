/* ts_agree: the comparison rules of the verifier (exact, render noise, cross class; segments; disputes). */
#include "verifier/ts_agree.h"
#include "tests/ts_test.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ts_agree_rule_t ts_agree_image_rule(bool same_class, bool noisy)
{
    if (!same_class)
        return TS_AGREE_CROSS_CLASS;
    return noisy ? TS_AGREE_RENDER_NOISE : TS_AGREE_EXACT;
}

const char *ts_agree_rule_name(ts_agree_rule_t rule)
{
    switch (rule) {
    case TS_AGREE_EXACT:
        return "same device class, exact";
    case TS_AGREE_RENDER_NOISE:
        return "same device class, adaptive-sampling noise allowed";
    case TS_AGREE_CROSS_CLASS:
        return "different device class";
    }
    return "unknown rule";
}

double ts_agree_threshold(ts_agree_rule_t rule)
{
    return rule == TS_AGREE_EXACT ? 0.0 : TS_AGREE_CROSS_TOLERANCE;
}

long ts_agree_allowed(ts_agree_rule_t rule, long pixels)
{
    switch (rule) {
    case TS_AGREE_EXACT:
        return 0;
    case TS_AGREE_RENDER_NOISE: {
        long share = (long)floor(TS_AGREE_NOISE_SHARE * (double)pixels);
        return share > TS_AGREE_NOISE_MIN_PIXELS ? share : TS_AGREE_NOISE_MIN_PIXELS;
    }
    case TS_AGREE_CROSS_CLASS:
        return (long)floor(TS_AGREE_CROSS_SHARE * (double)pixels);
    }
    return 0;
}

int ts_agree_images(ts_agree_rule_t rule, const ts_pixdiff_t *d, char *detail, size_t cap)
{
    detail[0] = '\0';
    long pixels = d->pixels;
    long cross = (long)floor(TS_AGREE_CROSS_SHARE * (double)pixels);
    switch (rule) {
    case TS_AGREE_EXACT:
        if (d->pixels_differ == 0)
            return 1;
        snprintf(detail, cap, "%ld of %ld pixels differ (largest %.3g; %s)", d->pixels_differ, pixels,
                 d->max_abs_diff, ts_agree_rule_name(rule));
        return 0;
    case TS_AGREE_RENDER_NOISE: {
        long noisy = ts_pixdiff_over(d, TS_AGREE_NOISE_FLOOR), allowed = ts_agree_allowed(rule, pixels);
        if (noisy <= allowed && d->pixels_over <= cross)
            return 1;
        if (noisy > allowed)
            snprintf(detail, cap, "%ld of %ld pixels differ by more than %g, more than %ld allowed (largest %.3g; %s)",
                     noisy, pixels, TS_AGREE_NOISE_FLOOR, allowed, d->max_abs_diff, ts_agree_rule_name(rule));
        else
            snprintf(detail, cap, "%ld of %ld pixels differ by more than %g, more than %ld allowed (largest %.3g; %s)",
                     d->pixels_over, pixels, d->threshold, cross, d->max_abs_diff, ts_agree_rule_name(rule));
        return 0;
    }
    case TS_AGREE_CROSS_CLASS:
        if (d->pixels_over <= cross)
            return 1;
        snprintf(detail, cap, "%ld of %ld pixels differ by more than %g, more than %ld allowed (largest %.3g; %s)",
                 d->pixels_over, pixels, d->threshold, cross, d->max_abs_diff, ts_agree_rule_name(rule));
        return 0;
    }
    snprintf(detail, cap, "unknown comparison rule %d", (int)rule);
    return 0;
}

int ts_agree_segments(double psnr_a, double psnr_b, double size_a, double size_b, char *detail, size_t cap)
{
    detail[0] = '\0';
    double big = size_a > size_b ? size_a : size_b;
    bool quality = fabs(psnr_a - psnr_b) <= TS_AGREE_PSNR_DB;
    bool size = big <= 0 || fabs(size_a - size_b) <= TS_AGREE_SIZE_SHARE * big;
    if (quality && size)
        return 1;
    snprintf(detail, cap, "decoded frames differ; PSNR against the source %.3f vs %.3f dB, sizes %.0f vs %.0f bytes",
             psnr_a, psnr_b, size_a, size_b);
    return 0;
}

bool ts_agree_dispute_takes_check(int run_original, int run_check)
{
    return run_check > run_original;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Self-test: every threshold at, just below and just above its edge.                                   */

/* A w x h one-channel comparison where `n` pixels differ by `by` from a base value `base`. */
static ts_pixdiff_t diff_of(int w, int h, long n, float base, float by, double threshold)
{
    ts_pixdiff_t d;
    ts_pixdiff_init(&d, w, h, 1, threshold);
    float *a = malloc((size_t)w * h * sizeof *a), *b = malloc((size_t)w * h * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return d;
    }
    for (long i = 0; i < (long)w * h; i++) {
        a[i] = base;
        b[i] = i < n ? base + by : base;
    }
    ts_pixdiff_add(&d, a, b, (size_t)w * h);
    free(a);
    free(b);
    return d;
}

static int agrees(ts_agree_rule_t rule, int w, int h, long n, float base, float by)
{
    ts_pixdiff_t d = diff_of(w, h, n, base, by, ts_agree_threshold(rule));
    char detail[256];
    return ts_agree_images(rule, &d, detail, sizeof detail);
}

int ts_agree_test(bool verbose)
{
    int failures = 0;
    TS_TEST_CHECK(ts_agree_image_rule(true, false) == TS_AGREE_EXACT &&
                      ts_agree_image_rule(true, true) == TS_AGREE_RENDER_NOISE &&
                      ts_agree_image_rule(false, false) == TS_AGREE_CROSS_CLASS &&
                      ts_agree_image_rule(false, true) == TS_AGREE_CROSS_CLASS,
                  "rule choice");

    /* exact: nothing may differ, not even by one float step */
    TS_TEST_CHECK(agrees(TS_AGREE_EXACT, 100, 100, 0, 0.5f, 0.0f) == 1, "exact, identical");
    TS_TEST_CHECK(agrees(TS_AGREE_EXACT, 100, 100, 1, 0.5f, 0x1p-24f) == 0, "exact, one pixel one ulp off");

    /* render noise, share edge: 100x100 allows floor(0.10 * 10000) = 1000 pixels over the floor */
    const float big = 0.001f; /* over the noise floor, under the cross-class tolerance */
    TS_TEST_CHECK(ts_agree_allowed(TS_AGREE_RENDER_NOISE, 10000) == 1000, "noise allowance");
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 100, 100, 999, 0.5f, big) == 1, "noise, just below the share");
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 100, 100, 1000, 0.5f, big) == 1, "noise, at the share");
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 100, 100, 1001, 0.5f, big) == 0, "noise, just above the share");
    /* minimum pixels edge: a 10x10 tile allows 16, not floor(0.10 * 100) = 10 */
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 10, 10, 15, 0.5f, big) == 1, "noise, below the minimum");
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 10, 10, 16, 0.5f, big) == 1, "noise, at the minimum");
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 10, 10, 17, 0.5f, big) == 0, "noise, above the minimum");
    /* floor edge (scaled 1e-5): at 0.5 a float step is 2^-24 ~ 6e-8; 2^-17 ~ 7.6e-6 is below the floor, 2^-16 ~
       1.5e-5 above; at the floor exactly (1.0 + 1e-5 is not a float: 8 + 8e-5 scaled by 8 is) */
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 10, 10, 100, 0.5f, 0x1p-17f) == 1, "noise, all pixels below the floor");
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 10, 10, 100, 0.5f, 0x1p-16f) == 0, "noise, all pixels above the floor");
    {
        ts_pixdiff_t d;
        ts_pixdiff_init(&d, 1, 1, 1, 0.0);
        const float a = 1.0f, b = 1.0f + 1e-5f; /* float(1 + 1e-5) is 1.00001001...: just above the floor */
        ts_pixdiff_add(&d, &a, &b, 1);
        TS_TEST_CHECK(ts_pixdiff_over(&d, TS_AGREE_NOISE_FLOOR) == 1, "floor: 1 vs float(1+1e-5) counts");
        const float c = 1.0f, e = 1.0f + 0x1p-17f * 1.25f; /* 9.5e-6: just below */
        ts_pixdiff_init(&d, 1, 1, 1, 0.0);
        ts_pixdiff_add(&d, &c, &e, 1);
        TS_TEST_CHECK(ts_pixdiff_over(&d, TS_AGREE_NOISE_FLOOR) == 0, "floor: 9.5e-6 does not count");
    }
    /* bright pixels are measured relative to their value: 6.0 +- 4e-5 is scaled 6.7e-6, under the floor */
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 10, 10, 100, 6.0f, 4e-5f) == 1, "noise, bright pixels relative");
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 10, 10, 100, 6.0f, 1e-4f) == 0, "noise, bright pixels over");
    /* the cross-class bound holds inside the noise rule: 2% of pixels over 0.016 fails though under the share */
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 100, 100, 100, 0.25f, 0.0625f) == 1, "noise, 1%% gross");
    TS_TEST_CHECK(agrees(TS_AGREE_RENDER_NOISE, 100, 100, 101, 0.25f, 0.0625f) == 0, "noise, just over 1%% gross");

    /* cross class, share edge: 1% of 10000 = 100 pixels over 0.016 */
    TS_TEST_CHECK(agrees(TS_AGREE_CROSS_CLASS, 100, 100, 99, 0.25f, 0.0625f) == 1, "cross, below the share");
    TS_TEST_CHECK(agrees(TS_AGREE_CROSS_CLASS, 100, 100, 100, 0.25f, 0.0625f) == 1, "cross, at the share");
    TS_TEST_CHECK(agrees(TS_AGREE_CROSS_CLASS, 100, 100, 101, 0.25f, 0.0625f) == 0, "cross, above the share");
    /* tolerance edge: 0.25 + 0.015625 (below 0.016), and 0.0166 (above); 0.016 itself is not a float: its float
       is just above, so the test at the edge uses the comparison's own threshold on a value equal to it */
    TS_TEST_CHECK(agrees(TS_AGREE_CROSS_CLASS, 10, 10, 100, 0.25f, 0.015625f) == 1, "cross, all just below tolerance");
    TS_TEST_CHECK(agrees(TS_AGREE_CROSS_CLASS, 10, 10, 100, 0.25f, 0.0166f) == 0, "cross, all just above tolerance");
    {
        ts_pixdiff_t d = diff_of(10, 10, 100, 0.0f, 0.015625f, 0.015625);
        char detail[256];
        TS_TEST_CHECK(d.pixels_over == 0 && ts_agree_images(TS_AGREE_CROSS_CLASS, &d, detail, sizeof detail) == 1,
                      "a difference equal to the threshold is not over it");
    }

    /* segments: PSNR within 0.1 dB, sizes within 2% of the larger (values chosen so the edges are exact) */
    char why[256];
    TS_TEST_CHECK(ts_agree_segments(0.0, 0.09, 1000, 1000, why, sizeof why) == 1, "psnr below the edge");
    TS_TEST_CHECK(ts_agree_segments(0.0, 0.1, 1000, 1000, why, sizeof why) == 1, "psnr at the edge");
    TS_TEST_CHECK(ts_agree_segments(0.0, 0.11, 1000, 1000, why, sizeof why) == 0, "psnr above the edge");
    TS_TEST_CHECK(ts_agree_segments(40.0, 40.0, 981, 1000, why, sizeof why) == 1, "size below the edge");
    TS_TEST_CHECK(ts_agree_segments(40.0, 40.0, 980, 1000, why, sizeof why) == 1, "size at the edge");
    TS_TEST_CHECK(ts_agree_segments(40.0, 40.0, 979, 1000, why, sizeof why) == 0 && strstr(why, "979"),
                  "size above the edge: %s", why);

    /* disputes: the longer run keeps the piece; a tie keeps the original */
    TS_TEST_CHECK(!ts_agree_dispute_takes_check(3, 2) && !ts_agree_dispute_takes_check(3, 3) &&
                      ts_agree_dispute_takes_check(3, 4),
                  "dispute pick");
    if (verbose)
        printf("  agree: exact, render noise (share, minimum, floor, gross), cross class, segments, disputes\n");
    return failures ? -1 : 0;
}
