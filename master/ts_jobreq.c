/* ts_jobreq: the job submission body (JSON) to a checked ts_job_request_t; every error names its field. */
#include "master/ts_jobreq.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "lib/ts_request.h"
#include "master/ts_jobtype.h"
#include <stdlib.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The request's text fields hold what ts_request lets through. */
_Static_assert(sizeof ((ts_job_request_t *)0)->vcodec == TS_REQUEST_VCODEC_CAP, "vcodec size");
_Static_assert(sizeof ((ts_job_request_t *)0)->preset == TS_REQUEST_PRESET_CAP, "preset size");
_Static_assert(sizeof ((ts_job_request_t *)0)->container == TS_REQUEST_CONTAINER_CAP, "container size");

/* Who pays and how much: "requester" (an account name) and "budget" (tokens, as "12.5" or a whole number). */
static int parse_payment(json_t *o, ts_job_request_t *req)
{
    if (ts_request_json_string(o, "requester", TS_JOBREQ_DEFAULT_REQUESTER, req->requester, sizeof req->requester) < 0)
        return -1;
    json_t *given = json_object_get(o, "requester");
    req->requester_given = given && !json_is_null(given);
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

int ts_jobreq_encode(json_t *o, ts_job_request_t *req)
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

int ts_jobreq_encode_settings(const ts_job_request_t *r, char *out, size_t cap)
{
    json_t *p = json_pack("{s:s,s:I,s:s,s:i,s:i,s:s,s:f,s:i}", "vcodec", r->vcodec, "bitrate", (json_int_t)r->bitrate,
                          "preset", r->preset, "width", r->out_width, "height", r->out_height, "container",
                          r->container, "segment_seconds", r->segment_seconds, "threads", r->threads);
    if (!p)
        return ts_error_set("out of memory");
    json_object_set_new(p, "crf", r->crf >= 0 ? json_integer(r->crf) : json_null());
    json_object_set_new(p, "fps_num", json_integer(r->fps_num));
    json_object_set_new(p, "fps_den", json_integer(r->fps_den));
    json_object_set_new(p, "tb_num", json_integer(r->tb_num));
    json_object_set_new(p, "tb_den", json_integer(r->tb_den));
    char *text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(p);
    int rc = text && strlen(text) < cap ? 0 : ts_error_set("encoder settings do not fit %zu bytes", cap);
    if (rc == 0)
        memcpy(out, text, strlen(text) + 1);
    free(text);
    return rc;
}

/* A studio's queue: "name" (up to 64 bytes, no control characters), "after" (ids of jobs it waits for),
   "on_parent_failure" ("hold", the default, or "fail"), "paused" (nothing starts until it is resumed). */
static int parse_queue(json_t *o, ts_job_request_t *req)
{
    json_t *name = json_object_get(o, "name");
    if (name && !json_is_null(name)) {
        const char *n = json_string_value(name);
        if (!n || json_string_length(name) >= TS_JOB_NAME_CAP || strlen(n) != json_string_length(name))
            return ts_error_set("field 'name' must be a text of at most %d bytes", TS_JOB_NAME_CAP - 1);
        for (const char *p = n; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return ts_error_set("field 'name' must not hold control characters");
        snprintf(req->name, sizeof req->name, "%s", n);
    }
    json_t *after = json_object_get(o, "after");
    if (after && !json_is_null(after)) {
        if (!json_is_array(after) || json_array_size(after) > TS_JOB_AFTER_MAX)
            return ts_error_set("field 'after' must be a list of at most %d job ids", TS_JOB_AFTER_MAX);
        size_t i;
        json_t *v;
        json_array_foreach(after, i, v) {
            if (!json_is_integer(v) || json_integer_value(v) <= 0)
                return ts_error_set("field 'after': entry %zu is not a job id (a whole number above 0)", i + 1);
            req->after[req->nafter++] = (int64_t)json_integer_value(v);
        }
    }
    const char *onf = json_string_value(json_object_get(o, "on_parent_failure"));
    if (json_object_get(o, "on_parent_failure") && (!onf || (strcmp(onf, "hold") && strcmp(onf, "fail"))))
        return ts_error_set("field 'on_parent_failure' must be \"hold\" or \"fail\"");
    req->fail_with_parent = onf && strcmp(onf, "fail") == 0;
    const char *pool = json_string_value(json_object_get(o, "pool"));
    if (json_object_get(o, "pool") && (!pool || ts_request_tag_check(pool) < 0))
        return pool ? ts_error_prefix("field 'pool'") : ts_error_set("field 'pool' must be a node tag");
    snprintf(req->pool, sizeof req->pool, "%s", pool ? pool : "");
    json_t *mn = json_object_get(o, "max_nodes");
    if (mn && (!json_is_integer(mn) || json_integer_value(mn) < 0 || json_integer_value(mn) > TS_REQUEST_MAX_NODES))
        return ts_error_set("field 'max_nodes' must be a whole number within 0..%d (0: any number)", TS_REQUEST_MAX_NODES);
    req->max_nodes = mn ? (int)json_integer_value(mn) : 0;
    json_t *paused = json_object_get(o, "paused");
    if (paused && !json_is_boolean(paused))
        return ts_error_set("field 'paused' must be true or false");
    req->paused = json_is_true(paused);
    return 0;
}

/* "notify_url", when given: a webhook the job's events are POSTed to, an http:// or https:// URL with a host, at most
   TS_JOB_NOTIFY_URL_CAP - 1 bytes, without spaces or control characters. */
static int parse_notify(json_t *o, ts_job_request_t *req)
{
    json_t *v = json_object_get(o, "notify_url");
    if (!v || json_is_null(v))
        return 0;
    const char *url = json_string_value(v);
    if (!url || json_string_length(v) >= sizeof req->notify_url || strlen(url) != json_string_length(v))
        return ts_error_set("field 'notify_url' must be a URL of at most %zu bytes", sizeof req->notify_url - 1);
    size_t scheme = strncasecmp(url, "https://", 8) == 0 ? 8 : strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
    if (!scheme)
        return ts_error_set("field 'notify_url': '%.64s' is not an http:// or https:// URL", url);
    if (strcspn(url + scheme, "/?#") == 0)
        return ts_error_set("field 'notify_url': '%.64s' names no host", url);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return ts_error_set("field 'notify_url' must not hold spaces or control characters");
    snprintf(req->notify_url, sizeof req->notify_url, "%s", url);
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

/* Each name once. */
static int names_distinct(const ts_job_request_t *req)
{
    const char **names = malloc((size_t)req->ninputs * sizeof *names);
    if (!names)
        return ts_error_set("out of memory");
    for (int i = 0; i < req->ninputs; i++)
        names[i] = req->inputs[i].name;
    int rc = ts_request_names_distinct(names, (size_t)req->ninputs) < 0 ? ts_error_prefix("field 'inputs'") : 0;
    free(names);
    return rc;
}

/* "inputs", when given: the job's manifest, [{"name": relative path, "hash": content hash}], 1..TS_REQUEST_INPUTS_MAX
   entries with distinct names. */
static int parse_inputs(json_t *o, ts_job_request_t *req)
{
    json_t *list = json_object_get(o, "inputs");
    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > TS_REQUEST_INPUTS_MAX)
        return ts_error_set("field 'inputs' must be a list of 1 to %d files ({\"name\", \"hash\"})",
                            TS_REQUEST_INPUTS_MAX);
    req->inputs = calloc(json_array_size(list), sizeof *req->inputs);
    if (!req->inputs)
        return ts_error_set("out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        ts_job_input_t *in = &req->inputs[i];
        if (!json_is_object(e))
            return ts_error_set("field 'inputs': entry %zu must be an object {\"name\", \"hash\"}", i + 1);
        if (ts_request_json_string(e, "name", NULL, in->name, sizeof in->name) < 0 ||
            ts_request_input_name_check(in->name) < 0 ||
            ts_request_json_string(e, "hash", NULL, in->hash, sizeof in->hash) < 0)
            return ts_error_prefix("field 'inputs': entry %zu", i + 1);
        if (!ts_hash_valid(in->hash))
            return ts_error_set("field 'inputs': %s: '%s' is not a content hash (64 lower-case hex digits)", in->name,
                                in->hash);
        req->ninputs = (int)i + 1;
    }
    return names_distinct(req);
}

void ts_job_request_free(ts_job_request_t *req)
{
    free(req->missing);
    req->missing = NULL;
    free(req->inputs);
    req->inputs = NULL;
    req->ninputs = 0;
}

int ts_jobreq_input(const char *name, const char *hash, ts_job_request_t *req)
{
    if (!(req->inputs = calloc(1, sizeof *req->inputs)))
        return ts_error_set("out of memory");
    snprintf(req->inputs[0].name, sizeof req->inputs[0].name, "%s", name);
    snprintf(req->inputs[0].hash, sizeof req->inputs[0].hash, "%s", hash);
    req->ninputs = 1;
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
    const ts_jobtype_t *type = NULL;
    if (!json_is_object(o))
        ts_error_set("request body must be a JSON object");
    else if (ts_request_json_string(o, "type", NULL, req->type, sizeof req->type) == 0 &&
             !(type = ts_jobtype_find(req->type)))
        ts_error_set("field 'type': unknown job type '%s' (known: %s)", req->type, ts_jobtype_names());
    if (type && parse_inputs(o, req) == 0 && parse_priority(o, req) == 0 && parse_payment(o, req) == 0 &&
        parse_queue(o, req) == 0 && parse_notify(o, req) == 0)
        rc = type->parse(o, req);
    json_decref(o);
    if (rc < 0)
        ts_job_request_free(req);
    return rc;
}

/* The self-test parses into one request again and again. */
#define TEST_HASH "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
#define SHEET_INPUT "{\"name\":\"a.png\",\"hash\":\"" TEST_HASH "\"}"
#define SHEET_INPUT2 "{\"name\":\"b.png\",\"hash\":\"" TEST_HASH "\"}"

static int parse_again(const char *body, ts_job_request_t *r)
{
    ts_job_request_free(r);
    return ts_jobreq_parse(body, strlen(body), r);
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
        /* the manifest */
        {"{\"type\":\"render\",\"inputs\":{}}", "field 'inputs' must be a list"},
        {"{\"type\":\"render\",\"inputs\":[]}", "field 'inputs' must be a list"},
        {"{\"type\":\"render\",\"inputs\":[7]}", "entry 1 must be an object"},
        {"{\"type\":\"render\",\"inputs\":[{\"name\":\"../x.png\",\"hash\":\"" TEST_HASH "\"}]}", "entry 1: '../x.png'"},
        {"{\"type\":\"render\",\"inputs\":[{\"name\":\"x.png\"}]}", "entry 1: field 'hash' is required"},
        {"{\"type\":\"render\",\"inputs\":[{\"name\":\"x.png\",\"hash\":\"abc\"}]}", "x.png: 'abc' is not a content hash"},
        {"{\"type\":\"render\",\"inputs\":[{\"name\":\"x.png\",\"hash\":\"" TEST_HASH "\"},"
         "{\"name\":\"x.png\",\"hash\":\"" TEST_HASH "\"}]}", "'x.png' is listed twice"},
        {"{\"type\":\"render\",\"scene\":\"" TEST_HASH "\",\"frames\":\"1\",\"inputs\":[{\"name\":\"t.png\",\"hash\":\""
         TEST_HASH "\"}]}", "field 'scene_name': 'scene.blend' is not among the inputs"},
        /* an artist's project: the scene among its files, the root they were taken from */
        {"{\"type\":\"render\",\"scene\":\"" TEST_HASH "\",\"scene_name\":\"s.blend\",\"frames\":\"1\",\"inputs\":[{\"name\":"
         "\"s.blend\",\"hash\":\"" TEST_HASH "\"}]}", "field 'project_root' is required"},
        {"{\"type\":\"render\",\"scene\":\"" TEST_HASH "\",\"scene_name\":\"s.blend\",\"frames\":\"1\",\"inputs\":[{\"name\":"
         "\"s.blend\",\"hash\":\"" TEST_HASH "\"}],\"project_root\":\"home/ann\"}", "field 'project_root': project root 'home/ann' is not an absolute path"},
        {"{\"type\":\"render\",\"scene\":\"" TEST_HASH "\",\"scene_name\":\"s.blend\",\"frames\":\"1\",\"inputs\":[{\"name\":"
         "\"s.blend\",\"hash\":\"" TEST_HASH "\"}],\"project_root\":\"/p\",\"missing\":[\"\"]}", "field 'missing': entry 1"},
        {"{\"type\":\"render\",\"scene\":\"" TEST_HASH "\",\"scene_name\":\"s.blend\",\"frames\":\"1\",\"inputs\":[{\"name\":"
         "\"s.blend\",\"hash\":\"" TEST_HASH "\"}],\"project_root\":\"/p\",\"allow_missing\":true,\"missing\":[\"/p/\\u001b[2J\"]}",
         "entry 1 contains a control character"},
        {"{\"type\":\"render\",\"scene\":\"" TEST_HASH "\",\"scene_name\":\"s.blend\",\"frames\":\"1\",\"inputs\":[{\"name\":"
         "\"s.blend\",\"hash\":\"" TEST_HASH "\"}],\"project_root\":\"/p\",\"missing\":[\"/p/t.png\"]}",
         "only with 'allow_missing': true"},
        /* a contact sheet's bounds */
        /* a webhook: http or https with a host, nothing else */
        {"{\"type\":\"render\",\"notify_url\":\"ftp://h/x\"}", "field 'notify_url': 'ftp://h/x' is not an http"},
        {"{\"type\":\"render\",\"notify_url\":\"file:///etc/passwd\"}", "field 'notify_url'"},
        {"{\"type\":\"render\",\"notify_url\":\"http:///x\"}", "names no host"},
        {"{\"type\":\"render\",\"notify_url\":\"http://h/a b\"}", "spaces or control characters"},
        {"{\"type\":\"render\",\"notify_url\":7}", "field 'notify_url' must be a URL"},
        {"{\"type\":\"contactsheet\"}", "field 'inputs' is required"},
        {"{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "],\"columns\":0}", "field 'columns': 0 is out of range 1..64"},
        {"{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "],\"columns\":65}", "field 'columns': 65"},
        {"{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "],\"columns\":\"4\"}", "'columns' must be a whole number"},
        {"{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "],\"cell\":\"15x100\"}", "field 'cell': '15x100': a cell is 16..2048"},
        {"{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "],\"cell\":\"100x2049\"}", "a cell is 16..2048"},
        {"{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "],\"cell\":\"100X100\"}", "expected WIDTHxHEIGHT"},
        {"{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "],\"cell\":\"100x\"}", "expected WIDTHxHEIGHT"},
        {"{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "],\"cell\":\"99999999999999999999x100\"}", "a cell is"},
    };
    ts_job_request_t r = {0};
    int failures = 0;
    if (parse_again(good, &r) != 0 || r.frame_start != 3 || r.frame_end != 5 || r.tiles_x != 4 ||
        r.tiles_y != 2 || strcmp(r.format, "png") || r.priority != 7 || !r.no_denoise || strcmp(r.device, "cpu") ||
        r.ninputs != 1 || strcmp(r.inputs[0].hash, r.scene) || strcmp(r.inputs[0].name, "scene.blend")) {
        fprintf(stderr, "ts_jobreq: good body refused: %s\n", ts_error());
        failures++;
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_again(bad[i].body, &r) != -1 || !strstr(ts_error(), bad[i].needle)) {
            fprintf(stderr, "ts_jobreq: body %s: got '%s', wanted '%s'\n", bad[i].body, ts_error(), bad[i].needle);
            failures++;
        }
    static const char *const project =
        "{\"type\":\"render\",\"scene\":\"" TEST_HASH "\",\"scene_name\":\"shots/s.blend\",\"frames\":\"1\",\"inputs\":["
        "{\"name\":\"shots/s.blend\",\"hash\":\"" TEST_HASH "\",\"size\":9},{\"name\":\"_outside/srv/wood.png\",\"hash\":\""
        TEST_HASH "\"}],\"project_root\":\"/home/ann/proj\",\"allow_missing\":true,\"missing\":[\"/home/ann/proj/tex/gone.png\"]}";
    if (parse_again(project, &r) != 0 || r.ninputs != 2 || strcmp(r.project_root, "/home/ann/proj") ||
        !r.missing || !strstr(r.missing, "gone.png") || !r.allow_missing) {
        fprintf(stderr, "ts_jobreq: project body refused: %s\n", ts_error());
        failures++;
    }
    static const char *const hooked = "{\"type\":\"transcode\",\"input\":\"" TEST_HASH "\","
                                      "\"notify_url\":\"HTTPS://hooks.example:8443/t?k=1\"}";
    if (parse_again(hooked, &r) != 0 || strcmp(r.notify_url, "HTTPS://hooks.example:8443/t?k=1") != 0) {
        fprintf(stderr, "ts_jobreq: webhook body: '%s' (%s)\n", r.notify_url, ts_error());
        failures++;
    }
    static const char *const tc = "{\"type\":\"transcode\",\"input\":"
                                  "\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
                                  "\"crf\":20,\"preset\":\"fast\",\"segment\":2.5,\"container\":\"mkv\"}";
    if (parse_again(tc, &r) != 0 || strcmp(r.type, "transcode") || r.crf != 20 ||
        r.segment_seconds != 2.5 || strcmp(r.container, "mkv") || strcmp(r.vcodec, "libx264") || r.threads != 1) {
        fprintf(stderr, "ts_jobreq: transcode body refused: %s\n", ts_error());
        failures++;
    }
    /* The defaults are ts_request's: libvpx-vp9's own crf 32 (31 before), no preset for an encoder without presets. */
    static const char *const vp9 = "{\"type\":\"transcode\",\"input\":"
                                   "\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
                                   "\"vcodec\":\"libvpx-vp9\"}";
    if (parse_again(vp9, &r) != 0 || r.crf != ts_request_crf_default("libvpx-vp9") ||
        strcmp(r.preset, TS_REQUEST_PRESET_DEFAULT) || r.bitrate != 0) {
        fprintf(stderr, "ts_jobreq: vp9 body: crf %d preset '%s' (%s)\n", r.crf, r.preset, ts_error());
        failures++;
    }
    static const char *const m4 = "{\"type\":\"transcode\",\"input\":"
                                  "\"bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319\","
                                  "\"vcodec\":\"mpeg4\",\"bitrate\":500000,\"size\":\"640x360\"}";
    if (parse_again(m4, &r) != 0 || r.crf != -1 || r.bitrate != 500000 || r.preset[0] ||
        r.out_width != 640 || r.out_height != 360) {
        fprintf(stderr, "ts_jobreq: mpeg4 body: crf %d preset '%s' (%s)\n", r.crf, r.preset, ts_error());
        failures++;
    }
    static const char *const sheet = "{\"type\":\"contactsheet\",\"inputs\":[" SHEET_INPUT "," SHEET_INPUT2 "],"
                                     "\"columns\":3,\"cell\":\"64x32\"}";
    if (parse_again(sheet, &r) != 0 || r.ninputs != 2 || strcmp(r.inputs[1].name, "b.png") || r.tiles_x != 2 ||
        r.tiles_y != 1 || r.out_width != 64 || r.out_height != 32 || !strstr(r.settings, "\"columns\":2")) {
        fprintf(stderr, "ts_jobreq: contact sheet body: %s (%s)\n", r.settings, ts_error());
        failures++;
    }
    /* nine 2048-pixel cells in a row make a sheet wider than 16384 pixels; eight do not */
    for (int n = 8; n <= 9; n++) {
        char body[2048];
        int at = snprintf(body, sizeof body, "{\"type\":\"contactsheet\",\"columns\":9,\"cell\":\"2048x16\",\"inputs\":[");
        for (int i = 0; i < n; i++)
            at += snprintf(body + at, sizeof body - (size_t)at, "%s{\"name\":\"%d.png\",\"hash\":\"" TEST_HASH "\"}",
                           i ? "," : "", i);
        snprintf(body + at, sizeof body - (size_t)at, "]}");
        int rc = parse_again(body, &r);
        if (n == 8 ? rc != 0 : rc != -1 || !strstr(ts_error(), "a sheet of 18432x16 pixels, more than 16384")) {
            fprintf(stderr, "ts_jobreq: %d cells of 2048: rc %d (%s)\n", n, rc, ts_error());
            failures++;
        }
    }
    ts_job_request_free(&r);
    if (verbose || failures)
        fprintf(failures ? stderr : stdout, "ts_jobreq: %s\n", failures ? "FAILED" : "ok");
    return failures ? -1 : 0;
}
