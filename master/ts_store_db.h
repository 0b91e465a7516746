/* ts_store_db: the store's internals shared by its files (ts_store.c, ts_store_verify.c); not for other callers. */
#ifndef TS_STORE_DB_H
#define TS_STORE_DB_H

#include "master/ts_store.h"
#include <pthread.h>
#include <sqlite3.h>

struct ts_store {
    sqlite3 *db;
    pthread_mutex_t lock;
};

double sdb_now(void);
int sdb_error(ts_store_t *self, const char *what);
void sdb_lock(ts_store_t *self);
void sdb_unlock(ts_store_t *self);
int sdb_exec(ts_store_t *self, const char *sql);
/* Locks and opens a transaction; sdb_end commits when rc >= 0, else rolls back, unlocks and returns rc. */
int sdb_begin(ts_store_t *self);
int sdb_end(ts_store_t *self, int rc);
sqlite3_stmt *sdb_prep(ts_store_t *self, const char *sql);
/* Runs a statement with binds given as a format: 't' text, 'i' int64, 'd' double. */
int sdb_run(ts_store_t *self, const char *sql, const char *fmt, ...);
void sdb_copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col);

/* Under the lock, inside a transaction. */
int sdb_job_get(ts_store_t *self, int64_t id, ts_job_t *job);           /* 1 found, 0 not, -1 error */
bool sdb_job_ended(const char *state);
int sdb_job_end(ts_store_t *self, int64_t id, const char *state, const char *error);
int sdb_task_get(ts_store_t *self, int64_t id, ts_task_t *task);        /* 1 found, 0 not, -1 error */
/* A task that just became done moves its frame on: tiles/segments complete the frame (*frame_complete when
   every one is done; the frame goes to 'stitching'); a finish stores the frame's output and ends the job when
   every frame is done. */
int sdb_task_complete(ts_store_t *self, const ts_task_t *t, bool *frame_complete);
/* Back to the queue with a failure counted on the task and the (job, node) pair; the job fails once the task
   has failed max_failures times. */
int sdb_task_fail(ts_store_t *self, const ts_task_t *t, const char *error, int max_failures);

#endif
