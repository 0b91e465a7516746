/* ts_store_deps: a studio's queue in the store: job names, dependencies between jobs, pause, resume and priority.
   DESIGN: a job waits ('waiting') until every parent is done; the scheduler only hands out work of 'queued' and
   'running' jobs, so waiting, held and paused ones get none. When a parent ends, each waiting child is looked at
   in the same transaction: all parents done, it is queued; a parent failed or was cancelled, it is held ('held',
   its error naming the parent) or, by its own choice, fails, which ends its own children in turn. */
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include <stdio.h>
#include <string.h>

/* What a job with these parents is now: "queued" (all done), "waiting", or held/failed with why. */
static int parents_state(ts_store_t *self, int64_t id, char *state, size_t cap, char *why, size_t why_cap)
{
    sqlite3_stmt *st = sdb_prep(self, "SELECT p.id, p.state FROM job_deps d JOIN jobs p ON p.id=d.parent_id "
                                      "WHERE d.job_id=? ORDER BY p.id");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    snprintf(state, cap, "queued");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ps = (const char *)sqlite3_column_text(st, 1);
        if (strcmp(ps, "failed") == 0 || strcmp(ps, "cancelled") == 0 || strcmp(ps, "held") == 0) {
            snprintf(state, cap, "held");
            snprintf(why, why_cap, "parent job %lld %s", (long long)sqlite3_column_int64(st, 0),
                     strcmp(ps, "held") == 0 ? "is held" : strcmp(ps, "failed") == 0 ? "failed" : "was cancelled");
            break;
        }
        if (strcmp(ps, "done") != 0)
            snprintf(state, cap, "waiting");
    }
    sdb_done(self, st);
    return 0;
}

/* Puts a job without parents left to wait for into the state they say (held may become failed: its choice). */
static int settle(ts_store_t *self, int64_t id)
{
    char state[16], why[96] = "";
    if (parents_state(self, id, state, sizeof state, why, sizeof why) < 0)
        return -1;
    if (strcmp(state, "held") == 0 && sdb_int(self, 0, "SELECT fail_with_parent FROM jobs WHERE id=?", "i", id))
        return sdb_job_end(self, id, "failed", why);
    return sdb_run(self, "UPDATE jobs SET state=?, error=? WHERE id=?", "tti", state, why[0] ? why : NULL, id);
}

int sdb_job_deps_put(ts_store_t *self, int64_t id, const ts_job_request_t *r)
{
    int rc = sdb_run(self, "UPDATE jobs SET name=?, fail_with_parent=?, pool=?, max_nodes=?, chunk=?, out_pattern=? "
                           "WHERE id=?", "titiiti", r->name, (int64_t)r->fail_with_parent, r->pool,
                     (int64_t)r->max_nodes, (int64_t)(r->chunk > 1 ? r->chunk : 1), r->out_pattern, id);
    if (rc == 0 && r->notify_url[0]) /* its webhook, in the transaction that makes the job */
        rc = sdb_run(self, "INSERT OR REPLACE INTO job_notify(job_id, url) VALUES(?, ?)", "it", id, r->notify_url);
    for (int i = 0; rc == 0 && i < r->nafter; i++) {
        if (sdb_int(self, 0, "SELECT 1 FROM jobs WHERE id=?", "i", r->after[i]) != 1)
            return ts_error_set("field 'after': no job %lld", (long long)r->after[i]);
        rc = sdb_run(self, "INSERT OR IGNORE INTO job_deps(job_id,parent_id) VALUES(?,?)", "ii", id, r->after[i]);
    }
    if (rc == 0 && r->paused)
        return sdb_run(self, "UPDATE jobs SET state='paused' WHERE id=?", "i", id);
    return rc == 0 && r->nafter > 0 ? settle(self, id) : rc;
}

int sdb_job_children_release(ts_store_t *self, int64_t id, const char *state)
{
    sqlite3_stmt *st = sdb_prep(self, "SELECT d.job_id FROM job_deps d JOIN jobs c ON c.id=d.job_id "
                                      "WHERE d.parent_id=? AND c.state='waiting'");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int64_t children[256];
    int n = 0;
    while (n < 256 && sqlite3_step(st) == SQLITE_ROW)
        children[n++] = sqlite3_column_int64(st, 0);
    sdb_done(self, st);
    (void)state; /* each child looks at all its parents, not only this one */
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++)
        rc = settle(self, children[i]);
    return rc;
}

/* Under the transaction: 1 when the job exists and has not ended (state filled), else TS_STORE_UNKNOWN,
   TS_STORE_ENDED or -1. */
static int open_job(ts_store_t *self, int64_t id, char *state, size_t cap)
{
    ts_job_t j;
    int rc = sdb_job_get(self, id, &j);
    if (rc != 1)
        return rc == 0 ? TS_STORE_UNKNOWN : rc;
    snprintf(state, cap, "%s", j.state);
    return sdb_job_ended(state) ? TS_STORE_ENDED : 1;
}

int ts_store_job_pause(ts_store_t *self, int64_t id)
{
    if (sdb_begin(self) < 0)
        return -1;
    char state[16];
    int rc = open_job(self, id, state, sizeof state);
    if (rc == 1)
        rc = sdb_run(self, "UPDATE jobs SET state='paused' WHERE id=?", "i", id);
    return sdb_end(self, rc);
}

int ts_store_job_resume(ts_store_t *self, int64_t id)
{
    if (sdb_begin(self) < 0)
        return -1;
    char state[16];
    int rc = open_job(self, id, state, sizeof state);
    if (rc == 1 && strcmp(state, "paused") == 0) {
        /* back to where it stood: running when work was handed out already, else what its parents say */
        bool started = sdb_int(self, 0, "SELECT started IS NOT NULL FROM jobs WHERE id=?", "i", id) == 1;
        rc = started ? sdb_run(self, "UPDATE jobs SET state='running' WHERE id=?", "i", id) : settle(self, id);
    } else if (rc == 1) {
        rc = 0; /* not paused: nothing to do */
    }
    return sdb_end(self, rc);
}

int ts_store_job_priority(ts_store_t *self, int64_t id, int priority)
{
    if (sdb_begin(self) < 0)
        return -1;
    char state[16];
    int rc = open_job(self, id, state, sizeof state);
    if (rc == 1)
        rc = sdb_run(self, "UPDATE jobs SET priority=? WHERE id=?", "ii", (int64_t)priority, id);
    return sdb_end(self, rc);
}
