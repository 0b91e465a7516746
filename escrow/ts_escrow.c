/* ts_escrow: picks the escrow backend and dispatches to it; token amounts as text; SQL helpers the backends share. */
#include "escrow/ts_escrow_impl.h"
#include "lib/ts_error.h"
#include "lib/ts_sql.h"
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ts_escrow_ops_t *const BACKENDS[] = {&ts_ledger_ops, &ts_outbox_ops};

ts_escrow_t *ts_escrow_new(const ts_escrow_config_t *cfg, sqlite3 *db)
{
    const char *name = cfg->backend && cfg->backend[0] ? cfg->backend : "local";
    const ts_escrow_ops_t *ops = NULL;
    for (size_t i = 0; i < sizeof BACKENDS / sizeof BACKENDS[0]; i++)
        if (strcmp(BACKENDS[i]->name, name) == 0)
            ops = BACKENDS[i];
    if (!ops) {
        ts_error_set("--escrow %s: unknown backend (local or evm)", name);
        return NULL;
    }
    if (cfg->slash_share < 0 || cfg->slash_share > 1) {
        ts_error_set("slash share %g: must be within 0..1", cfg->slash_share);
        return NULL;
    }
    ts_escrow_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("out of memory");
        return NULL;
    }
    self->ops = ops;
    self->cfg = *cfg;
    if (ops->open(self, db) < 0) {
        free(self);
        return NULL;
    }
    return self;
}

void ts_escrow_destroy(ts_escrow_t **self_p)
{
    ts_escrow_t *self = *self_p;
    if (!self)
        return;
    if (self->ops->close)
        self->ops->close(self);
    free(self);
    *self_p = NULL;
}

const char *ts_escrow_backend(const ts_escrow_t *self)
{
    return self->ops->name;
}

bool ts_escrow_settles_later(const ts_escrow_t *self)
{
    return self->ops->settles_later;
}

int ts_escrow_fund(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *requester, int64_t amount, double deadline)
{
    if (amount <= 0)
        return ts_error_set("job %" PRId64 ": budget must be above 0", job);
    return self->ops->fund(self, db, job, requester, amount, deadline);
}

int ts_escrow_fund_more(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *ref, int64_t amount)
{
    if (amount <= 0)
        return 0;
    if (!self->ops->fund_more)
        return ts_error_set("the %s escrow cannot add to a job's funds (a job is funded once: its refund closes it)",
                            self->ops->name) + 2;
    return self->ops->fund_more(self, db, job, ref, amount);
}

int ts_escrow_lock(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, int64_t price)
{
    return price <= 0 ? 0 : self->ops->lock(self, db, job, task, price);
}

int ts_escrow_release(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *node, int64_t price)
{
    return price <= 0 ? 0 : self->ops->release(self, db, job, task, node, price);
}

int ts_escrow_pay(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *ref, const char *node,
                  int64_t amount)
{
    return amount <= 0 ? 0 : self->ops->pay(self, db, job, task, ref, node, amount);
}

int ts_escrow_slash(ts_escrow_t *self, sqlite3 *db, const char *node, int64_t job, int64_t verdict)
{
    return self->cfg.slash_share <= 0 ? 0 : self->ops->slash(self, db, node, job, verdict);
}

int64_t ts_escrow_slash_of(const ts_escrow_t *self, int64_t stake)
{
    if (self->cfg.slash_share <= 0 || stake <= 0)
        return 0;
    int64_t take = (int64_t)((double)stake * self->cfg.slash_share);
    return take < stake ? take : stake;
}

int ts_escrow_refund(ts_escrow_t *self, sqlite3 *db, int64_t job)
{
    return self->ops->refund(self, db, job);
}

int ts_escrow_credit(ts_escrow_t *self, sqlite3 *db, const char *requester, int64_t amount, const char *ref)
{
    return self->ops->credit(self, db, requester, amount, ref);
}

int ts_escrow_node_joined(ts_escrow_t *self, sqlite3 *db, const char *node)
{
    return self->ops->node_joined(self, db, node);
}

int64_t ts_escrow_stake(ts_escrow_t *self, sqlite3 *db, const char *node)
{
    return self->ops->stake(self, db, node);
}

json_t *ts_escrow_wallet_json(ts_escrow_t *self, sqlite3 *db)
{
    return self->ops->wallet(self, db);
}

int ts_escrow_history_json(ts_escrow_t *self, sqlite3 *db, const char *account, int limit, json_t **out)
{
    return self->ops->history(self, db, account, limit, out);
}

/* ---- SQL helpers ---- */

int ts_escrow_schema(sqlite3 *db, const char *schema, const char *what)
{
    char *err = NULL;
    if (sqlite3_exec(db, schema, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    ts_error_set("%s: %s", what, err ? err : "cannot create tables");
    sqlite3_free(err);
    return -1;
}

/* Statements kept prepared, per connection: a ledger runs the same few dozen for every piece, and preparing them
   cost more than running them. Keyed by the connection and the SQL text; one in use is prepared afresh. */
#define STMT_CACHE_MAX 128

typedef struct {
    sqlite3 *db;
    char *sql;
    sqlite3_stmt *st;
    bool busy;
} cached_t;

static cached_t cache[STMT_CACHE_MAX];
static int ncache;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, bool *cached)
{
    *cached = false;
    pthread_mutex_lock(&cache_lock);
    cached_t *c = NULL;
    for (int i = 0; i < ncache && !c; i++)
        if (cache[i].db == db && strcmp(cache[i].sql, sql) == 0)
            c = &cache[i];
    if (c && !c->busy) {
        c->busy = *cached = true;
        pthread_mutex_unlock(&cache_lock);
        return c->st;
    }
    pthread_mutex_unlock(&cache_lock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, c ? 0 : SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    pthread_mutex_lock(&cache_lock);
    char *text = c || ncache == STMT_CACHE_MAX ? NULL : strdup(sql);
    if (text) {
        cache[ncache++] = (cached_t){db, text, st, true};
        *cached = true;
    }
    pthread_mutex_unlock(&cache_lock);
    return st;
}

static void done(sqlite3_stmt *st, bool cached)
{
    if (!cached) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < ncache; i++)
        if (cache[i].st == st)
            cache[i].busy = false;
    pthread_mutex_unlock(&cache_lock);
}

void ts_escrow_sql_forget(sqlite3 *db)
{
    pthread_mutex_lock(&cache_lock);
    int kept = 0;
    for (int i = 0; i < ncache; i++) {
        if (cache[i].db == db) {
            sqlite3_finalize(cache[i].st);
            free(cache[i].sql);
        } else {
            cache[kept++] = cache[i];
        }
    }
    ncache = kept;
    pthread_mutex_unlock(&cache_lock);
}

/* Runs one statement; with out, the first column of its first row (dflt when there is none). */
static int run(sqlite3 *db, int64_t *out, int64_t dflt, const char *sql, const char *fmt, va_list ap)
{
    bool cached;
    sqlite3_stmt *st = prep(db, sql, &cached);
    if (!st)
        return ts_error_set("escrow: %s", sqlite3_errmsg(db));
    ts_sql_bindv(st, fmt, ap);
    int rc = sqlite3_step(st);
    if (out)
        *out = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0) : dflt;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ts_error_set("escrow: %s", sqlite3_errmsg(db));
    done(st, cached);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int ts_escrow_sql(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = run(db, NULL, 0, sql, fmt, ap);
    va_end(ap);
    return rc;
}

int ts_escrow_sql_int(sqlite3 *db, int64_t *out, int64_t dflt, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = run(db, out, dflt, sql, fmt, ap);
    va_end(ap);
    return rc;
}
