/* ts_jobreq: the job submission body (JSON) to a checked ts_job_request_t; every error names its field. */
#include "master/ts_jobreq.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "lib/ts_request.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define BLEND_MAGIC "BLENDER"

/* The request's text fields hold what ts_request lets through. */
_Static_assert(sizeof ((ts_job_request_t *)0)->vcodec == TS_REQUEST_VCODEC_CAP, "vcodec size");
_Static_assert(sizeof ((ts_job_request_t *)0)->preset == TS_REQUEST_PRESET_CAP, "preset size");
_Static_assert(sizeof ((ts_job_request_t *)0)->container == TS_REQUEST_CONTAINER_CAP, "container size");

bool ts_jobreq_looks_like_blend(const unsigned char *head, size_t len)
{
    static const unsigned char gzip[] = {0x1f, 0x8b}, zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
    return (len >= strlen(BLEND_MAGIC) && memcmp(head, BLEND_MAGIC, strlen(BLEND_MAGIC)) == 0) ||
           (len >= sizeof gzip && memcmp(head, gzip, sizeof gzip) == 0) ||
           (len >= sizeof zstd && memcmp(head, zstd, sizeof zstd) == 0);
}

/* Who pays and how much: "requester" (an account name) and "budget" (tokens, as "12.5" or a whole number). */
static int parse_payment(json_t *o, ts_job_request_t *req)
{
    if (ts_request_json_string(o, "requester", TS_JOBREQ_DEFAULT_REQUESTER, req->requester, sizeof req->requester) < 0)
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

/* The transcode fields: encoder settings that every segment will be encoded with (ts_request's rules). */
static int parse_transcode(json_t *o, ts_job_request_t *req)
{
    ts_request_encode_t e;
    if (ts_request_encode_from_json(o, &e) < 0)
        return -1;
    snprintf(req->vcodec, sizeof req->vcodec, "%s", e.vcodec);
    snprintf(req->preset, sizeof req->preset, "%s", e.preset);
    snprintf(req->container, sizeof req->container, "%s", e.container);
    req->crf = e.crf == TS_REQUEST_UNSET ? -1 : (int)e.crf;
    req->bitrate = e.bitrate == TS_REQUEST_UNSET ? 0 : e.bitrate;
    req->out_width = (int)e.width;
    req->out_height = (int)e.height;
    req->segment_seconds = e.segment_seconds;
    req->threads = (int)e.threads;
    return 0;
}

/* "priority", when given: a whole number within +-TS_REQUEST_PRIORITY_MAX. */
static int parse_priority(json_t *o, ts_job_request_t *req)
{
    json_t *prio = json_object_get(o, "priority");
    if (!prio || json_is_null(prio))
        return 0;
    if (!json_is_integer(prio))
        return ts_error_set("field 'priority' must be a whole number");
    if (ts_request_priority_check(json_integer_value(prio)) < 0)
        return ts_error_prefix("field 'priority'");
    req->priority = (int)json_integer_value(prio);
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
    if (!json_is_object(o)) {
        ts_error_set("request body must be a JSON object");
        goto out;
    }
    if (ts_request_json_string(o, "type", NULL, type, sizeof type) < 0)
        goto out;
    snprintf(req->type, sizeof req->type, "%s", type);
    if (strcmp(type, "transcode") == 0) {
        if (ts_request_json_string(o, "input", NULL, req->scene, sizeof req->scene) < 0 ||
            ts_request_json_string(o, "input_name", "input", req->scene_name, sizeof req->scene_name) < 0)
            goto out;
        if (!ts_hash_valid(req->scene)) {
            ts_error_set("field 'input': '%s' is not a content hash (64 lower-case hex digits)", req->scene);
            goto out;
        }
        rc = parse_priority(o, req) < 0 || parse_payment(o, req) < 0 ? -1 : parse_transcode(o, req);
        goto out;
    }
    if (strcmp(type, "render") != 0) {
        ts_error_set("field 'type': unknown job type '%s' (known: render, transcode)", type);
        goto out;
    }
    if (ts_request_json_string(o, "scene", NULL, req->scene, sizeof req->scene) < 0)
        goto out;
    if (!ts_hash_valid(req->scene)) {
        ts_error_set("field 'scene': '%s' is not a content hash (64 lower-case hex digits)", req->scene);
        goto out;
    }
    if (ts_request_json_string(o, "scene_name", "scene.blend", req->scene_name, sizeof req->scene_name) < 0 ||
        ts_request_json_string(o, "frames", NULL, frames, sizeof frames) < 0 ||
        ts_request_json_string(o, "tiles", "1x1", tiles, sizeof tiles) < 0 ||
        ts_request_json_string(o, "format", "scene", req->format, sizeof req->format) < 0 ||
        ts_request_json_string(o, "device", "cpu", req->device, sizeof req->device) < 0 ||
        ts_request_json_string(o, "blender", "", req->blender, sizeof req->blender) < 0)
        goto out;
    if (ts_request_frames_parse(frames, &req->frame_start, &req->frame_end) < 0) {
        ts_error_prefix("field 'frames'");
        goto out;
    }
    if (ts_request_grid_parse(tiles, &req->tiles_x, &req->tiles_y) < 0) {
        ts_error_prefix("field 'tiles'");
        goto out;
    }
    if (ts_request_format_check(req->format) < 0) {
        ts_error_prefix("field 'format'");
        goto out;
    }
    if (ts_request_device_check(req->device) < 0) {
        ts_error_prefix("field 'device'");
        goto out;
    }
    if (parse_priority(o, req) < 0)
        goto out;
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
        /* Accepted before lib/ts_request, then refused by every slave (or never renderable). */
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"crf\":55}", "field 'crf': 55 is out of libx264's range 0..51"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"vcodec\":\"mpeg4\"}", "no default quality"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"bitrate\":4000000001}", "field 'bitrate'"},
        {"{\"type\":\"render\",\"scene\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"frames\":\"-2-3\"}", "field 'frames'"},
        {"{\"type\":\"render\",\"scene\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"frames\":\"1\",\"encode\":{\"vcodec\":\"libx265\",\"crf\":52}}", "field 'encode': field 'crf'"},
        {"{\"type\":\"transcode\",\"input\":\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
         "\"priority\":-9223372036854775808}", "field 'priority'"},
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
    /* The defaults are ts_request's: libvpx-vp9's own crf 32 (31 before), no preset for an encoder without presets. */
    static const char *const vp9 = "{\"type\":\"transcode\",\"input\":"
                                   "\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
                                   "\"vcodec\":\"libvpx-vp9\"}";
    if (ts_jobreq_parse(vp9, strlen(vp9), &r) != 0 || r.crf != ts_request_crf_default("libvpx-vp9") ||
        strcmp(r.preset, TS_REQUEST_PRESET_DEFAULT) || r.bitrate != 0) {
        fprintf(stderr, "ts_jobreq: vp9 body: crf %d preset '%s' (%s)\n", r.crf, r.preset, ts_error());
        failures++;
    }
    static const char *const m4 = "{\"type\":\"transcode\",\"input\":"
                                  "\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
                                  "\"vcodec\":\"mpeg4\",\"bitrate\":500000,\"size\":\"640x360\"}";
    if (ts_jobreq_parse(m4, strlen(m4), &r) != 0 || r.crf != -1 || r.bitrate != 500000 || r.preset[0] ||
        r.out_width != 640 || r.out_height != 360) {
        fprintf(stderr, "ts_jobreq: mpeg4 body: crf %d preset '%s' (%s)\n", r.crf, r.preset, ts_error());
        failures++;
    }
    if (!ts_jobreq_looks_like_blend((const unsigned char *)"BLENDER-v304", 12) ||
        ts_jobreq_looks_like_blend((const unsigned char *)"PK\x03\x04", 4) || ts_jobreq_looks_like_blend(NULL, 0))
        failures++;
    if (verbose || failures)
        fprintf(failures ? stderr : stdout, "ts_jobreq: %s\n", failures ? "FAILED" : "ok");
    return failures ? -1 : 0;
}
