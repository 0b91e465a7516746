/* ts_check: what the verifier checks in one result, and whether two results of the same work agree, over files and
   plan facts (no store rows). */
#ifndef TS_CHECK_H
#define TS_CHECK_H

#include "lib/ts_kind.h"
#include <stdbool.h>
#include <stddef.h>

/* One result and what its task planned. */
typedef struct {
    int kind;                 /* the task kind (lib/ts_kind.h): what the result is */
    const char *path;         /* the result's file; NULL or "" when there is none */
    long long size;           /* its bytes */
    const char *hash;         /* its content hash: equal hashes agree without decoding */
    const char *dclass;       /* the device class it came from (Blender version, CPU model or GPU types) */
    int width, height;        /* images: the planned size; segments: the planned output size, 0 the source's */
    int x, y;                 /* images: where the result starts in the frame (a tile's rectangle, or the part of
                                 it a check re-did); two results of one piece are compared where they overlap */
    const char *format;       /* images: the planned file format as an extension ("exr", "png", ...): only its
                                 reader parses the file */
    /* segments */
    const char *input;        /* the cut the node encoded from */
    long long start_pts, end_pts; /* the frames the segment owns: start <= pts < end */
    int tb_num, tb_den;       /* the time base of start/end and of the output's frames */
    const char *codec;        /* the codec the job's encoder writes (libavcodec's name), "" when unknown */
} ts_result_facts_t;

/* Checks one result: it decodes, and its dimensions, channels, frame count and timestamps are the planned ones, its
   size within bounds (float RGBA x2 for images, raw 4:4:4 for segments). 1 valid; 0 invalid (why says what is
   wrong); -1 when the check itself could not run (why says why). A kind without a checkable result is invalid. */
int ts_check_result(const ts_result_facts_t *r, char *why, size_t cap);

/* Whether results a and b of the same work agree, by the rules of verifier/ts_agree.h: images by their pixels
   (one may be a part of the other: a check that re-did a window of a tile is compared with that window)
   (exact, render noise or cross class, from the device classes and `noisy`, the job's renderer may differ between
   honest runs); segments by decoded frames, else by quality against the source and size.
   1 agree, 0 disagree (detail says how), -1 error (detail says why). */
int ts_check_agree(const ts_result_facts_t *a, const ts_result_facts_t *b, bool noisy, char *detail, size_t cap);

#endif
