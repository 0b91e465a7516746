/* ts_tileplan: cuts a frame into a grid of tiles, each with its own pixels and a wider render rectangle.
 *
 * DESIGN: coordinates are Blender border coordinates: x counts pixels from the left, y from the BOTTOM,
 * rectangles are half-open [x0,x1) x [y0,y1). A W x H frame is cut into C columns and R rows with edges
 * at x_i = floor(i*W/C) and y_j = floor(j*H/R), so the tiles' `own` rectangles cover the frame exactly
 * once at any size, and widths (heights) differ by at most one pixel. The `render` rectangle is `own`
 * grown by a margin on every side and clamped to the frame: the context a renderer may need (filters,
 * denoising) without changing which pixels a tile contributes. Tiles are numbered row-major from the
 * bottom-left: index = row * C + col, row 0 at the bottom of the frame. Plans are plain values; the
 * caller frees the array with free().
 */
#ifndef TS_TILEPLAN_H
#define TS_TILEPLAN_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TS_TILEPLAN_MAX 64          /* most columns, and most rows, in a grid */
#define TS_TILEPLAN_MAX_SIZE 65536  /* largest frame width or height in pixels */

typedef struct {
    int x0, y0, x1, y1; /* half-open: x0 <= x < x1, y0 <= y < y1; y counts from the bottom */
} ts_rect_t;

typedef struct {
    int index, col, row; /* index = row * cols + col; row 0 is the bottom row */
    ts_rect_t own;       /* the pixels this tile contributes to the frame */
    ts_rect_t render;    /* own plus the margin, clamped to the frame: what the renderer renders */
} ts_tile_t;

static inline int ts_rect_width(ts_rect_t r)
{
    return r.x1 - r.x0;
}

static inline int ts_rect_height(ts_rect_t r)
{
    return r.y1 - r.y0;
}

/* True when `inner` lies entirely within `outer`. */
static inline bool ts_rect_contains(ts_rect_t outer, ts_rect_t inner)
{
    return inner.x0 >= outer.x0 && inner.y0 >= outer.y0 && inner.x1 <= outer.x1 && inner.y1 <= outer.y1;
}

/* Plans a cols x rows grid over a width x height frame with the given render margin (pixels, >= 0).
   Sets *tiles to a malloc'd array of cols*rows tiles (ordered by index) and *count, or returns -1 with
   the message naming the grid and frame: cols/rows outside 1..TS_TILEPLAN_MAX, width/height outside
   1..TS_TILEPLAN_MAX_SIZE, more columns than pixels across (or rows than pixels down), margin < 0. */
int ts_tileplan_make(int width, int height, int cols, int rows, int margin, ts_tile_t **tiles, int *count);

/* Parses "CxR" (decimal digits, a lower-case 'x', decimal digits; e.g. "4x4") into *cols and *rows, each
   1..TS_TILEPLAN_MAX. Anything else is -1 with the message quoting the text. */
int ts_tileplan_parse_grid(const char *text, int *cols, int *rows);

int ts_tileplan_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
