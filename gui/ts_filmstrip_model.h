/* ts_filmstrip_model: the shown job's finished frames as the filmstrip shows them (a GListModel of TsFrameThumb,
   frame order), each with its small preview once fetched.
   DESIGN: the master's list of the job's frames (GET /api/v1/jobs/{id}/frames) is the truth; only the last
   TS_FILMSTRIP_WINDOW finished frames are items, so a long job holds at most that many pictures. An item keeps its
   picture while it stays in the window; one that leaves it, or another job shown, drops it. No display needed. */
#ifndef TS_FILMSTRIP_MODEL_H
#define TS_FILMSTRIP_MODEL_H

#include <gdk/gdk.h>
#include <gio/gio.h>

G_BEGIN_DECLS

#define TS_FILMSTRIP_WINDOW 50 /* finished frames shown (and pictures held) at most */

#define TS_TYPE_FRAME_THUMB (ts_frame_thumb_get_type())
G_DECLARE_FINAL_TYPE(TsFrameThumb, ts_frame_thumb, TS, FRAME_THUMB, GObject)

/* Properties "frame" (int) and "picture" (GdkTexture, NULL until fetched; notified when set). */
int ts_frame_thumb_get_frame(TsFrameThumb *self);
GdkTexture *ts_frame_thumb_get_picture(TsFrameThumb *self);

#define TS_TYPE_FILMSTRIP_MODEL (ts_filmstrip_model_get_type())
G_DECLARE_FINAL_TYPE(TsFilmstripModel, ts_filmstrip_model, TS, FILMSTRIP_MODEL, GObject)

TsFilmstripModel *ts_filmstrip_model_new(void);
/* Makes the items job's last finished frames from the master's "frames" array (a json_t *; NULL: none); another
   job than the last drops every item first. */
void ts_filmstrip_model_apply(TsFilmstripModel *self, gint64 job, const void *frames);
gint64 ts_filmstrip_model_get_job(TsFilmstripModel *self);
/* A frame's picture; ignored when the job or the frame is no longer shown. */
void ts_filmstrip_model_set_picture(TsFilmstripModel *self, gint64 job, int frame, GdkTexture *picture);
/* The newest shown frame without a picture that is not in skip (a set of GINT_TO_POINTER(frame)), or -1. */
int ts_filmstrip_model_wanted(TsFilmstripModel *self, GHashTable *skip);

int ts_filmstrip_model_test(gboolean verbose);

G_END_DECLS

#endif
