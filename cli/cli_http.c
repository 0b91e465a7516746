/* cli_http: a tiny libcurl + jansson client for the master's API: JSON requests, streamed upload and download. */
#include "cli/cli_http.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLI_HTTP_CONNECT_TIMEOUT_S 10L
#define CLI_HTTP_JSON_TIMEOUT_S 60L
#define CLI_HTTP_STALL_BYTES_PER_S 1L  /* a transfer slower than this ... */
#define CLI_HTTP_STALL_TIME_S 60L      /* ... for this long is given up */
#define CLI_HTTP_JSON_MAX (64L << 20)  /* largest JSON answer accepted */
#define CLI_HTTP_ERROR_MAX (64L << 10) /* largest error body kept from a download */
#define CLI_HTTP_BUF_INITIAL 4096
#define CLI_HTTP_MIB (1024.0 * 1024.0)
#define CLI_HTTP_PERCENT 100
#define CLI_HTTP_USER_AGENT CLI_PROG "-cli/" CLI_VERSION
#define CLI_HTTP_LINE_CLEAR "\r\033[K"
#define CLI_HTTP_AUTH_CAP 1024

struct cli_http {
    CURL *curl;
    char base[CLI_URL_MAX];
    char shown[CLI_URL_MAX];
    char curl_error[CURL_ERROR_SIZE];
    char auth[CLI_HTTP_AUTH_CAP];          /* "Authorization: Bearer <token>", or "" without a token */
    char token_source[CLI_MSG_MAX];        /* where the token came from, for messages */
    char ca_file[CLI_URL_MAX];             /* "" for the system's CAs */
};

typedef struct {
    char *data;
    size_t len, cap, limit;
    bool overflow;
} membuf_t;

static bool membuf_add(membuf_t *b, const char *p, size_t n)
{
    if (b->len + n > b->limit) {
        b->overflow = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : CLI_HTTP_BUF_INITIAL;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static size_t write_mem(char *p, size_t size, size_t n, void *ud)
{
    return membuf_add(ud, p, size * n) ? size * n : 0;
}

/* The first line of the token file (~/.config/tessera/token, or under $XDG_CONFIG_HOME): 1 read, 0 no file, -1 an
   unreadable file (exit 2). */
static int token_file(char *token, size_t cap, char *path, size_t path_cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(path, path_cap, "%s/%s", xdg, CLI_TOKEN_FILE);
    else if (home && *home)
        snprintf(path, path_cap, "%s/.config/%s", home, CLI_TOKEN_FILE);
    else
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : cli_fail(CLI_EXIT_USAGE, "token file %s: %s", path, strerror(errno));
    bool got = fgets(token, (int)cap, f) != NULL;
    fclose(f);
    token[strcspn(token, "\r\n")] = '\0';
    return got && token[0] ? 1 : cli_fail(CLI_EXIT_USAGE, "token file %s: empty", path);
}

/* The token (--token, $TESSERA_TOKEN, the token file, in that order) as the Authorization header; CA file likewise. */
static int credentials(cli_http_t *self, const cli_ctx_t *ctx)
{
    char token[CLI_HTTP_AUTH_CAP - 32] = "", path[CLI_URL_MAX];
    const char *env = getenv(CLI_TOKEN_ENV), *given = ctx->token ? ctx->token : ctx->token_before;
    if (given && !given[0])
        return cli_fail(CLI_EXIT_USAGE, "--token is empty");
    if (given) {
        snprintf(token, sizeof token, "%s", given);
        snprintf(self->token_source, sizeof self->token_source, "--token");
    } else if (env && *env) {
        snprintf(token, sizeof token, "%s", env);
        snprintf(self->token_source, sizeof self->token_source, "$%s", CLI_TOKEN_ENV);
    } else {
        int rc = token_file(token, sizeof token, path, sizeof path);
        if (rc < 0)
            return -1;
        if (rc == 1)
            snprintf(self->token_source, sizeof self->token_source, "%s", path);
    }
    if (strpbrk(token, "\r\n"))
        return cli_fail(CLI_EXIT_USAGE, "the token from %s holds a line break", self->token_source);
    if (token[0])
        snprintf(self->auth, sizeof self->auth, "Authorization: Bearer %s", token);
    const char *ca_given = ctx->ca_file ? ctx->ca_file : ctx->ca_file_before;
    const char *ca = ca_given ? ca_given : getenv(CLI_CA_ENV);
    if (ca && *ca) {
        if (access(ca, R_OK) != 0)
            return cli_fail(CLI_EXIT_USAGE, "%s %s: %s", ca_given ? "--ca-file" : "$" CLI_CA_ENV, ca,
                            strerror(errno));
        snprintf(self->ca_file, sizeof self->ca_file, "%s", ca);
    }
    return 0;
}

/* A request's headers: first (may be NULL), then the token's. */
static struct curl_slist *headers_with_auth(const cli_http_t *self, const char *first)
{
    struct curl_slist *h = first ? curl_slist_append(NULL, first) : NULL;
    if (self->auth[0])
        h = curl_slist_append(h, self->auth);
    return h;
}

cli_http_t *cli_http_new(const cli_ctx_t *ctx)
{
    cli_http_t *self = calloc(1, sizeof *self);
    if (!self) {
        cli_fail(CLI_EXIT_MASTER, "out of memory");
        return NULL;
    }
    cli_url_redact(ctx->master, self->shown, sizeof self->shown);
    if (cli_master_url(ctx->master, self->base, sizeof self->base) < 0) {
        cli_fail(CLI_EXIT_USAGE, "%s '%s': %s", ctx->source, self->shown, ts_error());
        free(self);
        return NULL;
    }
    cli_url_redact(self->base, self->shown, sizeof self->shown);
    if (credentials(self, ctx) < 0) {
        free(self);
        return NULL;
    }
    self->curl = curl_easy_init();
    if (!self->curl) {
        cli_fail(CLI_EXIT_MASTER, "cannot start libcurl");
        free(self);
        return NULL;
    }
    return self;
}

void cli_http_free(cli_http_t **self_p)
{
    cli_http_t *self = *self_p;
    if (!self)
        return;
    curl_easy_cleanup(self->curl);
    free(self);
    *self_p = NULL;
}

const char *cli_http_shown(const cli_http_t *self)
{
    return self->shown;
}

/* Resets the handle (keeping its connections) and sets what every request shares. */
static int setup(cli_http_t *self, const char *path, cli_reply_t *reply, char **url_out)
{
    memset(reply, 0, sizeof *reply);
    char *url = cli_url_join(self->base, path);
    if (!url) {
        reply->local = true;
        snprintf(reply->error, sizeof reply->error, "out of memory");
        return -1;
    }
    CURL *c = self->curl;
    curl_easy_reset(c);
    self->curl_error[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, self->curl_error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CLI_HTTP_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_USERAGENT, CLI_HTTP_USER_AGENT);
    if (self->ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, self->ca_file);
    snprintf(reply->token_source, sizeof reply->token_source, "%s", self->token_source);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    *url_out = url;
    return 0;
}

static int transport_failed(cli_http_t *self, CURLcode rc, cli_reply_t *reply)
{
    reply->status = 0;
    snprintf(reply->error, sizeof reply->error, "cannot reach the master at %s (%s)", self->shown,
             self->curl_error[0] ? self->curl_error : curl_easy_strerror(rc));
    return -1;
}

/* Turns an answer's status and body into the reply; 0 only for a 2xx JSON answer. */
static int read_answer(cli_http_t *self, long status, const membuf_t *body, cli_reply_t *reply)
{
    reply->status = status;
    json_error_t jerr;
    json_t *json = body->len ? json_loadb(body->data, body->len, 0, &jerr) : NULL;
    if (status >= 200 && status < 300) {
        if (json) {
            reply->json = json;
            return 0;
        }
        snprintf(reply->error, sizeof reply->error, "the master at %s answered HTTP %ld with %s", self->shown,
                 status, body->overflow ? "a body too large" : "a body that is not JSON");
        return -1;
    }
    const char *msg = json ? json_string_value(json_object_get(json, "error")) : NULL;
    if (msg)
        snprintf(reply->error, sizeof reply->error, "%s", msg);
    else
        snprintf(reply->error, sizeof reply->error, "HTTP %ld without an error message", status);
    json_decref(json);
    return -1;
}

/* After curl_easy_perform: an HTTP answer wins over a transfer error (the master may answer 4xx
   and close before reading a whole upload). */
static int conclude(cli_http_t *self, CURLcode rc, const membuf_t *body, cli_reply_t *reply)
{
    long status = 0;
    curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK && status < 400) {
        if (rc == CURLE_WRITE_ERROR && body->overflow) {
            reply->status = status;
            snprintf(reply->error, sizeof reply->error, "the master at %s answered with a body too large",
                     self->shown);
            return -1;
        }
        return transport_failed(self, rc, reply);
    }
    return read_answer(self, status, body, reply);
}

int cli_http_json(cli_http_t *self, const char *method, const char *path, const json_t *body,
                  cli_reply_t *reply)
{
    char *url = NULL;
    if (setup(self, path, reply, &url) < 0)
        return -1;
    CURL *c = self->curl;
    membuf_t answer = {.limit = CLI_HTTP_JSON_MAX};
    struct curl_slist *headers = headers_with_auth(self, "Accept: application/json");
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        headers = curl_slist_append(headers, "Content-Type: application/json");
        if (!text || !headers) {
            curl_slist_free_all(headers);
            free(text);
            free(url);
            reply->local = true;
            snprintf(reply->error, sizeof reply->error, "out of memory");
            return -1;
        }
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(text ? strlen(text) : 0));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, CLI_HTTP_JSON_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_mem);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    CURLcode rc = curl_easy_perform(c);
    int ret = conclude(self, rc, &answer, reply);
    curl_slist_free_all(headers);
    free(text);
    free(answer.data);
    free(url);
    return ret;
}

typedef struct {
    FILE *f;
    int64_t size, sent; /* the body's length, and the bytes read so far (never more than size) */
    int read_errno;
    bool short_read; /* the file ended before size bytes */
    const char *label;
    int last_percent;
    cli_put_watch_t *watch;
} upload_t;

static size_t read_file(char *buf, size_t size, size_t n, void *ud)
{
    upload_t *up = ud;
    size_t want = size * n;
    if ((int64_t)want > up->size - up->sent)
        want = (size_t)(up->size - up->sent);
    if (want == 0)
        return 0;
    size_t got = fread(buf, 1, want, up->f);
    if (got == 0 && ferror(up->f)) {
        up->read_errno = errno ? errno : EIO;
        return CURL_READFUNC_ABORT;
    }
    if (got == 0) { /* the file is shorter than when it was measured */
        up->short_read = true;
        return CURL_READFUNC_ABORT;
    }
    up->sent += (int64_t)got;
    if (up->watch && up->watch->hasher)
        ts_hasher_update(up->watch->hasher, buf, got);
    if (up->watch && up->watch->progress)
        up->watch->progress(up->watch->ud, up->sent);
    return got;
}

static int upload_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    upload_t *up = ud;
    if (ultotal <= 0)
        return 0;
    int percent = (int)(ulnow * CLI_HTTP_PERCENT / ultotal);
    if (percent != up->last_percent) {
        up->last_percent = percent;
        fprintf(stderr, "\r%s %3d%% (%.1f of %.1f MiB)\033[K", up->label, percent, (double)ulnow / CLI_HTTP_MIB,
                (double)ultotal / CLI_HTTP_MIB);
    }
    return 0;
}

static int put_file(cli_http_t *self, const char *path, FILE *f, int64_t size, const char *progress_label,
                    cli_put_watch_t *watch, cli_reply_t *reply)
{
    char *url = NULL;
    if (setup(self, path, reply, &url) < 0)
        return -1;
    CURL *c = self->curl;
    membuf_t answer = {.limit = CLI_HTTP_JSON_MAX};
    upload_t up = {.f = f, .size = size, .label = progress_label, .last_percent = -1, .watch = watch};
    struct curl_slist *headers = headers_with_auth(self, "Content-Type: application/octet-stream");
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_file);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, CLI_HTTP_STALL_BYTES_PER_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, CLI_HTTP_STALL_TIME_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_mem);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    if (watch && watch->max_send_speed > 0)
        curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)watch->max_send_speed);
    if (progress_label) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, upload_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &up);
    }
    CURLcode rc = curl_easy_perform(c);
    if (progress_label && up.last_percent >= 0)
        fputs(CLI_HTTP_LINE_CLEAR, stderr);
    int ret;
    if (up.read_errno || up.short_read) {
        reply->local = true;
        if (up.read_errno)
            snprintf(reply->error, sizeof reply->error, "reading the file failed: %s", strerror(up.read_errno));
        else
            snprintf(reply->error, sizeof reply->error, "the file ended after %lld of its %lld bytes",
                     (long long)up.sent, (long long)size);
        ret = -1;
    } else {
        ret = conclude(self, rc, &answer, reply);
    }
    if (watch) {
        watch->sent = up.sent;
        watch->short_read = up.short_read;
    }
    curl_slist_free_all(headers);
    free(answer.data);
    free(url);
    return ret;
}

int cli_http_put_file(cli_http_t *self, const char *path, FILE *f, int64_t size,
                      const char *progress_label, cli_reply_t *reply)
{
    return put_file(self, path, f, size, progress_label, NULL, reply);
}

int cli_http_put_watched(cli_http_t *self, const char *path, FILE *f, int64_t size, cli_put_watch_t *watch,
                         cli_reply_t *reply)
{
    return put_file(self, path, f, size, NULL, watch, reply);
}

typedef struct {
    CURL *curl;
    int fd;
    ts_hasher_t *hasher;
    int64_t bytes;
    membuf_t error_body;
    int write_errno;
    bool decided, is_error;
} sink_t;

static size_t write_sink(char *p, size_t size, size_t n, void *ud)
{
    sink_t *s = ud;
    size_t len = size * n;
    if (!s->decided) {
        long status = 0;
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
        s->is_error = status < 200 || status >= 300;
        s->decided = true;
    }
    if (s->is_error)
        return membuf_add(&s->error_body, p, len) ? len : 0;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(s->fd, p + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            s->write_errno = errno;
            return 0;
        }
        off += (size_t)w;
    }
    if (s->hasher)
        ts_hasher_update(s->hasher, p, len);
    s->bytes += (int64_t)len;
    return len;
}

int cli_http_get_file(cli_http_t *self, const char *path, int fd, ts_hasher_t *hasher, int64_t *bytes,
                      cli_reply_t *reply)
{
    char *url = NULL;
    if (setup(self, path, reply, &url) < 0)
        return -1;
    CURL *c = self->curl;
    sink_t sink = {.curl = c, .fd = fd, .hasher = hasher, .error_body = {.limit = CLI_HTTP_ERROR_MAX}};
    struct curl_slist *headers = headers_with_auth(self, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, CLI_HTTP_STALL_BYTES_PER_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, CLI_HTTP_STALL_TIME_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    int ret = -1;
    if (sink.write_errno) {
        reply->status = status;
        reply->local = true;
        snprintf(reply->error, sizeof reply->error, "writing the file failed: %s", strerror(sink.write_errno));
    } else if (status >= 200 && status < 300) {
        if (rc == CURLE_OK)
            ret = 0;
        else
            transport_failed(self, rc, reply);
    } else {
        ret = conclude(self, rc, &sink.error_body, reply);
        if (ret == 0) { /* a non-2xx status never counts as a download, whatever its body */
            json_decref(reply->json);
            reply->json = NULL;
            ret = -1;
        }
    }
    *bytes = sink.bytes;
    curl_slist_free_all(headers);
    free(sink.error_body.data);
    free(url);
    return ret;
}

typedef struct {
    CURL *curl;
    const cli_stream_t *stream;
    membuf_t error_body;
    double last;                   /* monotonic time of the last byte */
    bool decided, is_error, stopped, silent;
} flow_t;

static size_t write_flow(char *p, size_t size, size_t n, void *ud)
{
    flow_t *f = ud;
    size_t len = size * n;
    if (!f->decided) {
        long status = 0;
        curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
        f->is_error = status < 200 || status >= 300;
        f->decided = true;
    }
    if (f->is_error)
        return membuf_add(&f->error_body, p, len) ? len : 0;
    f->last = ts_clock_mono();
    if (!f->stream->data(f->stream->ud, p, len)) {
        f->stopped = true;
        return 0;
    }
    return len;
}

static int flow_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    flow_t *f = ud;
    if (f->stream->cancelled && f->stream->cancelled(f->stream->ud))
        f->stopped = true;
    else if (f->stream->idle_s > 0 && ts_clock_mono() - f->last > f->stream->idle_s)
        f->silent = true;
    return f->stopped || f->silent;
}

int cli_http_stream(cli_http_t *self, const char *path, const char *header, const cli_stream_t *stream,
                    cli_reply_t *reply)
{
    char *url = NULL;
    if (setup(self, path, reply, &url) < 0)
        return -1;
    CURL *c = self->curl;
    flow_t flow = {.curl = c, .stream = stream, .error_body = {.limit = CLI_HTTP_ERROR_MAX}, .last = ts_clock_mono()};
    struct curl_slist *headers = headers_with_auth(self, "Accept: text/event-stream");
    if (header)
        headers = curl_slist_append(headers, header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_flow);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &flow);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, flow_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &flow);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    int ret = 0;
    if (flow.stopped) {
        reply->status = status;
    } else if (flow.is_error) {
        ret = conclude(self, rc, &flow.error_body, reply); /* -1: not a 2xx */
    } else if (flow.silent) {
        reply->status = status;
        snprintf(reply->error, sizeof reply->error, "the master at %s sent nothing for %.0f s", self->shown,
                 stream->idle_s);
        ret = -1;
    } else if (rc != CURLE_OK) {
        ret = transport_failed(self, rc, reply);
        reply->status = status;
    }
    curl_slist_free_all(headers);
    free(flow.error_body.data);
    free(url);
    return ret;
}

int cli_fail_reply(const cli_reply_t *reply, const char *missing, const char *fmt, ...)
{
    char prefix[CLI_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    long status = reply->status;
    if (reply->local)
        return cli_fail(CLI_EXIT_USAGE, "%s: %s", prefix, reply->error);
    if (status == 401 && !reply->token_source[0])
        return cli_fail(CLI_EXIT_AUTH, "%s: the master wants a token: give one with --token, $%s or ~/.config/%s (the "
                        "farm's operator has one in the master's STATE/operator.token and makes requesters' with `%s "
                        "account add`)", prefix, CLI_TOKEN_ENV, CLI_TOKEN_FILE, CLI_PROG);
    if (status == 401)
        return cli_fail(CLI_EXIT_AUTH, "%s: the master refused the token from %s: %s (ask the farm's operator for a "
                        "valid one)", prefix, reply->token_source, reply->error);
    if (status == 403 || status == 429)
        return cli_fail(CLI_EXIT_AUTH, "%s: %s", prefix, reply->error);
    if (status == 404)
        return cli_fail(CLI_EXIT_UNKNOWN, "%s: %s (master says: %s)", prefix, missing ? missing : "not found",
                        reply->error);
    if (status >= 400 && status < 500)
        return cli_fail(CLI_EXIT_USAGE, "%s: rejected by the master: %s", prefix, reply->error);
    if (status >= 500)
        return cli_fail(CLI_EXIT_MASTER, "%s: the master failed (HTTP %ld): %s", prefix, status, reply->error);
    return cli_fail(CLI_EXIT_MASTER, "%s: %s", prefix, reply->error);
}

long cli_json_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : json_is_real(v) ? (long)json_real_value(v) : 0;
}

double cli_json_num(const json_t *obj, const char *key)
{
    return json_number_value(json_object_get(obj, key));
}

const char *cli_json_str(const json_t *obj, const char *key, const char *def)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : def;
}

void cli_print_json(const json_t *json)
{
    json_dumpf(json, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
}

int cli_http_command(cli_ctx_t *ctx, int argc, char **argv, const char *synopsis, const char *summary, char **pos,
                     int min_pos, int max_pos, int *npos, const char *what, bool *json, cli_http_t **http)
{
    const char *master = NULL;
    ts_opt_t table[] = {
        {"json", TS_OPT_FLAG, NULL, 1, 0, json, "print the master's JSON instead of text"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    *npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, max_pos, npos, synopsis, summary);
    if (parsed != 0)
        return parsed;
    if (*npos < min_pos)
        return cli_fail(CLI_EXIT_USAGE, "which %s? (usage: %s %s)", what, CLI_PROG, synopsis);
    cli_ctx_override(ctx, master);
    *http = cli_http_new(ctx);
    return *http ? 0 : -1;
}
