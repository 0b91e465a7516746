/* ts_api: the master's HTTP/JSON API (libmicrohttpd + jansson); master/openapi.yaml is its contract.
   DESIGN: uploads stream to a temporary file in the blob store while being hashed, so a scene of any size
   never sits in memory; JSON bodies are capped. Every refusal is a JSON {"error": ...} naming the input. */
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_manifest.h"
#include "lib/ts_request.h"
#include "lib/ts_sse.h"
#include "lib/ts_version.h"
#include "master/ts_api_quote.h"
#include "master/ts_api_view.h"
#include "master/ts_events.h"
#include "master/ts_jobreq.h"
#include "master/ts_jobtype.h"
#include "master/ts_master.h"
#include "master/ts_notify.h"
#include "master/ts_ratelimit.h"
#include "master/ts_tarpit.h"
#include "lib/ts_clock.h"
#include "lib/ts_token.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <sodium.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JSON_BODY_MAX (8 << 20) /* a project of TS_REQUEST_INPUTS_MAX files, ~200 bytes each */
#define BODIES_MAX (256LL << 20) /* JSON bodies held at once by all connections (4,096 x 8 MiB would be 32 GiB) */
#define API_PREFIX "/api/v1/"
#define API_THREADS 4
#define JOB_VIEW_INPUTS_MAX 100   /* files a job's view lists; GET jobs/{id}/inputs lists them all */
#define API_CONNECTIONS_MAX 4096  /* open HTTP connections in all (the master raises its descriptor limit to fit) */
#define WALLET_HISTORY_MAX 1000   /* transactions GET /wallet/{account} returns */
#define AUTH_BURST 20             /* requests with a missing or wrong token one address may make at once ... */
#define AUTH_PER_S 1.0            /* ... and then one a second; beyond that a wrong one is answered 429, */
#define AUTH_TARPIT_S 1.0         /* ... after being held this long (up to API_CONNECTIONS_MAX at once) */

struct ts_api {
    ts_master_t *master;
    struct MHD_Daemon *daemon;
    ts_ratelimit_t *auth_failures;       /* per address */
    ts_tarpit_t *tarpit;                 /* where an address over its failures waits for its 429 */
    ts_events_t *events;                 /* GET events: the streams */
    ts_notify_t *notify;                 /* the jobs' webhooks */
    ts_store_watch_t watch;              /* tells both of new events */
    char *tls_cert, *tls_key;            /* PEM, kept while the daemon runs */
    _Atomic long long blob_bytes_served; /* job inputs (and stitched frames) sent to slaves over HTTP */
    _Atomic long long body_bytes;        /* JSON bodies held in memory, all requests together */
};

typedef struct {
    bool started;
    ts_caller_t caller;  /* who the token says is calling (routes that need none: nobody) */
    bool held;           /* in the tarpit: answered 429 when resumed */
    long long serving;   /* bytes of a blob response being sent, counted when it completes */
    /* blob upload */
    int fd;
    char tmp[PATH_MAX];
    ts_hasher_t *hasher;
    int write_error;
    /* JSON body */
    char *body;
    size_t len;
    bool too_big;
    bool busy;           /* the bodies of all requests together would pass BODIES_MAX: answered 503 */
} request_t;

/* Queues body (consumed) as the JSON answer, with one more header when header is not NULL. */
static enum MHD_Result respond_with(struct MHD_Connection *c, unsigned status, json_t *body, const char *header,
                                    const char *value)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    size_t n = text ? strlen(text) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(n, text ? text : (char *)"", MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (header)
        MHD_add_response_header(r, header, value);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, json_t *body)
{
    return respond_with(c, status, body, NULL, NULL);
}

static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return respond(c, status, json_pack("{s:s}", "error", msg));
}

/* Parses a positive decimal id that is the whole text; 0 when it is not one. */
static int64_t parse_id(const char *s, size_t len)
{
    int64_t v = 0;
    if (len == 0 || len > 15 || (len > 1 && s[0] == '0'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Sends a stored file (or the byte range asked for); *bytes (may be NULL) gets the payload length queued. */
static enum MHD_Result send_file(struct MHD_Connection *c, const char *path, const char *name, long long *bytes)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return respond_error(c, MHD_HTTP_NOT_FOUND, "%s: not stored", name);
    }
    uint64_t size = (uint64_t)st.st_size, from = 0, to = size ? size - 1 : 0;
    unsigned status = MHD_HTTP_OK;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    if (range && size > 0) {
        uint64_t a = 0, b = to;
        int n = sscanf(range, "bytes=%" SCNu64 "-%" SCNu64, &a, &b);
        if (n < 1 || a > b || a >= size) {
            close(fd);
            return respond_error(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, "%s: range '%s' not satisfiable", name, range);
        }
        from = a;
        to = b < size ? b : size - 1;
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    uint64_t length = to - from + (size ? 1 : 0);
    if (bytes)
        *bytes = (long long)length;
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(length, fd, from);
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    if (status == MHD_HTTP_PARTIAL_CONTENT) {
        char cr[128];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A job as the API shows it: the store's row with its manifest (up to JOB_VIEW_INPUTS_MAX files: a project of
   thousands is listed by GET jobs/{id}/inputs, not in every poll of the job), and its outputs named by its type. */
static json_t *job_view(ts_store_t *store, int64_t id)
{
    json_t *o = ts_store_job_json(store, id);
    ts_job_t job;
    if (!o || ts_store_job_get(store, id, &job) != 1)
        return o;
    int64_t ninputs = ts_store_job_inputs_count(store, id);
    json_object_set_new(o, "inputs_count", json_integer((json_int_t)ninputs));
    if (ninputs <= JOB_VIEW_INPUTS_MAX)
        json_object_set_new(o, "inputs", ts_store_job_inputs_json(store, id));
    const ts_jobtype_t *type = ts_jobtype_find(job.type);
    json_object_set_new(o, "single_output", json_boolean(type && type->single_output));
    json_t *notify = ts_store_notify_json(store, id);
    if (notify)
        json_object_set_new(o, "notify", notify);
    size_t i;
    json_t *out;
    json_array_foreach(json_object_get(o, "outputs"), i, out) {
        char name[64];
        ts_jobtype_output_name(&job, (int)json_integer_value(json_object_get(out, "frame")), name, sizeof name);
        json_object_set_new(out, "name", json_string(name));
    }
    return o;
}

/* Routes anyone may call: health, and what slaves fetch by content hash (a caller can only name a blob or a
   torrent whose hash it already knows; nothing lists them). */
static bool public_route(const char *url, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    const char *p = url + strlen(API_PREFIX);
    if (!get || strncmp(url, API_PREFIX, strlen(API_PREFIX)) != 0)
        return false;
    return strcmp(p, "health") == 0 || (strncmp(p, "blobs/", 6) == 0 && strcmp(p, "blobs/missing") != 0) ||
           strncmp(p, "torrents/", 9) == 0;
}

static const struct sockaddr *client_addr(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info ? info->client_addr : NULL;
}

static enum MHD_Result respond_401(struct MHD_Connection *c, const char *msg)
{
    return respond_with(c, MHD_HTTP_UNAUTHORIZED, json_pack("{s:s}", "error", msg), MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                        "Bearer realm=\"tessera\"");
}

static enum MHD_Result too_many(struct MHD_Connection *c, double retry)
{
    char msg[160], after[16];
    snprintf(after, sizeof after, "%.0f", retry + 0.5);
    snprintf(msg, sizeof msg, "too many requests with a missing or wrong token from this address: try again in %s s",
             after);
    return respond_with(c, MHD_HTTP_TOO_MANY_REQUESTS, json_pack("{s:s}", "error", msg), MHD_HTTP_HEADER_RETRY_AFTER,
                        after);
}

/* Checks the request's token: 0 with rq->caller set; else -1 with a 401 queued, or, for an address that has sent
   too many missing or wrong tokens, the request held in the tarpit for a 429. A valid token is served whatever its
   address has sent (a shared NAT is not locked out by its worst member); checking one costs a lookup by key id.
   The token itself is never logged. */
static int authenticate(struct ts_api *api, struct MHD_Connection *c, request_t *rq, enum MHD_Result *ret)
{
    const char *header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *token = NULL;
    size_t len = 0;
    ts_token_key_t key;
    int valid = 0;
    if (header && ts_token_from_header(header, &token, &len) == 0 && ts_token_parse(token, len, &key) == 0)
        valid = ts_store_token_check(ts_master_store(api->master), &key, &rq->caller);
    if (valid == 1)
        return 0;
    if (valid < 0) {
        *ret = respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "cannot check the token now: %s", ts_error());
        return -1;
    }
    const struct sockaddr *addr = client_addr(c);
    double now = ts_clock_mono(), retry = 0;
    if (!ts_ratelimit_allowed(api->auth_failures, addr, now, &retry)) {
        if (ts_tarpit_hold(api->tarpit, c)) { /* answered when it comes back (handler) */
            rq->held = true;
            *ret = MHD_YES;
        } else {
            *ret = too_many(c, retry);
        }
        return -1;
    }
    if (ts_ratelimit_fail(api->auth_failures, addr, now)) {
        char who[64];
        ts_ratelimit_addr_text(addr, who, sizeof who);
        ts_warn("api: %d requests with a missing or wrong token from %s: it is answered 429 until it slows to %.0f a "
                "second", AUTH_BURST, who, AUTH_PER_S);
    }
    *ret = respond_401(c, header ? "the token is not valid (unknown, revoked or mistyped): "
                                   "send Authorization: Bearer <token>"
                                 : "this route needs a token: send Authorization: Bearer <token> (the operator's is "
                                   "in the master's STATE/operator.token; `tessera account add` makes one for a "
                                   "requester)");
    return -1;
}

static enum MHD_Result respond_403(struct MHD_Connection *c, const ts_caller_t *caller, const char *what)
{
    return respond_error(c, MHD_HTTP_FORBIDDEN, "%s: only the farm's operator may do this (this token is account '%s')",
                         what, caller->account);
}

/* Whether the caller may see a job: the operator any, a requester the jobs it pays for. */
static bool may_see(const ts_caller_t *caller, const ts_job_t *job)
{
    return caller->operator || strcmp(job->requester, caller->account) == 0;
}

static enum MHD_Result submit_job(struct ts_api *api, struct MHD_Connection *c, request_t *rq)
{
    if (rq->too_big)
        return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body is larger than %d bytes", JSON_BODY_MAX);
    ts_job_request_t req;
    if (ts_jobreq_parse(rq->body ? rq->body : "", rq->len, &req) < 0)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "%s", ts_error());
    /* a requester's job is paid from its own account, whatever the request says */
    if (!rq->caller.operator) {
        if (req.requester_given && strcmp(req.requester, rq->caller.account) != 0) {
            ts_job_request_free(&req);
            return respond_error(c, MHD_HTTP_FORBIDDEN, "field 'requester': '%s' is not this token's account '%s' "
                                 "(a requester's jobs are paid from its own account)", req.requester,
                                 rq->caller.account);
        }
        snprintf(req.requester, sizeof req.requester, "%s", rq->caller.account);
    }
    for (int i = 0; i < req.nafter; i++) { /* a job may wait only for jobs its submitter may see */
        ts_job_t parent;
        if (ts_store_job_get(ts_master_store(api->master), req.after[i], &parent) != 1 ||
            !may_see(&rq->caller, &parent)) {
            enum MHD_Result r = respond_error(c, MHD_HTTP_BAD_REQUEST, "field 'after': no job %lld",
                                              (long long)req.after[i]);
            ts_job_request_free(&req);
            return r;
        }
    }
    ts_jobtype_ctx_t ctx = {.store = ts_master_store(api->master), .blobs = ts_master_blobs(api->master),
                            .tile_margin = (int)ts_master_options(api->master)->tile_margin};
    for (int i = 0; i < req.ninputs; i++)
        if (!ts_blobs_has(ctx.blobs, req.inputs[i].hash)) {
            enum MHD_Result r = respond_error(c, MHD_HTTP_BAD_REQUEST, "%s: input %s has not been uploaded",
                                              req.inputs[i].name, req.inputs[i].hash);
            ts_job_request_free(&req);
            return r;
        }
    bool input_error = false;
    int64_t id = ts_jobtype_find(req.type)->create(&ctx, &req, &input_error);
    ts_job_request_free(&req);
    if (id < 0)
        return respond_error(c, input_error ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", ts_error());
    ts_master_kick(api->master);
    json_t *job = job_view(ctx.store, id);
    return respond(c, MHD_HTTP_CREATED, job ? job : json_pack("{s:I}", "id", (json_int_t)id));
}

/* Whether a stored blob is big enough to travel by torrent as a project's file (TS_MANIFEST_TORRENT_MIN). */
static bool big_blob(struct ts_api *api, const char *hash)
{
    char path[PATH_MAX];
    struct stat st;
    ts_blobs_path(ts_master_blobs(api->master), hash, path, sizeof path);
    return stat(path, &st) == 0 && st.st_size >= TS_MANIFEST_TORRENT_MIN;
}

/* POST blobs/missing {"hashes": [...]}: which of them the store lacks, in the order asked ({"missing": [...]}), so a
   client uploads only those. */
static enum MHD_Result missing_blobs(struct ts_api *api, struct MHD_Connection *c, request_t *rq)
{
    if (rq->too_big)
        return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body is larger than %d bytes", JSON_BODY_MAX);
    json_error_t jerr;
    json_t *body = json_loadb(rq->body ? rq->body : "", rq->len, 0, &jerr);
    json_t *hashes = json_object_get(body, "hashes");
    if (!json_is_array(hashes) || json_array_size(hashes) > TS_REQUEST_INPUTS_MAX) {
        json_decref(body);
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "blobs/missing: the body must be {\"hashes\": [...]} with at most %d "
                             "content hashes", TS_REQUEST_INPUTS_MAX);
    }
    json_t *missing = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(hashes, i, h) {
        const char *hash = json_string_value(h);
        if (!hash || !ts_hash_valid(hash)) {
            json_decref(missing);
            json_decref(body);
            return respond_error(c, MHD_HTTP_BAD_REQUEST, "blobs/missing: entry %zu is not a content hash (64 lower-case "
                                 "hex digits)", i + 1);
        }
        if (!ts_blobs_has(ts_master_blobs(api->master), hash))
            json_array_append_new(missing, json_string(hash));
    }
    json_decref(body);
    return respond(c, MHD_HTTP_OK, json_pack("{s:o}", "missing", missing));
}

static enum MHD_Result finish_upload(struct ts_api *api, struct MHD_Connection *c, request_t *rq, const char *hash)
{
    char got[TS_HASH_HEX];
    close(rq->fd);
    rq->fd = -1;
    ts_hasher_finish(&rq->hasher, got);
    if (rq->write_error) {
        unlink(rq->tmp);
        return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "blob %s: cannot store: %s", hash,
                             strerror(rq->write_error));
    }
    /* an empty body is a blob too (a project may hold an empty file); each job type checks what it needs */
    if (strcmp(got, hash) != 0) {
        unlink(rq->tmp);
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "blob %s: the body's BLAKE2b-256 is %s", hash, got);
    }
    char stored[TS_HASH_HEX];
    if (ts_blobs_put_file(ts_master_blobs(api->master), rq->tmp, hash, stored) < 0)
        return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "blob %s: %s", hash, ts_error());
    /* A scene gets its torrent now, while the uploader waits, rather than at its first task. */
    ts_seeder_t *seeder = ts_master_seeder(api->master);
    if (seeder && ts_jobtype_blob_is_blend(ts_master_blobs(api->master), hash) &&
        ts_seeder_publish(seeder, hash, NULL) < 0)
        ts_warn("blob %s: no torrent, slaves will fetch it over HTTP: %s", hash, ts_error());
    return respond(c, MHD_HTTP_CREATED, json_pack("{s:s,s:I}", "hash", hash, "size", (json_int_t)rq->len));
}

/* POST jobs/{id}/cancel, /pause, /resume, /priority {"priority": N}: what a user does to a job in the queue. */
static enum MHD_Result queue_control(struct ts_api *api, struct MHD_Connection *c, int64_t id, const char *what,
                                     request_t *rq)
{
    ts_store_t *store = ts_master_store(api->master);
    int rc;
    if (strcmp(what, "priority") == 0) {
        json_t *body = json_loadb(rq->body ? rq->body : "", rq->len, 0, NULL);
        json_t *p = json_object_get(body, "priority");
        bool ok = json_is_integer(p) && ts_request_priority_check(json_integer_value(p)) == 0;
        int prio = ok ? (int)json_integer_value(p) : 0;
        json_decref(body);
        if (!ok)
            return respond_error(c, MHD_HTTP_BAD_REQUEST, "priority: the body must be {\"priority\": N}, N a whole "
                                 "number within -%d..%d", TS_REQUEST_PRIORITY_MAX, TS_REQUEST_PRIORITY_MAX);
        rc = ts_store_job_priority(store, id, prio);
    } else {
        rc = strcmp(what, "cancel") == 0  ? ts_store_job_cancel(store, id)
             : strcmp(what, "pause") == 0 ? ts_store_job_pause(store, id)
                                          : ts_store_job_resume(store, id);
    }
    if (rc == TS_STORE_UNKNOWN)
        return respond_error(c, MHD_HTTP_NOT_FOUND, "no job %lld", (long long)id);
    if (rc == TS_STORE_ENDED)
        return respond_error(c, MHD_HTTP_CONFLICT, "job %lld has already ended", (long long)id);
    if (rc < 0)
        return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", ts_error());
    ts_info("job %lld: %s by %s", (long long)id, strcmp(what, "cancel") == 0 ? "cancelled" : what,
            rq->caller.operator ? "the operator" : rq->caller.account);
    ts_master_kick(api->master);
    return respond(c, MHD_HTTP_OK, job_view(store, id));
}

/* The frames asked for in a requeue body ({"frames": [N, ...]}, {"failed": true}, or both) into req, its frames in
   *frames (malloc'd); 0, or -1 with what is wrong with the body in why. */
static int requeue_body(const request_t *rq, ts_requeue_request_t *req, int **frames, char *why, size_t cap)
{
    json_t *body = json_loadb(rq->body ? rq->body : "", rq->len, 0, NULL);
    json_t *list = json_object_get(body, "frames"), *failed = json_object_get(body, "failed");
    size_t n = json_array_size(list);
    *frames = calloc(n + 1, sizeof **frames);
    if (!json_is_object(body))
        snprintf(why, cap, "the body must be {\"frames\": [N, ...]} and/or {\"failed\": true}");
    else if (list && !json_is_array(list))
        snprintf(why, cap, "field 'frames' must be a list of frame numbers");
    else if (failed && !json_is_boolean(failed))
        snprintf(why, cap, "field 'failed' must be true or false");
    else if (!*frames)
        snprintf(why, cap, "out of memory");
    for (size_t i = 0; !why[0] && i < n; i++) {
        json_t *f = json_array_get(list, i);
        if (!json_is_integer(f) || json_integer_value(f) < INT_MIN || json_integer_value(f) > INT_MAX)
            snprintf(why, cap, "field 'frames': entry %zu is not a frame number", i + 1);
        else
            (*frames)[i] = (int)json_integer_value(f);
    }
    *req = (ts_requeue_request_t){.frames = list ? *frames : NULL, .nframes = (int)n, .failed = json_is_true(failed)};
    json_decref(body);
    return why[0] ? -1 : 0;
}

/* POST jobs/{id}/requeue: frames of an ended render job rendered again, paid as new work (ts_store_requeue.c). */
static enum MHD_Result requeue_job(struct ts_api *api, struct MHD_Connection *c, int64_t id, request_t *rq)
{
    if (rq->too_big)
        return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body is larger than %d bytes", JSON_BODY_MAX);
    ts_requeue_request_t req;
    int *frames = NULL;
    char bad[160] = "";
    ts_requeue_result_t out = {0};
    int rc = requeue_body(rq, &req, &frames, bad, sizeof bad) < 0
                 ? TS_STORE_INVALID
                 : ts_store_job_requeue(ts_master_store(api->master), id, &req, &out);
    free(frames);
    if (rc != 0) {
        const char *why = bad[0] ? bad : ts_error();
        unsigned status = rc == TS_STORE_UNKNOWN    ? MHD_HTTP_NOT_FOUND
                          : rc == TS_STORE_INVALID  ? MHD_HTTP_BAD_REQUEST
                          : rc == TS_STORE_CONFLICT ? MHD_HTTP_CONFLICT
                          : rc == TS_STORE_REFUSED  ? MHD_HTTP_PAYMENT_REQUIRED
                                                    : MHD_HTTP_INTERNAL_SERVER_ERROR;
        return rc == TS_STORE_UNKNOWN ? respond_error(c, status, "no job %lld", (long long)id)
                                      : respond_error(c, status, "requeue: %s", why);
    }
    json_t *list = json_array();
    for (int i = 0; i < out.nframes; i++)
        json_array_append_new(list, json_integer(out.frames[i]));
    char price[32];
    ts_amount_format(out.price, price, sizeof price);
    ts_info("job %lld: %d frame(s) and %d tiles requeued by %s%s, paid %s", (long long)id, out.nframes, out.tiles,
            rq->caller.operator ? "the operator" : rq->caller.account, out.video ? " with its video" : "", price);
    free(out.frames);
    ts_master_kick(api->master);
    json_t *job = job_view(ts_master_store(api->master), id);
    if (job)
        json_object_set_new(job, "requeued", json_pack("{s:o,s:i,s:b,s:I}", "frames", list, "tiles", out.tiles, "video",
                                                       out.video, "price", (json_int_t)out.price));
    else
        json_decref(list);
    return job ? respond(c, MHD_HTTP_OK, job) : respond_error(c, MHD_HTTP_NOT_FOUND, "no job %lld", (long long)id);
}

/* GET jobs/{id}/frames...: what the artists' app draws a render's mosaic from (ts_api_view.c). */
static enum MHD_Result view_route(struct ts_api *api, struct MHD_Connection *c, const ts_job_t *job, const char *rest)
{
    ts_view_request_t req;
    int parsed = ts_view_parse(rest, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "max"), &req);
    if (parsed <= 0)
        return parsed < 0 ? respond_error(c, MHD_HTTP_BAD_REQUEST, "job %lld: %s", (long long)job->id, ts_error())
                          : respond_error(c, MHD_HTTP_NOT_FOUND, "GET /api/v1/jobs/%lld%s: no such endpoint",
                                          (long long)job->id, rest);
    ts_view_reply_t reply;
    ts_view_answer(ts_master_store(api->master), ts_master_blobs(api->master), job, &req, &reply);
    if (!reply.png) {
        json_t *body = reply.json;
        reply.json = NULL;
        return respond(c, reply.status, body);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(reply.png_len, reply.png, MHD_RESPMEM_MUST_FREE);
    reply.png = NULL;
    MHD_add_response_header(r, "Content-Type", "image/png");
    enum MHD_Result ret = MHD_queue_response(c, reply.status, r);
    MHD_destroy_response(r);
    return ret;
}

/* GET events: the job and task events the caller may see as server-sent events, from the id its Last-Event-ID or
   ?after= names, else from now (ts_events.c). */
static enum MHD_Result events_route(struct ts_api *api, struct MHD_Connection *c, const request_t *rq)
{
    int64_t after;
    if (ts_events_parse_after(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID"),
                              MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after"), &after) < 0)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "events: %s", ts_error());
    enum MHD_Result ret;
    if (ts_events_serve(api->events, c, &rq->caller, after, &ret) < 0)
        return respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", ts_error());
    return ret;
}

/* A requester's view of the wallet: its own account, without the farm's totals. */
static void own_wallet(json_t *w, const char *account)
{
    json_t *accounts = json_object_get(w, "accounts");
    for (size_t i = json_array_size(accounts); i-- > 0;) {
        json_t *a = json_array_get(accounts, i);
        const char *kind = json_string_value(json_object_get(a, "kind")),
                   *name = json_string_value(json_object_get(a, "account"));
        if (!kind || !name || strcmp(kind, "requester") != 0 || strcmp(name, account) != 0)
            json_array_remove(accounts, i);
    }
    json_object_del(w, "minted");
    json_object_del(w, "held");
}

/* GET shares: requesters' weights, limits and recent node time (a requester sees its own row); POST
   shares/{requester} {"weight", "max_running"}: the operator sets them. */
static enum MHD_Result shares_route(struct ts_api *api, struct MHD_Connection *c, const char *rest, const char *method,
                                    request_t *rq)
{
    ts_store_t *store = ts_master_store(api->master);
    const ts_caller_t *caller = &rq->caller;
    if (rest[0] == '\0' && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
        json_t *list = ts_store_shares_json(store, caller->operator ? NULL : caller->account);
        return list ? respond(c, MHD_HTTP_OK, json_pack("{s:o}", "shares", list))
                    : respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "shares: %s", ts_error());
    }
    if (rest[0] != '/' || strcmp(method, "POST") != 0)
        return respond_error(c, MHD_HTTP_NOT_FOUND, "%s /api/v1/shares%s: no such endpoint", method, rest);
    if (!caller->operator)
        return respond_403(c, caller, "setting shares");
    if (rq->too_big)
        return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body is larger than %d bytes", JSON_BODY_MAX);
    const char *name = rest + 1;
    double weight;
    int max_running;
    if (ts_account_name_check("requester", name) < 0)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "%s", ts_error());
    if (ts_account_parse_share(rq->body ? rq->body : "", rq->len, &weight, &max_running) < 0)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "share of '%s': %s", name, ts_error());
    if (ts_store_share_set(store, name, weight, max_running) < 0)
        return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "share of '%s': %s", name, ts_error());
    ts_info("shares: '%s' set (weight %g, max running %d; 0 or -1: unchanged)", name, weight, max_running);
    ts_master_kick(api->master);
    json_t *row = ts_store_shares_json(store, name);
    json_t *one = json_incref(json_array_get(row, 0));
    json_decref(row);
    return one ? respond(c, MHD_HTTP_OK, one) : respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "share of '%s'", name);
}

/* The operator's account routes (rest is what follows "accounts" in the path):
   GET accounts, POST accounts {"name"}, POST accounts/{name}/revoke, POST accounts/{name}/credit {"amount"}. */
static enum MHD_Result accounts_route(struct ts_api *api, struct MHD_Connection *c, const char *rest,
                                      const char *method, request_t *rq)
{
    ts_store_t *store = ts_master_store(api->master);
    bool post = strcmp(method, "POST") == 0;
    if (rq->too_big)
        return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body is larger than %d bytes", JSON_BODY_MAX);
    if (rest[0] == '\0' && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
        return respond(c, MHD_HTTP_OK, json_pack("{s:o}", "accounts", ts_store_accounts_json(store)));
    if (rest[0] == '\0' && post) {
        char name[TS_ACCOUNT_NAME_CAP], token[TS_TOKEN_CAP];
        if (ts_account_parse_add(rq->body ? rq->body : "", rq->len, name) < 0)
            return respond_error(c, MHD_HTTP_BAD_REQUEST, "accounts: %s", ts_error());
        int rc = ts_store_account_add(store, name, token);
        if (rc == TS_STORE_EXISTS)
            return respond_error(c, MHD_HTTP_CONFLICT, "account '%s' exists already (revoke it first for a new token)",
                                 name);
        if (rc != 0)
            return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "account '%s': %s", name, ts_error());
        ts_info("accounts: '%s' added", name);
        enum MHD_Result ret = respond(c, MHD_HTTP_CREATED, json_pack("{s:s,s:s}", "account", name, "token", token));
        sodium_memzero(token, sizeof token);
        return ret;
    }
    const char *slash = rest[0] == '/' ? strchr(rest + 1, '/') : NULL;
    if (!slash || !post)
        return respond_error(c, MHD_HTTP_NOT_FOUND, "%s /api/v1/accounts%s: no such endpoint", method, rest);
    char name[TS_ACCOUNT_NAME_CAP];
    size_t nlen = (size_t)(slash - rest - 1);
    snprintf(name, sizeof name, "%.*s", (int)(nlen < sizeof name ? nlen : sizeof name - 1), rest + 1);
    if (nlen >= sizeof name || ts_account_name_check("account", name) < 0)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "%s", nlen >= sizeof name ? "account: name too long" : ts_error());
    if (strcmp(slash, "/revoke") == 0) {
        int rc = ts_store_account_revoke(store, name);
        if (rc == TS_STORE_UNKNOWN)
            return respond_error(c, MHD_HTTP_NOT_FOUND, "no account '%s' (or it is revoked already)", name);
        if (rc != 0)
            return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "account '%s': %s", name, ts_error());
        ts_info("accounts: '%s' revoked", name);
        return respond(c, MHD_HTTP_OK, json_pack("{s:s,s:b}", "account", name, "revoked", 1));
    }
    if (strcmp(slash, "/credit") == 0) {
        int64_t units = 0;
        char ref[TS_ACCOUNT_REF_CAP];
        if (ts_account_parse_credit(rq->body ? rq->body : "", rq->len, &units, ref) < 0)
            return respond_error(c, MHD_HTTP_BAD_REQUEST, "credit: %s", ts_error());
        if (!ref[0]) { /* no key from the caller: this credit is its own */
            unsigned char nonce[16];
            randombytes_buf(nonce, sizeof nonce);
            sodium_bin2hex(ref, sizeof ref, nonce, sizeof nonce);
        }
        int rc = ts_store_account_credit(store, name, units, ref);
        if (rc == TS_STORE_UNKNOWN)
            return respond_error(c, MHD_HTTP_NOT_FOUND, "no account '%s'", name);
        if (rc == TS_STORE_REFUSED)
            return respond_error(c, MHD_HTTP_CONFLICT, "credit '%s': %s", name, ts_error());
        if (rc != 0)
            return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "credit '%s': %s", name, ts_error());
        char amount[32];
        ts_amount_format(units, amount, sizeof amount);
        ts_info("accounts: '%s' credited %s", name, amount);
        return respond(c, MHD_HTTP_OK, json_pack("{s:s,s:I}", "account", name, "credited", (json_int_t)units));
    }
    return respond_error(c, MHD_HTTP_NOT_FOUND, "POST /api/v1/accounts%s: no such endpoint", rest);
}

static enum MHD_Result route(struct ts_api *api, struct MHD_Connection *c, const char *url, const char *method,
                             request_t *rq)
{
    ts_store_t *store = ts_master_store(api->master);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    if (strncmp(url, API_PREFIX, strlen(API_PREFIX)) != 0)
        return respond_error(c, MHD_HTTP_NOT_FOUND, "%s: no such endpoint", url);
    const char *p = url + strlen(API_PREFIX);
    if (rq->busy)
        return respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the master holds %lld MiB of request bodies already: "
                             "try again shortly", BODIES_MAX >> 20);

    if (strcmp(p, "health") == 0 && get)
        return respond(c, MHD_HTTP_OK, json_pack("{s:s}", "version", TS_VERSION));
    const ts_caller_t *caller = &rq->caller;
    if (strcmp(p, "jobs") == 0 && get)
        return respond(c, MHD_HTTP_OK, json_pack("{s:o}", "jobs", ts_store_jobs_json(store, caller->operator ? NULL
                                                                                                   : caller->account)));
    if (strcmp(p, "jobs") == 0 && post)
        return submit_job(api, c, rq);
    if (strcmp(p, "events") == 0 && get)
        return events_route(api, c, rq);
    if (strcmp(p, "quote") == 0 && post) {
        unsigned status = 0;
        json_t *answer = ts_api_quote(api->master, rq->body, rq->len, &status);
        return respond(c, status, answer);
    }
    if (strcmp(p, "blobs/missing") == 0 && post)
        return missing_blobs(api, c, rq);
    if (strcmp(p, "stats") == 0 && get) {
        ts_seeder_t *seeder = ts_master_seeder(api->master);
        json_int_t http = (json_int_t)api->blob_bytes_served;
        json_int_t torrent = seeder ? (json_int_t)ts_seeder_uploaded(seeder) : 0;
        return respond(c, MHD_HTTP_OK,
                       json_pack("{s:{s:I,s:I,s:I}}", "stats", "seed_upload_bytes", torrent + http,
                                 "torrent_upload_bytes", torrent, "http_upload_bytes", http));
    }
    if (strncmp(p, "torrents/", 9) == 0 && get) {
        const char *hash = p + 9;
        if (!ts_hash_valid(hash))
            return respond_error(c, MHD_HTTP_BAD_REQUEST, "torrent '%s': not a content hash (64 lower-case hex digits)",
                                 hash);
        ts_seeder_t *seeder = ts_master_seeder(api->master);
        unsigned char *bytes = NULL;
        size_t len = 0;
        int rc = seeder ? ts_seeder_torrent(seeder, hash, &bytes, &len) : 1;
        if (rc == 1 && seeder && big_blob(api, hash) && ts_seeder_publish(seeder, hash, NULL) == 0)
            rc = ts_seeder_torrent(seeder, hash, &bytes, &len); /* a project's file: its torrent when first asked */
        if (rc != 0)
            return rc < 0 ? respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "torrent %s: %s", hash, ts_error())
                          : respond_error(c, MHD_HTTP_NOT_FOUND, "torrent %s: not seeded here", hash);
        struct MHD_Response *r = MHD_create_response_from_buffer(len, bytes, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(r, "Content-Type", "application/x-bittorrent");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(p, "nodes") == 0 && get) {
        const ts_master_options_t *o = ts_master_options(api->master);
        ts_check_rates_t rates = {.trust = (double)o->check_trust, .floor = o->check_floor, .first = (int)o->check_first};
        return respond(c, MHD_HTTP_OK, json_pack("{s:o}", "nodes", ts_store_nodes_json(store, &rates)));
    }
    if (strcmp(p, "wallet") == 0 && get) {
        json_t *w = ts_store_wallet_json(store);
        if (w && !caller->operator)
            own_wallet(w, caller->account);
        return w ? respond(c, MHD_HTTP_OK, w) : respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "wallet: %s", ts_error());
    }
    if (strncmp(p, "wallet/", 7) == 0 && get) {
        /* GET /wallet/{account}: the account's transactions, newest first */
        const char *account = p + 7;
        char own[TS_ACCOUNT_NAME_CAP + 16];
        if (!caller->operator && strcmp(account, caller->account) != 0)
            return respond_403(c, caller, "another account's wallet");
        if (!caller->operator) { /* its own requester account exactly, never a node or the farm's by a similar name */
            snprintf(own, sizeof own, "requester:%s", caller->account);
            account = own;
        }
        json_t *h = NULL;
        int rc = ts_store_wallet_history(store, account, WALLET_HISTORY_MAX, &h);
        if (rc == 1)
            return respond_error(c, MHD_HTTP_NOT_FOUND, "no account '%s'", account);
        return rc == 0 ? respond(c, MHD_HTTP_OK, h)
                       : respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "wallet %s: %s", account, ts_error());
    }
    if (strncmp(p, "shares", 6) == 0 && (p[6] == '\0' || p[6] == '/'))
        return shares_route(api, c, p + 6, method, rq);
    if (strncmp(p, "accounts", 8) == 0 && (p[8] == '\0' || p[8] == '/'))
        return caller->operator ? accounts_route(api, c, p + 8, method, rq) : respond_403(c, caller, "accounts");
    if (strncmp(p, "nodes/", 6) == 0 && post) {
        /* POST /nodes/{id}/lift: an operator ends a node's quarantine */
        if (!caller->operator)
            return respond_403(c, caller, "lifting a node's quarantine");
        const char *id = p + 6, *slash = strchr(id, '/');
        size_t idlen = slash ? (size_t)(slash - id) : strlen(id);
        char node[TS_HASH_HEX];
        if (!slash || strcmp(slash, "/lift") != 0)
            return respond_error(c, MHD_HTTP_NOT_FOUND, "POST %s: no such endpoint", url);
        if (idlen != TS_HASH_HEX - 1)
            return respond_error(c, MHD_HTTP_BAD_REQUEST, "node id '%.*s': not a node id (64 hex digits)", (int)idlen, id);
        snprintf(node, sizeof node, "%.*s", (int)idlen, id);
        int rc = ts_store_node_lift(store, node);
        if (rc == TS_STORE_UNKNOWN)
            return respond_error(c, MHD_HTTP_NOT_FOUND, "no node %s", node);
        if (rc == TS_STORE_NOT_QUARANTINED)
            return respond_error(c, MHD_HTTP_CONFLICT, "node %s is not quarantined", node);
        if (rc < 0)
            return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", ts_error());
        ts_info("node %.12s: quarantine lifted by the operator", node);
        ts_master_kick(api->master);
        return respond(c, MHD_HTTP_OK, json_pack("{s:s,s:s}", "id", node, "state", "lifted"));
    }
    if (strncmp(p, "blobs/", 6) == 0) {
        const char *hash = p + 6;
        if (!ts_hash_valid(hash))
            return respond_error(c, MHD_HTTP_BAD_REQUEST, "blob '%s': not a content hash (64 lower-case hex digits)",
                                 hash);
        if (strcmp(method, "PUT") == 0)
            return finish_upload(api, c, rq, hash);
        if (get) {
            char path[PATH_MAX];
            ts_blobs_path(ts_master_blobs(api->master), hash, path, sizeof path);
            return send_file(c, path, hash, strcmp(method, "GET") == 0 ? &rq->serving : NULL);
        }
    }
    if (strncmp(p, "jobs/", 5) == 0) {
        const char *idp = p + 5, *slash = strchr(idp, '/');
        size_t idlen = slash ? (size_t)(slash - idp) : strlen(idp);
        int64_t id = parse_id(idp, idlen);
        if (id <= 0)
            return respond_error(c, MHD_HTTP_BAD_REQUEST, "job id '%.*s': not a positive whole number", (int)idlen, idp);
        ts_job_t owned;
        if (ts_store_job_get(store, id, &owned) != 1 || !may_see(caller, &owned)) /* another's job is no job to it */
            return respond_error(c, MHD_HTTP_NOT_FOUND, "no job %lld", (long long)id);
        if (!slash && get) {
            json_t *job = job_view(store, id);
            json_t *checks = job ? ts_store_job_checks_json(store, id) : NULL;
            if (checks)
                json_object_set_new(job, "verification", checks);
            return job ? respond(c, MHD_HTTP_OK, job) : respond_error(c, MHD_HTTP_NOT_FOUND, "no job %lld", (long long)id);
        }
        if (slash && strncmp(slash, "/frames", 7) == 0 && get)
            return view_route(api, c, &owned, slash);
        if (slash && strcmp(slash, "/inputs") == 0 && get) {
            ts_job_t job;
            if (ts_store_job_get(store, id, &job) != 1)
                return respond_error(c, MHD_HTTP_NOT_FOUND, "no job %lld", (long long)id);
            return respond(c, MHD_HTTP_OK, json_pack("{s:o}", "inputs", ts_store_job_inputs_json(store, id)));
        }
        if (slash && (strcmp(slash, "/pause") == 0 || strcmp(slash, "/resume") == 0 || strcmp(slash, "/priority") == 0 ||
                      strcmp(slash, "/cancel") == 0) &&
            post)
            return queue_control(api, c, id, slash + 1, rq);
        if (slash && strcmp(slash, "/requeue") == 0 && post)
            return requeue_job(api, c, id, rq);
        if (slash && strncmp(slash, "/outputs/", 9) == 0 && get) {
            /* frame numbers may be negative (Blender allows them; a render's video is TS_VIDEO_FRAME) */
            const char *fs = slash + 9;
            bool negative = fs[0] == '-';
            int64_t frame = parse_id(fs + negative, strlen(fs + negative));
            if (negative)
                frame = -frame;
            char hash[TS_HASH_HEX], name[64], path[PATH_MAX];
            ts_job_t job;
            if (ts_store_output(store, id, (int)frame, hash) != 1 || ts_store_job_get(store, id, &job) != 1)
                return respond_error(c, MHD_HTTP_NOT_FOUND, "job %lld: no finished output for frame '%s'",
                                     (long long)id, slash + 9);
            ts_jobtype_output_name(&job, (int)frame, name, sizeof name);
            ts_blobs_path(ts_master_blobs(api->master), hash, path, sizeof path);
            return send_file(c, path, name, NULL);
        }
    }
    return respond_error(c, MHD_HTTP_NOT_FOUND, "%s %s: no such endpoint", method, url);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *data_size, void **con_cls)
{
    struct ts_api *api = cls;
    request_t *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->fd = -1;
        *con_cls = rq;
        enum MHD_Result refused;
        if (!public_route(url, method) && authenticate(api, c, rq, &refused) < 0)
            return refused; /* answered before any body is read or stored */
        if (strcmp(method, "PUT") == 0 && strncmp(url, API_PREFIX "blobs/", strlen(API_PREFIX "blobs/")) == 0) {
            rq->fd = ts_blobs_tmp(ts_master_blobs(api->master), rq->tmp, sizeof rq->tmp);
            if (rq->fd < 0)
                return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", ts_error());
            rq->hasher = ts_hasher_new();
        }
        return MHD_YES;
    }
    if (rq->held) { /* back from the tarpit */
        rq->held = false;
        return too_many(c, 1.0 / AUTH_PER_S);
    }
    if (*data_size > 0) {
        if (rq->fd >= 0) {
            ts_hasher_update(rq->hasher, data, *data_size);
            const char *p = data;
            size_t left = *data_size;
            while (left > 0 && !rq->write_error) {
                ssize_t n = write(rq->fd, p, left);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    rq->write_error = errno ? errno : EIO;
                else {
                    p += n;
                    left -= (size_t)n;
                }
            }
            rq->len += *data_size;
        } else if (rq->len + *data_size > JSON_BODY_MAX) {
            rq->too_big = true;
        } else if (api->body_bytes + (long long)*data_size > BODIES_MAX) {
            rq->busy = true;
        } else {
            char *grown = realloc(rq->body, rq->len + *data_size + 1);
            if (!grown)
                return MHD_NO;
            api->body_bytes += (long long)*data_size;
            rq->body = grown;
            memcpy(rq->body + rq->len, data, *data_size);
            rq->len += *data_size;
            rq->body[rq->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    return route(api, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    request_t *rq = *con_cls;
    if (!rq)
        return;
    struct ts_api *api = cls;
    if (rq->serving > 0 && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        api->blob_bytes_served += rq->serving;
    if (rq->fd >= 0) {
        close(rq->fd);
        unlink(rq->tmp);
    }
    if (rq->hasher) {
        char ignored[TS_HASH_HEX];
        ts_hasher_finish(&rq->hasher, ignored);
    }
    if (rq->body)
        api->body_bytes -= (long long)rq->len;
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

/* Reads a whole PEM file into memory (libmicrohttpd takes the certificate and key as text). */
static char *read_pem(const char *option, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        ts_error_set("%s %s: %s", option, path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[4096];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, f)) > 0 && len < (1 << 20))
        fwrite(buf, 1, n, mem);
    bool bad = ferror(f) || !mem;
    fclose(f);
    if (mem)
        fclose(mem);
    if (bad || !text || !strstr(text, "-----BEGIN ")) {
        ts_error_set("%s %s: not a PEM file", option, path);
        free(text);
        return NULL;
    }
    return text;
}

/* HOST:PORT, the host an IPv4 address or an IPv6 one in brackets ([::1]:8080), into addr. */
static int parse_listen(const char *host_port, struct sockaddr_storage *addr, unsigned *port)
{
    char host[256];
    const char *colon = strrchr(host_port, ':');
    if (!colon || colon == host_port || (size_t)(colon - host_port) >= sizeof host ||
        sscanf(colon + 1, "%u", port) != 1 || *port == 0 || *port > 65535)
        return ts_error_set("--http %s: expected HOST:PORT ([ADDRESS]:PORT for IPv6)", host_port);
    snprintf(host, sizeof host, "%.*s", (int)(colon - host_port), host_port);
    memset(addr, 0, sizeof *addr);
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        host[hl - 1] = '\0';
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)*port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return ts_error_set("--http %s: '%s' is not an IPv6 address", host_port, host + 1);
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)*port);
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return ts_error_set("--http %s: '%s' is not an IPv4 address (an IPv6 one goes in brackets)", host_port, host);
    return 0;
}

/* The store's watcher: new events wake the streams and the webhooks. */
static void events_stored(void *arg)
{
    struct ts_api *api = arg;
    ts_events_stored(api->events);
    ts_notify_stored(api->notify);
}

ts_api_t *ts_api_new(ts_master_t *master, const char *host_port)
{
    struct sockaddr_storage addr;
    unsigned port = 0;
    if (parse_listen(host_port, &addr, &port) < 0)
        return NULL;
    const ts_master_options_t *o = ts_master_options(master);
    if (!o->tls_cert != !o->tls_key) {
        ts_error_set("--tls-cert and --tls-key go together");
        return NULL;
    }
    ts_api_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->master = master;
    self->auth_failures = ts_ratelimit_new(AUTH_BURST, AUTH_PER_S);
    self->tarpit = ts_tarpit_new(AUTH_TARPIT_S, API_CONNECTIONS_MAX);
    if (!self->auth_failures || !self->tarpit) {
        ts_error_set("the API: out of memory or threads");
        goto fail;
    }
    if (!(self->events = ts_events_new(ts_master_store(master), TS_SSE_KEEPALIVE_S)) ||
        !(self->notify = ts_notify_new(ts_master_store(master))))
        goto fail;
    self->watch = (ts_store_watch_t){events_stored, self};
    ts_store_events_watch(ts_master_store(master), &self->watch);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (o->tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            ts_error_set("--tls-cert: this libmicrohttpd was built without TLS");
            goto fail;
        }
        if (!(self->tls_cert = read_pem("--tls-cert", o->tls_cert)) || !(self->tls_key = read_pem("--tls-key", o->tls_key)))
            goto fail;
        flags |= MHD_USE_TLS;
    }
    /* epoll, not select: no 1,024-descriptor ceiling; idle and unfinished requests time out; one address gets a
       bounded share, so one client holding connections open locks nobody else out */
    struct MHD_OptionItem tls[] = {
        {self->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, self->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, self->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    self->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, self, MHD_OPTION_SOCK_ADDR, &addr,
                                    MHD_OPTION_NOTIFY_COMPLETED, completed, self, MHD_OPTION_THREAD_POOL_SIZE,
                                    (unsigned)API_THREADS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->http_idle_s,
                                    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->http_per_ip,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONNECTIONS_MAX, MHD_OPTION_ARRAY, tls,
                                    MHD_OPTION_END);
    if (!self->daemon) {
        ts_error_set("--http %s: cannot listen%s", host_port,
                     self->tls_cert ? " (address in use, or the TLS certificate and key do not load or match?)"
                                    : " (address in use?)");
        goto fail;
    }
    return self;
fail:
    ts_store_events_watch(ts_master_store(master), NULL);
    ts_notify_destroy(&self->notify);
    ts_events_destroy(&self->events);
    ts_tarpit_destroy(&self->tarpit);
    ts_ratelimit_destroy(&self->auth_failures);
    free(self->tls_cert);
    free(self->tls_key);
    free(self);
    return NULL;
}

void ts_api_destroy(ts_api_t **self_p)
{
    ts_api_t *self = *self_p;
    if (!self)
        return;
    ts_tarpit_stop(self->tarpit); /* held connections go back to the daemon before it stops */
    ts_events_stop(self->events); /* and the event streams, each ended */
    MHD_stop_daemon(self->daemon);
    ts_store_events_watch(ts_master_store(self->master), NULL); /* the master's threads may still write events */
    ts_notify_destroy(&self->notify);
    ts_events_destroy(&self->events);
    ts_tarpit_destroy(&self->tarpit);
    ts_ratelimit_destroy(&self->auth_failures);
    if (self->tls_key)
        sodium_memzero(self->tls_key, strlen(self->tls_key));
    free(self->tls_cert);
    free(self->tls_key);
    free(self);
    *self_p = NULL;
}
