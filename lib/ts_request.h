/* ts_request: the rules of a job request (frames, tile grid, priority, encoder settings), one copy for CLI, API and slave. */
#ifndef TS_REQUEST_H
#define TS_REQUEST_H

/* DESIGN: every bound, default and name list a job request is checked against lives here, and the CLI
   (cli/), the master's HTTP API (master/ts_jobreq.c) and the slave's encoder (slave/ts_segenc.c) call these
   functions instead of keeping their own, so a value one of them accepts the others accept too.
   Checks return 0, or -1 with a message about the value ("55 is out of libx264's range 0..51"); the caller
   puts the field's name in front as its user knows it: the API "field 'crf'", the CLI "--crf", the slave
   "crf". ts_request_encode_check and ts_request_encode_from_json name the fields themselves. */

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#define TS_REQUEST_FRAME_MAX 1048574       /* Blender's MAXFRAME; frames are 0..this */
#define TS_REQUEST_PRIORITY_MAX 1000       /* priorities are -this..this */
#define TS_REQUEST_BITRATE_MAX 4000000000LL /* bits/s; well above any H.264/HEVC/VP9 level limit */
#define TS_REQUEST_SEGMENT_MAX 3600.0      /* seconds; a segment lasts more than 0 and at most this */
#define TS_REQUEST_SEGMENT_DEFAULT 10
#define TS_REQUEST_THREADS_MIN 1
#define TS_REQUEST_THREADS_MAX 64          /* pinned encoder threads per segment */
#define TS_REQUEST_THREADS_DEFAULT 1
#define TS_REQUEST_SIZE_MIN 2              /* output width/height, even (4:2:0) */
#define TS_REQUEST_SIZE_MAX 16384
#define TS_REQUEST_VCODEC_DEFAULT "libx264"
#define TS_REQUEST_PRESET_DEFAULT "medium" /* for the encoders that take x264's preset names */
#define TS_REQUEST_CONTAINER_DEFAULT "mp4"
#define TS_REQUEST_UNSET LLONG_MIN         /* crf or bitrate not given (so that a given -1 is checked) */
#define TS_REQUEST_VCODEC_CAP 32           /* buffer sizes of the text fields, terminator included */
#define TS_REQUEST_PRESET_CAP 32
#define TS_REQUEST_CONTAINER_CAP 8
/* A number above as text, for option tables' defaults: TS_REQUEST_TEXT(TS_REQUEST_THREADS_DEFAULT) is "1". */
#define TS_REQUEST_TEXT(x) TS_REQUEST_TEXT_(x)
#define TS_REQUEST_TEXT_(x) #x

/* ---- frames, tile grid, priority, choices ---- */

/* "A-B" (inclusive) or "N": decimal digits only, each 0..TS_REQUEST_FRAME_MAX, A <= B. -1 with the text quoted. */
int ts_request_frames_parse(const char *text, int *start, int *end);
/* 0 <= start <= end <= TS_REQUEST_FRAME_MAX. */
int ts_request_frames_check(long long start, long long end);
/* "CxR" (digits, lower-case x, digits), each 1..TS_TILEPLAN_MAX: splitter/ts_tileplan's rule, the one the
   planner cuts with. */
int ts_request_grid_parse(const char *text, int *cols, int *rows);
/* A pool tag: 1 to 32 of a-z, 0-9, - _ . (a node's --tag, a job's --pool); -1 with ts_error(). */
#define TS_REQUEST_TAG_CAP 33
int ts_request_tag_check(const char *tag);
#define TS_REQUEST_MAX_NODES 100000 /* a job's --max-nodes */
#define TS_REQUEST_CHUNK_MAX 32      /* a job's --chunk: frames one node renders per assignment */
/* A render's --out-pattern, Blender's convention: the output files' name, where a run of '#' (at most one, of at
   most 9) is the frame number zero-padded to its length (none: 4 digits at the end), and the format's extension
   follows. 1 to 100 printable characters, no '/', not starting with '.'; -1 with ts_error(). */
#define TS_REQUEST_OUT_PATTERN_CAP 101
int ts_request_out_pattern_check(const char *pattern);
/* A frame's file name by a checked pattern: "shot_####" frame 7 ext "png" is "shot_0007.png". */
void ts_request_out_name(const char *pattern, int frame, const char *ext, char *out, size_t cap);
/* -TS_REQUEST_PRIORITY_MAX..TS_REQUEST_PRIORITY_MAX. */
int ts_request_priority_check(long long priority);
/* Output formats of a render (scene, exr, png) and device classes (cpu, gpu). */
int ts_request_format_check(const char *format);
int ts_request_device_check(const char *device);
/* Containers of a transcode's output (mp4, mkv). */
int ts_request_container_check(const char *container);

/* ---- encoder settings, one value at a time ---- */

/* A libavcodec video encoder's name. */
int ts_request_vcodec_check(const char *vcodec);
/* The crfs the encoder takes: its row in the encoder table, else its own "crf" AVOption (negative minimum as
   0); -1 when it has no crf (give a bitrate). */
int ts_request_crf_range(const char *vcodec, double *lo, double *hi);
/* crf within the encoder's range. */
int ts_request_crf_check(const char *vcodec, long long crf);
/* The crf nearest to crf that the encoder takes; -1 with a message when it has no crf. */
int ts_request_crf_clamp(const char *vcodec, int crf);
/* The crf an encoder gets when neither crf nor bitrate is given (its own default, as plain ffmpeg encodes
   with it); -1 when it has none: then one of them must be given. */
int ts_request_crf_default(const char *vcodec);
/* 1..TS_REQUEST_BITRATE_MAX bits/s. */
int ts_request_bitrate_check(long long bitrate);
/* crf and bitrate exclude each other; with neither the encoder needs a default crf. The caller prefixes the
   names of both ("crf and bitrate", "--crf and --bitrate"). */
int ts_request_rate_check(const char *vcodec, bool crf_given, bool bitrate_given);
/* A preset the encoder takes: x264's names (ultrafast .. placebo) for libx264, libx264rgb, libx265 and
   libvpx-vp9 (mapped to cpu-used), else the encoder's own "preset" option; an encoder without one has none. */
int ts_request_preset_check(const char *vcodec, const char *preset);
/* The preset an encoder gets when none is given: TS_REQUEST_PRESET_DEFAULT for the encoders that take
   x264's names, else "" (the encoder's own). */
const char *ts_request_preset_default(const char *vcodec);
/* Is preset one of x264's names (ultrafast .. placebo)? */
bool ts_request_preset_known(const char *preset);
/* Is vcodec libx264, libx264rgb or libx265 (the encoders with x264's presets as their own)? */
bool ts_request_is_x26x(const char *vcodec);
/* libvpx-vp9's -cpu-used for an x264 preset name under -deadline good (0 slowest .. 5 fastest); -1: unknown. */
int ts_request_vp9_cpu_used(const char *preset);
/* Output size: 0,0 (the source's), else each TS_REQUEST_SIZE_MIN..TS_REQUEST_SIZE_MAX, even, and within
   libavutil's image size limit. The message names "width" or "height". */
int ts_request_size_check(long long width, long long height);
/* "WxH" (digits, lower-case x, digits; a number too large for long long is LLONG_MAX); "" is 0,0. The
   bounds are ts_request_size_check's. */
int ts_request_size_parse(const char *text, long long *width, long long *height);
/* More than 0 and at most TS_REQUEST_SEGMENT_MAX seconds. */
int ts_request_segment_check(double seconds);
/* TS_REQUEST_THREADS_MIN..TS_REQUEST_THREADS_MAX. */
int ts_request_threads_check(long long threads);

/* ---- encoder settings, all together ---- */

/* The settings of a transcode, or of a render that ends in an encode, as given (wide enough for any value
   given, so that the check sees it). */
typedef struct {
    char vcodec[TS_REQUEST_VCODEC_CAP];
    long long crf;                     /* TS_REQUEST_UNSET: not given */
    long long bitrate;                 /* bits/s; TS_REQUEST_UNSET: not given */
    char preset[TS_REQUEST_PRESET_CAP]; /* "": not given */
    long long width, height;           /* output size; 0,0: the source's */
    char container[TS_REQUEST_CONTAINER_CAP];
    double segment_seconds;
    long long threads;
} ts_request_encode_t;

/* How ts_request_encode_check names a field in its messages. */
typedef enum {
    TS_REQUEST_FIELDS,  /* the API's JSON: "field 'crf'" */
    TS_REQUEST_OPTIONS, /* the CLI's options: "--crf" */
} ts_request_names_t;

/* The defaults: libx264, nothing given for crf/bitrate/preset, the source's size, mp4, 10 s, 1 thread. */
void ts_request_encode_init(ts_request_encode_t *e);
/* Checks every setting (vcodec first: the others depend on it) and fills what was not given: the encoder's
   default crf when neither crf nor bitrate is given, its default preset. -1 with the field named. */
int ts_request_encode_check(ts_request_encode_t *e, ts_request_names_t names);
/* Reads the settings from a JSON object (vcodec, crf, bitrate, preset, size "WxH", container, segment,
   threads; absent or null: the default), then ts_request_encode_check with TS_REQUEST_FIELDS.
   -1 with a message naming the field, e.g. "field 'crf': 55 is out of libx264's range 0..51". */
int ts_request_encode_from_json(json_t *o, ts_request_encode_t *e);

/* ---- JSON ---- */

/* A string field into dst: absent or null gives def (NULL: the field is required); not a string, or not
   shorter than cap, is -1 naming the field. */
int ts_request_json_string(json_t *o, const char *key, const char *def, char *dst, size_t cap);

#define TS_REQUEST_INPUTS_MAX 20000        /* files a job's manifest may list */
#define TS_REQUEST_INPUT_NAME_CAP 256      /* a manifest name's buffer, terminator included */
/* A manifest entry's name: a relative path such as "textures/wood.png": 1..255 bytes, no leading '/', no empty, "."
   or ".." component, no backslash or control character (it becomes a file name on slaves and in downloads). */
int ts_request_input_name_check(const char *name);
/* Sorts names in place and checks each is there once (n log n: a manifest may list thousands); -1 with
   "'NAME' is listed twice". */
int ts_request_names_distinct(const char **names, size_t n);

int ts_request_test(bool verbose);

#endif
