/* ts_mosaic_model: the tiles of one frame of one render job (a GListModel of TsTile), as the mosaic draws them.
   DESIGN: the master's view of the frame (GET /api/v1/jobs/{id}/frames/{frame}) is the truth and replaces what the
   model holds; task events (GET /api/v1/events) move single tiles between views at once, so a tile is outlined the
   moment a node takes it, not at the next fetch. An event never makes a tile go back to an older task: a tile
   follows the newest task it has heard of. A tile's picture is kept while its task stays the same and the result
   is verified; a re-rendered tile (a new task, or its task queued again) loses it. Only the shown frame's pictures
   are held, so memory stays one frame's worth whatever the job's length. No display needed. */
#ifndef TS_MOSAIC_MODEL_H
#define TS_MOSAIC_MODEL_H

#include "gui/ts_tile.h"
#include <gio/gio.h>

G_BEGIN_DECLS

#define TS_TYPE_MOSAIC_MODEL (ts_mosaic_model_get_type())
G_DECLARE_FINAL_TYPE(TsMosaicModel, ts_mosaic_model, TS, MOSAIC_MODEL, GObject)

/* What an event or a view changed. */
typedef enum {
    TS_MOSAIC_NOTHING = 0,
    TS_MOSAIC_TILES = 1 << 0,       /* a tile's state */
    TS_MOSAIC_FRAME = 1 << 1,       /* the frame's state (finished) or size */
    TS_MOSAIC_REFETCH = 1 << 2,     /* the model cannot follow it alone: fetch the frame's view */
    TS_MOSAIC_OTHER_FRAME = 1 << 3, /* the job's work moved to another frame */
} TsMosaicChange;

TsMosaicModel *ts_mosaic_model_new(void);
/* Shows another job's frame (0, 0: nothing): every tile and picture goes. */
void ts_mosaic_model_show(TsMosaicModel *self, gint64 job, int frame);
gint64 ts_mosaic_model_get_job(TsMosaicModel *self);
int ts_mosaic_model_get_frame(TsMosaicModel *self);
/* Applies the master's view of a frame (a json_t *); ignored (NOTHING) when it is not the shown frame. */
TsMosaicChange ts_mosaic_model_apply_view(TsMosaicModel *self, const void *view);
/* Applies one event's JSON (data of an `event: task` or `event: job`). */
TsMosaicChange ts_mosaic_model_apply_event(TsMosaicModel *self, const void *event);

/* The frame's size in pixels (0 until a view came) and the master's state of it ("" unknown). */
int ts_mosaic_model_get_width(TsMosaicModel *self);
int ts_mosaic_model_get_height(TsMosaicModel *self);
const char *ts_mosaic_model_get_frame_state(TsMosaicModel *self);
gboolean ts_mosaic_model_frame_finished(TsMosaicModel *self);
/* Tiles done (verified and accepted). */
int ts_mosaic_model_count(TsMosaicModel *self, TsTileLook look);
TsTile *ts_mosaic_model_tile(TsMosaicModel *self, int index); /* borrowed; NULL outside */
/* The finished frame's picture (the master's preview), or NULL. */
GdkTexture *ts_mosaic_model_get_frame_picture(TsMosaicModel *self);
void ts_mosaic_model_set_frame_picture(TsMosaicModel *self, gint64 job, int frame, GdkTexture *picture);
/* A tile's picture for the task it was fetched for; dropped when the tile has moved on. */
void ts_mosaic_model_set_tile_picture(TsMosaicModel *self, gint64 job, int frame, int index, gint64 task,
                                      GdkTexture *picture);
/* "frame 1: 3 of 4 tiles done, 1 rendering, 1 under a spot check" (or "... finished"); g_free it. */
char *ts_mosaic_model_summary(TsMosaicModel *self);

int ts_mosaic_model_test(gboolean verbose);

G_END_DECLS

#endif
