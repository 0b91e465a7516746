/* ts_window: the app's main window, three pages switched in its header bar: Jobs (the artist's jobs, filtered by
   name and state, with TsJobControls for the selected one, and the live tile mosaic of the selected job (or, with
   none selected, of the newest running one), with tile details and downloads), Wallet (TsWalletPage) and Farm
   (TsFarmPage); submits open TsSubmitDialog. */
#ifndef TS_WINDOW_H
#define TS_WINDOW_H

#include "gui/ts_session.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_TYPE_WINDOW (ts_window_get_type())
G_DECLARE_FINAL_TYPE(TsWindow, ts_window, TS, WINDOW, GtkApplicationWindow)

/* The window takes a reference on the session, starts it, and stops it when the window goes. */
TsWindow *ts_window_new(GtkApplication *app, TsSession *session);
/* Opens the submit form (with a scene filled in when not NULL). */
void ts_window_submit(TsWindow *self, const char *scene);

G_END_DECLS

#endif
