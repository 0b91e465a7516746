/* ts_job_controls: buttons for the selected job: Cancel, Pause, Resume, "Requeue failed frames" (POST
   /api/v1/jobs/{id}/cancel, /pause, /resume, /requeue {"failed": true}, off the main thread), each sensitive only
   when the job's state allows it (ts_job_allows); the master's answer, or its error text, in a label. */
#ifndef TS_JOB_CONTROLS_H
#define TS_JOB_CONTROLS_H

#include "gui/ts_job.h"
#include "gui/ts_session.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_TYPE_JOB_CONTROLS (ts_job_controls_get_type())
G_DECLARE_FINAL_TYPE(TsJobControls, ts_job_controls, TS, JOB_CONTROLS, GtkBox)

/* The session the buttons ask (a reference is kept); set once. */
void ts_job_controls_set_session(TsJobControls *self, TsSession *session);
/* The job the buttons act on (NULL: none, all insensitive); a reference is kept and its state followed. */
void ts_job_controls_set_job(TsJobControls *self, TsJob *job);

G_END_DECLS

#endif
