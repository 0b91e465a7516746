/* ts_signin_dialog: the first run's sign-in: the master's address, a token and an optional CA file, tried against
   the master before they are kept (ts_config_save). */
#ifndef TS_SIGNIN_DIALOG_H
#define TS_SIGNIN_DIALOG_H

#include "gui/ts_config.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_TYPE_SIGNIN_DIALOG (ts_signin_dialog_get_type())
G_DECLARE_FINAL_TYPE(TsSigninDialog, ts_signin_dialog, TS, SIGNIN_DIALOG, GtkWindow)

/* Signal "signed-in" (gpointer: the TsConfig *, borrowed for the call), emitted once the master took the token and
   the settings are saved. known: what is known already (the environment's, a file's), to fill in; may be NULL. */
TsSigninDialog *ts_signin_dialog_new(GtkApplication *app, const TsConfig *known);

G_END_DECLS

#endif
