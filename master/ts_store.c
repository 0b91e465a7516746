/* ts_store: SQLite (WAL) store of jobs, frames, tasks and nodes: the schema, its migrations and transactions.
   DESIGN: one connection behind a mutex; each public call is one transaction, so a task's state change
   and everything it implies (frame complete, job done or failed) commit together and survive a crash.
   Task states: queued -> assigned -> done, or back to queued (node lost, failure below the limit),
   or failed/cancelled; superseded: set aside when its frame is rendered again (a requeue, a reopened frame), counted
   neither done nor failed. Frame states: rendering -> stitching -> finishing -> done. The subjects have their own
   files: ts_store_jobs.c, ts_store_tasks.c, ts_store_frames.c, ts_store_nodes.c, ts_store_json.c (views for the
   API), ts_store_verify.c (verification), ts_store_pay.c (payments). */
#include "escrow/escrow.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_sql.h"
#include "master/ts_store_db.h"
#include "lib/ts_index.h"
#include <stdio.h>
#include <stdlib.h>

#define BUSY_TIMEOUT_MS 5000

static const char *const SCHEMA =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS jobs("
    " id INTEGER PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL, error TEXT,"
    " scene TEXT NOT NULL, scene_name TEXT NOT NULL, frame_start INT NOT NULL, frame_end INT NOT NULL,"
    " tiles_x INT NOT NULL, tiles_y INT NOT NULL, format TEXT NOT NULL, priority INT NOT NULL,"
    " device TEXT NOT NULL, blender TEXT NOT NULL, no_denoise INT NOT NULL, margin INT NOT NULL,"
    " width INT NOT NULL DEFAULT 0, height INT NOT NULL DEFAULT 0, ext TEXT NOT NULL DEFAULT '',"
    " params TEXT NOT NULL DEFAULT '{}',"
    " created REAL NOT NULL, finished REAL);"
    "CREATE TABLE IF NOT EXISTS frames("
    " job_id INT NOT NULL REFERENCES jobs(id), frame INT NOT NULL, state TEXT NOT NULL,"
    " stitched TEXT, output TEXT, output_size INT, PRIMARY KEY(job_id, frame));"
    "CREATE TABLE IF NOT EXISTS tasks("
    " id INTEGER PRIMARY KEY, job_id INT NOT NULL REFERENCES jobs(id), kind INT NOT NULL,"
    " frame INT NOT NULL DEFAULT 0, tile INT NOT NULL DEFAULT 0,"
    " x0 INT NOT NULL DEFAULT 0, y0 INT NOT NULL DEFAULT 0, x1 INT NOT NULL DEFAULT 0, y1 INT NOT NULL DEFAULT 0,"
    " input TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, node TEXT NOT NULL DEFAULT '',"
    " failures INT NOT NULL DEFAULT 0, result TEXT, error TEXT, assigned_at REAL NOT NULL DEFAULT 0,"
    " start_pts INT NOT NULL DEFAULT 0, end_pts INT NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS tasks_by_state ON tasks(state, job_id);"
    "CREATE INDEX IF NOT EXISTS tasks_by_frame ON tasks(job_id, frame, kind);"
    "CREATE TABLE IF NOT EXISTS nodes("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, blender TEXT NOT NULL DEFAULT '',"
    " devices TEXT NOT NULL DEFAULT '[]', cores INT NOT NULL DEFAULT 0, memory INT NOT NULL DEFAULT 0,"
    " last_seen REAL NOT NULL DEFAULT 0, tasks_done INT NOT NULL DEFAULT 0, tasks_failed INT NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS blocklist("
    " job_id INT NOT NULL, node TEXT NOT NULL, failures INT NOT NULL, PRIMARY KEY(job_id, node));"
    "CREATE TABLE IF NOT EXISTS verdicts("
    " id INTEGER PRIMARY KEY, job_id INT NOT NULL, task_id INT NOT NULL, node TEXT NOT NULL,"
    " outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', at REAL NOT NULL);";

/* The wall clock in SQL (Unix seconds, to the millisecond) for the events' triggers: built in, so any SQLite client
   that changes a state still records its event. */
#define EVENT_NOW "((julianday('now') - 2440587.5) * 86400.0)"

/* Columns added after the first release: applied to every database, old or new (a column already there is fine). */
static const char *const MIGRATIONS[] = {
    /* verification: a check task names the task it checks; a checked task says how its check stands */
    "ALTER TABLE tasks ADD COLUMN check_of INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN verify TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE tasks ADD COLUMN dclass TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE tasks ADD COLUMN result_size INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN created REAL NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN finished REAL NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN busy REAL NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN cpu_model TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE nodes ADD COLUMN consecutive_valid INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN checks_passed INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN checks_failed INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN quarantined INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN lifted_at REAL NOT NULL DEFAULT 0",
    "ALTER TABLE blocklist ADD COLUMN blocked REAL NOT NULL DEFAULT 0",
    /* a task's checks; only checks are in it (check_of=0 is most tasks, so the planner must never walk that) */
    "DROP INDEX IF EXISTS tasks_by_check",
    "CREATE INDEX IF NOT EXISTS tasks_checks ON tasks(check_of) WHERE check_of!=0",
    /* the checks waiting for a node, oldest first: the verifier looks for those waiting too long every pass */
    "CREATE INDEX IF NOT EXISTS tasks_checks_queued ON tasks(created) WHERE check_of!=0 AND state='queued'",
    "CREATE INDEX IF NOT EXISTS tasks_by_node ON tasks(node, job_id)",
    /* a frame's pieces still open: whether a frame is complete is one entry to look at */
    "CREATE INDEX IF NOT EXISTS tasks_open ON tasks(job_id, frame, kind) WHERE check_of=0 AND "
    "state NOT IN ('done','superseded')",
    /* payments: who pays, the budget, the job's work units; each piece's units, locked price and payments */
    "ALTER TABLE jobs ADD COLUMN requester TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN budget INT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN units_total INT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN encode_units INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN units INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN price INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN paid INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN payout TEXT NOT NULL DEFAULT ''",
    /* a job whose budget is still on its way to a chain gets no work yet */
    "ALTER TABLE jobs ADD COLUMN funded INT NOT NULL DEFAULT 1",
    /* verification: the job's renderer may differ between honest runs (Cycles' adaptive sampling) */
    "ALTER TABLE jobs ADD COLUMN noisy INT NOT NULL DEFAULT 0",
    /* a job's manifest: the files it was submitted with, in order (a render's scene, a contact sheet's images) */
    ("CREATE TABLE IF NOT EXISTS job_inputs(job_id INT NOT NULL REFERENCES jobs(id), seq INT NOT NULL,"
     " name TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY(job_id, seq))"),
    /* an artist's project: the blob listing its files for slaves, and the files let go missing at submit */
    "ALTER TABLE jobs ADD COLUMN manifest TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN missing TEXT NOT NULL DEFAULT ''",
    /* accounts: requesters who may use the API, and the tokens they use it with (ts_store_accounts.c) */
    "CREATE TABLE IF NOT EXISTS accounts(name TEXT PRIMARY KEY, created REAL NOT NULL, revoked REAL NOT NULL DEFAULT 0)",
    ("CREATE TABLE IF NOT EXISTS api_tokens(id TEXT PRIMARY KEY, account TEXT NOT NULL, role TEXT NOT NULL,"
     " hash BLOB NOT NULL, created REAL NOT NULL, revoked REAL NOT NULL DEFAULT 0)"),
    /* a node its owner has back (in use, outside its hours, paused): why, and each time it gave work back */
    "ALTER TABLE nodes ADD COLUMN paused TEXT NOT NULL DEFAULT ''",
    "CREATE TABLE IF NOT EXISTS preemptions(node TEXT NOT NULL, at REAL NOT NULL, reason TEXT NOT NULL, tasks INT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS preemptions_by_node ON preemptions(node, at)",
    /* a studio's queue: names, dependencies (a job waits for its parents), when a job first got work */
    "ALTER TABLE jobs ADD COLUMN name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN fail_with_parent INT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN started REAL",
    "CREATE TABLE IF NOT EXISTS job_deps(job_id INT NOT NULL, parent_id INT NOT NULL, PRIMARY KEY(job_id, parent_id))",
    "CREATE INDEX IF NOT EXISTS job_deps_by_parent ON job_deps(parent_id)",
    /* pools: a node's tags, a job's pool and how many nodes may work on it at once */
    "ALTER TABLE nodes ADD COLUMN tags TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN pool TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN max_nodes INT NOT NULL DEFAULT 0",
    /* fair share: requesters' weights and limits, and the node time their tasks used (ts_store_shares.c) */
    ("CREATE TABLE IF NOT EXISTS requester_shares(requester TEXT PRIMARY KEY, weight REAL NOT NULL DEFAULT 1,"
     " max_running INT NOT NULL DEFAULT 0)"),
    "CREATE TABLE IF NOT EXISTS requester_usage(requester TEXT PRIMARY KEY, secs REAL NOT NULL, at REAL NOT NULL)",
    ("CREATE TRIGGER IF NOT EXISTS requester_usage_charge AFTER UPDATE OF state ON tasks"
     " WHEN old.state='assigned' AND new.state IS NOT 'assigned' BEGIN"
     " INSERT INTO requester_usage(requester, secs, at)"
     "  SELECT j.requester, CASE WHEN new.busy > 0 AND new.finished >= old.assigned_at"
     "  THEN min(new.busy, max(ts_now() - old.assigned_at, 0)) ELSE max(ts_now() - old.assigned_at, 0) END, ts_now()"
     "  FROM jobs j WHERE j.id=old.job_id"
     "  ON CONFLICT(requester) DO UPDATE SET secs=usage_decayed(secs, at, excluded.at) + excluded.secs, at=excluded.at;"
     " END"),
    /* each requester's tasks on nodes now: how many, and the sum of when they were given (ms), kept by triggers so
       the scheduler's fair share is one row a requester, not a walk over every assigned task (SDB_FAIR_CTE) */
    "CREATE TABLE IF NOT EXISTS requester_running(requester TEXT PRIMARY KEY, n INT NOT NULL, at_ms INT NOT NULL)",
    ("CREATE TRIGGER IF NOT EXISTS requester_running_leave AFTER UPDATE OF state, assigned_at ON tasks"
     " WHEN old.state='assigned' BEGIN"
     " UPDATE requester_running SET n=n-1, at_ms=at_ms-CAST(old.assigned_at*1000 AS INTEGER)"
     "  WHERE requester=(SELECT requester FROM jobs WHERE id=old.job_id);"
     " END"),
    ("CREATE TRIGGER IF NOT EXISTS requester_running_enter AFTER UPDATE OF state, assigned_at ON tasks"
     " WHEN new.state='assigned' BEGIN"
     " INSERT INTO requester_running(requester, n, at_ms)"
     "  SELECT requester, 1, CAST(new.assigned_at*1000 AS INTEGER) FROM jobs WHERE id=new.job_id"
     "  ON CONFLICT(requester) DO UPDATE SET n=n+1, at_ms=at_ms+excluded.at_ms;"
     " END"),
    "ALTER TABLE jobs ADD COLUMN chunk INT NOT NULL DEFAULT 1",
    "ALTER TABLE jobs ADD COLUMN out_pattern TEXT NOT NULL DEFAULT ''",
    /* owners' memory caps: what a node allows a renderer, what a job's renders were seen to need (bytes) */
    "ALTER TABLE nodes ADD COLUMN max_memory INT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN memory_need INT NOT NULL DEFAULT 0",
    /* the café slave's box: its Vulkan GPUs (JSON, each with "enabled"), what its renderers run in ("bwrap", or
       "none": unsafe), the least free memory of its lent GPUs (bytes; 0: unknown or none lent) */
    "ALTER TABLE nodes ADD COLUMN gpus TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE nodes ADD COLUMN sandbox TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE nodes ADD COLUMN vram_free INT NOT NULL DEFAULT 0",
    /* what each node was paid and when, whatever the escrow (the owner's `ctl status`) */
    "CREATE TABLE IF NOT EXISTS node_earnings(node TEXT NOT NULL, at REAL NOT NULL, amount INT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS node_earnings_by_node ON node_earnings(node, at)",
    /* events: every new job or task and every change of its state, written by these triggers in the change's own
       transaction (ts_store_events.c reads them; ids never reused, so a reader's place survives pruning) */
    ("CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, job_id INT NOT NULL,"
     " task_id INT NOT NULL DEFAULT 0, kind INT NOT NULL DEFAULT 0, frame INT NOT NULL DEFAULT 0,"
     " tile INT NOT NULL DEFAULT 0, check_of INT NOT NULL DEFAULT 0, node TEXT NOT NULL DEFAULT '',"
     " from_state TEXT, to_state TEXT NOT NULL)"),
    "CREATE INDEX IF NOT EXISTS events_by_job ON events(job_id, id)",
    ("CREATE TRIGGER IF NOT EXISTS events_job_new AFTER INSERT ON jobs BEGIN"
     " INSERT INTO events(at, job_id, to_state) VALUES(" EVENT_NOW ", new.id, new.state); END"),
    ("CREATE TRIGGER IF NOT EXISTS events_job_state AFTER UPDATE OF state ON jobs WHEN old.state IS NOT new.state"
     " BEGIN INSERT INTO events(at, job_id, from_state, to_state) VALUES(" EVENT_NOW ", new.id, old.state, new.state);"
     " END"),
    ("CREATE TRIGGER IF NOT EXISTS events_task_new AFTER INSERT ON tasks BEGIN"
     " INSERT INTO events(at, job_id, task_id, kind, frame, tile, check_of, node, to_state)"
     " VALUES(" EVENT_NOW ", new.job_id, new.id, new.kind, new.frame, new.tile, new.check_of, new.node, new.state);"
     " END"),
    ("CREATE TRIGGER IF NOT EXISTS events_task_state AFTER UPDATE OF state ON tasks WHEN old.state IS NOT new.state"
     " BEGIN INSERT INTO events(at, job_id, task_id, kind, frame, tile, check_of, node, from_state, to_state)"
     " VALUES(" EVENT_NOW ", new.job_id, new.id, new.kind, new.frame, new.tile, new.check_of,"
     " coalesce(nullif(new.node, ''), old.node), old.state, new.state); END"),
    /* per-job webhooks: the URL and the last event delivered (ts_store_notify.c) */
    ("CREATE TABLE IF NOT EXISTS job_notify(job_id INTEGER PRIMARY KEY, url TEXT NOT NULL, sent INT NOT NULL DEFAULT 0,"
     " failures INT NOT NULL DEFAULT 0, retry_at REAL NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '')"),
    /* counted afresh at every start, so the triggers' sums never drift from the tasks */
    "DELETE FROM requester_running",
    ("INSERT INTO requester_running(requester, n, at_ms) SELECT j.requester, count(*),"
     " sum(CAST(t.assigned_at*1000 AS INTEGER)) FROM tasks t JOIN jobs j ON j.id=t.job_id WHERE t.state='assigned'"
     " GROUP BY j.requester"),
};

static int migrate(ts_store_t *self)
{
    for (size_t i = 0; i < sizeof MIGRATIONS / sizeof MIGRATIONS[0]; i++) {
        char *err = NULL;
        if (sqlite3_exec(self->db, MIGRATIONS[i], NULL, NULL, &err) != SQLITE_OK &&
            !(err && strstr(err, "duplicate column name"))) {
            ts_error_set("store: %s: %s", MIGRATIONS[i], err ? err : "error");
            sqlite3_free(err);
            return -1;
        }
        sqlite3_free(err);
    }
    return 0;
}

double sdb_now(void)
{
    return ts_clock_wall();
}

int sdb_error(ts_store_t *self, const char *what)
{
    return ts_error_set("store: %s: %s", what, sqlite3_errmsg(self->db));
}

void sdb_lock(ts_store_t *self)
{
    pthread_mutex_lock(&self->lock);
}

void sdb_unlock(ts_store_t *self)
{
    pthread_mutex_unlock(&self->lock);
}

int sdb_exec(ts_store_t *self, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        ts_error_set("store: %s", err ? err : "error");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

/* Inside a batch a transaction is a savepoint: it commits with the batch, and its failure undoes only itself. */
int sdb_begin(ts_store_t *self)
{
    sdb_lock(self);
    if (sdb_exec(self, self->depth > 0 ? "SAVEPOINT unit" : "BEGIN IMMEDIATE") < 0) {
        sdb_unlock(self);
        return -1;
    }
    self->depth++;
    return 0;
}

/* Ends the transaction: commit when rc >= 0, else roll back. Returns rc (or -1 when commit fails). */
int sdb_end(ts_store_t *self, int rc)
{
    bool nested = --self->depth > 0;
    if (rc >= 0 && sdb_exec(self, nested ? "RELEASE unit" : "COMMIT") < 0)
        rc = -1;
    if (rc < 0)
        sqlite3_exec(self->db, nested ? "ROLLBACK TO unit; RELEASE unit" : "ROLLBACK", NULL, NULL, NULL);
    sdb_unlock(self);
    return rc;
}

int ts_store_batch_begin(ts_store_t *self)
{
    return sdb_begin(self);
}

int ts_store_batch_end(ts_store_t *self)
{
    return sdb_end(self, 0);
}

#define STMT_CACHE_MAX 1024 /* distinct statements kept prepared; the store has a few hundred */

sqlite3_stmt *sdb_prep(ts_store_t *self, const char *sql)
{
    size_t len = strlen(sql);
    pthread_mutex_lock(&self->cache_lock);
    sdb_cached_t *c = self->stmts ? ts_index_get(self->stmts, sql, len) : NULL;
    if (c && !c->busy) {
        c->busy = true;
        pthread_mutex_unlock(&self->cache_lock);
        return c->st;
    }
    bool keep = !c && self->stmts && self->ncached < STMT_CACHE_MAX;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(self->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK) {
        pthread_mutex_unlock(&self->cache_lock);
        sdb_error(self, sql);
        return NULL;
    }
    sdb_cached_t *nc = keep ? calloc(1, sizeof *nc) : NULL;
    sdb_cached_t **grown = nc ? realloc(self->cached, (size_t)(self->ncached + 1) * sizeof *grown) : NULL;
    if (grown)
        self->cached = grown;
    if (nc && grown && ts_index_put(self->stmts, sql, len, nc) == 0) {
        *nc = (sdb_cached_t){.st = st, .busy = true};
        self->cached[self->ncached++] = nc;
    } else {
        free(nc); /* not kept: finalized by sdb_done */
    }
    pthread_mutex_unlock(&self->cache_lock);
    return st;
}

void sdb_done(ts_store_t *self, sqlite3_stmt *st)
{
    if (!st)
        return;
    const char *sql = sqlite3_sql(st);
    pthread_mutex_lock(&self->cache_lock);
    sdb_cached_t *c = sql && self->stmts ? ts_index_get(self->stmts, sql, strlen(sql)) : NULL;
    if (c && c->st == st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        c->busy = false;
        st = NULL;
    }
    pthread_mutex_unlock(&self->cache_lock);
    if (st)
        sdb_done(self, st);
}

/* Runs a statement to completion with text/int binds given as a format: 't' text, 'i' int64, 'd' double. */
int sdb_run(ts_store_t *self, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = sdb_prep(self, sql);
    if (!st)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    ts_sql_bindv(st, fmt, ap);
    va_end(ap);
    int rc = sqlite3_step(st);
    int err = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sdb_error(self, "write");
    sdb_done(self, st);
    return err;
}

int64_t sdb_int(ts_store_t *self, int64_t dflt, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = sdb_prep(self, sql);
    if (!st)
        return dflt;
    va_list ap;
    va_start(ap, fmt);
    ts_sql_bindv(st, fmt, ap);
    va_end(ap);
    int64_t v = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0)
                                                                                            : dflt;
    sdb_done(self, st);
    return v;
}

void sdb_copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* kind_rank(kind) and kind_checked(kind) in SQL: the task kinds' table (lib/ts_kind.c) for queries. */
static void sql_kind_fact(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const ts_kind_t *k = ts_kind_get(sqlite3_value_int(argv[0]));
    bool rank = sqlite3_user_data(ctx) != NULL;
    sqlite3_result_int(ctx, !k ? 0 : rank ? k->rank : k->checked);
}

static int register_kind_functions(ts_store_t *self)
{
    static int rank_tag;
    const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    if (sqlite3_create_function(self->db, "kind_rank", 1, flags, &rank_tag, sql_kind_fact, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(self->db, "kind_checked", 1, flags, NULL, sql_kind_fact, NULL, NULL) != SQLITE_OK)
        return sdb_error(self, "registering the task kinds");
    return 0;
}

/* The queue's index: a job's queued tasks in the order they are given out (rank, checks first, age), so choosing
   one reads one index entry, not every queued task. The rank comes from the kinds' table as a CASE expression; when
   the table changed since the index was made, it is made again. */
static int make_queue_index(ts_store_t *self)
{
    char cases[400];
    size_t at = 0;
    for (int i = 0; i < ts_kind_count() && at < sizeof cases; i++)
        at += (size_t)snprintf(cases + at, sizeof cases - at, " WHEN %d THEN %d", ts_kind_at(i)->kind,
                               ts_kind_at(i)->rank);
    if (at >= sizeof cases)
        return ts_error_set("store: the task kinds' ranks do not fit the queue index");
    /* the same expression for the index (kind) and the queries (t.kind: SQLite matches columns, not text) */
    snprintf(self->queue_rank, sizeof self->queue_rank, "(CASE t.kind%s ELSE 0 END)", cases);
    char sql[1024];
    snprintf(sql, sizeof sql, "CREATE INDEX tasks_queue ON tasks(job_id, state, (CASE kind%s ELSE 0 END) DESC, "
                              "(check_of!=0) DESC, id)", cases);
    char made[1024] = "";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "SELECT sql FROM sqlite_master WHERE type='index' AND name='tasks_queue'", -1,
                           &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        sdb_copy_text(made, sizeof made, st, 0);
    sqlite3_finalize(st);
    if (strcmp(made, sql) == 0)
        return 0;
    if ((made[0] && sdb_exec(self, "DROP INDEX tasks_queue") < 0) || sdb_exec(self, sql) < 0)
        return -1;
    return 0;
}

ts_store_t *ts_store_open(const char *path)
{
    ts_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutexattr_t recursive;
    pthread_mutexattr_init(&recursive);
    pthread_mutexattr_settype(&recursive, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&self->lock, &recursive);
    pthread_mutexattr_destroy(&recursive);
    pthread_mutex_init(&self->cache_lock, NULL);
    self->stmts = ts_index_new(); /* none: every statement prepared afresh */
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        ts_error_set("%s: cannot open database: %s", path, self->db ? sqlite3_errmsg(self->db) : "out of memory");
        ts_store_destroy(&self);
        return NULL;
    }
    sqlite3_busy_timeout(self->db, BUSY_TIMEOUT_MS);
    if (register_kind_functions(self) < 0 || sdb_shares_register(self) < 0 || sdb_exec(self, SCHEMA) < 0 || migrate(self) < 0 ||
        make_queue_index(self) < 0) {
        ts_error_prefix("%s", path);
        ts_store_destroy(&self);
        return NULL;
    }
    return self;
}

void ts_store_destroy(ts_store_t **self_p)
{
    ts_store_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->ncached; i++) {
        sqlite3_finalize(self->cached[i]->st);
        free(self->cached[i]);
    }
    free(self->cached);
    ts_index_destroy(&self->stmts);
    if (self->db) {
        ts_escrow_sql_forget(self->db);
        sqlite3_close(self->db);
    }
    pthread_mutex_destroy(&self->cache_lock);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}
