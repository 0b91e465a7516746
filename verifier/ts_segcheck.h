/* ts_segcheck: facts about encoded segments (frames, timestamps, decoded-frame digest, PSNR) for the master's verifier.
 *
 * DESIGN: everything here decodes; nothing trusts headers. An encoded segment (what a slave returns) is decoded
 * completely and strictly: a packet the demuxer marks corrupt, a decoder error (the decoder runs with
 * AV_EF_EXPLODE) or a frame flagged damaged fails the check, so a truncated or garbage file is -1, never "fewer
 * frames". What was planned comes from the segment's input cut file, decoded exactly as the slave's encoder
 * (slave/ts_segenc.c) decodes it: single-threaded, AV_CODEC_FLAG2_SHOW_ALL, damaged packets skipped, a frame kept
 * when start_pts <= best_effort_timestamp < end_pts (compared with av_compare_ts; INT64_MIN / INT64_MAX are open
 * ends) and its pts is above the previous kept frame's (the encoder drops repeated timestamps). The digest
 * (BLAKE2b-256, lib/ts_hash) covers each decoded frame's size, pixel format name and the visible bytes of its
 * planes (no line padding), in decoding-output (= presentation) order: two encodes with equal digests decode to
 * identical pictures, the "decoded-frame MD5" of the design. PSNR follows ffmpeg's psnr filter's "average": per
 * frame the squared errors of all planes (chroma included, each sample scaled by its component's peak value),
 * pooled over the samples of all planes, averaged over frames, then 10*log10(1/mse). Sources are first converted
 * to the output's size and pixel format with libswscale (bicubic, bit-exact flags, as the slave scales).
 */
#ifndef TS_SEGCHECK_H
#define TS_SEGCHECK_H

#include "lib/ts_hash.h"
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PSNR reported for identical frames (and the cap for anything above it), in dB. */
#define TS_SEGCHECK_PSNR_MAX 100.0

typedef struct {
    int frames;               /* decoded video frames (planned: the frames the segment owns) */
    int width, height;        /* of the first frame (outputs: every frame has this size) */
    char codec[32];           /* decoder name, e.g. "h264" */
    char pix_fmt[32];         /* pixel format of the first frame, e.g. "yuv420p" */
    int64_t bytes;            /* file size */
    int64_t *pts;             /* malloc'd, `frames` entries: each frame's best_effort_timestamp rescaled to the
                                 caller's time base (tb_num/tb_den), in decoding-output (= presentation) order */
    char digest[TS_HASH_HEX]; /* BLAKE2b-256 hex over every frame's width, height, pixel format name and visible
                                 plane bytes (a palette's 1024 bytes for PAL8), in that order */
} ts_segcheck_facts_t;

/* Decodes the first video stream (cover art excluded) of an encoded segment file completely and fills *facts
   (free with ts_segcheck_facts_free; zeroed first, so freeing after a failure is safe too). tb_num/tb_den: the
   time base for facts->pts (the plan's, i.e. the source video stream's). Returns -1 with a message naming the
   file when it is missing, empty or unreadable, is not a media file, has no video stream or no decoder for it,
   a read error, a packet marked corrupt (truncated), a packet or frame that fails to decode, a frame without a
   timestamp, frames of different sizes, or no frame at all; or when the time base is not positive. */
int ts_segcheck_output(const char *path, int tb_num, int tb_den, ts_segcheck_facts_t *facts);

/* The frames a segment task owns, from its input cut file (ts_segplan_cut's NUT file, or the source itself),
   decoded exactly as the slave's encoder decodes and keeps them (see DESIGN): facts->frames, ->pts (tb_num/tb_den),
   ->width/->height/->pix_fmt of the first owned frame (the source's size, before any scaling the job asks for),
   ->codec of the input, ->bytes of the input, and ->digest of the owned frames as decoded (equal to an output's
   digest only when the encode was lossless and unscaled). start_pts/end_pts are in tb_num/tb_den, INT64_MIN /
   INT64_MAX for open ends. Returns -1 with a message naming the file when it cannot be read or decoded, or owns
   no frame; or when the range is empty or the time base not positive. */
int ts_segcheck_planned(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                        ts_segcheck_facts_t *facts);

/* The same two without the digest (facts->digest stays empty): what a single result's check needs. Hashing every
   decoded plane was 40% of the master's CPU on a transcode (perf, bench/bench_trust.py). */
int ts_segcheck_output_frames(const char *path, int tb_num, int tb_den, ts_segcheck_facts_t *facts);
int ts_segcheck_planned_frames(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                               ts_segcheck_facts_t *facts);
/* The frames a segment owns read from its input's packets, without decoding: the distinct packet timestamps in
   [start_pts, end_pts), sorted; the size, pixel format and codec from the stream's parameters. For an undamaged
   input this is what ts_segcheck_planned decodes; it is a fast first guess, and a caller whose output does not
   match it asks ts_segcheck_planned_frames before refusing anything. -1 (never a guess) when a packet is damaged or
   has no timestamp, or as ts_segcheck_planned. */
int ts_segcheck_planned_packets(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                                ts_segcheck_facts_t *facts);

/* Quality of an encoded segment against its source: the owned frames of `input` (as ts_segcheck_planned keeps
   them) and the decoded frames of `output` (decoded as strictly as ts_segcheck_output does) are matched in order;
   each source frame is converted to the output frame's size and pixel format first when they differ (pixel
   formats that are not plain planar with 8..16-bit samples are compared as yuv444p16/gbrp16). *psnr_db gets the
   PSNR over all planes as described in DESIGN, capped at TS_SEGCHECK_PSNR_MAX (identical frames give exactly
   that). Returns -1 with a message naming the file at fault when either cannot be read or decoded, or the frame
   counts differ (the message gives both). */
int ts_segcheck_psnr(const char *input, int64_t start_pts, int64_t end_pts, int tb_num, int tb_den,
                     const char *output, double *psnr_db);

/* Compares an output's facts with the planned ones: same frame count and the same pts, frame by frame, and the
   size width x height (0, 0: the planned size, i.e. no scaling). Returns 0, or -1 with a message naming
   output_path and the first difference. */
int ts_segcheck_match(const ts_segcheck_facts_t *planned, const ts_segcheck_facts_t *output, int width, int height,
                      const char *output_path);

/* True when two outputs decode to the same frames at the same times: equal counts, pts, sizes and digests. */
bool ts_segcheck_same(const ts_segcheck_facts_t *a, const ts_segcheck_facts_t *b);

/* Frees facts->pts and zeroes *facts. NULL is a no-op. */
void ts_segcheck_facts_free(ts_segcheck_facts_t *facts);

/* Internals exported for the self-test (verifier/ts_segcheck_test.c); not for other callers. -------------------- */

struct AVFrame;
struct SwsContext;

/* PSNR sums over pairs of frames (zero it first; conv_in/conv_out: frames allocated by the caller when a source or
   an output needs converting; the caller frees them and the scalers). */
typedef struct {
    struct SwsContext *sws_in, *sws_out;
    struct AVFrame *conv_in, *conv_out;
    double nmse_sum; /* sum over frames of the pooled, peak-normalised mean squared error */
    int64_t frames;
} ts_segcheck_psnr_t;

/* True when PSNR reads frames of pixel format fmt (an enum AVPixelFormat) directly, false when it converts them. */
bool ts_segcheck_plain_planar(int fmt);
/* Adds one frame to the digest, as ts_segcheck_output's digest does. */
int ts_segcheck_hash_frame(ts_hasher_t *h, const struct AVFrame *f, const char *path);
/* Adds one pair of frames (source, output) to the PSNR sums. */
int ts_segcheck_psnr_add(ts_segcheck_psnr_t *p, const struct AVFrame *src, const char *src_path,
                         const struct AVFrame *out, const char *out_path);

/* The self-test (verifier/ts_segcheck_test.c, linked into ts_selftest only). */
int ts_segcheck_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
