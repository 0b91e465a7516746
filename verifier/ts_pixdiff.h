/* ts_pixdiff: how two renders of the same pixels differ, as counts of pixels over each decade of difference. */
#ifndef TS_PIXDIFF_H
#define TS_PIXDIFF_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decade levels 1e-7, 1e-6, ..., 1: over[k] counts the pixels whose largest scaled channel difference exceeds
   ts_pixdiff_level(k). A channel's scaled difference is |a - b| / max(1, |a|, |b|): absolute for display-range
   values, relative for the bright values of emitters and HDR light. */
#define TS_PIXDIFF_LEVELS 8

typedef struct {
    int width, height, channels; /* of both images */
    long pixels;                 /* width x height, once added */
    long pixels_differ;          /* pixels where any channel differs at all */
    long over[TS_PIXDIFF_LEVELS];
    double threshold;            /* the caller's absolute threshold for pixels_over */
    long pixels_over;            /* pixels where any channel differs by more than threshold, absolute */
    double max_abs_diff;         /* largest |a - b|; INFINITY where one side is NaN or inf and the other not */
    double max_scaled_diff;      /* largest scaled difference */
} ts_pixdiff_t;

/* 10^(k-7) for k in 0..TS_PIXDIFF_LEVELS-1. */
double ts_pixdiff_level(int k);
/* The decade index of level (one of ts_pixdiff_level's values, within float rounding); -1 when none. */
int ts_pixdiff_level_index(double level);
/* Starts an empty comparison of width x height x channels images counting pixels_over against threshold. */
void ts_pixdiff_init(ts_pixdiff_t *d, int width, int height, int channels, double threshold);
/* Adds npixels pixels of both images (channels interleaved). A NaN equals a NaN and an infinity the same
   infinity; a NaN or infinity against anything else is an infinite difference. */
void ts_pixdiff_add(ts_pixdiff_t *d, const float *a, const float *b, size_t npixels);
/* Pixels over decade level (must be a ts_pixdiff_level value). */
long ts_pixdiff_over(const ts_pixdiff_t *d, double level);

int ts_pixdiff_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
