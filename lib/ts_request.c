/* ts_request: the rules of a job request (frames, tile grid, priority, encoder settings), one copy for CLI, API and slave.
   DESIGN: one table of the encoders tessera knows (crf range, default crf, how they take presets); any other
   libavcodec video encoder is checked against its own AVOptions ("crf", "preset") and has no default quality.
   The per-value checks say what is wrong with the value; the caller names the field (see ts_request.h). */
#include "lib/ts_request.h"
#include "lib/ts_error.h"
#include "splitter/ts_tileplan.h"
#include "tests/ts_test.h"
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define FRAME_RANGE_SEP '-'
#define SIZE_SEP 'x'
#define LIST_CAP 64      /* "scene, exr, png" and the like */
#define SIZE_TEXT_CAP 32 /* the "size" field's text, terminator included */
/* av_image_check_size2 logs at error level; checking a request is no error of libavutil's, so it logs at debug. */
#define QUIET_LOG_OFFSET (AV_LOG_DEBUG - AV_LOG_ERROR)

/* How an encoder takes a preset name. */
typedef enum {
    PRESETS_X26X, /* x264's names are its own */
    PRESETS_VP9,  /* x264's names, mapped to -cpu-used (ts_request_vp9_cpu_used) */
} presets_t;

/* The encoders tessera knows: a fixed crf range (their AVOption says -1..FLT_MAX), the crf they encode with
   when neither crf nor bitrate is given (their own default: x264 23, x265 28, libvpx's VP9 32), presets. */
static const struct {
    const char *name;
    int crf_min, crf_max;
    int crf_default;
    presets_t presets;
} s_encoders[] = {
    {"libx264", 0, 51, 23, PRESETS_X26X},
    {"libx264rgb", 0, 51, 23, PRESETS_X26X},
    {"libx265", 0, 51, 28, PRESETS_X26X},
    {"libvpx-vp9", 0, 63, 32, PRESETS_VP9},
};

static const char *const s_x26x_presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                             "medium",    "slow",      "slower",   "veryslow", "placebo"};

/* x264 preset names to libvpx-vp9 -cpu-used under -deadline good (0 slowest .. 5 fastest). */
static const struct {
    const char *preset;
    int cpu_used;
} s_vp9_presets[] = {
    {"placebo", 0}, {"veryslow", 0}, {"slower", 1},   {"slow", 1},      {"medium", 2},
    {"fast", 3},    {"faster", 4},   {"veryfast", 5}, {"superfast", 5}, {"ultrafast", 5},
};

static const char *const s_formats[] = {"scene", "exr", "png", NULL};
static const char *const s_devices[] = {"cpu", "gpu", NULL};
static const char *const s_containers[] = {"mp4", "mkv", NULL};

static int encoder_row(const char *vcodec)
{
    for (size_t i = 0; vcodec && i < sizeof s_encoders / sizeof s_encoders[0]; i++)
        if (strcmp(s_encoders[i].name, vcodec) == 0)
            return (int)i;
    return -1;
}

/* A run of decimal digits at *p into *out (LLONG_MAX when it is larger); false when there is none. */
static bool parse_digits(const char **p, long long *out)
{
    const char *s = *p;
    long long v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        int d = *s - '0';
        v = v > (LLONG_MAX - d) / 10 ? LLONG_MAX : v * 10 + d;
    }
    if (s == *p)
        return false;
    *out = v;
    *p = s;
    return true;
}

static int one_of(const char *value, const char *const *known, const char *what)
{
    for (const char *const *k = known; value && *k; k++)
        if (strcmp(value, *k) == 0)
            return 0;
    char list[LIST_CAP] = "";
    for (const char *const *k = known; *k; k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k == known ? "" : ", ", *k);
    return ts_error_set("unknown %s '%s' (known: %s)", what, value ? value : "", list);
}

/* ---- frames, tile grid, priority, choices ---- */

int ts_request_frames_check(long long start, long long end)
{
    if (start < 0 || end < 0 || start > TS_REQUEST_FRAME_MAX || end > TS_REQUEST_FRAME_MAX)
        return ts_error_set("frame numbers must be 0..%d (got %lld and %lld)", TS_REQUEST_FRAME_MAX, start, end);
    if (start > end)
        return ts_error_set("the first frame %lld is after the last frame %lld", start, end);
    return 0;
}

int ts_request_frames_parse(const char *text, int *start, int *end)
{
    const char *p = text;
    long long a, b;
    if (!text || !parse_digits(&p, &a))
        return ts_error_set("'%s': expected A-B or N (e.g. 1-10 or 7)", text ? text : "");
    b = a;
    if (*p == FRAME_RANGE_SEP) {
        p++;
        if (!parse_digits(&p, &b))
            return ts_error_set("'%s': expected A-B or N (e.g. 1-10 or 7)", text);
    }
    if (*p)
        return ts_error_set("'%s': expected A-B or N (e.g. 1-10 or 7)", text);
    if (a > TS_REQUEST_FRAME_MAX || b > TS_REQUEST_FRAME_MAX)
        return ts_error_set("'%s': frame numbers must be 0..%d", text, TS_REQUEST_FRAME_MAX);
    if (ts_request_frames_check(a, b) < 0)
        return ts_error_prefix("'%s'", text);
    *start = (int)a;
    *end = (int)b;
    return 0;
}

int ts_request_grid_parse(const char *text, int *cols, int *rows)
{
    if (!text)
        return ts_error_set("tile grid: none given");
    return ts_tileplan_parse_grid(text, cols, rows);
}

int ts_request_priority_check(long long priority)
{
    if (priority < -TS_REQUEST_PRIORITY_MAX || priority > TS_REQUEST_PRIORITY_MAX)
        return ts_error_set("%lld is out of range %d..%d", priority, -TS_REQUEST_PRIORITY_MAX,
                            TS_REQUEST_PRIORITY_MAX);
    return 0;
}

int ts_request_format_check(const char *format)
{
    return one_of(format, s_formats, "format");
}

int ts_request_device_check(const char *device)
{
    return one_of(device, s_devices, "device class");
}

int ts_request_container_check(const char *container)
{
    return one_of(container, s_containers, "container");
}

/* ---- encoder settings, one value at a time ---- */

/* The encoder, or NULL with the message. */
static const AVCodec *find_encoder(const char *vcodec)
{
    if (!vcodec || !*vcodec) {
        ts_error_set("no encoder named");
        return NULL;
    }
    const AVCodec *c = avcodec_find_encoder_by_name(vcodec);
    if (!c)
        ts_error_set("unknown video codec '%s'", vcodec);
    else if (c->type != AVMEDIA_TYPE_VIDEO)
        ts_error_set("unknown video codec '%s': it is not a video encoder", vcodec);
    return c && c->type == AVMEDIA_TYPE_VIDEO ? c : NULL;
}

int ts_request_vcodec_check(const char *vcodec)
{
    return find_encoder(vcodec) ? 0 : -1;
}

int ts_request_crf_range(const char *vcodec, double *lo, double *hi)
{
    const AVCodec *codec = find_encoder(vcodec);
    if (!codec)
        return -1;
    int k = encoder_row(vcodec);
    if (k >= 0) {
        *lo = s_encoders[k].crf_min;
        *hi = s_encoders[k].crf_max;
        return 0;
    }
    const AVOption *o = codec->priv_class ? av_opt_find2((void *)&codec->priv_class, "crf", NULL, 0,
                                                          AV_OPT_SEARCH_FAKE_OBJ, NULL)
                                          : NULL;
    if (!o)
        return ts_error_set("encoder '%s' has no crf; give a bitrate", vcodec);
    *lo = o->min < 0 ? 0 : o->min;
    *hi = o->max;
    return 0;
}

int ts_request_crf_check(const char *vcodec, long long crf)
{
    double lo, hi;
    if (ts_request_crf_range(vcodec, &lo, &hi) < 0)
        return -1;
    if (crf < lo || crf > hi)
        return ts_error_set("%lld is out of %s's range %g..%g", crf, vcodec, lo, hi);
    return 0;
}

int ts_request_crf_clamp(const char *vcodec, int crf)
{
    double lo, hi;
    if (ts_request_crf_range(vcodec, &lo, &hi) < 0)
        return -1;
    return crf < lo ? (int)ceil(lo) : crf > hi ? (int)floor(hi) : crf;
}

int ts_request_crf_default(const char *vcodec)
{
    int k = encoder_row(vcodec);
    return k >= 0 ? s_encoders[k].crf_default : -1;
}

int ts_request_bitrate_check(long long bitrate)
{
    if (bitrate < 1 || bitrate > TS_REQUEST_BITRATE_MAX)
        return ts_error_set("%lld is out of range 1..%lld bits/s", bitrate, TS_REQUEST_BITRATE_MAX);
    return 0;
}

int ts_request_rate_check(const char *vcodec, bool crf_given, bool bitrate_given)
{
    if (crf_given && bitrate_given)
        return ts_error_set("they exclude each other; give one, not both");
    if (!crf_given && !bitrate_given && ts_request_crf_default(vcodec) < 0)
        return ts_error_set("neither is given and %s has no default quality; give one", vcodec ? vcodec : "");
    return 0;
}

bool ts_request_preset_known(const char *preset)
{
    for (size_t i = 0; preset && i < sizeof s_x26x_presets / sizeof s_x26x_presets[0]; i++)
        if (strcmp(s_x26x_presets[i], preset) == 0)
            return true;
    return false;
}

bool ts_request_is_x26x(const char *vcodec)
{
    int k = encoder_row(vcodec);
    return k >= 0 && s_encoders[k].presets == PRESETS_X26X;
}

int ts_request_vp9_cpu_used(const char *preset)
{
    for (size_t i = 0; preset && i < sizeof s_vp9_presets / sizeof s_vp9_presets[0]; i++)
        if (strcmp(s_vp9_presets[i].preset, preset) == 0)
            return s_vp9_presets[i].cpu_used;
    return -1;
}

const char *ts_request_preset_default(const char *vcodec)
{
    return encoder_row(vcodec) >= 0 ? TS_REQUEST_PRESET_DEFAULT : "";
}

int ts_request_preset_check(const char *vcodec, const char *preset)
{
    const AVCodec *codec = find_encoder(vcodec);
    if (!codec)
        return -1;
    if (!preset)
        return ts_error_set("none given");
    int k = encoder_row(vcodec);
    if (k >= 0 && s_encoders[k].presets == PRESETS_X26X)
        return ts_request_preset_known(preset)
                   ? 0
                   : ts_error_set("unknown %s preset '%s' (ultrafast .. placebo)", vcodec, preset);
    if (k >= 0)
        return ts_request_vp9_cpu_used(preset) >= 0
                   ? 0
                   : ts_error_set("unknown %s preset '%s' (x264's names: ultrafast .. placebo)", vcodec, preset);
    /* Any other encoder: its own "preset" option, when it has one, validates the value. */
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return ts_error_set("out of memory");
    int rc = 0;
    if (!c->priv_data || !av_opt_find(c->priv_data, "preset", NULL, 0, 0))
        rc = ts_error_set("encoder '%s' has no presets", vcodec);
    else if (av_opt_set(c->priv_data, "preset", preset, 0) < 0)
        rc = ts_error_set("unknown %s preset '%s'", vcodec, preset);
    avcodec_free_context(&c);
    return rc;
}

int ts_request_size_check(long long width, long long height)
{
    if (width == 0 && height == 0)
        return 0;
    if (width == 0 || height == 0)
        return ts_error_set("%s is 0 while %s is not (0x0 keeps the source's size)", width ? "height" : "width",
                            width ? "width" : "height");
    const char *const dim[] = {"width", "height"};
    const long long val[] = {width, height};
    for (int i = 0; i < 2; i++) {
        if (val[i] < TS_REQUEST_SIZE_MIN || val[i] > TS_REQUEST_SIZE_MAX)
            return ts_error_set("%s %lld is out of range %d..%d", dim[i], val[i], TS_REQUEST_SIZE_MIN,
                                TS_REQUEST_SIZE_MAX);
        if (val[i] % 2)
            return ts_error_set("%s %lld is odd; 4:2:0 needs even sizes", dim[i], val[i]);
    }
    if (av_image_check_size2((unsigned)width, (unsigned)height, INT64_MAX, AV_PIX_FMT_NONE, QUIET_LOG_OFFSET,
                             NULL) < 0)
        return ts_error_set("%lldx%lld is too large a picture", width, height);
    return 0;
}

int ts_request_size_parse(const char *text, long long *width, long long *height)
{
    if (!text || !*text) {
        *width = *height = 0;
        return 0;
    }
    const char *p = text;
    long long w, h;
    if (!parse_digits(&p, &w) || *p++ != SIZE_SEP || !parse_digits(&p, &h) || *p)
        return ts_error_set("'%s': expected WxH, e.g. 1280x720", text);
    *width = w;
    *height = h;
    return 0;
}

int ts_request_segment_check(double seconds)
{
    if (!isfinite(seconds) || seconds <= 0 || seconds > TS_REQUEST_SEGMENT_MAX)
        return ts_error_set("%g is out of range: more than 0 and at most %g seconds", seconds, TS_REQUEST_SEGMENT_MAX);
    return 0;
}

int ts_request_threads_check(long long threads)
{
    if (threads < TS_REQUEST_THREADS_MIN || threads > TS_REQUEST_THREADS_MAX)
        return ts_error_set("%lld is out of range %d..%d", threads, TS_REQUEST_THREADS_MIN, TS_REQUEST_THREADS_MAX);
    return 0;
}

/* ---- encoder settings, all together ---- */

void ts_request_encode_init(ts_request_encode_t *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->vcodec, sizeof e->vcodec, "%s", TS_REQUEST_VCODEC_DEFAULT);
    snprintf(e->container, sizeof e->container, "%s", TS_REQUEST_CONTAINER_DEFAULT);
    e->crf = TS_REQUEST_UNSET;
    e->bitrate = TS_REQUEST_UNSET;
    e->segment_seconds = TS_REQUEST_SEGMENT_DEFAULT;
    e->threads = TS_REQUEST_THREADS_DEFAULT;
}

/* Puts the field's name, as the caller's user knows it, in front of the message. */
static int named(ts_request_names_t names, const char *field)
{
    return names == TS_REQUEST_OPTIONS ? ts_error_prefix("--%s", field) : ts_error_prefix("field '%s'", field);
}

int ts_request_encode_check(ts_request_encode_t *e, ts_request_names_t names)
{
    if (ts_request_vcodec_check(e->vcodec) < 0)
        return named(names, "vcodec");
    if (!e->preset[0])
        snprintf(e->preset, sizeof e->preset, "%s", ts_request_preset_default(e->vcodec));
    else if (ts_request_preset_check(e->vcodec, e->preset) < 0)
        return named(names, "preset");
    if (ts_request_container_check(e->container) < 0)
        return named(names, "container");
    bool crf_given = e->crf != TS_REQUEST_UNSET, bitrate_given = e->bitrate != TS_REQUEST_UNSET;
    if (crf_given && ts_request_crf_check(e->vcodec, e->crf) < 0)
        return named(names, "crf");
    if (bitrate_given && ts_request_bitrate_check(e->bitrate) < 0)
        return named(names, "bitrate");
    if (ts_request_rate_check(e->vcodec, crf_given, bitrate_given) < 0)
        return names == TS_REQUEST_OPTIONS ? ts_error_prefix("--crf and --bitrate")
                                           : ts_error_prefix("fields 'crf' and 'bitrate'");
    if (!crf_given && !bitrate_given)
        e->crf = ts_request_crf_default(e->vcodec);
    if (ts_request_segment_check(e->segment_seconds) < 0)
        return named(names, "segment");
    if (ts_request_threads_check(e->threads) < 0)
        return named(names, "threads");
    if (ts_request_size_check(e->width, e->height) < 0)
        return named(names, "size");
    return 0;
}

int ts_request_json_string(json_t *o, const char *key, const char *def, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (!def)
            return ts_error_set("field '%s' is required", key);
        snprintf(dst, cap, "%s", def);
        return 0;
    }
    if (!json_is_string(v))
        return ts_error_set("field '%s' must be a string", key);
    if (json_string_length(v) >= cap)
        return ts_error_set("field '%s' is too long (at most %zu characters)", key, cap - 1);
    snprintf(dst, cap, "%s", json_string_value(v));
    return 0;
}

int ts_request_input_name_check(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= TS_REQUEST_INPUT_NAME_CAP)
        return ts_error_set("'%.40s': a file name is 1 to %d bytes", name, TS_REQUEST_INPUT_NAME_CAP - 1);
    if (name[0] == '/')
        return ts_error_set("'%s': a file name is relative (no leading '/')", name);
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
            return ts_error_set("'%.60s': a file name has no control characters or backslashes", name);
    for (const char *c = name; c;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return ts_error_set("'%s': a file name has no empty, '.' or '..' parts", name);
        c = slash ? slash + 1 : NULL;
    }
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ts_request_names_distinct(const char **names, size_t n)
{
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            return ts_error_set("'%s' is listed twice", names[i]);
    return 0;
}

/* A whole-number field into *out when it is present and not null. */
static int json_whole(json_t *o, const char *key, const char *what, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return ts_error_set("field '%s' must be %s", key, what);
    if (json_integer_value(v) == TS_REQUEST_UNSET) /* the one value that would read as "not given" */
        return ts_error_set("field '%s': %lld is out of range", key, (long long)json_integer_value(v));
    *out = json_integer_value(v);
    return 0;
}

int ts_request_encode_from_json(json_t *o, ts_request_encode_t *e)
{
    ts_request_encode_init(e);
    char size[SIZE_TEXT_CAP];
    if (!json_is_object(o))
        return ts_error_set("encoder settings must be a JSON object");
    if (ts_request_json_string(o, "vcodec", TS_REQUEST_VCODEC_DEFAULT, e->vcodec, sizeof e->vcodec) < 0 ||
        ts_request_json_string(o, "preset", "", e->preset, sizeof e->preset) < 0 ||
        ts_request_json_string(o, "container", TS_REQUEST_CONTAINER_DEFAULT, e->container, sizeof e->container) < 0 ||
        ts_request_json_string(o, "size", "", size, sizeof size) < 0)
        return -1;
    if (json_whole(o, "crf", "a whole number", &e->crf) < 0 ||
        json_whole(o, "bitrate", "a whole number of bits per second", &e->bitrate) < 0 ||
        json_whole(o, "threads", "a whole number", &e->threads) < 0)
        return -1;
    json_t *seg = json_object_get(o, "segment");
    if (seg && !json_is_null(seg)) {
        if (!json_is_number(seg))
            return ts_error_set("field 'segment' must be a number of seconds");
        e->segment_seconds = json_number_value(seg);
    }
    if (ts_request_size_parse(size, &e->width, &e->height) < 0)
        return named(TS_REQUEST_FIELDS, "size");
    return ts_request_encode_check(e, TS_REQUEST_FIELDS);
}

/* ---- self-test ---- */

#define TEST_BODY_MAX 256
#define TEST_TEXT_MAX 64

/* The message after the field's name ("field 'crf': X" and "--crf: X" both give X). */
static const char *after_name(const char *msg)
{
    const char *colon = strstr(msg, ": ");
    return colon ? colon + 2 : msg;
}

/* The API's path (JSON) and the CLI's (the struct, named as options) for the same values: same verdict, same
   message after the field's name, same settings. body is the JSON object; e the same values as the CLI fills them. */
static int same_answer(const char *body, ts_request_encode_t cli, int *accepted)
{
    int failures = 0;
    json_error_t jerr;
    json_t *o = json_loads(body, 0, &jerr);
    TS_TEST_CHECK(o != NULL, "%s: not JSON: %s", body, jerr.text);
    if (!o)
        return failures;
    ts_request_encode_t api;
    int rc_api = ts_request_encode_from_json(o, &api);
    char msg_api[TEST_BODY_MAX * 2];
    snprintf(msg_api, sizeof msg_api, "%s", ts_error());
    int rc_cli = ts_request_encode_check(&cli, TS_REQUEST_OPTIONS);
    TS_TEST_CHECK(rc_api == rc_cli, "%s: API %d (%s), CLI %d (%s)", body, rc_api, msg_api, rc_cli, ts_error());
    if (rc_api < 0 && rc_cli < 0) {
        TS_TEST_CHECK(strcmp(after_name(msg_api), after_name(ts_error())) == 0, "%s: API '%s', CLI '%s'", body,
                      msg_api, ts_error());
        TS_TEST_CHECK(strncmp(msg_api, "field", strlen("field")) == 0 && strncmp(ts_error(), "--", 2) == 0,
                      "%s: the field is not named: API '%s', CLI '%s'", body, msg_api, ts_error());
    }
    if (rc_api == 0 && rc_cli == 0)
        TS_TEST_CHECK(api.crf == cli.crf && api.bitrate == cli.bitrate && strcmp(api.preset, cli.preset) == 0,
                      "%s: API crf %lld preset '%s', CLI crf %lld preset '%s'", body, api.crf, api.preset, cli.crf,
                      cli.preset);
    *accepted += rc_api == 0;
    json_decref(o);
    return failures;
}

int ts_request_test(bool verbose)
{
    int failures = 0, a = -1, b = -1;

    /* Output name patterns, Blender's '#' convention. */
    char name[160];
    ts_request_out_name("shot_####_v2", 7, "png", name, sizeof name);
    TS_TEST_CHECK(strcmp(name, "shot_0007_v2.png") == 0, "pattern with #: %s", name);
    ts_request_out_name("shot_", 12, "exr", name, sizeof name);
    TS_TEST_CHECK(strcmp(name, "shot_0012.exr") == 0, "pattern without #: %s", name);
    ts_request_out_name("f##", 123, "png", name, sizeof name);
    TS_TEST_CHECK(strcmp(name, "f123.png") == 0, "a number wider than its #: %s", name);
    static const char *const patterns_bad[] = {"", ".hidden", "a/b", "a\\b", "a#b#", "##########", "a\tb"};
    for (size_t i = 0; i < sizeof patterns_bad / sizeof patterns_bad[0]; i++)
        TS_TEST_CHECK(ts_request_out_pattern_check(patterns_bad[i]) < 0, "pattern '%s' refused", patterns_bad[i]);
    TS_TEST_CHECK(ts_request_out_pattern_check("sh010_comp_####") == 0, "a good pattern: %s", ts_error());

    /* Manifest names: relative paths of 1..255 bytes without '.', '..' or empty parts. */
    static const char *const names_ok[] = {"a.png", "textures/wood.png", "..a", "a..", ".hidden/x"};
    static const char *const names_bad[] = {"", "/etc/passwd", "a/../b", "..", "./a", "a//b", "a/", "tab\there",
                                            "back\\slash"};
    for (size_t i = 0; i < sizeof names_ok / sizeof names_ok[0]; i++)
        TS_TEST_CHECK(ts_request_input_name_check(names_ok[i]) == 0, "name '%s' refused: %s", names_ok[i], ts_error());
    for (size_t i = 0; i < sizeof names_bad / sizeof names_bad[0]; i++)
        TS_TEST_CHECK(ts_request_input_name_check(names_bad[i]) == -1, "name '%s' accepted", names_bad[i]);
    char longest[TS_REQUEST_INPUT_NAME_CAP + 1];
    memset(longest, 'n', sizeof longest);
    longest[TS_REQUEST_INPUT_NAME_CAP - 1] = '\0';
    TS_TEST_CHECK(ts_request_input_name_check(longest) == 0, "a 255-byte name refused");
    longest[TS_REQUEST_INPUT_NAME_CAP - 1] = 'n';
    longest[TS_REQUEST_INPUT_NAME_CAP] = '\0';
    TS_TEST_CHECK(ts_request_input_name_check(longest) == -1, "a 256-byte name accepted");

    /* Frames: 0..TS_REQUEST_FRAME_MAX, start <= end, digits only. */
    TS_TEST_CHECK(ts_request_frames_parse("0", &a, &b) == 0 && a == 0 && b == 0, "frames 0: %s", ts_error());
    TS_TEST_CHECK(ts_request_frames_parse("1048574", &a, &b) == 0 && a == TS_REQUEST_FRAME_MAX, "frames max: %s",
                  ts_error());
    TS_TEST_CHECK(ts_request_frames_parse("1048573-1048574", &a, &b) == 0 && b == TS_REQUEST_FRAME_MAX,
                  "frames below max: %s", ts_error());
    TS_TEST_CHECK(ts_request_frames_parse("1048575", &a, &b) == -1 && strstr(ts_error(), "0..1048574") &&
                      strstr(ts_error(), "'1048575'"),
                  "frames above max: %s", ts_error());
    TS_TEST_CHECK(ts_request_frames_parse("0-1048575", &a, &b) == -1, "frames end above max");
    TS_TEST_CHECK(ts_request_frames_parse("-1", &a, &b) == -1 && strstr(ts_error(), "expected A-B or N"),
                  "frames -1: %s", ts_error());
    TS_TEST_CHECK(ts_request_frames_parse("-2-3", &a, &b) == -1, "negative frames refused");
    TS_TEST_CHECK(ts_request_frames_parse("5-5", &a, &b) == 0 && a == 5 && b == 5, "frames 5-5");
    TS_TEST_CHECK(ts_request_frames_parse("4-5", &a, &b) == 0 && a == 4 && b == 5, "frames 4-5");
    TS_TEST_CHECK(ts_request_frames_parse("6-5", &a, &b) == -1 && strstr(ts_error(), "first frame 6 is after"),
                  "frames 6-5: %s", ts_error());
    TS_TEST_CHECK(ts_request_frames_parse("99999999999999999999999", &a, &b) == -1 && strstr(ts_error(), "0..1048574"),
                  "frames overflow: %s", ts_error());
    const char *const bad_frames[] = {"", "1-", "-", "a", "1-2x", " 1", "+1", "1-2-3", "1 - 2"};
    for (size_t i = 0; i < sizeof bad_frames / sizeof bad_frames[0]; i++)
        TS_TEST_CHECK(ts_request_frames_parse(bad_frames[i], &a, &b) == -1 && strstr(ts_error(), "expected A-B or N"),
                      "frames '%s': %s", bad_frames[i], ts_error());
    TS_TEST_CHECK(ts_request_frames_check(0, 0) == 0 && ts_request_frames_check(-1, 0) == -1 &&
                      ts_request_frames_check(0, TS_REQUEST_FRAME_MAX) == 0 &&
                      ts_request_frames_check(0, TS_REQUEST_FRAME_MAX + 1) == -1 &&
                      ts_request_frames_check(2, 1) == -1 && ts_request_frames_check(1, 1) == 0,
                  "frames_check bounds");

    /* Tile grid: CxR, lower-case x, 1..TS_TILEPLAN_MAX each. */
    static const struct {
        const char *text;
        bool ok;
    } grids[] = {{"1x1", true},   {"0x1", false},  {"1x0", false},   {"2x2", true},   {"63x64", true},
                 {"64x64", true}, {"65x1", false}, {"1x65", false},  {"3X2", false},  {"4", false},
                 {"x4", false},   {"4x", false},   {"-1x4", false},  {"4x4x4", false}, {" 4x4", false}};
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        int c = -1, r = -1;
        int rc = ts_request_grid_parse(grids[i].text, &c, &r);
        TS_TEST_CHECK((rc == 0) == grids[i].ok, "grid '%s': %d (%s)", grids[i].text, rc, ts_error());
        if (!grids[i].ok)
            TS_TEST_CHECK(strstr(ts_error(), grids[i].text) != NULL, "grid '%s': message '%s' does not quote it",
                          grids[i].text, ts_error());
    }

    /* Priority, choices. */
    TS_TEST_CHECK(ts_request_priority_check(TS_REQUEST_PRIORITY_MAX) == 0 &&
                      ts_request_priority_check(TS_REQUEST_PRIORITY_MAX + 1) == -1 &&
                      ts_request_priority_check(-TS_REQUEST_PRIORITY_MAX) == 0 &&
                      ts_request_priority_check(-TS_REQUEST_PRIORITY_MAX - 1) == -1 &&
                      ts_request_priority_check(LLONG_MIN) == -1,
                  "priority bounds");
    TS_TEST_CHECK(ts_request_format_check("png") == 0 && ts_request_format_check("gif") == -1 &&
                      strstr(ts_error(), "unknown format 'gif' (known: scene, exr, png)"),
                  "format: %s", ts_error());
    TS_TEST_CHECK(ts_request_device_check("gpu") == 0 && ts_request_device_check("tpu") == -1, "device");
    TS_TEST_CHECK(ts_request_container_check("mkv") == 0 && ts_request_container_check("avi") == -1 &&
                      ts_request_container_check(NULL) == -1,
                  "container");

    /* crf: every known encoder at, below and above both edges of its range; its default within it. */
    for (size_t i = 0; i < sizeof s_encoders / sizeof s_encoders[0]; i++) {
        const char *n = s_encoders[i].name;
        int lo = s_encoders[i].crf_min, hi = s_encoders[i].crf_max;
        if (!avcodec_find_encoder_by_name(n)) {
            fprintf(stderr, "ts_request: %s is not in this libavcodec; its crf range is not checked\n", n);
            continue;
        }
        char range[TEST_TEXT_MAX];
        snprintf(range, sizeof range, "%s's range %d..%d", n, lo, hi);
        TS_TEST_CHECK(ts_request_crf_check(n, lo) == 0 && ts_request_crf_check(n, lo + 1) == 0, "%s crf %d", n, lo);
        TS_TEST_CHECK(ts_request_crf_check(n, lo - 1) == -1 && strstr(ts_error(), range), "%s crf %d: %s", n, lo - 1,
                      ts_error());
        TS_TEST_CHECK(ts_request_crf_check(n, hi) == 0 && ts_request_crf_check(n, hi - 1) == 0, "%s crf %d", n, hi);
        TS_TEST_CHECK(ts_request_crf_check(n, hi + 1) == -1 && strstr(ts_error(), range), "%s crf %d: %s", n, hi + 1,
                      ts_error());
        TS_TEST_CHECK(ts_request_crf_clamp(n, hi + 1) == hi && ts_request_crf_clamp(n, lo - 1) == lo, "%s clamp", n);
        int d = ts_request_crf_default(n);
        TS_TEST_CHECK(d >= lo && d <= hi && ts_request_crf_check(n, d) == 0, "%s default crf %d", n, d);
        TS_TEST_CHECK(ts_request_rate_check(n, false, false) == 0, "%s: no default quality", n);
        TS_TEST_CHECK(ts_request_preset_check(n, ts_request_preset_default(n)) == 0, "%s default preset: %s", n,
                      ts_error());
    }
    TS_TEST_CHECK(ts_request_crf_default("libx264") == 23 && ts_request_crf_default("libx265") == 28 &&
                      ts_request_crf_default("libvpx-vp9") == 32 && ts_request_crf_default("mpeg4") == -1,
                  "default crfs");
    TS_TEST_CHECK(ts_request_crf_check("mpeg4", 20) == -1 && strstr(ts_error(), "has no crf"), "mpeg4 crf: %s",
                  ts_error());
    TS_TEST_CHECK(ts_request_rate_check("mpeg4", false, false) == -1 && strstr(ts_error(), "no default quality"),
                  "mpeg4 without a rate: %s", ts_error());
    TS_TEST_CHECK(ts_request_rate_check("libx264", true, true) == -1 && strstr(ts_error(), "exclude each other"),
                  "crf and bitrate: %s", ts_error());
    if (avcodec_find_encoder_by_name("libaom-av1")) { /* not in the table: its own AVOption, -1..63 */
        TS_TEST_CHECK(ts_request_crf_check("libaom-av1", 63) == 0 && ts_request_crf_check("libaom-av1", 64) == -1 &&
                          ts_request_crf_check("libaom-av1", -1) == -1,
                      "libaom-av1 crf from its AVOption");
    }
    TS_TEST_CHECK(ts_request_vcodec_check("libfoo") == -1 && strstr(ts_error(), "unknown video codec 'libfoo'"),
                  "vcodec libfoo: %s", ts_error());
    TS_TEST_CHECK(ts_request_vcodec_check("aac") == -1 && strstr(ts_error(), "not a video encoder"), "vcodec aac: %s",
                  ts_error());
    TS_TEST_CHECK(ts_request_vcodec_check("") == -1 && ts_request_vcodec_check(NULL) == -1, "no vcodec");

    /* Presets. */
    TS_TEST_CHECK(ts_request_preset_check("libx264", "placebo") == 0 && ts_request_preset_check("libx265", "ultrafast") == 0,
                  "x26x presets");
    TS_TEST_CHECK(ts_request_preset_check("libx264", "warp") == -1 && strstr(ts_error(), "unknown libx264 preset 'warp'"),
                  "x264 warp: %s", ts_error());
    TS_TEST_CHECK(ts_request_preset_check("libvpx-vp9", "fast") == 0 && ts_request_vp9_cpu_used("fast") == 3 &&
                      ts_request_preset_check("libvpx-vp9", "warp") == -1,
                  "vp9 presets");
    TS_TEST_CHECK(ts_request_preset_check("mpeg4", "medium") == -1 && strstr(ts_error(), "has no presets") &&
                      strcmp(ts_request_preset_default("mpeg4"), "") == 0,
                  "mpeg4 presets: %s", ts_error());
    TS_TEST_CHECK(ts_request_is_x26x("libx264rgb") && !ts_request_is_x26x("libvpx-vp9") && !ts_request_is_x26x(NULL),
                  "is_x26x");

    /* Bitrate, segment, threads: at, below and above each edge. */
    TS_TEST_CHECK(ts_request_bitrate_check(0) == -1 && ts_request_bitrate_check(1) == 0 &&
                      ts_request_bitrate_check(2) == 0 && ts_request_bitrate_check(TS_REQUEST_BITRATE_MAX - 1) == 0 &&
                      ts_request_bitrate_check(TS_REQUEST_BITRATE_MAX) == 0 &&
                      ts_request_bitrate_check(TS_REQUEST_BITRATE_MAX + 1) == -1,
                  "bitrate bounds");
    TS_TEST_CHECK(ts_request_segment_check(0) == -1 && ts_request_segment_check(nextafter(0, 1)) == 0 &&
                      ts_request_segment_check(-nextafter(0, 1)) == -1 &&
                      ts_request_segment_check(TS_REQUEST_SEGMENT_MAX) == 0 &&
                      ts_request_segment_check(nextafter(TS_REQUEST_SEGMENT_MAX, 0)) == 0 &&
                      ts_request_segment_check(nextafter(TS_REQUEST_SEGMENT_MAX, INFINITY)) == -1 &&
                      ts_request_segment_check(NAN) == -1 && ts_request_segment_check(INFINITY) == -1,
                  "segment bounds");
    TS_TEST_CHECK(ts_request_threads_check(TS_REQUEST_THREADS_MIN - 1) == -1 &&
                      ts_request_threads_check(TS_REQUEST_THREADS_MIN) == 0 &&
                      ts_request_threads_check(TS_REQUEST_THREADS_MIN + 1) == 0 &&
                      ts_request_threads_check(TS_REQUEST_THREADS_MAX - 1) == 0 &&
                      ts_request_threads_check(TS_REQUEST_THREADS_MAX) == 0 &&
                      ts_request_threads_check(TS_REQUEST_THREADS_MAX + 1) == -1,
                  "threads bounds");

    /* Size: even, 2..16384 each, both or neither, within libavutil's picture limit. */
    TS_TEST_CHECK(ts_request_size_check(0, 0) == 0 && ts_request_size_check(2, 2) == 0 &&
                      ts_request_size_check(1, 2) == -1 && ts_request_size_check(2, 0) == -1 &&
                      ts_request_size_check(TS_REQUEST_SIZE_MAX, 2) == 0 &&
                      ts_request_size_check(TS_REQUEST_SIZE_MAX + 2, 2) == -1 &&
                      ts_request_size_check(2, TS_REQUEST_SIZE_MAX + 2) == -1,
                  "size bounds");
    TS_TEST_CHECK(ts_request_size_check(17, 16) == -1 && strstr(ts_error(), "width 17 is odd"), "size 17x16: %s",
                  ts_error());
    TS_TEST_CHECK(ts_request_size_check(TS_REQUEST_SIZE_MAX, TS_REQUEST_SIZE_MAX) == -1 && strstr(ts_error(), "too large"),
                  "size max x max: %s", ts_error());
    long long w = -1, h = -1;
    TS_TEST_CHECK(ts_request_size_parse("1280x720", &w, &h) == 0 && w == 1280 && h == 720, "size 1280x720");
    TS_TEST_CHECK(ts_request_size_parse("", &w, &h) == 0 && w == 0 && h == 0, "size ''");
    TS_TEST_CHECK(ts_request_size_parse("99999999999999999999x2", &w, &h) == 0 && w == LLONG_MAX &&
                      ts_request_size_check(w, h) == -1,
                  "size overflow");
    const char *const bad_sizes[] = {"1280X720", "-2x2", "2x2 ", "x2", "2x", "2", "+2x2"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++)
        TS_TEST_CHECK(ts_request_size_parse(bad_sizes[i], &w, &h) == -1 && strstr(ts_error(), bad_sizes[i]),
                      "size '%s': %s", bad_sizes[i], ts_error());

    /* The brief's example, word for word, and the API and the CLI give the same answer for the same values. */
    json_t *o = json_pack("{s:s, s:i}", "vcodec", "libx264", "crf", 55);
    ts_request_encode_t e;
    TS_TEST_CHECK(ts_request_encode_from_json(o, &e) == -1 &&
                      strcmp(ts_error(), "field 'crf': 55 is out of libx264's range 0..51") == 0,
                  "crf 55: %s", ts_error());
    json_decref(o);
    static const char *const vcodecs[] = {"libx264", "libx265", "libvpx-vp9", "mpeg4", "libfoo"};
    static const long long crfs[] = {TS_REQUEST_UNSET, -1, 0, 51, 52, 63, 64};
    static const long long bitrates[] = {TS_REQUEST_UNSET, 0, 1, TS_REQUEST_BITRATE_MAX + 1};
    int accepted = 0, combinations = 0;
    for (size_t v = 0; v < sizeof vcodecs / sizeof vcodecs[0]; v++)
        for (size_t c = 0; c < sizeof crfs / sizeof crfs[0]; c++)
            for (size_t r = 0; r < sizeof bitrates / sizeof bitrates[0]; r++) {
                char body[TEST_BODY_MAX];
                int n = snprintf(body, sizeof body, "{\"vcodec\":\"%s\"", vcodecs[v]);
                if (crfs[c] != TS_REQUEST_UNSET)
                    n += snprintf(body + n, sizeof body - n, ",\"crf\":%lld", crfs[c]);
                if (bitrates[r] != TS_REQUEST_UNSET)
                    n += snprintf(body + n, sizeof body - n, ",\"bitrate\":%lld", bitrates[r]);
                snprintf(body + n, sizeof body - n, "}");
                ts_request_encode_t cli;
                ts_request_encode_init(&cli);
                snprintf(cli.vcodec, sizeof cli.vcodec, "%s", vcodecs[v]);
                cli.crf = crfs[c];
                cli.bitrate = bitrates[r];
                failures += same_answer(body, cli, &accepted);
                combinations++;
            }
    static const struct {
        const char *body;
        long long threads, width, height;
        double segment;
        const char *preset, *container;
    } others[] = {
        {"{\"threads\":0}", 0, 0, 0, TS_REQUEST_SEGMENT_DEFAULT, "", "mp4"},
        {"{\"threads\":64}", 64, 0, 0, TS_REQUEST_SEGMENT_DEFAULT, "", "mp4"},
        {"{\"threads\":65}", 65, 0, 0, TS_REQUEST_SEGMENT_DEFAULT, "", "mp4"},
        {"{\"segment\":0}", 1, 0, 0, 0, "", "mp4"},
        {"{\"segment\":3600}", 1, 0, 0, TS_REQUEST_SEGMENT_MAX, "", "mp4"},
        {"{\"segment\":3600.5}", 1, 0, 0, TS_REQUEST_SEGMENT_MAX + 0.5, "", "mp4"},
        {"{\"size\":\"16x18\"}", 1, 16, 18, TS_REQUEST_SEGMENT_DEFAULT, "", "mp4"},
        {"{\"size\":\"16x0\"}", 1, 16, 0, TS_REQUEST_SEGMENT_DEFAULT, "", "mp4"},
        {"{\"size\":\"17x18\"}", 1, 17, 18, TS_REQUEST_SEGMENT_DEFAULT, "", "mp4"},
        {"{\"preset\":\"warp\"}", 1, 0, 0, TS_REQUEST_SEGMENT_DEFAULT, "warp", "mp4"},
        {"{\"preset\":\"slow\"}", 1, 0, 0, TS_REQUEST_SEGMENT_DEFAULT, "slow", "mp4"},
        {"{\"container\":\"avi\"}", 1, 0, 0, TS_REQUEST_SEGMENT_DEFAULT, "", "avi"},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        ts_request_encode_t cli;
        ts_request_encode_init(&cli);
        cli.threads = others[i].threads;
        cli.width = others[i].width;
        cli.height = others[i].height;
        cli.segment_seconds = others[i].segment;
        snprintf(cli.preset, sizeof cli.preset, "%s", others[i].preset);
        snprintf(cli.container, sizeof cli.container, "%s", others[i].container);
        failures += same_answer(others[i].body, cli, &accepted);
        combinations++;
    }
    TS_TEST_CHECK(accepted > 0 && accepted < combinations, "%d of %d combinations accepted", accepted, combinations);

    /* Defaults filled by the check. */
    o = json_pack("{s:s}", "vcodec", "libvpx-vp9");
    TS_TEST_CHECK(ts_request_encode_from_json(o, &e) == 0 && e.crf == 32 && strcmp(e.preset, "medium") == 0 &&
                      e.threads == 1 && e.segment_seconds == TS_REQUEST_SEGMENT_DEFAULT && strcmp(e.container, "mp4") == 0,
                  "vp9 defaults: %s", ts_error());
    json_decref(o);
    o = json_pack("{s:s, s:i}", "vcodec", "mpeg4", "bitrate", 500000);
    TS_TEST_CHECK(ts_request_encode_from_json(o, &e) == 0 && e.crf == TS_REQUEST_UNSET && e.preset[0] == '\0',
                  "mpeg4 with a bitrate: %s", ts_error());
    json_decref(o);
    o = json_pack("{s:I}", "crf", (json_int_t)TS_REQUEST_UNSET);
    TS_TEST_CHECK(ts_request_encode_from_json(o, &e) == -1 && strstr(ts_error(), "field 'crf'"), "crf LLONG_MIN: %s",
                  ts_error());
    json_decref(o);
    o = json_pack("{s:s}", "crf", "20");
    TS_TEST_CHECK(ts_request_encode_from_json(o, &e) == -1 && strstr(ts_error(), "field 'crf' must be a whole number"),
                  "crf as a string: %s", ts_error());
    json_decref(o);

    if (verbose || failures)
        fprintf(failures ? stderr : stdout, "ts_request: %s (%d combinations, %d accepted)\n",
                failures ? "FAILED" : "ok", combinations, accepted);
    return failures ? -1 : 0;
}

int ts_request_out_pattern_check(const char *pattern)
{
    size_t n = strlen(pattern);
    if (n == 0 || n >= TS_REQUEST_OUT_PATTERN_CAP)
        return ts_error_set("pattern '%.40s': 1 to %d characters", pattern, TS_REQUEST_OUT_PATTERN_CAP - 1);
    if (pattern[0] == '.')
        return ts_error_set("pattern '%s': must not start with '.'", pattern);
    for (const char *c = pattern; *c; c++)
        if (*c == '/' || *c == '\\' || (unsigned char)*c < ' ' || *c == 0x7f)
            return ts_error_set("pattern '%s': a file name, without '/', '\\' or control characters", pattern);
    const char *run = strchr(pattern, '#');
    size_t len = run ? strspn(run, "#") : 0;
    if (run && strchr(run + len, '#'))
        return ts_error_set("pattern '%s': one run of '#' (the frame number), not several", pattern);
    if (len > 9)
        return ts_error_set("pattern '%s': at most 9 '#'", pattern);
    return 0;
}

void ts_request_out_name(const char *pattern, int frame, const char *ext, char *out, size_t cap)
{
    const char *run = strchr(pattern, '#');
    if (!run) {
        snprintf(out, cap, "%s%04d.%s", pattern, frame, ext);
        return;
    }
    int len = (int)strspn(run, "#");
    snprintf(out, cap, "%.*s%0*d%s.%s", (int)(run - pattern), pattern, len, frame, run + len, ext);
}

int ts_request_tag_check(const char *tag)
{
    size_t n = strlen(tag);
    if (n == 0 || n >= TS_REQUEST_TAG_CAP || strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != n)
        return ts_error_set("tag '%.40s': 1 to %d of a-z, 0-9, - _ .", tag, TS_REQUEST_TAG_CAP - 1);
    return 0;
}
