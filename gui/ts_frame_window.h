/* ts_frame_window: one finished frame full size in a window of its own (GET
   /api/v1/jobs/{id}/frames/{f}/preview.png?max=TS_FRAME_WINDOW_SIDE, fetched off the main thread), scrolled when
   larger than the window; its size or the master's error in a label. */
#ifndef TS_FRAME_WINDOW_H
#define TS_FRAME_WINDOW_H

#include "gui/ts_session.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_FRAME_WINDOW_SIDE 4096 /* the master's largest preview: the frame itself up to this */

#define TS_TYPE_FRAME_WINDOW (ts_frame_window_get_type())
G_DECLARE_FINAL_TYPE(TsFrameWindow, ts_frame_window, TS, FRAME_WINDOW, GtkWindow)

/* A window for job's frame, transient for parent, titled "Frame N of job #J"; the picture follows. */
TsFrameWindow *ts_frame_window_new(GtkWindow *parent, TsSession *session, gint64 job, int frame);

G_END_DECLS

#endif
