/* ts_submit_dialog: the submit form: a scene (picked, typed or dropped), frames, tile grid, output format and a name;
   Submit runs the CLI (ts_submit_run) and shows its progress and errors. */
#ifndef TS_SUBMIT_DIALOG_H
#define TS_SUBMIT_DIALOG_H

#include "gui/ts_session.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_TYPE_SUBMIT_DIALOG (ts_submit_dialog_get_type())
G_DECLARE_FINAL_TYPE(TsSubmitDialog, ts_submit_dialog, TS, SUBMIT_DIALOG, GtkWindow)

/* Signal "submitted" (gint64 job id): the master took the job; the dialog then closes. */
TsSubmitDialog *ts_submit_dialog_new(GtkWindow *parent, TsSession *session);
/* Fills in the scene (a path), as a pick or a drop does. */
void ts_submit_dialog_set_scene(TsSubmitDialog *self, const char *path);

G_END_DECLS

#endif
