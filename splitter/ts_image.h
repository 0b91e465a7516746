/* ts_image: image file facts and pixel-by-pixel comparison (OpenImageIO inside), for tests and the verifier. */
#ifndef TS_IMAGE_H
#define TS_IMAGE_H

#include "verifier/ts_pixdiff.h"
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Compares two image files (any format OpenImageIO reads; first subimage) pixel by pixel, as float; the
   data windows are compared row for row, their origins are not compared. The statistics are ts_pixdiff's
   (pixels over each decade of difference, pixels over `threshold`, largest differences).
   Fills *diff and returns 0; -1 when threshold is negative or NaN, a file cannot
   be read, or the sizes or channel counts differ (the message names the files and what differs). */
int ts_image_compare(const char *a, const char *b, double threshold, ts_pixdiff_t *diff);
/* The same with both files read by one format's reader only (see ts_image_reader_open_as). */
int ts_image_compare_as(const char *a, const char *b, const char *format, double threshold, ts_pixdiff_t *diff);
/* The same for b against the window of a that starts at column ox, row oy (from a's top left) and has b's size:
   a check that re-did part of a tile. -1 also when that window does not fit in a. */
int ts_image_compare_window(const char *a, const char *b, const char *format, int ox, int oy, double threshold,
                            ts_pixdiff_t *diff);

/* A reader of one image file's pixel rows as float, whatever its format, scanline or tiled layout. */
typedef struct ts_image_reader ts_image_reader_t;

/* Opens the first subimage (full resolution) of an image file; NULL with the message naming the file
   when it cannot be read or is deep or volumetric. */
ts_image_reader_t *ts_image_reader_new(const char *path);
/* The same, read only by the reader of `format` (a file extension OpenImageIO knows: "exr", "png", "jpg", "tif",
   ...; NULL: whichever reader recognises the file). Files from strangers are opened this way: no other reader
   (DICOM, FITS, ...) ever parses their bytes, and content-hashed blobs have no extension to go by. */
ts_image_reader_t *ts_image_reader_open_as(const char *path, const char *format);
void ts_image_reader_destroy(ts_image_reader_t **self_p);
void ts_image_reader_size(const ts_image_reader_t *self, int *width, int *height, int *channels);
/* Name of channel 0..channels-1 as the file gives it ("R", "G", "B", "A", ...). */
const char *ts_image_reader_channel(const ts_image_reader_t *self, int channel);
/* Reads rows [y0, y1) counted from the top of the image (file order, whatever the data window origin)
   into pixels: (y1 - y0) * width * channels floats, channels interleaved. -1 with the message naming the
   file on a read error. */
int ts_image_reader_rows(ts_image_reader_t *self, int y0, int y1, float *pixels);

/* Writes width x height pixels of `channels` interleaved floats, top row first, to path in the format its extension
   names (float where the format has it). -1 with the message naming the file. */
int ts_image_write(const char *path, int width, int height, int channels, const float *pixels);

/* Reads the width, height and channel count of an image file; -1 with the message naming the file. */
int ts_image_info(const char *path, int *width, int *height, int *channels);
int ts_image_info_as(const char *path, const char *format, int *width, int *height, int *channels);

int ts_image_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
