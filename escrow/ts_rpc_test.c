/* ts_rpc_test: the JSON-RPC client against a canned in-process HTTP server (libmicrohttpd) and a closed port. */
#include "escrow/ts_rpc.h"
#include "lib/ts_error.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RPC_TEST_TIMEOUT_S 5.0
#define RPC_TEST_SHORT_TIMEOUT_S 0.3
#define RPC_TEST_SLOW_US 800000
#define RPC_TEST_BODY_MAX 4096

typedef struct {
    char body[RPC_TEST_BODY_MAX];
    size_t len;
} upload_t;

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answers by method: echo (params back as the result), fail (an execution-reverted error with data), nul (an
 * error message with raw bytes), garbage,
 * http500, noresult, wrongid, slow (after the client's short timeout), null (a null result). */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *data_size, void **con_cls)
{
    upload_t *up = *con_cls;
    if (!up) {
        *con_cls = calloc(1, sizeof(upload_t));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        size_t n = *data_size < sizeof up->body - 1 - up->len ? *data_size : sizeof up->body - 1 - up->len;
        memcpy(up->body + up->len, data, n);
        up->len += n;
        *data_size = 0;
        return MHD_YES;
    }
    json_t *req = json_loadb(up->body, up->len, 0, NULL);
    const char *m = json_string_value(json_object_get(req, "method"));
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *jsonrpc = json_string_value(json_object_get(req, "jsonrpc"));
    json_int_t id = json_integer_value(json_object_get(req, "id"));
    json_t *out = NULL;
    enum MHD_Result ret;
    if (strcmp(method, "POST") != 0 || !m || !ctype || strcmp(ctype, "application/json") != 0 || !jsonrpc ||
        strcmp(jsonrpc, "2.0") != 0) {
        json_decref(req);
        return respond(c, MHD_HTTP_BAD_REQUEST, "bad request");
    }
    if (strcmp(m, "echo") == 0)
        out = json_pack("{s:s, s:I, s:O}", "jsonrpc", "2.0", "id", id, "result", json_object_get(req, "params"));
    else if (strcmp(m, "null") == 0)
        out = json_pack("{s:s, s:I, s:n}", "jsonrpc", "2.0", "id", id, "result");
    else if (strcmp(m, "fail") == 0)
        out = json_pack("{s:s, s:I, s:{s:i, s:s, s:s}}", "jsonrpc", "2.0", "id", id, "error", "code", 3, "message",
                        "execution reverted", "data", "0xdeadbeef");
    else if (strcmp(m, "nul") == 0) /* anvil puts raw revert bytes in messages */
        out = json_pack("{s:s, s:I, s:{s:i, s:s#}}", "jsonrpc", "2.0", "id", id, "error", "code", 3, "message",
                        "reverted: \0\nx", sizeof "reverted: \0\nx" - 1);
    else if (strcmp(m, "noresult") == 0)
        out = json_pack("{s:s, s:I}", "jsonrpc", "2.0", "id", id);
    else if (strcmp(m, "wrongid") == 0)
        out = json_pack("{s:s, s:I, s:i}", "jsonrpc", "2.0", "id", id + 1, "result", 1);
    else if (strcmp(m, "slow") == 0)
        usleep(RPC_TEST_SLOW_US);
    if (out) {
        char *text = json_dumps(out, JSON_COMPACT);
        ret = respond(c, MHD_HTTP_OK, text ? text : "");
        free(text);
        json_decref(out);
    } else if (strcmp(m, "http500") == 0) {
        ret = respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "oops");
    } else {
        ret = respond(c, MHD_HTTP_OK, "this is not json");
    }
    json_decref(req);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

/* A loopback port with nothing listening (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

#define FAIL(...) (fprintf(stderr, "ts_rpc: " __VA_ARGS__), fputc('\n', stderr), rc = -1)

static int run(ts_rpc_t *rpc, ts_rpc_t *impatient, const char *url)
{
    int rc = 0;
    json_t *r = ts_rpc_call(rpc, "echo", json_pack("[s, i]", "0x1", 2));
    if (!json_is_array(r) || json_array_size(r) != 2 || strcmp(json_string_value(json_array_get(r, 0)), "0x1") != 0)
        FAIL("echo: %s", r ? "wrong result" : ts_error());
    json_decref(r);
    r = ts_rpc_call(rpc, "echo", NULL);
    if (!json_is_array(r) || json_array_size(r) != 0)
        FAIL("echo with no params: %s", r ? "wrong result" : ts_error());
    json_decref(r);
    r = ts_rpc_call(rpc, "null", NULL);
    if (!json_is_null(r))
        FAIL("null result: %s", r ? "not null" : ts_error());
    json_decref(r);
    r = ts_rpc_call(rpc, "fail", json_array());
    if (r || strcmp(ts_error(), "fail: execution reverted") != 0 || !ts_rpc_last_error_data(rpc) ||
        strcmp(ts_rpc_last_error_data(rpc), "0xdeadbeef") != 0 || ts_rpc_last_error_code(rpc) != 3)
        FAIL("error object: \"%s\"", ts_error());
    json_decref(r);
    r = ts_rpc_call(rpc, "nul", NULL);
    if (r || strcmp(ts_error(), "nul: reverted: ??x") != 0 || ts_rpc_last_error_data(rpc))
        FAIL("error message with control characters: \"%s\"", ts_error());
    json_decref(r);
    r = ts_rpc_call(rpc, "echo", NULL);
    if (!r || ts_rpc_last_error_data(rpc) || ts_rpc_last_error_code(rpc))
        FAIL("error data kept after a successful call");
    json_decref(r);
    static const struct {
        const char *method, *expect;
    } bad[] = {
        {"garbage", "not a JSON-RPC object"},
        {"http500", "HTTP 500 to http500"},
        {"noresult", "neither result nor error"},
        {"wrongid", "expected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = ts_rpc_call(rpc, bad[i].method, NULL);
        if (r || !strstr(ts_error(), bad[i].expect) || !strstr(ts_error(), url))
            FAIL("%s: \"%s\" should say \"%s\" and name the URL", bad[i].method, ts_error(), bad[i].expect);
        json_decref(r);
    }
    r = ts_rpc_call(impatient, "slow", NULL);
    if (r || !strstr(ts_error(), "is unreachable"))
        FAIL("timeout: \"%s\"", ts_error());
    json_decref(r);
    return rc;
}

int ts_rpc_test(bool verbose)
{
    int rc = 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
                                                MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED, completed,
                                                NULL, MHD_OPTION_END);
    if (!httpd)
        return FAIL("cannot start the test HTTP server");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)info->port);
    ts_rpc_t *rpc = ts_rpc_new(url, RPC_TEST_TIMEOUT_S), *impatient = ts_rpc_new(url, RPC_TEST_SHORT_TIMEOUT_S);
    if (!rpc || !impatient)
        FAIL("new: %s", ts_error());
    else
        rc = run(rpc, impatient, url);
    ts_rpc_destroy(&rpc);
    ts_rpc_destroy(&impatient);
    MHD_stop_daemon(httpd);

    int port = closed_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    rpc = ts_rpc_new(url, RPC_TEST_TIMEOUT_S);
    json_t *r = rpc ? ts_rpc_call(rpc, "eth_chainId", NULL) : NULL;
    char want[128];
    snprintf(want, sizeof want, "chain RPC at %s is unreachable: ", url);
    if (port < 0 || r || strncmp(ts_error(), want, strlen(want)) != 0)
        FAIL("closed port: \"%s\"", ts_error());
    json_decref(r);
    ts_rpc_destroy(&rpc);
    if (ts_rpc_new("", 1) || ts_rpc_new("http://x", 0))
        FAIL("bad arguments accepted");
    if (rc == 0 && verbose)
        printf("ts_rpc: ok\n");
    return rc;
}
