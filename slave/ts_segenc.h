/* ts_segenc: decodes one keyframe-aligned video segment and encodes it with pinned, reproducible settings. */
#ifndef TS_SEGENC_H
#define TS_SEGENC_H

#include "lib/ts_request.h"
#include <stdbool.h>
#include <stdint.h>

/* Encoder settings, pinned per job so that every slave produces the same bits for the same segment. */
typedef struct {
    const char *vcodec; /* encoder name: "libx264", "libx265", "libvpx-vp9" (or any libavcodec video encoder) */
    int crf;            /* -1: not set */
    int64_t bitrate;    /* bits/s, 0: not set (crf and bitrate are exclusive; one must be set, except for encoders
                           with a default quality: ts_request_crf_default) */
    const char *preset; /* x264/x265 preset name, or NULL; libvpx-vp9 maps it to -deadline good -cpu-used N
                           (ts_request_vp9_cpu_used); any other encoder's own "preset" option */
    int width, height;  /* output size, 0,0 = keep the source's; libswscale bicubic, bit-exact flags */
    int threads;        /* encoder threads, pinned (0: 1); x264 also gets cpu-independent=1 */
    int fps_num, fps_den; /* the source's frame rate as av_guess_frame_rate() gives it on the WHOLE source; 0,0:
                             guessed from the segment file. Give it: x264 picks the level (in the extradata) from
                             it, and a VFR source's segments can guess differently, which breaks the join. */
    int tb_num, tb_den;   /* the time base start_pts/end_pts are given in (the source's video stream); 0,0: the
                             input file's own (segment files in NUT have a finer time base than their source) */
} ts_encode_settings_t;

/* Checks the settings before any work, by the request's rules (lib/ts_request: the ones the CLI and the
   master's API check with): unknown encoder, a non-video encoder, crf out of the encoder's range,
   both/neither crf and bitrate, bad preset name, odd/zero/too-large size for 4:2:0, threads out of range;
   then a frame rate that is not one. Returns 0, or -1 with a message naming the option. */
int ts_segenc_check(const ts_encode_settings_t *s);

/* The slave's names for the request's rules (lib/ts_request.h). */
static inline int ts_segenc_crf_clamp(const char *vcodec, int crf)
{
    return ts_request_crf_clamp(vcodec, crf);
}
static inline bool ts_segenc_preset_known(const char *preset)
{
    return ts_request_preset_known(preset);
}
static inline bool ts_segenc_is_x26x(const char *vcodec)
{
    return ts_request_is_x26x(vcodec);
}

/* Decodes the video stream of in_path (all packets; frames with pts outside [start_pts, end_pts), source video
   time_base, INT64_MIN/INT64_MAX for open ends, are dropped after decoding), scales if asked, and encodes
   with the pinned settings into out_path: NUT, one video stream, frame pts = source pts (the NUT muxer may
   refine the time base to at least 1/48000 by an exact integer factor: compare with av_compare_ts), global
   header (extradata identical across segments), starting with a keyframe, closed at both ends. Written
   atomically (tmp + rename). *frames_out (may be NULL) gets the number of frames encoded; the encode stops
   with an error when *stop (may be NULL) becomes non-zero. Returns 0, or -1 with a message naming the file. */
int ts_segenc_encode(const char *in_path, int64_t start_pts, int64_t end_pts, const ts_encode_settings_t *s,
                     const char *out_path, int64_t *frames_out, volatile int *stop);

int ts_segenc_test(bool verbose);

#endif
