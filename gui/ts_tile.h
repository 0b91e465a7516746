/* ts_tile: one tile of the mosaic: where it lies in the frame, its task's state, which node rendered it and how long
   it took, how the verifier judged it, and the master's PNG of it once it is verified. Items of TsMosaicModel. */
#ifndef TS_TILE_H
#define TS_TILE_H

#include <gdk/gdk.h>

G_BEGIN_DECLS

#define TS_TYPE_TILE (ts_tile_get_type())
G_DECLARE_FINAL_TYPE(TsTile, ts_tile, TS, TILE, GObject)

/* What the mosaic draws for a tile, from its task's state and its spot checks. */
typedef enum {
    TS_TILE_WAITING,   /* planned or queued */
    TS_TILE_RENDERING, /* on a node: outlined as in flight */
    TS_TILE_VERIFYING, /* its result is in, the verifier is decoding it: still in flight */
    TS_TILE_CHECKING,  /* verified, another node re-does part of it (a spot check): marked */
    TS_TILE_DONE,
    TS_TILE_FAILED,    /* failed or cancelled */
} TsTileLook;

typedef struct {
    int index;
    int x, y, width, height;   /* its own pixels in the frame, y from the top */
    gint64 task;               /* the task that renders it (0: none known yet) */
    char state[16];            /* the task's state as the master names it */
    char node[65], node_name[128];
    double seconds;            /* the node's time on it; < 0 unknown */
    char verify[16];           /* the verifier's word: "", unchecked, pending, tiebreak, passed, disputed... */
    gboolean check_running;    /* a spot check of it is queued or on a node */
    char check_node_name[128]; /* the last check's node */
    char check_verify[16];     /* the last check's own word: check (agreed), disputed, inconclusive */
} TsTileInfo;

TsTile *ts_tile_new(int index);
const TsTileInfo *ts_tile_info(TsTile *self);
TsTileInfo *ts_tile_info_mut(TsTile *self); /* for TsMosaicModel */
TsTileLook ts_tile_look(TsTile *self);
/* The master's PNG of the tile (NULL until fetched), and the task it shows. */
GdkTexture *ts_tile_get_picture(TsTile *self);
gint64 ts_tile_get_picture_task(TsTile *self);
void ts_tile_set_picture(TsTile *self, GdkTexture *picture, gint64 task);
/* Whether its verified result can be fetched and is not shown yet. */
gboolean ts_tile_wants_picture(TsTile *self);
/* One line for people: "tile 3 · rendered by node-a in 1.2 s · spot check passed (node-b agreed)". */
char *ts_tile_describe(TsTile *self);
const char *ts_tile_look_name(TsTileLook look);

G_END_DECLS

#endif
