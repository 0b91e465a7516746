/* ts_transcode_cut: a video cut at keyframes into segments, each stored as a blob (ts_transcode_cut.c). */
#ifndef TS_TRANSCODE_CUT_H
#define TS_TRANSCODE_CUT_H

#include "lib/ts_blobs.h"
#include "master/ts_store.h"
#include <stdbool.h>

typedef struct {
    ts_store_segment_t *segments; /* malloc'd */
    int count;
    int tb_num, tb_den, fps_num, fps_den;
    char summary[160];
} ts_transcode_cut_t;

/* Plans a video file's segments and stores each cut as a blob; name is used in messages. -1 with *input_error set
   when the video itself is at fault. */
int ts_transcode_cut(ts_blobs_t *blobs, const char *input, const char *name, double seconds, ts_transcode_cut_t *cut,
                     bool *input_error);

#endif
