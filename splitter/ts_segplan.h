/* ts_segplan: plans a video into segments that end at keyframes, and cuts it into per-segment NUT files.
 *
 * DESIGN: a segment OWNS the frames whose presentation timestamp (pts, in the video stream's time base)
 * lies in [start_pts, end_pts); the first segment starts at INT64_MIN and the last ends at INT64_MAX, so
 * every frame is owned exactly once whatever its pts. Boundaries are keyframe pts. Planning reads packets
 * only (no decoding): a keyframe K becomes a boundary only when it cleanly splits the stream in
 * presentation order: every packet before K in decode order has pts < K.pts, and after K only a run of
 * "leading" packets (open-GOP pictures, pts < K.pts) may follow before every later packet has pts >= K.pts.
 * Keyframes that fail this are skipped, never trusted. The cut copies packets (no re-encode): segment i's
 * file holds everything from its start keyframe up to and including its end keyframe, plus that run of
 * leading packets (the "postroll": they are owned by segment i but reference K). A slave decodes the whole
 * file and keeps the frames it owns. Inputs whose video packets lack a pts (raw elementary streams, AVI with
 * B-frames) or have a negative one are refused: ownership needs a pts per frame and NUT cannot carry negative
 * or missing ones. Frames the container marks discard (outside an MP4 edit list) are owned by nobody, as plain
 * ffmpeg drops them too: they must lie before or after all kept frames (else refused), and the outer segments'
 * ranges then stop at the first kept pts / after the last kept one. Missing or broken decode timestamps are
 * rebuilt (dts <= pts, strictly increasing) because NUT's muxer needs them. Segment files keep the source's
 * timestamps exactly, but NUT may store them in a finer time base (1/25, 1/1000 or 1/12800 become 1/51200,
 * 1/64000, 1/51200): readers must rescale a frame's pts from the file's stream time base to the plan's
 * (tb_num/tb_den) before comparing it with start_pts/end_pts.
 */
#ifndef TS_SEGPLAN_H
#define TS_SEGPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int index;
    int64_t start_pts, end_pts;        /* video stream time_base; the segment OWNS the frames with
                                          start_pts <= pts < end_pts; first start INT64_MIN, last end INT64_MAX
                                          (when the container discards frames at the head or tail: the first
                                          kept pts, the last kept pts + 1) */
    double start_seconds, end_seconds; /* presentation time of the range, for humans and progress */
    int64_t frames;                    /* frames owned */
} ts_segment_t;

typedef struct {
    int video_stream;        /* index of the video stream in the input */
    int tb_num, tb_den;      /* video stream time_base */
    int width, height;
    int fps_num, fps_den;    /* frame rate of the whole stream as av_guess_frame_rate gives it (0/1: unknown) */
    char codec[32];          /* decoder name, e.g. "h264" */
    bool has_audio;          /* a first audio stream exists */
    int64_t frames;          /* video packets = frames (less those marked discard) */
    double duration_seconds; /* first frame's start to the last frame's end */
    ts_segment_t *segments;
    int count;
} ts_segplan_t;

/* Indexes the keyframes of the first video stream of `input` (reading packets, no decoding) and plans segments
   of about segment_seconds: a segment ends at the first eligible keyframe at or after its start +
   segment_seconds, and is never empty. Sets *plan (free with ts_segplan_destroy) or returns -1 with a message
   naming the file: not found/unreadable, empty, not a media file (or damaged), no video stream, a text file,
   no decoder for the codec, no video packets or no keyframe, a read error or a file shorter than its header
   says (truncated), packets without pts or with a negative one, packets marked discard between kept ones,
   segment_seconds <= 0 or not finite. */
int ts_segplan_make(const char *input, double segment_seconds, ts_segplan_t **plan);
void ts_segplan_destroy(ts_segplan_t **plan);

/* One pass over `input`: writes segment i's VIDEO packets (stream copy, original timestamps and flags) to
   out_paths[i] (plan->count paths) in the NUT container: from its start keyframe (segment 0: from the first
   packet) to its end keyframe inclusive, then the packets that follow the end keyframe while their pts is
   below end_pts. Files are written to a temporary name and renamed when all are complete; on error none is
   left. Fails when the input no longer matches the plan (a boundary keyframe missing, owned counts differ). */
int ts_segplan_cut(const ts_segplan_t *plan, const char *input, const char *const *out_paths);

/* Fills the missing entries (INT64_MIN, i.e. AV_NOPTS_VALUE) of dts[0..n), packets in decode order, keeping the
   known ones: each run of missing dts gets the largest values below the next known dts that keep dts <= pts and
   strictly increasing (a run at the end: up to its own pts). `before` is the dts preceding dts[0] (INT64_MIN:
   none). Returns -1 when a run does not fit above what precedes it. Known dts are not checked. */
int ts_segplan_fill_dts(const int64_t *pts, int64_t *dts, size_t n, int64_t before);

/* Chooses the boundaries of a stream given in decode order by pts[]/key[] (time base tb_num/tb_den) as
   ts_segplan_make does (see DESIGN): lo/hi are the smallest/largest pts of a frame, seconds the segment length.
   Sets *bounds (malloc'd, NULL when none) and *count, the pts where segments 1.. start; -1 when out of memory.
   Exported for the self-test (splitter/ts_segplan_test.c). */
int ts_segplan_choose_bounds(const int64_t *pts, const bool *key, size_t n, int64_t lo, int64_t hi, int tb_num,
                             int tb_den, double seconds, int64_t **bounds, int *count);

/* The self-test (splitter/ts_segplan_test.c, linked into ts_selftest only). */
int ts_segplan_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
