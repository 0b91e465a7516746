/* ts_store_db: the store's internals shared by its files (ts_store*.c); not for other callers. */
#ifndef TS_STORE_DB_H
#define TS_STORE_DB_H

#include "master/ts_store.h"
#include <pthread.h>
#include <sqlite3.h>

typedef struct {
    sqlite3_stmt *st;
    bool busy;                  /* handed out by sdb_prep, not yet given back by sdb_done */
} sdb_cached_t;

struct ts_store {
    sqlite3 *db;
    pthread_mutex_t lock;       /* recursive: a batch (ts_store_batch_begin) holds it around whole transactions */
    int depth;                  /* transactions open on the lock's holder: 1 the outer, more are savepoints */
    pthread_mutex_t cache_lock; /* the statement cache's own (callers of sdb_prep do not all hold lock) */
    struct ts_index *stmts;     /* SQL text -> sdb_cached_t: statements prepared once, reset after each use */
    sdb_cached_t **cached;      /* the same, for finalizing at close */
    int ncached;
    struct ts_escrow *escrow;   /* NULL: no payments */
    ts_pay_policy_t pay;
    bool priority_only;         /* the queue by priority and age alone, not by requesters' fair shares */
    char queue_rank[512];       /* SQL: a task's rank within its job, a CASE over the kinds' table (no function of
                                   ours, so the index that holds it works for any SQLite client) */
    char queue_sql[2][1536];    /* a job's next queued task in the queue index's order, and for a node often
                                   preempted, smallest first (ts_store_tasks.c) */
};

double sdb_now(void);
int sdb_error(ts_store_t *self, const char *what);
void sdb_lock(ts_store_t *self);
void sdb_unlock(ts_store_t *self);
int sdb_exec(ts_store_t *self, const char *sql);
/* Locks and opens a transaction; sdb_end commits when rc >= 0, else rolls back, unlocks and returns rc. */
int sdb_begin(ts_store_t *self);
int sdb_end(ts_store_t *self, int rc);
/* A prepared statement for sql: the cached one when it is free (parsing a query costs more than running most), else a
   new one. Give it back with sdb_done, never sqlite3_finalize. */
sqlite3_stmt *sdb_prep(ts_store_t *self, const char *sql);
/* Gives a statement from sdb_prep back: a cached one is reset for its next use, another finalized. */
void sdb_done(ts_store_t *self, sqlite3_stmt *st);
/* Runs a statement with binds given as a format: 't' text, 'i' int64, 'd' double. */
int sdb_run(ts_store_t *self, const char *sql, const char *fmt, ...);
void sdb_copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col);
/* The first column of the first row of a query with binds as sdb_run's; dflt when there is no row, it is NULL, or
   the query fails. */
int64_t sdb_int(ts_store_t *self, int64_t dflt, const char *sql, const char *fmt, ...);

/* Under the lock, inside a transaction. */
int sdb_job_get(ts_store_t *self, int64_t id, ts_job_t *job);           /* 1 found, 0 not, -1 error */
bool sdb_job_ended(const char *state);
int sdb_job_end(ts_store_t *self, int64_t id, const char *state, const char *error);
int sdb_task_get(ts_store_t *self, int64_t id, ts_task_t *task);        /* 1 found, 0 not, -1 error */
/* A new job's name, parents and first state (ts_store_deps.c): waiting for parents not done, held or failed when a
   parent failed, paused when asked; queued otherwise. */
int sdb_job_deps_put(ts_store_t *self, int64_t id, const ts_job_request_t *r);
/* Ends a running (or paused) job as done when every frame is done: the refund of what it did not spend, and its
   children released. */
int sdb_job_done_if_complete(ts_store_t *self, int64_t id);
/* A job ended (done, failed, cancelled): its waiting children start, are held, or fail (their choice). */
int sdb_job_children_release(ts_store_t *self, int64_t id, const char *state);
/* The request's manifest becomes the job's (job_inputs). */
int sdb_job_inputs_put(ts_store_t *self, int64_t id, const ts_job_request_t *r);
/* A task that just became done moves its frame on: tiles/segments complete the frame (*frame_complete when
   every one is done; the frame goes to 'stitching'); a finish stores the frame's output and ends the job when
   every frame is done. */
int sdb_task_complete(ts_store_t *self, const ts_task_t *t, bool *frame_complete);
/* Back to the queue with a failure counted on the task and the (job, node) pair; the job fails once the task
   has failed max_failures times. */
int sdb_task_fail(ts_store_t *self, const ts_task_t *t, const char *error, int max_failures);
/* A frame whose pieces of kind changed is reopened (ts_store_verify.c): a finish's frame waits for a new finish, any
   other frame is rendering again with its stitched and final outputs dropped and its finish set aside
   ('superseded'); a render's video is then cut again (its segments set aside). */
int sdb_frame_reopen(ts_store_t *self, int64_t job, int frame, int kind);
/* The video at the end of a render is cut again: its segments set aside, its frame waiting, its output dropped. */
int sdb_video_reopen(ts_store_t *self, int64_t job);

/* Payments (ts_store_pay.c), under the lock inside the transaction that changes the tasks; each does nothing
   without an escrow. */
/* Funds a new job's budget from its requester (refused when the budget is 0 or the requester's balance short). */
int sdb_pay_fund(ts_store_t *self, int64_t job, const ts_job_request_t *r);
/* A job's work units are known: its total, after checking the budget gives each of pieces its minimum price. */
int sdb_pay_plan(ts_store_t *self, int64_t job, int64_t units_total, int64_t pieces);
/* A task was assigned: its price is locked (once). */
int sdb_pay_lock(ts_store_t *self, const ts_task_t *t);
/* Ordinary work t is accepted from t->node: its price is released (or, when it was paid before, the farm pays). */
int sdb_pay_accept(ts_store_t *self, const ts_task_t *t);
/* Check c of task o agreed: the farm pays its node o's price. */
int sdb_pay_check(ts_store_t *self, const ts_task_t *o, const ts_task_t *c);
/* Node failed a check (verdict row id): its stake is slashed. */
int sdb_pay_slash(ts_store_t *self, const char *node, int64_t job, int64_t verdict);
/* What a result of task t earns its node and what one failed check would cost it, in tokens (0, 0 without
   payments; a piece without a price earns 0). */
void sdb_pay_risk(ts_store_t *self, const ts_task_t *t, double *price, double *at_risk);
/* Work of `units` work units runs again (a requeue): its requester pays that share of the budget again into the job's
   funds, once per ref; *price gets it. 0; 1 the backend cannot (ts_error() says why); -1 refused or an error. */
int sdb_pay_more(ts_store_t *self, int64_t job, int64_t units, const char *ref, int64_t *price);
/* A job ended (done, failed or cancelled): what it did not spend goes back. */
int sdb_pay_refund(ts_store_t *self, int64_t job);
/* Whether a node has the stake work needs (always without an escrow). */
bool sdb_pay_may_work(ts_store_t *self, const char *node);
/* A node was seen (local ledger: its starting stake the first time). */
int sdb_pay_node_seen(ts_store_t *self, const char *node);

/* Fair share (ts_store_shares.c). A requester's use is the node seconds its tasks held nodes, halved every
   SDB_FAIR_HALFLIFE_S (charged by a trigger when a task leaves its node); the scheduler serves first the requester
   whose use plus its running tasks' time so far, over its weight, is least. A requester with a job on the asking
   node's scene counts SDB_FAIR_AFFINITY_S less, so a node keeps its loaded scene unless that costs another requester
   more than about a scene load. */
#define SDB_FAIR_HALFLIFE_S 3600.0
#define SDB_FAIR_AFFINITY_S 5.0
/* fair(requester, key, n, cap) for a query that binds ?5 the node's scene and ?8 the time now: every requester with
   open jobs, its key (lower first), its tasks on nodes now and its limit of those (0: none). */
#define SDB_FAIR_CTE                                                                                                   \
    "WITH run(requester, n, secs) AS (SELECT requester, n, max(n * ?8 - at_ms / 1000.0, 0) FROM requester_running"    \
    " WHERE n > 0),"                                                                                                  \
    " fair(requester, key, n, cap) AS (SELECT q.requester,"                                                           \
    " (coalesce((SELECT usage_decayed(u.secs, u.at, ?8) FROM requester_usage u WHERE u.requester=q.requester), 0)"    \
    "  + coalesce(r.secs, 0) - CASE WHEN EXISTS (SELECT 1 FROM jobs x WHERE x.requester=q.requester AND x.scene=?5"  \
    "  AND x.state IN ('queued','running')) THEN " SDB_STR(SDB_FAIR_AFFINITY_S) " ELSE 0 END)"                       \
    "  / coalesce(s.weight, 1), coalesce(r.n, 0), coalesce(s.max_running, 0)"                                        \
    " FROM (SELECT DISTINCT requester FROM jobs WHERE state IN ('queued','running')) q"                              \
    " LEFT JOIN run r ON r.requester=q.requester LEFT JOIN requester_shares s ON s.requester=q.requester) "
#define SDB_STR_(x) #x
#define SDB_STR(x) SDB_STR_(x)
/* ts_now() and usage_decayed() for SQL: before the schema (its trigger calls them). */
int sdb_shares_register(ts_store_t *self);

#endif
