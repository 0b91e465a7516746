/* ts_escrow_impl: what an escrow backend provides (escrow/escrow.h dispatches to it); not for other callers. */
#ifndef TS_ESCROW_IMPL_H
#define TS_ESCROW_IMPL_H

#include "escrow/escrow.h"

typedef struct {
    const char *name;
    bool settles_later;   /* money moves after the calls commit (an outbox) */
    int (*open)(ts_escrow_t *self, sqlite3 *db);
    void (*close)(ts_escrow_t *self);
    int (*fund)(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *requester, int64_t amount, double deadline);
    /* adds to a job's funds (NULL: the backend cannot; ts_escrow_fund_more answers 1) */
    int (*fund_more)(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *ref, int64_t amount);
    int (*lock)(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, int64_t price);
    int (*release)(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *node, int64_t price);
    int (*pay)(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *ref, const char *node,
               int64_t amount);
    int (*slash)(ts_escrow_t *self, sqlite3 *db, const char *node, int64_t job, int64_t verdict);
    int (*refund)(ts_escrow_t *self, sqlite3 *db, int64_t job);
    int (*node_joined)(ts_escrow_t *self, sqlite3 *db, const char *node);
    int (*credit)(ts_escrow_t *self, sqlite3 *db, const char *requester, int64_t amount, const char *ref);
    int64_t (*stake)(ts_escrow_t *self, sqlite3 *db, const char *node);
    json_t *(*wallet)(ts_escrow_t *self, sqlite3 *db);
    int (*history)(ts_escrow_t *self, sqlite3 *db, const char *account, int limit, json_t **out);
} ts_escrow_ops_t;

struct ts_escrow {
    const ts_escrow_ops_t *ops;
    ts_escrow_config_t cfg;
    void *backend;   /* the backend's own state */
};

extern const ts_escrow_ops_t ts_ledger_ops;   /* escrow/ts_ledger.c */
extern const ts_escrow_ops_t ts_outbox_ops;   /* escrow/ts_outbox.c */

/* Creates a backend's tables (schema: SQL statements); what names the backend in errors. */
int ts_escrow_schema(sqlite3 *db, const char *schema, const char *what);
/* Runs one statement with binds given as a format ('t' text, 'i' int64, 'd' double); -1 with ts_error(). */
int ts_escrow_sql(sqlite3 *db, const char *sql, const char *fmt, ...);
/* The first column of the first row as int64 (dflt when there is no row); -1 with ts_error() on errors. */
int ts_escrow_sql_int(sqlite3 *db, int64_t *out, int64_t dflt, const char *sql, const char *fmt, ...);

#endif
