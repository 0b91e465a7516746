/* ts_http: the app's blocking libcurl calls to the master's API, for worker threads (see ts_http.h). */
#include "gui/ts_http.h"
#include <curl/curl.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 5L
#define GET_TIMEOUT_S 60L
#define POST_TIMEOUT_S 60L
#define DOWNLOAD_STALL_S 60L   /* a download slower than 1 byte a second for this long is given up */
#define ERROR_BODY_MAX (64 << 10)
#define JSON_MAX (64 << 20)
#define USER_AGENT "tessera-gui"

G_DEFINE_QUARK(ts-http-error-quark, ts_http_error)

/* One call: what the callbacks need. */
typedef struct {
    GCancellable *cancellable;
    GByteArray *body;       /* a whole body, or the error body of a stream or download */
    gsize max;
    gboolean too_big;
    FILE *file;             /* a download's file */
    gboolean write_failed;
    gboolean (*data)(const char *p, gsize n, gpointer ud); /* a stream's reader */
    gpointer ud;
    gboolean stopped;       /* the stream's reader said stop */
    double idle_s, last_data; /* a stream: give up when silent this long (monotonic seconds) */
    gboolean silent;
    CURL *handle;
    long status;            /* the answer's status, read from the handle at its first body byte */
    const char *send;       /* a POST's JSON body, or NULL for a GET */
} call_t;

static double now_s(void)
{
    return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    call_t *c = ud;
    size_t len = size * n;
    c->last_data = now_s();
    if (c->status == 0)
        curl_easy_getinfo(c->handle, CURLINFO_RESPONSE_CODE, &c->status);
    gboolean ok2xx = c->status >= 200 && c->status < 300;
    if (ok2xx && c->data) {
        if (!c->data(p, len, c->ud)) {
            c->stopped = TRUE;
            return 0;
        }
        return len;
    }
    if (ok2xx && c->file) {
        if (fwrite(p, 1, len, c->file) != len) {
            c->write_failed = TRUE;
            return 0;
        }
        return len;
    }
    gsize limit = ok2xx ? c->max : ERROR_BODY_MAX;
    if (c->body->len + len > limit) {
        c->too_big = TRUE;
        return 0;
    }
    g_byte_array_append(c->body, (const guint8 *)p, (guint)len);
    return len;
}

/* Stops the transfer when cancelled, or when a stream has been silent too long. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    call_t *c = ud;
    if (c->cancellable && g_cancellable_is_cancelled(c->cancellable))
        return 1;
    if (c->idle_s > 0 && now_s() - c->last_data > c->idle_s) {
        c->silent = TRUE;
        return 1;
    }
    return 0;
}

/* The master's "error" text from an error body, else the body's start, else the status's meaning. */
static char *error_text(const call_t *c)
{
    json_t *o = c->body->len ? json_loadb((const char *)c->body->data, c->body->len, 0, NULL) : NULL;
    const char *e = json_string_value(json_object_get(o, "error"));
    char *text = e ? g_strdup(e) : c->body->len ? g_strndup((const char *)c->body->data, MIN(c->body->len, 200))
                                                : g_strdup("no explanation");
    json_decref(o);
    return text;
}

/* Runs one GET (a POST when c->send is set). TRUE on a 2xx answer taken whole; else FALSE with *error. */
static gboolean perform(const TsConfig *cfg, const char *path, const char *header, call_t *c, long timeout_s,
                        GError **error)
{
    CURL *h = curl_easy_init();
    if (!h) {
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "cannot start an HTTP call");
        return FALSE;
    }
    char curl_error[CURL_ERROR_SIZE] = "";
    g_autofree char *url = g_strconcat(cfg->master, path, NULL);
    g_autofree char *auth = g_strconcat("Authorization: Bearer ", cfg->token ? cfg->token : "", NULL);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    if (header)
        headers = curl_slist_append(headers, header);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->send) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->send);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(c->send));
    }
    if (cfg->ca_file && cfg->ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    if (timeout_s > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    c->last_data = now_s();
    c->handle = h;
    c->status = 0;
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    if (c->cancellable && g_cancellable_is_cancelled(c->cancellable)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
        return FALSE;
    }
    if (c->stopped)
        return TRUE;
    if (c->write_failed || c->too_big) {
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "%s %s: %s", cfg->master, path,
                    c->too_big ? "the answer is larger than expected" : g_strerror(errno));
        return FALSE;
    }
    if (c->silent) {
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_UNREACHABLE, "silent for %.0f s", c->idle_s);
        return FALSE;
    }
    if (rc != CURLE_OK) { /* cut, timed out or refused: a 2xx body that did not end is no answer either */
        if (status >= 300) {
            g_autofree char *e = error_text(c);
            g_set_error(error, TS_HTTP_ERROR, (int)status, "HTTP %ld: %s", status, e);
        } else {
            g_set_error(error, TS_HTTP_ERROR, TS_HTTP_UNREACHABLE, "%s",
                        curl_error[0] ? curl_error : curl_easy_strerror(rc)); /* the master's URL is the title's */
        }
        return FALSE;
    }
    if (status < 200 || status >= 300) {
        g_autofree char *e = error_text(c);
        g_set_error(error, TS_HTTP_ERROR, (int)status, "HTTP %ld: %s", status, e);
        return FALSE;
    }
    return TRUE;
}

GBytes *ts_http_get(const TsConfig *cfg, const char *path, gsize max, GCancellable *cancellable, GError **error)
{
    call_t c = {.cancellable = cancellable, .body = g_byte_array_new(), .max = max};
    if (!perform(cfg, path, NULL, &c, GET_TIMEOUT_S, error)) {
        g_byte_array_unref(c.body);
        return NULL;
    }
    return g_byte_array_free_to_bytes(c.body);
}

void *ts_http_get_json(const TsConfig *cfg, const char *path, GCancellable *cancellable, GError **error)
{
    g_autoptr(GBytes) body = ts_http_get(cfg, path, JSON_MAX, cancellable, error);
    if (!body)
        return NULL;
    gsize len;
    const char *p = g_bytes_get_data(body, &len);
    json_error_t je;
    json_t *o = json_loadb(p ? p : "", len, 0, &je);
    if (!o)
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "%s: the master's answer is not JSON: %s", path, je.text);
    return o;
}

void *ts_http_post_json(const TsConfig *cfg, const char *path, const void *body, GCancellable *cancellable,
                        GError **error)
{
    g_autofree char *text = body ? json_dumps(body, JSON_COMPACT) : g_strdup("{}");
    if (!text) {
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "%s: the request's body cannot be written as JSON", path);
        return NULL;
    }
    call_t c = {.cancellable = cancellable, .body = g_byte_array_new(), .max = JSON_MAX, .send = text};
    gboolean ok = perform(cfg, path, "Content-Type: application/json", &c, POST_TIMEOUT_S, error);
    g_autoptr(GBytes) answer = g_byte_array_free_to_bytes(c.body);
    if (!ok)
        return NULL;
    gsize len;
    const char *p = g_bytes_get_data(answer, &len);
    json_error_t je;
    json_t *o = len ? json_loadb(p, len, 0, &je) : json_object(); /* an empty answer is an empty object */
    if (!o)
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "%s: the master's answer is not JSON: %s", path, je.text);
    return o;
}

gboolean ts_http_download(const TsConfig *cfg, const char *path, const char *dest, GCancellable *cancellable,
                          GError **error)
{
    g_autofree char *part = g_strconcat(dest, ".part", NULL);
    FILE *f = g_fopen(part, "wb");
    if (!f) {
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "%s: %s", part, g_strerror(errno));
        return FALSE;
    }
    call_t c = {.cancellable = cancellable, .body = g_byte_array_new(), .file = f, .idle_s = DOWNLOAD_STALL_S};
    gboolean ok = perform(cfg, path, NULL, &c, 0, error);
    g_byte_array_unref(c.body);
    if (fclose(f) != 0 && ok) {
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "%s: %s", part, g_strerror(errno));
        ok = FALSE;
    }
    if (ok && g_rename(part, dest) != 0) {
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_LOCAL, "%s: %s", dest, g_strerror(errno));
        ok = FALSE;
    }
    if (!ok)
        g_unlink(part);
    return ok;
}

gboolean ts_http_stream(const TsConfig *cfg, const char *path, const char *header, double idle_s,
                        gboolean (*data)(const char *p, gsize n, gpointer ud), gpointer ud, GCancellable *cancellable,
                        GError **error)
{
    call_t c = {.cancellable = cancellable, .body = g_byte_array_new(), .data = data, .ud = ud, .idle_s = idle_s};
    gboolean ok = perform(cfg, path, header, &c, 0, error);
    g_byte_array_unref(c.body);
    if (ok && !c.stopped) { /* the master ended the stream: it is going away */
        g_set_error(error, TS_HTTP_ERROR, TS_HTTP_UNREACHABLE, "the event stream ended");
        return FALSE;
    }
    return ok;
}
