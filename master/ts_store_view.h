/* ts_store_view: what the artists' app shows of a render job: its frames, and one frame's tiles as a mosaic (each
   tile's rectangle, state, node, time and the verifier's word on it). Read-only queries of the store.
   DESIGN: a tile's rectangle is the pixels it contributes to the frame (ts_tileplan's `own`, margin never shown),
   given top-down (y from the top row) as images are drawn; the tasks table keeps the wider render rectangle. A tile
   is shown by its newest task that is not superseded (a requeued frame shows its new tiles), with its spot checks. */
#ifndef TS_STORE_VIEW_H
#define TS_STORE_VIEW_H

#include "master/ts_store.h"

/* {"frames": [{"frame", "state", "tiles", "tiles_done"}]} of a render job, in frame order (a video at the end is not
   a frame). NULL on error. */
json_t *ts_store_view_frames(ts_store_t *self, const ts_job_t *job);

/* One frame's mosaic into *out: {"job", "frame", "state", "width", "height", "tiles_x", "tiles_y", "tiles": [{"tile",
   "x", "y", "width", "height", "task", "state", "node", "node_name", "seconds", "assigned_at", "verify", "failures",
   "checks": [{"task", "state", "node", "node_name", "verify"}]}]}. 1 found; 0 when the job has no such frame (or is
   not planned yet); -1 error. */
int ts_store_view_frame(ts_store_t *self, const ts_job_t *job, int frame, json_t **out);

/* The verified result of one tile: its hash, the rectangle the result holds (render) and the tile's own pixels, both
   in Blender's coordinates (y from the bottom). 1 found; 0 when the tile has no verified result yet (its task is not
   done or under a check) or no such tile; -1 error. */
int ts_store_view_tile_result(ts_store_t *self, const ts_job_t *job, int frame, int tile, char hash[TS_HASH_HEX],
                              ts_store_rect_t *render, ts_store_rect_t *own);

int ts_store_view_test(bool verbose);

#endif
