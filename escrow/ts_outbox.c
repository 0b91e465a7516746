/* ts_outbox: the evm escrow backend's side of the store: every call becomes an outbox row in the caller's
   transaction; the payer (escrow/ts_payer.c) sends the rows to the JobEscrow contract.
   DESIGN: a row is unique by (kind, job, task, ref), so a repeated call adds nothing; the contract is idempotent
   by the same ids (a released task is skipped, a slash id is used once, a closed job is not refunded twice), so
   a row sent again after a crash changes nothing on chain. Funds are mirrored here (outbox_jobs) so that a lock
   beyond a job's budget is refused before it reaches the chain. */
#include "escrow/ts_escrow_impl.h"
#include "escrow/ts_payer.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const OUTBOX_SCHEMA =
    "CREATE TABLE IF NOT EXISTS outbox("
    " id INTEGER PRIMARY KEY, kind TEXT NOT NULL, job INT NOT NULL DEFAULT 0, task INT NOT NULL DEFAULT 0,"
    " ref TEXT NOT NULL DEFAULT '', node TEXT NOT NULL DEFAULT '', amount INT NOT NULL DEFAULT 0,"
    " deadline REAL NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending', tx TEXT, error TEXT,"
    " gas INT NOT NULL DEFAULT 0, created REAL NOT NULL, sent REAL, UNIQUE(kind, job, task, ref));"
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(state, job, kind);"
    "CREATE TABLE IF NOT EXISTS outbox_jobs(job INTEGER PRIMARY KEY, budget INT NOT NULL, locked INT NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS chain_stakes(node TEXT PRIMARY KEY, address TEXT NOT NULL, stake INT NOT NULL,"
    " at REAL NOT NULL);";

static int enqueue(sqlite3 *db, const char *kind, int64_t job, int64_t task, const char *ref, const char *node,
                   int64_t amount, double deadline, bool *added)
{
    if (ts_escrow_sql(db,
                      "INSERT OR IGNORE INTO outbox(kind,job,task,ref,node,amount,deadline,created) VALUES(?,?,?,?,?,?,?,?)",
                      "tiittidd", kind, job, task, ref, node ? node : "", amount, deadline, ts_clock_wall()) < 0)
        return -1;
    if (added)
        *added = sqlite3_changes(db) == 1;
    return 0;
}

static bool row_exists(sqlite3 *db, const char *kind, int64_t job, int64_t task, const char *ref)
{
    int64_t v = 0;
    ts_escrow_sql_int(db, &v, 0, "SELECT 1 FROM outbox WHERE kind=? AND job=? AND task=? AND ref=?", "tiit", kind, job,
                      task, ref);
    return v == 1;
}

static int outbox_open(ts_escrow_t *self, sqlite3 *db)
{
    if (ts_escrow_schema(db, OUTBOX_SCHEMA, "outbox") < 0)
        return -1;
    return ts_payer_check_config(&self->cfg);
}

static int outbox_fund(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *requester, int64_t amount,
                       double deadline)
{
    /* on a chain the requester is the master's key; the name stays in the store's job row */
    if (ts_escrow_sql(db, "INSERT OR IGNORE INTO outbox_jobs(job,budget) VALUES(?,?)", "ii", job, amount) < 0)
        return -1;
    return enqueue(db, "fund", job, 0, "", NULL, amount, deadline, NULL);
}

static int outbox_lock(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, int64_t price)
{
    if (row_exists(db, "lock", job, task, ""))
        return 0;
    int64_t left = -1;
    if (ts_escrow_sql_int(db, &left, -1, "SELECT budget-locked FROM outbox_jobs WHERE job=?", "i", job) < 0)
        return -1;
    if (left < price)
        return ts_error_set("job %" PRId64 ": funds left (%" PRId64 ") below task %" PRId64 "'s price %" PRId64, job,
                            left, task, price) + 2;
    if (ts_escrow_sql(db, "UPDATE outbox_jobs SET locked=locked+? WHERE job=?", "ii", price, job) < 0)
        return -1;
    return enqueue(db, "lock", job, task, "", NULL, price, 0, NULL);
}

static int outbox_release(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *node, int64_t price)
{
    int64_t locked = 0;
    if (ts_escrow_sql_int(db, &locked, 0, "SELECT amount FROM outbox WHERE kind='lock' AND job=? AND task=?", "ii", job,
                          task) < 0)
        return -1;
    if (locked <= 0 || row_exists(db, "refund", job, 0, "0"))
        return ts_error_set("job %" PRId64 " task %" PRId64 ": no price locked", job, task) + 2;
    return enqueue(db, "release", job, task, "", node, locked, 0, NULL);
}

static int outbox_pay(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *ref, const char *node,
                      int64_t amount)
{
    return enqueue(db, "pay", job, task, ref, node, amount, 0, NULL);
}

static int outbox_slash(ts_escrow_t *self, sqlite3 *db, const char *node, int64_t job, int64_t verdict)
{
    int64_t stake = 0;
    if (ts_escrow_sql_int(db, &stake, 0, "SELECT stake FROM chain_stakes WHERE node=?", "t", node) < 0)
        return -1;
    int64_t take = ts_escrow_slash_of(self, stake);
    return take <= 0 ? 0 : enqueue(db, "slash", job, verdict, "", node, take, 0, NULL);
}

static int outbox_refund(ts_escrow_t *self, sqlite3 *db, int64_t job)
{
    int64_t funded = 0;
    if (ts_escrow_sql_int(db, &funded, 0, "SELECT 1 FROM outbox_jobs WHERE job=?", "i", job) < 0)
        return -1;
    /* the contract closes a job with its refund: a job reopened later is paid by the farm's pool */
    return funded ? enqueue(db, "refund", job, 0, "0", NULL, 0, 0, NULL) : 0;
}

static int outbox_node_joined(ts_escrow_t *self, sqlite3 *db, const char *node)
{
    return 0; /* stakes are on chain; the payer reads them */
}

static int64_t outbox_stake(ts_escrow_t *self, sqlite3 *db, const char *node)
{
    int64_t stake = 0;
    return ts_escrow_sql_int(db, &stake, 0, "SELECT stake FROM chain_stakes WHERE node=?", "t", node) < 0 ? -1 : stake;
}

static json_t *outbox_wallet(ts_escrow_t *self, sqlite3 *db)
{
    return ts_payer_wallet_json(&self->cfg, db);
}

static int outbox_history(ts_escrow_t *self, sqlite3 *db, const char *account, int limit, json_t **out)
{
    return ts_payer_history_json(&self->cfg, db, account, limit, out);
}

static int outbox_credit(ts_escrow_t *self, sqlite3 *db, const char *requester, int64_t amount, const char *ref)
{
    return ts_error_set("credit: on a chain (--escrow evm) the farm makes no tokens; send them to the master's "
                        "address with the token's own transfer instead");
}

const ts_escrow_ops_t ts_outbox_ops = {
    .name = "evm",
    .settles_later = true,
    .open = outbox_open,
    .fund = outbox_fund,
    .lock = outbox_lock,
    .release = outbox_release,
    .pay = outbox_pay,
    .slash = outbox_slash,
    .refund = outbox_refund,
    .node_joined = outbox_node_joined,
    .credit = outbox_credit,
    .stake = outbox_stake,
    .wallet = outbox_wallet,
    .history = outbox_history,
};
