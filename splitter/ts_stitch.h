/* ts_stitch: assembles rendered tile images into one OpenEXR frame (OpenImageIO inside).
 *
 * DESIGN: each tile file holds exactly its tile's `render` rectangle as an ordinary top-down image (file
 * row 0 is Blender y = render.y1 - 1); only the tile's `own` pixels are copied into the frame, so the
 * margins a renderer used for context never reach the output. The tile list must partition the frame
 * (checked). All tile files are checked (readable, size of their render rectangle, same channel count)
 * before anything is written. The frame is then assembled in horizontal bands of at most
 * TS_STITCH_BAND_ROWS rows, so memory stays a band, not a frame, and written as float32 OpenEXR with
 * lossless ZIP compression and the first tile's channel names. Float tiles are copied bit for bit (half
 * and integer tiles convert exactly to float). The output appears atomically: it is written to
 * "<out>.tmp" and renamed over <out> only when complete; on failure nothing at <out> changes.
 */
#ifndef TS_STITCH_H
#define TS_STITCH_H

#include "splitter/ts_tileplan.h"
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TS_STITCH_BAND_ROWS 256 /* most frame rows held in memory at once */

/* Writes the width x height frame to out_path from count tiles, tile i read from tile_paths[i] (OpenEXR files,
   read by the OpenEXR reader only).
   -1 with the message naming the file (or the tile) and what is wrong. */
int ts_stitch_frame(const char *out_path, int width, int height, const ts_tile_t *tiles,
                    const char *const *tile_paths, int count);

int ts_stitch_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
