/* ts_session: the app signed in to one master: the artist's jobs kept current, the connection's state, and
   asynchronous calls for everything else. All network work runs off the main thread; results come back on it.
   DESIGN: one watcher thread follows GET /api/v1/events (server-sent events), resuming with Last-Event-ID after a
   cut; a master without that route is polled instead (GET /api/v1/jobs every TS_SESSION_POLL_S). Either way a lost
   master shows as disconnected and the thread tries again every TS_SESSION_RETRY_S until it answers, then the app
   fetches everything afresh ("resync"). Job events refresh the jobs list (at most one fetch in flight, coalesced);
   task events go to whoever listens ("event"). */
#ifndef TS_SESSION_H
#define TS_SESSION_H

#include "gui/ts_config.h"
#include "gui/ts_job_list.h"
#include <gdk/gdk.h>
#include <gio/gio.h>

G_BEGIN_DECLS

#define TS_SESSION_POLL_S 2.0
#define TS_SESSION_RETRY_S 2.0

#define TS_TYPE_SESSION (ts_session_get_type())
G_DECLARE_FINAL_TYPE(TsSession, ts_session, TS, SESSION, GObject)

/* Signals: "status-changed" (connected or not, and why), "event" (gpointer: the event's json_t *, borrowed for the
   call), "resync" (connected again: fetch what is shown afresh), "jobs-refreshed" (a snapshot of the jobs applied). */
TsSession *ts_session_new(const TsConfig *cfg);
/* Starts the watcher thread; ts_session_stop (or disposing) ends it. */
void ts_session_start(TsSession *self);
void ts_session_stop(TsSession *self);
const TsConfig *ts_session_get_config(TsSession *self);
TsJobList *ts_session_get_jobs(TsSession *self);
gboolean ts_session_is_connected(TsSession *self);
/* "connected to URL (live events)", "disconnected from URL: why; trying again every 2 s" */
const char *ts_session_get_status(TsSession *self);
/* Fetches the jobs now (or right after the fetch in flight). */
void ts_session_refresh_jobs(TsSession *self);

/* GET path off the main thread: as JSON (finish gives a json_t *), as a picture (a PNG the master made), or into a
   file. */
void ts_session_get_json_async(TsSession *self, const char *path, GCancellable *cancellable, GAsyncReadyCallback cb,
                               gpointer ud);
void *ts_session_get_json_finish(TsSession *self, GAsyncResult *result, GError **error);
/* POST body (a json_t *, copied; NULL: {}) to path off the main thread; finish gives the answer (a json_t *), or
   NULL with the master's error text. */
void ts_session_post_json_async(TsSession *self, const char *path, const void *body, GCancellable *cancellable,
                                GAsyncReadyCallback cb, gpointer ud);
void *ts_session_post_json_finish(TsSession *self, GAsyncResult *result, GError **error);
void ts_session_get_picture_async(TsSession *self, const char *path, GCancellable *cancellable,
                                  GAsyncReadyCallback cb, gpointer ud);
GdkTexture *ts_session_get_picture_finish(TsSession *self, GAsyncResult *result, GError **error);
void ts_session_download_async(TsSession *self, const char *path, const char *dest, GCancellable *cancellable,
                               GAsyncReadyCallback cb, gpointer ud);
gboolean ts_session_download_finish(TsSession *self, GAsyncResult *result, GError **error);

G_END_DECLS

#endif
