/* ts_api: the master's HTTP/JSON API (libmicrohttpd + jansson); master/openapi.yaml is its contract.
   DESIGN: uploads stream to a temporary file in the blob store while being hashed, so a scene of any size
   never sits in memory; JSON bodies are capped. Every refusal is a JSON {"error": ...} naming the input. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_manifest.h"
#include "lib/ts_request.h"
#include "lib/ts_version.h"
#include "master/ts_jobreq.h"
#include "master/ts_jobtype.h"
#include "master/ts_master.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <arpa/inet.h>
#include <microhttpd.h>
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

struct ts_api {
    ts_master_t *master;
    struct MHD_Daemon *daemon;
    _Atomic long long blob_bytes_served; /* job inputs (and stitched frames) sent to slaves over HTTP */
    _Atomic long long body_bytes;        /* JSON bodies held in memory, all requests together */
};

typedef struct {
    bool started;
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

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    size_t n = text ? strlen(text) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(n, text ? text : (char *)"", MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
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
    size_t i;
    json_t *out;
    json_array_foreach(json_object_get(o, "outputs"), i, out) {
        char name[64];
        ts_jobtype_output_name(&job, (int)json_integer_value(json_object_get(out, "frame")), name, sizeof name);
        json_object_set_new(out, "name", json_string(name));
    }
    return o;
}

static enum MHD_Result submit_job(struct ts_api *api, struct MHD_Connection *c, request_t *rq)
{
    if (rq->too_big)
        return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body is larger than %d bytes", JSON_BODY_MAX);
    ts_job_request_t req;
    if (ts_jobreq_parse(rq->body ? rq->body : "", rq->len, &req) < 0)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "%s", ts_error());
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
    if (strcmp(p, "jobs") == 0 && get)
        return respond(c, MHD_HTTP_OK, json_pack("{s:o}", "jobs", ts_store_jobs_json(store)));
    if (strcmp(p, "jobs") == 0 && post)
        return submit_job(api, c, rq);
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
        return w ? respond(c, MHD_HTTP_OK, w) : respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "wallet: %s", ts_error());
    }
    if (strncmp(p, "wallet/", 7) == 0 && get) {
        /* GET /wallet/{account}: the account's transactions, newest first */
        const char *account = p + 7;
        json_t *h = NULL;
        int rc = ts_store_wallet_history(store, account, WALLET_HISTORY_MAX, &h);
        if (rc == 1)
            return respond_error(c, MHD_HTTP_NOT_FOUND, "no account '%s'", account);
        return rc == 0 ? respond(c, MHD_HTTP_OK, h)
                       : respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "wallet %s: %s", account, ts_error());
    }
    if (strncmp(p, "nodes/", 6) == 0 && post) {
        /* POST /nodes/{id}/lift: an operator ends a node's quarantine */
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
        if (!slash && get) {
            json_t *job = job_view(store, id);
            json_t *checks = job ? ts_store_job_checks_json(store, id) : NULL;
            if (checks)
                json_object_set_new(job, "verification", checks);
            return job ? respond(c, MHD_HTTP_OK, job) : respond_error(c, MHD_HTTP_NOT_FOUND, "no job %lld", (long long)id);
        }
        if (slash && strcmp(slash, "/inputs") == 0 && get) {
            ts_job_t job;
            if (ts_store_job_get(store, id, &job) != 1)
                return respond_error(c, MHD_HTTP_NOT_FOUND, "no job %lld", (long long)id);
            return respond(c, MHD_HTTP_OK, json_pack("{s:o}", "inputs", ts_store_job_inputs_json(store, id)));
        }
        if (slash && strcmp(slash, "/cancel") == 0 && post) {
            int rc = ts_store_job_cancel(store, id);
            if (rc == TS_STORE_UNKNOWN)
                return respond_error(c, MHD_HTTP_NOT_FOUND, "no job %lld", (long long)id);
            if (rc == TS_STORE_ENDED)
                return respond_error(c, MHD_HTTP_CONFLICT, "job %lld has already ended", (long long)id);
            if (rc < 0)
                return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", ts_error());
            ts_info("job %lld cancelled", (long long)id);
            ts_master_kick(api->master);
            return respond(c, MHD_HTTP_OK, job_view(store, id));
        }
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
        if (strcmp(method, "PUT") == 0 && strncmp(url, API_PREFIX "blobs/", strlen(API_PREFIX "blobs/")) == 0) {
            rq->fd = ts_blobs_tmp(ts_master_blobs(api->master), rq->tmp, sizeof rq->tmp);
            if (rq->fd < 0)
                return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", ts_error());
            rq->hasher = ts_hasher_new();
        }
        return MHD_YES;
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

ts_api_t *ts_api_new(ts_master_t *master, const char *host_port)
{
    char host[256];
    unsigned port = 0;
    const char *colon = strrchr(host_port, ':');
    if (!colon || colon == host_port || (size_t)(colon - host_port) >= sizeof host ||
        sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535) {
        ts_error_set("--http %s: expected HOST:PORT", host_port);
        return NULL;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - host_port), host_port);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        ts_error_set("--http %s: '%s' is not an IPv4 address", host_port, host);
        return NULL;
    }
    ts_api_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->master = master;
    /* epoll, not select: no 1,024-descriptor ceiling; idle and unfinished requests time out; one address gets a
       bounded share, so one client holding connections open locks nobody else out */
    const ts_master_options_t *o = ts_master_options(master);
    self->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port,
                                    NULL, NULL, handler, self, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED,
                                    completed, self, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)API_THREADS,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->http_idle_s,
                                    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->http_per_ip,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONNECTIONS_MAX, MHD_OPTION_END);
    if (!self->daemon) {
        ts_error_set("--http %s: cannot listen (address in use?)", host_port);
        free(self);
        return NULL;
    }
    return self;
}

void ts_api_destroy(ts_api_t **self_p)
{
    ts_api_t *self = *self_p;
    if (!self)
        return;
    MHD_stop_daemon(self->daemon);
    free(self);
    *self_p = NULL;
}
