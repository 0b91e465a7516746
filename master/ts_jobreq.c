/* ts_jobreq: the job submission body (JSON) to a checked ts_job_request_t; every error names its field. */
#include "master/ts_jobreq.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "splitter/ts_tileplan.h"
#include <errno.h>
#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLEND_MAGIC "BLENDER"
#define MAX_PRIORITY 1000
#define MAX_CRF 63
#define MAX_SEGMENT_SECONDS 3600.0
#define DEFAULT_SEGMENT_SECONDS 10.0
#define MAX_THREADS 64
#define MAX_DIMENSION 16384

static int parse_int(const char *s, const char **end, long *out)
{
    char *e;
    errno = 0;
    if (!(*s == '-' || (*s >= '0' && *s <= '9')))
        return -1;
    long v = strtol(s, &e, 10);
    if (errno || e == s)
        return -1;
    *out = v;
    *end = e;
    return 0;
}

int ts_jobreq_parse_frames(const char *text, int *start, int *end)
{
    long a, b;
    const char *p;
    if (!text || parse_int(text, &p, &a) < 0)
        return ts_error_set("frames '%s': expected N or A-B", text ? text : "");
    b = a;
    if (*p == '-' && parse_int(p + 1, &p, &b) < 0)
        return ts_error_set("frames '%s': expected N or A-B", text);
    if (*p)
        return ts_error_set("frames '%s': expected N or A-B", text);
    if (a < -TS_JOBREQ_MAX_FRAME || b > TS_JOBREQ_MAX_FRAME)
        return ts_error_set("frames '%s': frame numbers must be within +-%d", text, TS_JOBREQ_MAX_FRAME);
    if (a > b)
        return ts_error_set("frames '%s': the first frame is after the last", text);
    *start = (int)a;
    *end = (int)b;
    return 0;
}

bool ts_jobreq_looks_like_blend(const unsigned char *head, size_t len)
{
    static const unsigned char gzip[] = {0x1f, 0x8b}, zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
    return (len >= strlen(BLEND_MAGIC) && memcmp(head, BLEND_MAGIC, strlen(BLEND_MAGIC)) == 0) ||
           (len >= sizeof gzip && memcmp(head, gzip, sizeof gzip) == 0) ||
           (len >= sizeof zstd && memcmp(head, zstd, sizeof zstd) == 0);
}

static int get_string(json_t *o, const char *key, const char *def, char *dst, size_t cap)
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

static bool one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return true;
    return false;
}

static const char *const X26X_PRESETS[] = {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                                            "slow", "slower", "veryslow", "placebo", NULL};

/* The transcode fields: encoder settings that every segment will be encoded with. */
/* Who pays and how much: "requester" (an account name) and "budget" (tokens, as "12.5" or a whole number). */
static int parse_payment(json_t *o, ts_job_request_t *req)
{
    if (get_string(o, "requester", TS_JOBREQ_DEFAULT_REQUESTER, req->requester, sizeof req->requester) < 0)
        return -1;
    json_t *b = json_object_get(o, "budget");
    char text[32];
    if (!b || json_is_null(b))
        snprintf(text, sizeof text, "%s", TS_JOBREQ_DEFAULT_BUDGET);
    else if (json_is_integer(b))
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(b));
    else if (json_is_string(b))
        snprintf(text, sizeof text, "%s", json_string_value(b));
    else
        return ts_error_set("field 'budget' must be a token amount such as \"12.5\"");
    if (ts_amount_parse(text, &req->budget) < 0)
        return ts_error_prefix("field 'budget'");
    if (req->budget <= 0)
        return ts_error_set("field 'budget': a job's budget must be above 0");
    return 0;
}

static int parse_transcode(json_t *o, ts_job_request_t *req)
{
    char size[32];
    if (get_string(o, "vcodec", "libx264", req->vcodec, sizeof req->vcodec) < 0 ||
        get_string(o, "preset", "medium", req->preset, sizeof req->preset) < 0 ||
        get_string(o, "container", "mp4", req->container, sizeof req->container) < 0 ||
        get_string(o, "size", "", size, sizeof size) < 0)
        return -1;
    const AVCodec *enc = avcodec_find_encoder_by_name(req->vcodec);
    if (!enc || enc->type != AVMEDIA_TYPE_VIDEO)
        return ts_error_set("field 'vcodec': unknown video codec '%s'", req->vcodec);
    bool x26x = strcmp(req->vcodec, "libx264") == 0 || strcmp(req->vcodec, "libx265") == 0;
    if (x26x && !one_of(req->preset, X26X_PRESETS))
        return ts_error_set("field 'preset': unknown %s preset '%s' (ultrafast ... placebo)", req->vcodec, req->preset);
    static const char *const containers[] = {"mp4", "mkv", NULL};
    if (!one_of(req->container, containers))
        return ts_error_set("field 'container': unknown container '%s' (known: mp4, mkv)", req->container);
    req->crf = -1;
    json_t *crf = json_object_get(o, "crf"), *br = json_object_get(o, "bitrate"), *seg = json_object_get(o, "segment"),
           *thr = json_object_get(o, "threads");
    if (crf && !json_is_null(crf)) {
        if (!json_is_integer(crf) || json_integer_value(crf) < 0 || json_integer_value(crf) > MAX_CRF)
            return ts_error_set("field 'crf' must be a whole number 0..%d", MAX_CRF);
        req->crf = (int)json_integer_value(crf);
    }
    if (br && !json_is_null(br)) {
        if (!json_is_integer(br) || json_integer_value(br) <= 0)
            return ts_error_set("field 'bitrate' must be a positive number of bits per second");
        req->bitrate = json_integer_value(br);
    }
    if (req->crf >= 0 && req->bitrate > 0)
        return ts_error_set("fields 'crf' and 'bitrate' exclude each other");
    if (req->crf < 0 && req->bitrate == 0)
        req->crf = x26x ? (strcmp(req->vcodec, "libx265") == 0 ? 28 : 23) : 31;
    req->segment_seconds = DEFAULT_SEGMENT_SECONDS;
    if (seg && !json_is_null(seg)) {
        if (!json_is_number(seg) || !isfinite(json_number_value(seg)) || json_number_value(seg) <= 0 ||
            json_number_value(seg) > MAX_SEGMENT_SECONDS)
            return ts_error_set("field 'segment' must be a number of seconds above 0 and at most %.0f",
                                MAX_SEGMENT_SECONDS);
        req->segment_seconds = json_number_value(seg);
    }
    req->threads = 1;
    if (thr && !json_is_null(thr)) {
        if (!json_is_integer(thr) || json_integer_value(thr) < 1 || json_integer_value(thr) > MAX_THREADS)
            return ts_error_set("field 'threads' must be 1..%d", MAX_THREADS);
        req->threads = (int)json_integer_value(thr);
    }
    if (size[0]) {
        char tail;
        if (sscanf(size, "%dx%d%c", &req->out_width, &req->out_height, &tail) != 2 || req->out_width < 2 ||
            req->out_height < 2 || req->out_width > MAX_DIMENSION || req->out_height > MAX_DIMENSION ||
            req->out_width % 2 || req->out_height % 2)
            return ts_error_set("field 'size': '%s' is not WxH with even sizes 2..%d", size, MAX_DIMENSION);
    }
    return 0;
}

int ts_jobreq_parse(const char *body, size_t len, ts_job_request_t *req)
{
    memset(req, 0, sizeof *req);
    json_error_t jerr;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return ts_error_set("request body is not valid JSON (line %d, column %d: %s)", jerr.line, jerr.column,
                            jerr.text);
    int rc = -1;
    char type[16], frames[64], tiles[32];
    static const char *const formats[] = {"scene", "exr", "png", NULL};
    static const char *const devices[] = {"cpu", "gpu", NULL};
    if (!json_is_object(o)) {
        ts_error_set("request body must be a JSON object");
        goto out;
    }
    if (get_string(o, "type", NULL, type, sizeof type) < 0)
        goto out;
    snprintf(req->type, sizeof req->type, "%s", type);
    if (strcmp(type, "transcode") == 0) {
        if (get_string(o, "input", NULL, req->scene, sizeof req->scene) < 0 ||
            get_string(o, "input_name", "input", req->scene_name, sizeof req->scene_name) < 0)
            goto out;
        if (!ts_hash_valid(req->scene)) {
            ts_error_set("field 'input': '%s' is not a content hash (64 lower-case hex digits)", req->scene);
            goto out;
        }
        json_t *prio = json_object_get(o, "priority");
        if (prio && !json_is_null(prio)) {
            if (!json_is_integer(prio) || llabs(json_integer_value(prio)) > MAX_PRIORITY) {
                ts_error_set("field 'priority' must be a whole number within +-%d", MAX_PRIORITY);
                goto out;
            }
            req->priority = (int)json_integer_value(prio);
        }
        rc = parse_payment(o, req) < 0 ? -1 : parse_transcode(o, req);
        goto out;
    }
    if (strcmp(type, "render") != 0) {
        ts_error_set("field 'type': unknown job type '%s' (known: render, transcode)", type);
        goto out;
    }
    if (get_string(o, "scene", NULL, req->scene, sizeof req->scene) < 0)
        goto out;
    if (!ts_hash_valid(req->scene)) {
        ts_error_set("field 'scene': '%s' is not a content hash (64 lower-case hex digits)", req->scene);
        goto out;
    }
    if (get_string(o, "scene_name", "scene.blend", req->scene_name, sizeof req->scene_name) < 0 ||
        get_string(o, "frames", NULL, frames, sizeof frames) < 0 ||
        get_string(o, "tiles", "1x1", tiles, sizeof tiles) < 0 ||
        get_string(o, "format", "scene", req->format, sizeof req->format) < 0 ||
        get_string(o, "device", "cpu", req->device, sizeof req->device) < 0 ||
        get_string(o, "blender", "", req->blender, sizeof req->blender) < 0)
        goto out;
    if (ts_jobreq_parse_frames(frames, &req->frame_start, &req->frame_end) < 0) {
        ts_error_prefix("field 'frames'");
        goto out;
    }
    if (ts_tileplan_parse_grid(tiles, &req->tiles_x, &req->tiles_y) < 0) {
        ts_error_prefix("field 'tiles'");
        goto out;
    }
    if (!one_of(req->format, formats)) {
        ts_error_set("field 'format': unknown format '%s' (known: scene, exr, png)", req->format);
        goto out;
    }
    if (!one_of(req->device, devices)) {
        ts_error_set("field 'device': unknown device class '%s' (known: cpu, gpu)", req->device);
        goto out;
    }
    json_t *prio = json_object_get(o, "priority");
    if (prio && !json_is_null(prio)) {
        if (!json_is_integer(prio) || json_integer_value(prio) < -MAX_PRIORITY ||
            json_integer_value(prio) > MAX_PRIORITY) {
            ts_error_set("field 'priority' must be a whole number within +-%d", MAX_PRIORITY);
            goto out;
        }
        req->priority = (int)json_integer_value(prio);
    }
    json_t *enc = json_object_get(o, "encode");
    if (enc && !json_is_null(enc)) {
        if (!json_is_object(enc)) {
            ts_error_set("field 'encode' must be an object of encoder settings");
            goto out;
        }
        if (parse_transcode(enc, req) < 0) {
            ts_error_prefix("field 'encode'");
            goto out;
        }
        req->encode = true;
    }
    if (parse_payment(o, req) < 0)
        goto out;
    json_t *nd = json_object_get(o, "no_denoise");
    if (nd && !json_is_null(nd)) {
        if (!json_is_boolean(nd)) {
            ts_error_set("field 'no_denoise' must be true or false");
            goto out;
        }
        req->no_denoise = json_is_true(nd);
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}

int ts_jobreq_test(bool verbose)
{
    static const char *const good =
        "{\"type\":\"render\",\"scene\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
        "\"frames\":\"3-5\",\"tiles\":\"4x2\",\"format\":\"png\",\"priority\":7,\"no_denoise\":true}";
    struct {
        const char *body, *needle;
    } bad[] = {
        {"{", "not valid JSON"},
        {"[]", "JSON object"},
        {"{\"type\":\"render\"}", "'scene' is required"},
        {"{\"type\":\"video\"}", "unknown job type"},
        {"{\"type\":\"render\",\"scene\":\"zz\",\"frames\":\"1\"}", "not a content hash"},
        {"{\"type\":\"render\",\"scene\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"frames\":\"5-3\"}", "after the last"},
        {"{\"type\":\"render\",\"scene\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"frames\":\"1\",\"tiles\":\"0x0\"}", "field 'tiles'"},
        {"{\"type\":\"render\",\"scene\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"frames\":\"1\",\"tiles\":\"1000x1000\"}", "field 'tiles'"},
        {"{\"type\":\"render\",\"scene\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"frames\":\"1\",\"format\":\"gif\"}", "unknown format"},
        {"{\"type\":\"render\",\"scene\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"frames\":1}", "'frames' must be a string"},
        {"{\"type\":\"render\",\"type\":\"render\"}", "not valid JSON"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"vcodec\":\"libx999\"}", "unknown video codec 'libx999'"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"vcodec\":\"aac\"}", "unknown video codec"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"segment\":0}", "field 'segment'"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"crf\":99}", "field 'crf'"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"preset\":\"warp\"}", "unknown libx264 preset"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"size\":\"17x9\"}", "field 'size'"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"crf\":20,\"bitrate\":1000}", "exclude each other"},
    };
    ts_job_request_t r;
    int failures = 0;
    if (ts_jobreq_parse(good, strlen(good), &r) != 0 || r.frame_start != 3 || r.frame_end != 5 || r.tiles_x != 4 ||
        r.tiles_y != 2 || strcmp(r.format, "png") || r.priority != 7 || !r.no_denoise || strcmp(r.device, "cpu")) {
        fprintf(stderr, "ts_jobreq: good body refused: %s\n", ts_error());
        failures++;
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ts_jobreq_parse(bad[i].body, strlen(bad[i].body), &r) != -1 || !strstr(ts_error(), bad[i].needle)) {
            fprintf(stderr, "ts_jobreq: body %s: got '%s', wanted '%s'\n", bad[i].body, ts_error(), bad[i].needle);
            failures++;
        }
    static const char *const tc = "{\"type\":\"transcode\",\"input\":"
                                  "\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
                                  "\"crf\":20,\"preset\":\"fast\",\"segment\":2.5,\"container\":\"mkv\"}";
    if (ts_jobreq_parse(tc, strlen(tc), &r) != 0 || strcmp(r.type, "transcode") || r.crf != 20 ||
        r.segment_seconds != 2.5 || strcmp(r.container, "mkv") || strcmp(r.vcodec, "libx264") || r.threads != 1) {
        fprintf(stderr, "ts_jobreq: transcode body refused: %s\n", ts_error());
        failures++;
    }
    int a, b;
    if (ts_jobreq_parse_frames("7", &a, &b) || a != 7 || b != 7 || ts_jobreq_parse_frames("-2-3", &a, &b) ||
        a != -2 || b != 3 || ts_jobreq_parse_frames("1-", &a, &b) != -1 || ts_jobreq_parse_frames("a", &a, &b) != -1 ||
        ts_jobreq_parse_frames("1-2x", &a, &b) != -1 || ts_jobreq_parse_frames("", &a, &b) != -1)
        failures++;
    if (!ts_jobreq_looks_like_blend((const unsigned char *)"BLENDER-v304", 12) ||
        ts_jobreq_looks_like_blend((const unsigned char *)"PK\x03\x04", 4) || ts_jobreq_looks_like_blend(NULL, 0))
        failures++;
    if (verbose || failures)
        fprintf(failures ? stderr : stdout, "ts_jobreq: %s\n", failures ? "FAILED" : "ok");
    return failures ? -1 : 0;
}
