/* ts_concat: joins encoded video segments by stream copy and muxes the source's audio back in.
 *
 * DESIGN: two passes over the segment files. The first checks them (same codec, size and extradata as the
 * first; each starts with a keyframe; each one's frames come after the previous one's in presentation time,
 * so a segment encoded twice or out of order is refused) and collects every packet's timestamps; the second
 * copies the packets. Presentation timestamps are kept (rescaled to the output's time base) and the audio is
 * copied with its own timestamps rescaled, so both keep the source's timeline and stay in sync. Decode
 * timestamps are rebuilt for the joined stream: missing ones (NUT keeps none for the first packets of a
 * B-frame stream) are filled, then every dts becomes max(dts, previous dts + 1) capped by
 * U[k] = min(pts[k], U[k+1] - 1), the largest value that still leaves room for every later packet; so dts
 * strictly increase, never exceed pts, and equal the encoder's wherever it allows. When the container cannot
 * hold the audio codec (avformat_query_codec), the audio is decoded and encoded once to AAC. The output is
 * written to a temporary name next to out_path and renamed when complete.
 */
#ifndef TS_CONCAT_H
#define TS_CONCAT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Joins count (>= 1) encoded segment files (one video stream each, e.g. NUT from a slave's encoder, timestamps in
   the source's timeline) in order by stream copy into out_path with container "mp4" or "mkv", plus the first audio
   stream of audio_source (the original input; NULL or no audio stream: none) by stream copy, or re-encoded to AAC
   when the container cannot store it. frames_out (may be NULL) gets the number of video packets written. Returns
   -1 with a message naming the file at fault: a segment missing, unreadable, without video, with codec parameters
   (codec, size, extradata) unlike the first's, not starting with a keyframe, with a packet without pts, or
   overlapping the previous segment in time; the audio source unreadable; an unknown container; a write error. */
int ts_concat(const char *const *segment_paths, int count, const char *audio_source, const char *container,
              const char *out_path, int64_t *frames_out);

int ts_concat_test(bool verbose);
/* For the self-test: the decode timestamps the joiner gives packets with these presentation timestamps (n of them);
   returns how many it had to shift. */
int64_t ts_concat_assign_dts(const int64_t *pts, int64_t *dts, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
