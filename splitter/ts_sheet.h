/* ts_sheet: a contact sheet's pieces: an image's thumbnail, and thumbnails composed into one sheet (OpenImageIO). */
#ifndef TS_SHEET_H
#define TS_SHEET_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* DESIGN. A contact sheet job has two halves. Slaves turn each input image into a thumbnail (ts_sheet_thumb):
   an 8-bit RGB PNG of exactly one cell, the image fitted inside it and centred on a TS_SHEET_BACKGROUND grey.
   The master composes the thumbnails into the sheet (ts_sheet_compose), cell by cell in reading order.

   Inputs come from strangers: a file's format is decided from its first bytes (ts_sheet_format), and only that
   format's reader ever parses it (ts_image_reader_open_as); its size is checked against TS_SHEET_INPUT_MAX before
   any pixel is read, and pixels are read in bands, box-averaged on the way in, so memory stays near the cell's
   size whatever the input's. Thumbnails come from slaves, also strangers, and are read by the PNG reader only.

   Pixels: R, G, B (channels named R, G, B, or "<layer>.R" ...; else the first three; one or two channels are
   grey, or grey and alpha) and A (a channel named A, or the second of two). Readers give alpha-premultiplied
   values. Inputs are clamped to 0..1 (NaN is 0), reduced by an integer box factor while read when much larger
   than the fitted size, resized to it by ImageBufAlgo::resize with a fixed filter on float pixels, composited
   over the background, encoded as sRGB when the input was linear (OpenEXR, or any file storing floating-point
   samples), and quantised to 8 bits once, at the end. One thread and fixed filters: the same input gives the
   same bytes in one build. Outputs are written beside their path and renamed into place. */

#define TS_SHEET_INPUT_MAX 16384 /* largest input side, in pixels */
#define TS_SHEET_BACKGROUND 0.12 /* grey of letterbox bars and empty cells, 0..1, an sRGB value */
#define TS_SHEET_INPUT_BAD (-2)  /* ts_sheet_thumb: the input image is at fault, not this machine */

/* The image format of a file from its first bytes: "png", "jpeg", "openexr", "tiff" (OpenImageIO format names), or NULL
   when it is none of those. Inputs come from strangers and content-hashed blobs have no extension: only the reader of
   the format found here ever parses them. */
const char *ts_sheet_format(const char *path);
/* Size of an input image (read by its format's reader only); -1 with a message naming `name` (the user's file name)
   when it is not a PNG, JPEG, OpenEXR or TIFF image, or is unreadable, or is larger than TS_SHEET_INPUT_MAX pixels a
   side. */
int ts_sheet_probe(const char *path, const char *name, int *width, int *height);
/* Writes an 8-bit RGB PNG of exactly cell_w x cell_h: the image scaled up or down to fit inside the cell keeping its
   aspect ratio, centred on a dark grey background (TS_SHEET_BACKGROUND); float (linear) inputs such as OpenEXR are
   converted to sRGB; alpha is composited over the background; one channel is grey. Deterministic for one build:
   the same input gives the same bytes. TS_SHEET_INPUT_BAD with a message naming `in` when the input fails
   ts_sheet_probe or its pixels cannot be read (the input is at fault); -1 when the cell is not 1..TS_SHEET_INPUT_MAX
   a side or the PNG cannot be written. */
int ts_sheet_thumb(const char *in, int cell_w, int cell_h, const char *out_png);
/* Composes count cell_w x cell_h images (thumbnails, read as PNG only) in rows of `columns`, left to right, top to
   bottom, into one 8-bit RGB PNG of columns x ceil(count/columns) cells; empty cells are background. -1 with a
   message naming the file when a thumbnail is not an RGB PNG of the cell size or cannot be read. */
int ts_sheet_compose(const char *const *thumbs, int count, int columns, int cell_w, int cell_h, const char *out_png);

int ts_sheet_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
