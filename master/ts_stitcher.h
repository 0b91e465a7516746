/* ts_stitcher: the master's thread that joins a frame's pieces (tiles, segments) and cuts a render's video. */
#ifndef TS_STITCHER_H
#define TS_STITCHER_H

#include "lib/ts_blobs.h"
#include "master/ts_store.h"

/* What the stitcher works on and whom it tells: no back-pointer to the master. */
typedef struct {
    ts_store_t *store;
    ts_blobs_t *blobs;
    void (*kick)(void *arg);     /* work to hand out: a finish queued, a job done */
    void *arg;
} ts_stitcher_ctx_t;

typedef struct ts_stitcher ts_stitcher_t;
/* Starts the thread; its first pass picks up frames a crashed run left waiting. */
ts_stitcher_t *ts_stitcher_new(const ts_stitcher_ctx_t *ctx);
void ts_stitcher_wake(ts_stitcher_t *self);
void ts_stitcher_destroy(ts_stitcher_t **self_p);

#endif
