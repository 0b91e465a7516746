/* ts_store_notify: per-job webhooks in the store: each job's URL and the last of its events delivered (job_notify). */
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include <stdio.h>
#include <string.h>

int ts_store_notify_set(ts_store_t *self, int64_t job, const char *url)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self, "INSERT OR REPLACE INTO job_notify(job_id, url) VALUES(?, ?)", "it", job, url);
    return sdb_end(self, rc);
}

int ts_store_notify_due(ts_store_t *self, double now, ts_notify_target_t *targets, int max, double *next_due)
{
    sdb_lock(self);
    /* a webhook is pending while its job has an event past its cursor (one index lookup each) */
    sqlite3_stmt *st = sdb_prep(self, "SELECT n.job_id, n.url, n.sent, n.failures, n.retry_at FROM job_notify n"
                                      " WHERE n.sent < (SELECT max(e.id) FROM events e WHERE e.job_id=n.job_id)"
                                      " ORDER BY n.retry_at, n.job_id");
    int n = 0;
    if (next_due)
        *next_due = 0;
    if (st) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            double retry_at = sqlite3_column_double(st, 4);
            if (retry_at > now) { /* ordered by retry_at: the rest are later still */
                if (next_due)
                    *next_due = retry_at;
                break;
            }
            if (n == max) { /* more are due: the caller comes back at once */
                if (next_due)
                    *next_due = now;
                break;
            }
            ts_notify_target_t *t = &targets[n++];
            t->job_id = sqlite3_column_int64(st, 0);
            sdb_copy_text(t->url, sizeof t->url, st, 1);
            t->sent = sqlite3_column_int64(st, 2);
            t->failures = sqlite3_column_int(st, 3);
        }
        sdb_done(self, st);
    } else {
        n = -1;
    }
    sdb_unlock(self);
    return n;
}

int ts_store_notify_sent(ts_store_t *self, int64_t job, int64_t event_id)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self, "UPDATE job_notify SET sent=max(sent, ?), failures=0, retry_at=0, error='' WHERE job_id=?",
                     "ii", event_id, job);
    return sdb_end(self, rc);
}

int ts_store_notify_failed(ts_store_t *self, int64_t job, double retry_at, const char *error)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self,
                     "UPDATE job_notify SET failures=failures+1, retry_at=?, error=substr(?, 1, ?) WHERE job_id=?", "dtii", retry_at, error, (int64_t)TS_NOTIFY_ERROR_CAP - 1, job);
    return sdb_end(self, rc);
}

json_t *ts_store_notify_json(ts_store_t *self, int64_t job)
{
    sdb_lock(self);
    sqlite3_stmt *st = sdb_prep(self, "SELECT sent, failures, error FROM job_notify WHERE job_id=?");
    json_t *o = NULL;
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *error = (const char *)sqlite3_column_text(st, 2);
            o = json_pack("{s:I,s:i}", "delivered", (json_int_t)sqlite3_column_int64(st, 0), "failures",
                          sqlite3_column_int(st, 1));
            if (o)
                json_object_set_new(o, "error", error && error[0] ? json_string(error) : json_null());
        }
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return o;
}
