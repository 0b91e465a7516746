/* ts_framevid: a sequence of finished frame files (PNG) as one video stream, by stream copy, so a render can end in
   an encode through the same segment pipeline as a transcode. */
#ifndef TS_FRAMEVID_H
#define TS_FRAMEVID_H

#include <stdbool.h>

/* Writes the image files (in order, one frame each, all PNG of width x height) as the packets of one PNG video
   stream at fps_num/fps_den into out_path (NUT), atomically. -1 with a message naming the file at fault. */
int ts_framevid_write(const char *const *paths, int count, int width, int height, int fps_num, int fps_den,
                      const char *out_path);
int ts_framevid_test(bool verbose);

#endif
