/* ts_kind: the task kinds, one table for the master and the slave: the wire enum, a name, the scheduling rank,
   and what spot checks, payments and frames do with each kind.
   DESIGN: the kind numbers are the wire protocol's (lib/tessera.proto, enum TaskKind); nothing else defines them.
   A kind not in the table is unknown everywhere: the master never plans, checks or pays it, the slave refuses it.
   Adding a kind is one row here and, for a kind slaves run, one runner in RUNNERS (slave/ts_executor.c). */
#ifndef TS_KIND_H
#define TS_KIND_H

#include "lib/tessera.pb-c.h"
#include <stdbool.h>

enum {
    TS_KIND_PROBE = TESSERA__TASK_KIND__TASK_PROBE,
    TS_KIND_TILE = TESSERA__TASK_KIND__TASK_TILE,
    TS_KIND_FINISH = TESSERA__TASK_KIND__TASK_FINISH,
    TS_KIND_SEGMENT = TESSERA__TASK_KIND__TASK_SEGMENT,
    TS_KIND_THUMB = TESSERA__TASK_KIND__TASK_THUMB,
    TS_KIND_SYNTHETIC = TESSERA__TASK_KIND__TASK_SYNTHETIC,
};

/* What the master does when a kind's result is accepted. */
typedef enum {
    TS_KIND_ENDS_NOTHING,  /* a probe: its facts plan the job (ts_results.c) */
    TS_KIND_ENDS_PIECE,    /* a piece of a frame (a tile, a segment): the frame is stitched once all are in */
    TS_KIND_ENDS_FRAME,    /* a frame's output (a finish): the frame is done, and the job once every frame is */
} ts_kind_ends_t;

/* How the verifier judges one result of the kind (verifier/ts_check.c). */
typedef enum {
    TS_KIND_RESULT_NONE,   /* nothing to decode (a probe's facts are checked where they are used) */
    TS_KIND_RESULT_TILE,   /* a float RGBA image of exactly the task's rectangle */
    TS_KIND_RESULT_FRAME,  /* an image of the job's frame size (a contact sheet's cell), 1-4 channels */
    TS_KIND_RESULT_VIDEO,  /* a video with exactly the frames its input owns */
    TS_KIND_RESULT_BYTES,  /* a few bytes that every honest node computes alike (a synthetic task's) */
} ts_kind_result_t;

typedef struct {
    int kind;              /* Tessera__TaskKind */
    const char *name;
    int rank;              /* scheduling within a job: higher first (a frame's finish before more tiles) */
    bool checked;          /* ordinary work that a spot check may re-do, and that payments price */
    ts_kind_ends_t ends;
    ts_kind_result_t result;
    bool own_input;        /* the slave fetches the task's own input (a segment's cut, a thumbnail's image), not the
                              job's scene; it travels over HTTP (content-addressed), not the scene's torrent */
    bool no_input;         /* the task has no input at all (a synthetic task): the slave fetches nothing */
} ts_kind_t;

/* The kind's row, or NULL when the kind is unknown. */
const ts_kind_t *ts_kind_get(int kind);
/* The kind's name, or "unknown" (for messages). */
const char *ts_kind_name(int kind);
/* Kinds in the table, for iteration: ts_kind_at(0..ts_kind_count()-1). */
int ts_kind_count(void);
const ts_kind_t *ts_kind_at(int i);

int ts_kind_test(bool verbose);

#endif
