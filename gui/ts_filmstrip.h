/* ts_filmstrip: below the mosaic, the shown job's finished frames as a horizontal strip of small previews (GET
   /api/v1/jobs/{id}/frames/{f}/preview.png?max=TS_FILMSTRIP_THUMB_SIDE, fetched off the main thread one at a time,
   newest first); at most the last TS_FILMSTRIP_WINDOW frames (ts_filmstrip_model.h). Each thumbnail is a button
   named "Frame N"; a click emits "frame-activated" (gint64 job, int frame). */
#ifndef TS_FILMSTRIP_H
#define TS_FILMSTRIP_H

#include "gui/ts_session.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_FILMSTRIP_THUMB_SIDE 160

#define TS_TYPE_FILMSTRIP (ts_filmstrip_get_type())
G_DECLARE_FINAL_TYPE(TsFilmstrip, ts_filmstrip, TS, FILMSTRIP, GtkBox)

/* The session the pictures come from (a reference is kept); set once. */
void ts_filmstrip_set_session(TsFilmstrip *self, TsSession *session);
/* The job's frames as the master listed them (a json_t * array: GET jobs/{id}/frames's "frames"; job 0 or NULL
   frames: none). */
void ts_filmstrip_show(TsFilmstrip *self, gint64 job, const void *frames);

G_END_DECLS

#endif
