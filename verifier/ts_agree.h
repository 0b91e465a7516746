/* ts_agree: the verifier's comparison rules: whether two results of the same work agree, and whose result a
   piece keeps when no third node can settle a dispute. Pure functions over facts, no files, no store.
   DESIGN: two renders of the same tile are compared by one of three rules, picked from two facts:
   - exact (same device class, a renderer that repeats itself): every pixel identical;
   - render noise (same class, Cycles with adaptive sampling, whose honest runs may differ: docs/blender-notes.md
     section 6): at most TS_AGREE_NOISE_SHARE of the pixels (at least TS_AGREE_NOISE_MIN_PIXELS) may differ by more
     than float rounding (TS_AGREE_NOISE_FLOOR, scaled), and the cross-class bound holds too. Honest noise
     changes a few pixels' sample counts; a cheat that saves work changes the samples of every pixel it saves
     on, so a cheat saving more than the share is caught (bench/bench_agree.py measures both);
   - cross class (different Blender version, CPU model, CPU kernel or GPU): Blender's render-test rule, at most
     TS_AGREE_CROSS_SHARE of the pixels differ by more than TS_AGREE_CROSS_TOLERANCE.
   Segments: identical decoded frames agree; otherwise each is measured against the source: PSNR within
   TS_AGREE_PSNR_DB of each other and sizes within TS_AGREE_SIZE_SHARE.
   A dispute (a check disagrees) goes to a third node; when none can take it within the wait, nobody is
   punished and the piece keeps the result of the node with the longer run of valid results (the original's
   on a tie), and the dispute is recorded. */
#ifndef TS_AGREE_H
#define TS_AGREE_H

#include "verifier/ts_pixdiff.h"
#include <stdbool.h>
#include <stddef.h>

#define TS_AGREE_CROSS_TOLERANCE 0.016 /* absolute, any channel */
#define TS_AGREE_CROSS_SHARE 0.01
#define TS_AGREE_NOISE_FLOOR 1e-5      /* scaled difference (ts_pixdiff); a decade level */
#define TS_AGREE_NOISE_SHARE 0.10
#define TS_AGREE_NOISE_MIN_PIXELS 16
#define TS_AGREE_PSNR_DB 0.1
#define TS_AGREE_SIZE_SHARE 0.02

typedef enum {
    TS_AGREE_EXACT,
    TS_AGREE_RENDER_NOISE,
    TS_AGREE_CROSS_CLASS,
} ts_agree_rule_t;

/* The rule for two images: same_class (both results from one device class), noisy (the job's renderer may
   differ between honest runs). */
ts_agree_rule_t ts_agree_image_rule(bool same_class, bool noisy);
const char *ts_agree_rule_name(ts_agree_rule_t rule);
/* The absolute threshold the comparison must count pixels_over with for this rule. */
double ts_agree_threshold(ts_agree_rule_t rule);
/* Pixels a rule lets differ: over its own level (the noise floor or the cross-class tolerance). */
long ts_agree_allowed(ts_agree_rule_t rule, long pixels);
/* 1 agree, 0 disagree (detail says how many pixels differ by how much, and the rule). d must have been counted
   with ts_agree_threshold(rule). */
int ts_agree_images(ts_agree_rule_t rule, const ts_pixdiff_t *d, char *detail, size_t cap);
/* Two segments whose decoded frames differ, by their PSNR against the source and their sizes in bytes:
   1 agree, 0 disagree (detail says why). */
int ts_agree_segments(double psnr_a, double psnr_b, double size_a, double size_b, char *detail, size_t cap);

/* A dispute no third node settled in time: true when the piece keeps the checking node's result rather than the
   original's (runs: each node's consecutive valid results). */
bool ts_agree_dispute_takes_check(int run_original, int run_check);

int ts_agree_test(bool verbose);

#endif
