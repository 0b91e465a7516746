/* ts_store_shares: fair share: each requester's weight and limit, and the node time its tasks have used (decayed). */
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include <math.h>
#include <stdlib.h>

/* ts_now() and usage_decayed(secs, at, now) in SQL, for the trigger that charges a requester when one of its tasks
   leaves a node and for the scheduler's ordering (SDB_FAIR_CTE). ts_now() is the store's clock (lib/ts_clock), so a
   test's clock moves it too. */
static void sql_now(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_double(ctx, sdb_now());
}

static void sql_usage_decayed(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    double secs = sqlite3_value_double(argv[0]), at = sqlite3_value_double(argv[1]), now = sqlite3_value_double(argv[2]);
    double age = now > at ? now - at : 0;
    sqlite3_result_double(ctx, secs * exp2(-age / SDB_FAIR_HALFLIFE_S));
}

int sdb_shares_register(ts_store_t *self)
{
    if (sqlite3_create_function(self->db, "ts_now", 0, SQLITE_UTF8, NULL, sql_now, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(self->db, "usage_decayed", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                sql_usage_decayed, NULL, NULL) != SQLITE_OK)
        return sdb_error(self, "registering the fair-share functions");
    return 0;
}

void ts_store_set_fair_share(ts_store_t *self, bool on)
{
    sdb_lock(self);
    self->priority_only = !on;
    sdb_unlock(self);
}

int ts_store_share_set(ts_store_t *self, const char *requester, double weight, int max_running)
{
    sdb_lock(self);
    int rc = sdb_run(self,
                     "INSERT INTO requester_shares(requester, weight, max_running) VALUES(?1, CASE WHEN ?2 > 0 THEN ?2 ELSE 1 END, "
                     "max(?3, 0)) ON CONFLICT(requester) DO UPDATE SET "
                     "weight=CASE WHEN ?2 > 0 THEN ?2 ELSE weight END, "
                     "max_running=CASE WHEN ?3 >= 0 THEN ?3 ELSE max_running END",
                     "tdi", requester, weight, (int64_t)max_running);
    sdb_unlock(self);
    return rc;
}

json_t *ts_store_shares_json(ts_store_t *self, const char *requester)
{
    sdb_lock(self);
    json_t *list = json_array();
    double now = sdb_now();
    /* every requester with a share set, work in the queue or recent use; the node seconds as the scheduler sees
       them (decayed use plus the running tasks' time so far) */
    sqlite3_stmt *st = sdb_prep(
        self,
        "WITH names(requester) AS (SELECT requester FROM requester_shares UNION SELECT requester FROM jobs "
        " WHERE state IN ('queued','running','paused','waiting') UNION SELECT requester FROM requester_usage),"
        " run(requester, n, secs) AS (SELECT j.requester, count(*), total(max(?1 - t.assigned_at, 0)) FROM tasks t "
        " JOIN jobs j ON j.id=t.job_id WHERE t.state='assigned' GROUP BY j.requester) "
        "SELECT q.requester, coalesce(s.weight, 1), coalesce(s.max_running, 0), coalesce(r.n, 0),"
        " coalesce((SELECT usage_decayed(u.secs, u.at, ?1) FROM requester_usage u WHERE u.requester=q.requester), 0)"
        "  + coalesce(r.secs, 0),"
        " (SELECT count(*) FROM tasks t JOIN jobs j ON j.id=t.job_id WHERE j.requester=q.requester AND t.state='queued'"
        "  AND j.state IN ('queued','running')) "
        "FROM names q LEFT JOIN requester_shares s ON s.requester=q.requester LEFT JOIN run r ON r.requester=q.requester "
        "WHERE ?2 IS NULL OR q.requester=?2 ORDER BY q.requester");
    if (st) {
        sqlite3_bind_double(st, 1, now);
        if (requester)
            sqlite3_bind_text(st, 2, requester, -1, SQLITE_TRANSIENT);
    }
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, json_pack("{s:s,s:f,s:i,s:i,s:f,s:i}", "requester", sqlite3_column_text(st, 0),
                                              "weight", sqlite3_column_double(st, 1), "max_running",
                                              sqlite3_column_int(st, 2), "running", sqlite3_column_int(st, 3),
                                              "node_seconds", round(sqlite3_column_double(st, 4) * 10) / 10, "queued",
                                              sqlite3_column_int(st, 5)));
    if (!st) {
        json_decref(list);
        list = NULL;
    }
    sdb_done(self, st);
    sdb_unlock(self);
    return list;
}
