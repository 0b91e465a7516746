/* ts_testmedia: the self-tests' media (ts_selftest only): synthetic clips, a stand-in slave encoder, packet lists. */
#ifndef TS_TESTMEDIA_H
#define TS_TESTMEDIA_H

#include "splitter/ts_segplan.h"
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *format;   /* libavformat muxer: "nut", "matroska", "mp4" */
    int frames;           /* video frames; 0: no video */
    int width, height;
    int tb_den;           /* video time base 1/tb_den; pts i (CFR) or a variable pattern (vfr) */
    bool vfr;
    int gop, max_b_frames; /* mpeg4 encoder: B-frames give open GOPs */
    const char *audio;    /* audio encoder ("mp2", "aac", "pcm_s16le") or NULL: none */
    double audio_seconds; /* audio length; 0: as long as the video at 25 fps */
    bool faststart;       /* mp4: index at the front */
} ts_testmedia_clip_t;

/* Writes a synthetic clip (mpeg4 video with moving content, optional audio) with libavcodec. */
int ts_testmedia_clip(const char *path, const ts_testmedia_clip_t *clip);

/* Copies the first `fraction` of a file (a truncated download). */
int ts_testmedia_copy_prefix(const char *from, const char *to, double fraction);

/* A stand-in for a slave: decodes the cut file of segment `index`, keeps the frames it owns and, when out_path is
   not NULL, encodes them with "mpeg4" (B-frames, pts in the source time base; width/height 0: the source's) to a
   NUT file. *pts (malloc'd, may be NULL) gets the kept frames' pts in the source time base, *count their number. */
int ts_testmedia_encode(const ts_segplan_t *plan, int index, const char *cut_path, const char *out_path, int width,
                        int height, int64_t **pts, int *count);

typedef struct {
    int64_t pts, dts; /* INT64_MIN when missing */
    bool key, discard;
} ts_testmedia_pkt_t;

/* Lists the packets of the first stream of a type ('v' video, 'a' audio) in file order, timestamps rescaled to
   tb_num/tb_den (tb_num 0: the stream's own time base). */
int ts_testmedia_packets(const char *path, char type, int tb_num, int tb_den, ts_testmedia_pkt_t **pkts,
                         int *count);

#ifdef __cplusplus
}
#endif

#endif
