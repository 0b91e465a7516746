/* ts_rpc: JSON-RPC 2.0 requests as HTTP POSTs on a reused curl handle; error objects kept for the caller. */
#include "escrow/ts_rpc.h"
#include "lib/ts_error.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A response beyond this is refused rather than buffered (a full block with transactions is well below it). */
#define RPC_RESPONSE_MAX (64u << 20)
#define RPC_MS_PER_S 1000.0
#define RPC_MESSAGE_SHOWN 300 /* characters of a node's error message put in ts_error */
#define RPC_HTTP_OK 200
#define ASCII_DEL 0x7f

struct ts_rpc {
    char *url;
    CURL *curl;
    struct curl_slist *headers;
    json_int_t next_id;
    char *error_data;
    int error_code;
    char curl_error[CURL_ERROR_SIZE];
    /* The response being received. */
    char *body;
    size_t body_len, body_cap;
    bool too_large;
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc;

static void curl_init_once(void)
{
    s_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    ts_rpc_t *self = arg;
    size_t n = size * nmemb;
    if (n > RPC_RESPONSE_MAX - self->body_len) {
        self->too_large = true;
        return 0;
    }
    if (self->body_len + n + 1 > self->body_cap) {
        size_t cap = self->body_cap ? self->body_cap : CURL_MAX_WRITE_SIZE;
        while (cap < self->body_len + n + 1)
            cap *= 2;
        char *b = realloc(self->body, cap);
        if (!b)
            return 0;
        self->body = b;
        self->body_cap = cap;
    }
    memcpy(self->body + self->body_len, data, n);
    self->body_len += n;
    self->body[self->body_len] = '\0';
    return n;
}

ts_rpc_t *ts_rpc_new(const char *url, double timeout_s)
{
    if (!url || !*url) {
        ts_error_set("no chain RPC URL given");
        return NULL;
    }
    if (!(timeout_s > 0)) {
        ts_error_set("chain RPC timeout must be positive");
        return NULL;
    }
    pthread_once(&s_curl_once, curl_init_once);
    if (s_curl_init_rc != CURLE_OK) {
        ts_error_set("libcurl failed to initialise: %s", curl_easy_strerror(s_curl_init_rc));
        return NULL;
    }
    ts_rpc_t *self = calloc(1, sizeof *self);
    if (!self || !(self->url = strdup(url)) || !(self->curl = curl_easy_init()) ||
        !(self->headers = curl_slist_append(NULL, "Content-Type: application/json"))) {
        ts_rpc_destroy(&self);
        ts_error_set("chain RPC: out of memory");
        return NULL;
    }
    long timeout_ms = (long)(timeout_s * RPC_MS_PER_S);
    CURL *c = self->curl;
    curl_easy_setopt(c, CURLOPT_URL, self->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, self->curl_error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, self);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    self->next_id = 1;
    return self;
}

void ts_rpc_destroy(ts_rpc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ts_rpc_t *self = *self_p;
    if (self->curl)
        curl_easy_cleanup(self->curl);
    curl_slist_free_all(self->headers);
    free(self->url);
    free(self->error_data);
    free(self->body);
    free(self);
    *self_p = NULL;
}

const char *ts_rpc_last_error_data(const ts_rpc_t *self)
{
    return self->error_data;
}

int ts_rpc_last_error_code(const ts_rpc_t *self)
{
    return self->error_code;
}

const char *ts_rpc_url(const ts_rpc_t *self)
{
    return self->url;
}

/* POST the request; the body lands in self->body. -1 with ts_error when there was no complete HTTP exchange. */
static int post(ts_rpc_t *self, const char *request, long *http_status)
{
    self->body_len = 0;
    self->too_large = false;
    self->curl_error[0] = '\0';
    curl_easy_setopt(self->curl, CURLOPT_POSTFIELDS, request);
    CURLcode rc = curl_easy_perform(self->curl);
    if (self->too_large)
        return ts_error_set("chain RPC at %s: response larger than %u bytes", self->url, RPC_RESPONSE_MAX);
    if (rc != CURLE_OK)
        return ts_error_set("chain RPC at %s is unreachable: %s", self->url,
                            self->curl_error[0] ? self->curl_error : curl_easy_strerror(rc));
    curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, http_status);
    return 0;
}

/* Record a JSON-RPC error object and set ts_error to "<method>: <message>". */
static int rpc_error(ts_rpc_t *self, const char *method, json_t *error)
{
    json_t *data = json_object_get(error, "data");
    /* Some nodes nest the revert data one level down: {"data": {"data": "0x..."}}. */
    if (json_is_object(data))
        data = json_object_get(data, "data");
    if (json_is_string(data))
        self->error_data = strdup(json_string_value(data));
    self->error_code = (int)json_integer_value(json_object_get(error, "code"));
    json_t *message = json_object_get(error, "message");
    if (!json_is_string(message))
        return ts_error_set("%s: error %d", method, self->error_code);
    /* Node messages may carry raw bytes (anvil puts revert data in them): keep them to one printable line. */
    char shown[RPC_MESSAGE_SHOWN + 1];
    const char *m = json_string_value(message);
    size_t n = json_string_length(message) < RPC_MESSAGE_SHOWN ? json_string_length(message) : RPC_MESSAGE_SHOWN;
    for (size_t i = 0; i < n; i++)
        shown[i] = ((unsigned char)m[i] < ' ' || m[i] == ASCII_DEL) ? '?' : m[i];
    shown[n] = '\0';
    return ts_error_set("%s: %s", method, shown);
}

json_t *ts_rpc_call(ts_rpc_t *self, const char *method, json_t *params)
{
    free(self->error_data);
    self->error_data = NULL;
    self->error_code = 0;
    if (!params)
        params = json_array();
    json_int_t id = self->next_id++;
    json_t *req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", id, "method", method, "params", params);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text) {
        ts_error_set("%s: cannot encode the request", method);
        return NULL;
    }
    long status = 0;
    int rc = post(self, text, &status);
    free(text);
    if (rc < 0)
        return NULL;
    json_error_t jerr;
    json_t *resp = json_loadb(self->body ? self->body : "", self->body_len, JSON_ALLOW_NUL, &jerr);
    json_t *result = NULL;
    if (!json_is_object(resp)) {
        if (status != RPC_HTTP_OK)
            ts_error_set("chain RPC at %s: HTTP %ld to %s", self->url, status, method);
        else
            ts_error_set("chain RPC at %s: %s response is not a JSON-RPC object (%s)", self->url, method,
                         resp ? "a JSON non-object" : jerr.text);
    } else if (json_is_object(json_object_get(resp, "error"))) {
        rpc_error(self, method, json_object_get(resp, "error"));
    } else if (json_is_integer(json_object_get(resp, "id")) && json_integer_value(json_object_get(resp, "id")) != id) {
        ts_error_set("chain RPC at %s: %s response has id %" JSON_INTEGER_FORMAT ", expected %" JSON_INTEGER_FORMAT,
                     self->url, method, json_integer_value(json_object_get(resp, "id")), id);
    } else if (!(result = json_object_get(resp, "result"))) {
        ts_error_set("chain RPC at %s: %s response has neither result nor error (HTTP %ld)", self->url, method, status);
    } else {
        json_incref(result);
    }
    json_decref(resp);
    return result;
}
