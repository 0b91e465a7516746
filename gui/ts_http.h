/* ts_http: the app's blocking calls to the master's API (libcurl), for worker threads only: a GET whose body comes
   back whole, a POST of JSON, a GET whose body is saved to a file, and a GET streamed piece by piece (the event stream). Each call
   has its own curl handle, so threads never share one; the settings are read-only while calls run. */
#ifndef TS_HTTP_H
#define TS_HTTP_H

#include "gui/ts_config.h"
#include <gio/gio.h>

#define TS_HTTP_ERROR (ts_http_error_quark())
GQuark ts_http_error_quark(void);
/* Error codes: TS_HTTP_UNREACHABLE (no answer: the master is away), else the HTTP status the master answered. */
#define TS_HTTP_UNREACHABLE 0
#define TS_HTTP_LOCAL 1 /* a local failure (writing a file, out of memory) */

/* GET path; the body (up to max bytes) of a 2xx answer. NULL with *error: the master's own "error" text when it
   gave one. cancellable may be NULL. */
GBytes *ts_http_get(const TsConfig *cfg, const char *path, gsize max, GCancellable *cancellable, GError **error);
/* GET path as JSON (a json_t *, decref it); NULL with *error. */
void *ts_http_get_json(const TsConfig *cfg, const char *path, GCancellable *cancellable, GError **error);
/* POST body (a json_t *; NULL: {}) to path as JSON; the answer as JSON (decref it; {} when empty). NULL with
   *error: the master's own "error" text when it gave one. */
void *ts_http_post_json(const TsConfig *cfg, const char *path, const void *body, GCancellable *cancellable,
                        GError **error);
/* GET path into the file dest (written beside it and renamed in). FALSE with *error. */
gboolean ts_http_download(const TsConfig *cfg, const char *path, const char *dest, GCancellable *cancellable,
                          GError **error);

/* GET path as a stream: each piece of a 2xx body goes to data as it comes (return FALSE to stop); header is one
   more header line (may be NULL); a body silent for idle_s seconds is given up. Returns when the stream ends, is
   stopped or cancelled (TRUE), or fails (FALSE with *error: unreachable, cut, silent, or the master's refusal). */
gboolean ts_http_stream(const TsConfig *cfg, const char *path, const char *header, double idle_s,
                        gboolean (*data)(const char *p, gsize n, gpointer ud), gpointer ud, GCancellable *cancellable,
                        GError **error);

#endif
