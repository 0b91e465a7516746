/* ts_app: the GtkApplication of tessera-gui: loads the style, signs in (the environment, the saved settings, or the
   first-run dialog) and opens the main window. */
#ifndef TS_APP_H
#define TS_APP_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_TYPE_APP (ts_app_get_type())
G_DECLARE_FINAL_TYPE(TsApp, ts_app, TS, APP, GtkApplication)

TsApp *ts_app_new(void);

G_END_DECLS

#endif
