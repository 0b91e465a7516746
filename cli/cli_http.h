/* cli_http: a tiny libcurl + jansson client for the master's HTTP/JSON API (JSON calls, file up/download). */
#ifndef TS_CLI_HTTP_H
#define TS_CLI_HTTP_H

#include "cli/cli.h"
#include "lib/ts_hash.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cli_http cli_http_t;

/* The outcome of one request. */
typedef struct {
    long status;             /* HTTP status; 0 when the master could not be reached */
    bool local;              /* the failure was local (reading the upload, writing the download) */
    json_t *json;            /* the parsed body of a 2xx answer (caller decrefs), else NULL */
    char error[CLI_MSG_MAX]; /* on failure: the master's "error" text, or what went wrong */
    char token_source[CLI_MSG_MAX]; /* where the token sent came from ("" for none), for a 401's message */
} cli_reply_t;

/* A command of the master's API taking [--json] [--master URL] and up to max_pos positionals (at least min_pos:
   else "which <what>?"): parses them and opens the client. 0 ready (*http set), 1 help shown, -1 usage error. */
int cli_http_command(cli_ctx_t *ctx, int argc, char **argv, const char *synopsis, const char *summary, char **pos,
                     int min_pos, int max_pos, int *npos, const char *what, bool *json, cli_http_t **http);

/* A client for the master at ctx's URL; NULL with cli_fail(CLI_EXIT_USAGE) when the URL is bad. */
cli_http_t *cli_http_new(const cli_ctx_t *ctx);
void cli_http_free(cli_http_t **self_p);
/* The master URL without credentials, for messages. */
const char *cli_http_shown(const cli_http_t *self);

/* method path [JSON body] -> JSON. 0 on a 2xx JSON answer (reply->json set), else -1 with reply
   filled (ts_error() not set: report with cli_fail_reply). */
int cli_http_json(cli_http_t *self, const char *method, const char *path, const json_t *body,
                  cli_reply_t *reply);
/* PUT path with the rest of f (size bytes) streamed as the body; JSON answer as cli_http_json.
   progress_label: when not NULL, a progress line with that label is drawn on stderr. */
int cli_http_put_file(cli_http_t *self, const char *path, FILE *f, int64_t size,
                      const char *progress_label, cli_reply_t *reply);
/* What a watched PUT reads from its file, so that its caller can tell the bytes sent from the bytes it hashed. */
typedef struct {
    ts_hasher_t *hasher;                      /* fed every byte sent; may be NULL */
    void (*progress)(void *ud, int64_t sent); /* told the bytes read so far, as they are read; may be NULL */
    void *ud;
    int64_t max_send_speed;                   /* bytes per second; 0: no limit */
    int64_t sent;                             /* out: the bytes read from the file (at most size) */
    bool short_read;                          /* out: the file ended before size bytes */
} cli_put_watch_t;
/* cli_http_put_file without a progress line, reporting to watch as it reads. */
int cli_http_put_watched(cli_http_t *self, const char *path, FILE *f, int64_t size, cli_put_watch_t *watch,
                         cli_reply_t *reply);
/* GET path; a 2xx body is written to fd and fed to hasher (may be NULL); *bytes gets its length.
   -1 with reply filled on an HTTP error; -1 with reply->status 2xx and reply->error on a local
   write error. */
int cli_http_get_file(cli_http_t *self, const char *path, int fd, ts_hasher_t *hasher, int64_t *bytes,
                      cli_reply_t *reply);

/* What a streamed GET does with its body (cli_http_stream). */
typedef struct {
    bool (*data)(void *ud, const char *p, size_t n); /* each piece of a 2xx body as it comes; false stops the stream */
    bool (*cancelled)(void *ud);                      /* asked at least once a second; true stops the stream */
    double idle_s;                                    /* a body silent this long is given up (0: never) */
    void *ud;
} cli_stream_t;
/* GET path (with one more header line, may be NULL) as a stream of unknown length. 0 when the body ended or the
   caller stopped it; -1 with reply filled when the master could not be reached, the stream was cut or went silent
   (reply->status 0 or 2xx, reply->error says), or the master refused (its status and error). */
int cli_http_stream(cli_http_t *self, const char *path, const char *header, const cli_stream_t *stream,
                    cli_reply_t *reply);

/* Reports a failed request: sets ts_error() to "<prefix>: <what happened>" and the exit code from
   the status (local: 2, 0/5xx/bad 2xx: 4, 404: 3 with missing as the text, 401/403/429: 6, other 4xx: 2).
   Returns -1. */
int cli_fail_reply(const cli_reply_t *reply, const char *missing, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Members of a JSON object: 0 / 0.0 / def when missing or of another type. */
long cli_json_int(const json_t *obj, const char *key);
double cli_json_num(const json_t *obj, const char *key);
const char *cli_json_str(const json_t *obj, const char *key, const char *def);

/* Prints JSON to stdout, indented, with a final newline. */
void cli_print_json(const json_t *json);

#endif
