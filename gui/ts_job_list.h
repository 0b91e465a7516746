/* ts_job_list: the artist's jobs, newest first, as a GListModel of TsJob, kept equal to the master's list by
   snapshots (GET /api/v1/jobs): a snapshot updates the jobs in place and inserts or removes only what changed, so
   a list view keeps its selection and scroll. No display needed. */
#ifndef TS_JOB_LIST_H
#define TS_JOB_LIST_H

#include "gui/ts_job.h"
#include <gio/gio.h>

G_BEGIN_DECLS

#define TS_TYPE_JOB_LIST (ts_job_list_get_type())
G_DECLARE_FINAL_TYPE(TsJobList, ts_job_list, TS, JOB_LIST, GObject)

/* Signal "job-ended" (TsJob *): a job the list already held went from not ended to done, failed or cancelled in a
   snapshot: once per end (a job first seen ended, or seen again ended, is no news). */
TsJobList *ts_job_list_new(void);
/* Makes the list the jobs of the JSON array (a json_t *: GET /api/v1/jobs's "jobs"). */
void ts_job_list_apply(TsJobList *self, const void *jobs);
/* The job with that id, or NULL (borrowed). */
TsJob *ts_job_list_find(TsJobList *self, gint64 id);
/* The newest running render job, else the newest render job, else NULL (borrowed): what the mosaic shows when no
   job is selected. */
TsJob *ts_job_list_newest_shown(TsJobList *self);

int ts_job_list_test(gboolean verbose);

G_END_DECLS

#endif
