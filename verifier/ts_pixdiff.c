/* ts_pixdiff: per-pixel difference statistics of two renders (decades of scaled difference, absolute threshold). */
#include "verifier/ts_pixdiff.h"
#include "tests/ts_test.h"
#include <assert.h>
#include <math.h>
#include <string.h>

#define LOWEST_DECADE (-7)

double ts_pixdiff_level(int k)
{
    assert(k >= 0 && k < TS_PIXDIFF_LEVELS);
    static const double levels[TS_PIXDIFF_LEVELS] = {1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
    return levels[k];
}

int ts_pixdiff_level_index(double level)
{
    for (int k = 0; k < TS_PIXDIFF_LEVELS; k++)
        if (fabs(level - ts_pixdiff_level(k)) <= 1e-9 * ts_pixdiff_level(k))
            return k;
    return -1;
}

void ts_pixdiff_init(ts_pixdiff_t *d, int width, int height, int channels, double threshold)
{
    memset(d, 0, sizeof *d);
    d->width = width;
    d->height = height;
    d->channels = channels;
    d->threshold = threshold;
}

/* |a - b| with the NaN/infinity rules of the header. */
static double abs_diff(float a, float b)
{
    if (a == b || (isnan(a) && isnan(b)))
        return 0.0;
    double v = fabs((double)a - (double)b);
    return isfinite(v) ? v : INFINITY;
}

void ts_pixdiff_add(ts_pixdiff_t *d, const float *a, const float *b, size_t npixels)
{
    const int nch = d->channels;
    for (size_t p = 0; p < npixels; p++) {
        double worst = 0.0, worst_scaled = 0.0;
        for (int c = 0; c < nch; c++) {
            float x = a[p * nch + c], y = b[p * nch + c];
            double v = abs_diff(x, y);
            if (v == 0.0)
                continue;
            double big = fmax(1.0, fmax(fabs((double)x), fabs((double)y)));
            double s = isfinite(v) && isfinite(big) ? v / big : INFINITY;
            worst = fmax(worst, v);
            worst_scaled = fmax(worst_scaled, s);
        }
        d->pixels++;
        if (worst == 0.0)
            continue;
        d->pixels_differ++;
        d->pixels_over += worst > d->threshold;
        d->max_abs_diff = fmax(d->max_abs_diff, worst);
        d->max_scaled_diff = fmax(d->max_scaled_diff, worst_scaled);
        for (int k = 0; k < TS_PIXDIFF_LEVELS && worst_scaled > ts_pixdiff_level(k); k++)
            d->over[k]++;
    }
}

long ts_pixdiff_over(const ts_pixdiff_t *d, double level)
{
    int k = ts_pixdiff_level_index(level);
    assert(k >= 0);
    return d->over[k];
}

int ts_pixdiff_test(bool verbose)
{
    int failures = 0;
    ts_pixdiff_t d;
    /* 2 channels; differences chosen exactly representable around their decades */
    const float a[] = {0.5f, 0.5f, 0.5f, 0.5f, 4.0f, 0.0f, NAN, 1.0f, INFINITY, 0.0f, 0.25f, 0.25f};
    const float b[] = {0.5f, 0.5f, 0.5f, 0.5625f, 4.5f, 0.0f, NAN, 1.0f, INFINITY, 0.0f, 0.25f, NAN};
    ts_pixdiff_init(&d, 3, 2, 2, 0.0625);
    ts_pixdiff_add(&d, a, b, 6);
    TS_TEST_CHECK(d.pixels == 6 && d.pixels_differ == 3, "pixels %ld differ %ld", d.pixels, d.pixels_differ);
    /* pixel 1: 0.0625 absolute, scaled 0.0625 (not over the 0.0625 threshold: "more than");
       pixel 2: 0.5 absolute, scaled 0.5/4.5; pixel 5: NaN against a number, infinite */
    TS_TEST_CHECK(d.pixels_over == 2, "over threshold %ld", d.pixels_over);
    TS_TEST_CHECK(isinf(d.max_abs_diff) && isinf(d.max_scaled_diff), "max %g %g", d.max_abs_diff, d.max_scaled_diff);
    TS_TEST_CHECK(ts_pixdiff_over(&d, 1e-2) == 3 && ts_pixdiff_over(&d, 1e-1) == 2 && ts_pixdiff_over(&d, 1.0) == 1,
              "decades %ld %ld %ld", ts_pixdiff_over(&d, 1e-2), ts_pixdiff_over(&d, 1e-1), ts_pixdiff_over(&d, 1.0));
    /* the scaled difference divides by the larger value once it is above 1 */
    const float c[] = {8.0f}, e[] = {8.0f + 0.0078125f};
    ts_pixdiff_init(&d, 1, 1, 1, 0.0);
    ts_pixdiff_add(&d, c, e, 1);
    TS_TEST_CHECK(d.max_abs_diff == 0.0078125 && fabs(d.max_scaled_diff - 0.0078125 / 8.0078125) < 1e-15 &&
                  ts_pixdiff_over(&d, 1e-3) == 0 && ts_pixdiff_over(&d, 1e-4) == 1,
              "scaled %g", d.max_scaled_diff);
    TS_TEST_CHECK(ts_pixdiff_level_index(1e-5) == 2 && ts_pixdiff_level_index(2e-5) == -1, "level index");
    if (verbose)
        printf("  pixdiff: decades, threshold, NaN/inf, scaling above 1\n");
    return failures ? -1 : 0;
}
