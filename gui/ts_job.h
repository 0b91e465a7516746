/* ts_job: one of the artist's jobs as the app shows it (a GObject whose properties the jobs list binds to),
   updated from the master's JSON view of the job. */
#ifndef TS_JOB_H
#define TS_JOB_H

#include <glib-object.h>

G_BEGIN_DECLS

#define TS_TYPE_JOB (ts_job_get_type())
G_DECLARE_FINAL_TYPE(TsJob, ts_job, TS, JOB, GObject)

/* A job from the master's JSON (a json_t * object: GET /api/v1/jobs/{id} or an entry of GET /api/v1/jobs). */
TsJob *ts_job_new_from_json(const void *json);
/* Takes the JSON's values; notifies only the properties that changed. */
void ts_job_update(TsJob *self, const void *json);

gint64 ts_job_get_id(TsJob *self);
const char *ts_job_get_name(TsJob *self);
const char *ts_job_get_state(TsJob *self);
const char *ts_job_get_kind(TsJob *self);   /* the job type: "render", "transcode", ... */
int ts_job_get_tasks_done(TsJob *self);
int ts_job_get_tasks_total(TsJob *self);
int ts_job_get_frame_start(TsJob *self);
int ts_job_get_frame_end(TsJob *self);
/* Its budget and what it has paid so far, in the token's smallest unit (GET jobs: "budget", "paid"). */
gint64 ts_job_get_budget(TsJob *self);
gint64 ts_job_get_paid(TsJob *self);
/* Its funds still held (escrow and locked to tasks) and what its refunds gave back, as the master's job view says
   ("locked", "refunded"); -1 where it does not say (a chain's ledger). */
gint64 ts_job_get_locked(TsJob *self);
gint64 ts_job_get_refunded(TsJob *self);
gboolean ts_job_is_running(TsJob *self);
/* Done, failed or cancelled. */
gboolean ts_job_has_ended(TsJob *self);
/* The master's error text for a failed job ("" for none). */
const char *ts_job_get_error(TsJob *self);
/* What a desktop notification says of an ended job: "Job #3 done", "Job #3 failed: why", "Job #3 cancelled";
   NULL for a job that has not ended. g_free it. */
char *ts_job_end_notice(TsJob *self);

/* What an artist may do to a job in its state, as the master takes it: cancel or pause one that has not ended,
   resume a paused one, requeue the failed frames of a failed render. */
typedef enum { TS_JOB_CANCEL, TS_JOB_PAUSE, TS_JOB_RESUME, TS_JOB_REQUEUE_FAILED } TsJobAction;
gboolean ts_job_allows(TsJob *self, TsJobAction action);

G_END_DECLS

#endif
