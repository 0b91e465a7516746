/* ts_payer: sends the evm backend's outbox to the JobEscrow contract, off the reactor, on its own connection to
   the master's database; reads stakes and balances back from the chain.
   DESIGN: each pass sends, in order: budgets (approve + fund; a job already funded on chain is just marked),
   price locks batched per job, releases batched per job and sorted by worker (one token transfer per worker),
   the farm pool's payments in one batch, slashes, and refunds of jobs with nothing left to pay. A row is marked
   done only after its transaction is mined; a crash in between sends it again, which the contract ignores
   (released tasks are skipped, slash ids and closed jobs are remembered). A chain that cannot be reached leaves
   the rows for the next pass; a transaction the contract refuses marks its rows failed, and a refused budget
   fails its job with the contract's error. */
#include "escrow/ts_payer.h"
#include "escrow/ts_escrow_impl.h"
#include "escrow/ts_hexbytes.h"
#include "escrow/ts_jobescrow.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 100                   /* pieces per lock or release transaction */
#define POOL_JOB 0                      /* the farm's pool for checks and redone work, a job of its own on chain */
#define POOL_DEADLINE_S (3650.0 * 86400) /* the pool stays open for ten years */
#define BUSY_TIMEOUT_MS 5000
#define PAYER_RPC_TIMEOUT_S 10.0

struct ts_payer {
    ts_escrow_config_t cfg;
    sqlite3 *db;
    ts_eth_t *eth;
    ts_jobescrow_t *ce;
    ts_address_t contract;
    bool unreachable_logged;
};

typedef struct {
    int64_t id, job, task, amount;
    double deadline, created;
    char ref[64], node[80];
    ts_address_t worker;
} row_t;

int ts_payer_check_config(const ts_escrow_config_t *cfg)
{
    if (!cfg->rpc_url || !cfg->rpc_url[0])
        return ts_error_set("--escrow evm needs --rpc URL");
    if (!cfg->contract || !cfg->contract[0])
        return ts_error_set("--escrow evm needs --escrow-address ADDR");
    if (!cfg->key_file || !cfg->key_file[0])
        return ts_error_set("--escrow evm needs --key-file FILE");
    ts_address_t a;
    if (ts_eth_address_parse(cfg->contract, a) < 0)
        return ts_error_prefix("--escrow-address");
    ts_ethkey_t *key = ts_ethkey_load(cfg->key_file);
    if (!key)
        return ts_error_prefix("--key-file");
    ts_ethkey_destroy(&key);
    return 0;
}

/* Connects to the chain and the contract; 0, or -1 (ts_error: unreachable, wrong chain id, no contract). */
static int connect_chain(ts_payer_t *self)
{
    if (self->ce)
        return 0;
    ts_eth_options_t o = {.rpc_timeout_s = PAYER_RPC_TIMEOUT_S};
    if (!self->eth && !(self->eth = ts_eth_new_opts(self->cfg.rpc_url, self->cfg.key_file, self->cfg.chain_id, &o)))
        return -1;
    if (!(self->ce = ts_jobescrow_new(self->eth, self->contract)))
        return -1;
    return 0;
}

ts_payer_t *ts_payer_new(const ts_escrow_config_t *cfg, const char *db_path)
{
    if (ts_payer_check_config(cfg) < 0)
        return NULL;
    ts_payer_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    ts_eth_address_parse(cfg->contract, self->contract);
    if (sqlite3_open_v2(db_path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        ts_error_set("%s: %s", db_path, self->db ? sqlite3_errmsg(self->db) : "cannot open");
        ts_payer_destroy(&self);
        return NULL;
    }
    sqlite3_busy_timeout(self->db, BUSY_TIMEOUT_MS);
    /* the farm's pool is funded once, like a job */
    if (ts_escrow_sql(self->db, "INSERT OR IGNORE INTO outbox_jobs(job,budget) VALUES(?,?)", "ii", (int64_t)POOL_JOB,
                      cfg->pool) < 0 ||
        ts_escrow_sql(self->db, "INSERT OR IGNORE INTO outbox(kind,job,amount,deadline,created) VALUES('fund',?,?,?,?)",
                      "iidd", (int64_t)POOL_JOB, cfg->pool, ts_clock_wall() + POOL_DEADLINE_S, ts_clock_wall()) < 0) {
        ts_payer_destroy(&self);
        return NULL;
    }
    /* a wrong chain or contract is a configuration error; a chain that is down is waited for */
    if (connect_chain(self) < 0) {
        if (!strstr(ts_error(), "unreachable")) {
            ts_payer_destroy(&self);
            return NULL;
        }
        ts_warn("payments: %s; jobs wait for their budgets to reach the chain", ts_error());
        self->unreachable_logged = true;
    }
    return self;
}

void ts_payer_destroy(ts_payer_t **self_p)
{
    ts_payer_t *self = *self_p;
    if (!self)
        return;
    ts_jobescrow_destroy(&self->ce);
    ts_eth_destroy(&self->eth);
    if (self->db) {
        ts_escrow_sql_forget(self->db);
        sqlite3_close(self->db);
    }
    free(self);
    *self_p = NULL;
}

void ts_payer_stats(ts_payer_t *self, uint64_t *gas, uint64_t *transactions)
{
    ts_jobescrow_spent_t s = self->ce ? ts_jobescrow_spent(self->ce) : (ts_jobescrow_spent_t){0, 0};
    *gas = s.gas;
    *transactions = s.transactions;
}

/* Pending rows of a kind (job < 0: any job), oldest first; for releases and payments, the worker's address. */
static int pending(ts_payer_t *self, const char *kind, int64_t job, row_t **rows, int *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT o.id, o.job, o.task, o.amount, o.deadline, o.ref, o.node, coalesce(n.payout,''), o.created"
                           " FROM outbox o LEFT JOIN nodes n ON n.id=o.node WHERE o.state='pending' AND o.kind=?1"
                           " AND (?2<0 OR o.job=?2)"
                           /* a lock whose piece is already accepted goes out with its release (which locks it) */
                           " AND (?1!='lock' OR NOT EXISTS (SELECT 1 FROM outbox r WHERE r.kind='release' AND"
                           "  r.job=o.job AND r.task=o.task AND r.state='pending')) ORDER BY o.id LIMIT 1000",
                           -1, &st, NULL) != SQLITE_OK)
        return ts_error_set("outbox: %s", sqlite3_errmsg(self->db));
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, job);
    int cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            row_t *grown = realloc(*rows, (size_t)cap * sizeof **rows);
            if (!grown) {
                sqlite3_finalize(st);
                return ts_error_set("out of memory");
            }
            *rows = grown;
        }
        row_t *r = &(*rows)[(*n)++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        r->job = sqlite3_column_int64(st, 1);
        r->task = sqlite3_column_int64(st, 2);
        r->amount = sqlite3_column_int64(st, 3);
        r->deadline = sqlite3_column_double(st, 4);
        snprintf(r->ref, sizeof r->ref, "%s", (const char *)sqlite3_column_text(st, 5));
        snprintf(r->node, sizeof r->node, "%s", (const char *)sqlite3_column_text(st, 6));
        r->created = sqlite3_column_double(st, 8);
        const char *payout = (const char *)sqlite3_column_text(st, 7);
        if (payout[0])
            ts_eth_address_parse(payout, r->worker);
    }
    sqlite3_finalize(st);
    return 0;
}

/* Marks rows (state, the last transaction, its gas); with locks, also the pending locks of the same pieces, which a
   release locked on chain in the same transaction. */
static void mark_rows(ts_payer_t *self, const row_t *rows, int n, const char *state, const char *error, uint64_t gas,
                      bool locks)
{
    uint8_t tx[32];
    ts_jobescrow_last_tx(self->ce, tx);
    char *hex = ts_hex_encode(tx, sizeof tx);
    ts_escrow_sql(self->db, "BEGIN IMMEDIATE", NULL);
    for (int i = 0; i < n; i++) {
        ts_escrow_sql(self->db, "UPDATE outbox SET state=?, tx=?, error=?, gas=?, sent=? WHERE id=?", "tttidi", state,
                      gas && hex ? hex : "", error ? error : "", (int64_t)gas, ts_clock_wall(), rows[i].id);
        if (locks)
            ts_escrow_sql(self->db, "UPDATE outbox SET state='done', tx=?, sent=? WHERE kind='lock' AND job=? AND "
                                    "task=? AND state='pending'", "tdii", hex ? hex : "", ts_clock_wall(), rows[i].job,
                          rows[i].task);
    }
    ts_escrow_sql(self->db, "COMMIT", NULL);
    free(hex);
}

static void mark(ts_payer_t *self, const row_t *rows, int n, const char *state, const char *error, uint64_t gas)
{
    mark_rows(self, rows, n, state, error, gas, false);
}

/* After a failed send: 1 when the contract refused it (the rows fail), -1 when the chain is out of reach. */
static int refused(ts_payer_t *self)
{
    size_t len;
    return ts_eth_last_revert(self->eth, &len) ? 1 : -1;
}

/* After one row's transaction (call_rc): done, or failed when the contract refused it; -1 when the chain is out of
   reach (the row stays pending). */
static int settled(ts_payer_t *self, const row_t *row, int call_rc, uint64_t gas0)
{
    if (call_rc == 0) {
        mark(self, row, 1, "done", NULL, ts_jobescrow_spent(self->ce).gas - gas0);
        return 0;
    }
    if (refused(self) < 0)
        return -1;
    ts_warn("payments: %s refused: %s", row->node[0] ? row->node : "a transaction", ts_error());
    mark(self, row, 1, "failed", ts_error(), 0);
    return 0;
}

static bool funded(ts_payer_t *self, int64_t job)
{
    int64_t done = 0;
    ts_escrow_sql_int(self->db, &done, 0, "SELECT 1 FROM outbox WHERE kind='fund' AND job=? AND state='done'", "i", job);
    return done == 1;
}

static void fail_job(ts_payer_t *self, int64_t job, const char *why)
{
    char msg[512];
    snprintf(msg, sizeof msg, "payments: the chain refused the job's budget: %s", why);
    ts_escrow_sql(self->db, "UPDATE jobs SET state='failed', error=?, finished=? WHERE id=? AND state IN "
                            "('queued','running')", "tdi", msg, ts_clock_wall(), job);
    ts_escrow_sql(self->db, "UPDATE tasks SET state='cancelled' WHERE job_id=? AND state IN ('queued','assigned',"
                            "'verifying','checking')", "i", job);
    ts_warn("job %" PRId64 ": %s", job, msg);
}

static int send_funds(ts_payer_t *self)
{
    row_t *rows;
    int n;
    if (pending(self, "fund", -1, &rows, &n) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        ts_chain_id_t id;
        ts_jobescrow_job_id(self->cfg.salt, rows[i].job, id);
        ts_jobescrow_job_t on_chain;
        uint64_t gas0 = ts_jobescrow_spent(self->ce).gas;
        if (ts_jobescrow_job(self->ce, id, &on_chain) < 0) {
            rc = -1;
            break;
        }
        if (!on_chain.exists && (ts_jobescrow_approve(self->ce, rows[i].amount) < 0 ||
                                 ts_jobescrow_fund(self->ce, id, rows[i].amount, (uint64_t)rows[i].deadline) < 0)) {
            if (refused(self) < 0) {
                rc = -1;
                break;
            }
            mark(self, &rows[i], 1, "failed", ts_error(), 0);
            if (rows[i].job != POOL_JOB)
                fail_job(self, rows[i].job, ts_error());
            else
                ts_warn("payments: the farm's pool cannot be funded: %s", ts_error());
            continue;
        }
        mark(self, &rows[i], 1, "done", NULL, ts_jobescrow_spent(self->ce).gas - gas0);
        ts_escrow_sql(self->db, "UPDATE jobs SET funded=1 WHERE id=?", "i", rows[i].job);
    }
    free(rows);
    return rc;
}

static int cmp_worker(const void *a, const void *b)
{
    return memcmp(((const row_t *)a)->worker, ((const row_t *)b)->worker, TS_ETH_ADDRESS_BYTES);
}

/* Sends one batch (lock, release or a pool payment) of rows of one job; 0 sent or refused, -1 unreachable. */
static int send_batch(ts_payer_t *self, const char *kind, int64_t job, row_t *rows, int n)
{
    ts_chain_id_t jid;
    ts_jobescrow_job_id(self->cfg.salt, job, jid);
    ts_chain_id_t *tasks = calloc((size_t)n, sizeof *tasks);
    ts_address_t *workers = calloc((size_t)n, sizeof *workers);
    int64_t *prices = calloc((size_t)n, sizeof *prices);
    if (!tasks || !workers || !prices) {
        free(tasks), free(workers), free(prices);
        return ts_error_set("out of memory");
    }
    bool release = strcmp(kind, "lock") != 0;
    if (release)
        qsort(rows, (size_t)n, sizeof *rows, cmp_worker);
    for (int i = 0; i < n; i++) {
        char ref[80];
        snprintf(ref, sizeof ref, "%s%s", strcmp(kind, "pay") == 0 ? "pay:" : "", rows[i].ref);
        ts_jobescrow_task_id(self->cfg.salt, rows[i].task, ref, tasks[i]);
        memcpy(workers[i], rows[i].worker, sizeof workers[i]);
        prices[i] = rows[i].amount;
    }
    uint64_t gas0 = ts_jobescrow_spent(self->ce).gas;
    int rc = release ? ts_jobescrow_release(self->ce, jid, tasks, workers, prices, (size_t)n)
                     : ts_jobescrow_lock(self->ce, jid, tasks, prices, (size_t)n);
    if (rc == 0)
        mark_rows(self, rows, n, "done", NULL, ts_jobescrow_spent(self->ce).gas - gas0, strcmp(kind, "release") == 0);
    else if ((rc = refused(self)) > 0) {
        ts_warn("payments: %s of %d piece(s) of job %" PRId64 " refused: %s", kind, n, job, ts_error());
        mark(self, rows, n, "failed", ts_error(), 0);
        rc = 0;
    }
    free(tasks), free(workers), free(prices);
    return rc;
}

/* Whether a job's pieces go out now: a full batch, a piece waiting settle_s, or the job over (its refund waits). */
static bool batch_due(ts_payer_t *self, int64_t job, const row_t *rows, int n)
{
    if (n >= BATCH_MAX)
        return true;
    double oldest = rows[0].created;
    for (int i = 1; i < n; i++)
        oldest = rows[i].created < oldest ? rows[i].created : oldest;
    if (ts_clock_wall() - oldest >= self->cfg.settle_s)
        return true;
    int64_t ended = 0;
    ts_escrow_sql_int(self->db, &ended, 0, "SELECT 1 FROM jobs WHERE id=? AND state IN ('done','failed','cancelled')", "i",
                      job);
    return ended == 1;
}

/* Locks, releases or pool payments: batched per job, in chunks of BATCH_MAX, each job's once due. */
static int send_pieces(ts_payer_t *self, const char *kind)
{
    row_t *rows;
    int n;
    if (pending(self, kind, -1, &rows, &n) < 0)
        return -1;
    static const ts_address_t zero;
    int rc = 0;
    for (int i = 0; rc == 0 && i < n;) {
        int64_t job = strcmp(kind, "pay") == 0 ? POOL_JOB : rows[i].job;
        int j = i, m = 0;
        row_t *batch = malloc(sizeof *batch * BATCH_MAX);
        if (!batch) {
            rc = ts_error_set("out of memory");
            break;
        }
        for (; j < n && m < BATCH_MAX && (strcmp(kind, "pay") == 0 || rows[j].job == job); j++) {
            if (strcmp(kind, "lock") != 0 && memcmp(rows[j].worker, zero, sizeof zero) == 0) {
                mark(self, &rows[j], 1, "failed", "the node has no payout address", 0);
                continue;
            }
            batch[m++] = rows[j];
        }
        if (m > 0 && funded(self, job) && batch_due(self, job, batch, m))
            rc = send_batch(self, kind, job, batch, m);
        free(batch);
        i = j;
    }
    free(rows);
    return rc;
}

static int send_slashes(ts_payer_t *self)
{
    row_t *rows;
    int n;
    if (pending(self, "slash", -1, &rows, &n) < 0)
        return -1;
    static const ts_address_t zero;
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        if (memcmp(rows[i].worker, zero, sizeof zero) == 0) {
            mark(self, &rows[i], 1, "failed", "the node has no payout address", 0);
            continue;
        }
        ts_chain_id_t jid, sid;
        ts_jobescrow_job_id(self->cfg.salt, rows[i].job, jid);
        ts_jobescrow_slash_id(self->cfg.salt, rows[i].task, sid);
        uint64_t gas0 = ts_jobescrow_spent(self->ce).gas;
        rc = settled(self, &rows[i], ts_jobescrow_slash(self->ce, rows[i].worker, rows[i].amount, sid, jid), gas0);
    }
    free(rows);
    return rc;
}

static int send_refunds(ts_payer_t *self)
{
    row_t *rows;
    int n;
    if (pending(self, "refund", -1, &rows, &n) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        int64_t open = 0;
        if (ts_escrow_sql_int(self->db, &open, 0,
                              "SELECT count(*) FROM outbox WHERE job=? AND kind IN ('fund','lock','release') AND "
                              "state='pending'", "i", rows[i].job) < 0)
            rc = -1;
        if (rc < 0 || open > 0)
            continue; /* the job's pay goes out first */
        ts_chain_id_t jid;
        ts_jobescrow_job_id(self->cfg.salt, rows[i].job, jid);
        uint64_t gas0 = ts_jobescrow_spent(self->ce).gas;
        rc = settled(self, &rows[i], ts_jobescrow_refund(self->ce, jid), gas0);
    }
    free(rows);
    return rc;
}

/* The chain's stakes of the nodes that have payout addresses, for the scheduler (chain_stakes). */
static int refresh_stakes(ts_payer_t *self)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "SELECT id, payout FROM nodes WHERE payout!=''", -1, &st, NULL) != SQLITE_OK)
        return ts_error_set("outbox: %s", sqlite3_errmsg(self->db));
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        ts_address_t a;
        int64_t active = 0, waiting = 0;
        const char *node = (const char *)sqlite3_column_text(st, 0), *payout = (const char *)sqlite3_column_text(st, 1);
        if (ts_eth_address_parse(payout, a) < 0)
            continue;
        rc = ts_jobescrow_stake_of(self->ce, a, &active, &waiting);
        if (rc == 0)
            rc = ts_escrow_sql(self->db, "INSERT INTO chain_stakes(node,address,stake,at) VALUES(?,?,?,?) ON CONFLICT(node)"
                                         " DO UPDATE SET address=excluded.address, stake=excluded.stake, at=excluded.at",
                               "ttid", node, payout, active, ts_clock_wall());
    }
    sqlite3_finalize(st);
    return rc;
}

int ts_payer_pass(ts_payer_t *self)
{
    if (connect_chain(self) < 0) {
        if (self->unreachable_logged)
            return 0;
        self->unreachable_logged = true;
        return -1;
    }
    if (self->unreachable_logged)
        ts_info("payments: the chain at %s answers again", self->cfg.rpc_url);
    self->unreachable_logged = false;
    int64_t before = 0, after = 0;
    ts_escrow_sql_int(self->db, &before, 0, "SELECT count(*) FROM outbox WHERE state='pending'", NULL);
    int rc = send_funds(self);
    rc = rc ? rc : send_pieces(self, "lock");
    rc = rc ? rc : send_pieces(self, "release");
    rc = rc ? rc : send_pieces(self, "pay");
    rc = rc ? rc : send_slashes(self);
    rc = rc ? rc : send_refunds(self);
    rc = rc ? rc : refresh_stakes(self);
    if (rc < 0) {
        /* reconnect next time: the chain may have restarted */
        ts_jobescrow_destroy(&self->ce);
        ts_eth_destroy(&self->eth);
        self->unreachable_logged = true;
        return -1;
    }
    ts_escrow_sql_int(self->db, &after, 0, "SELECT count(*) FROM outbox WHERE state='pending'", NULL);
    return (int)(before - after);
}

/* ---- the wallet as the chain has it ---- */

static json_t *account_json(const char *account, const char *kind, const ts_address_t a, int64_t balance,
                            int64_t stake, int64_t locked)
{
    char shown[TS_ETH_ADDRESS_HEX];
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "account", account, "kind", kind, "address",
                     ts_eth_address_format(a, shown), "balance", (json_int_t)balance, "stake", (json_int_t)stake,
                     "locked", (json_int_t)locked);
}

/* available + locked on chain of every job this farm funded (pool: only the pool, else every other job) */
static int64_t escrowed(ts_jobescrow_t *ce, sqlite3 *db, const char *salt, bool pool)
{
    sqlite3_stmt *st = NULL;
    int64_t sum = 0;
    if (sqlite3_prepare_v2(db, "SELECT job FROM outbox WHERE kind='fund' AND state='done' AND (job=0)=?", -1, &st,
                           NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int(st, 1, pool);
    while (sqlite3_step(st) == SQLITE_ROW) {
        ts_chain_id_t id;
        ts_jobescrow_job_t j;
        ts_jobescrow_job_id(salt, sqlite3_column_int64(st, 0), id);
        if (ts_jobescrow_job(ce, id, &j) == 0)
            sum += j.available + j.locked;
    }
    sqlite3_finalize(st);
    return sum;
}

json_t *ts_payer_wallet_json(const ts_escrow_config_t *cfg, sqlite3 *db)
{
    ts_eth_options_t o = {.rpc_timeout_s = PAYER_RPC_TIMEOUT_S};
    ts_eth_t *eth = ts_eth_new_opts(cfg->rpc_url, cfg->key_file, cfg->chain_id, &o);
    ts_address_t contract, me, treasury;
    ts_eth_address_parse(cfg->contract, contract);
    ts_jobescrow_t *ce = eth ? ts_jobescrow_new(eth, contract) : NULL;
    json_t *accounts = json_array(), *out = NULL;
    int64_t b = 0, s = 0, p = 0;
    if (!ce || ts_jobescrow_treasury(ce, treasury) < 0)
        goto done;
    ts_eth_address(eth, me);
    if (ts_jobescrow_balance_of(ce, me, &b) < 0)
        goto done;
    json_array_append_new(accounts, account_json("master", "requester", me, b, 0, escrowed(ce, db, cfg->salt, false)));
    if (ts_jobescrow_balance_of(ce, treasury, &b) < 0)
        goto done;
    json_array_append_new(accounts, account_json("farm", "farm", treasury, b, 0, escrowed(ce, db, cfg->salt, true)));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, payout FROM nodes WHERE payout!='' ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            ts_address_t a;
            if (ts_eth_address_parse((const char *)sqlite3_column_text(st, 1), a) < 0 ||
                ts_jobescrow_balance_of(ce, a, &b) < 0 || ts_jobescrow_stake_of(ce, a, &s, &p) < 0)
                continue;
            json_array_append_new(accounts,
                                  account_json((const char *)sqlite3_column_text(st, 0), "node", a, b, s + p, 0));
        }
        sqlite3_finalize(st);
    }
    ts_address_t token;
    char token_hex[TS_ETH_ADDRESS_HEX];
    ts_jobescrow_token(ce, token);
    out = json_pack("{s:s,s:i,s:I,s:s,s:s,s:o}", "backend", "evm", "decimals", TS_TOKEN_DECIMALS, "chain_id",
                    (json_int_t)ts_eth_chain_id(eth), "token", ts_eth_address_format(token, token_hex), "escrow",
                    cfg->contract, "accounts", accounts);
    accounts = NULL;
done:
    json_decref(accounts);
    ts_jobescrow_destroy(&ce);
    ts_eth_destroy(&eth);
    return out;
}

int ts_payer_history_json(const ts_escrow_config_t *cfg, sqlite3 *db, const char *account, int limit, json_t **out)
{
    /* what the outbox sent for the account: a node (id or prefix), or "master" (every budget and refund) */
    bool master = strcmp(account, "master") == 0;
    int64_t known = 0;
    if (!master && ts_escrow_sql_int(db, &known, 0, "SELECT count(*) FROM nodes WHERE substr(id,1,length(?1))=?1", "t",
                                     account) < 0)
        return -1;
    if (!master && known != 1)
        return known == 0 ? 1 : ts_error_set("account '%s' is ambiguous", account);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, created, kind, job, task, ref, amount, state, coalesce(tx,''), coalesce(error,'')"
                           " FROM outbox WHERE (?1 AND kind IN ('fund','refund')) OR (NOT ?1 AND"
                           " substr(node,1,length(?2))=?2 AND node!='') ORDER BY id DESC LIMIT ?3",
                           -1, &st, NULL) != SQLITE_OK)
        return ts_error_set("outbox: %s", sqlite3_errmsg(db));
    sqlite3_bind_int(st, 1, master);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
    json_t *rows = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(
            rows, json_pack("{s:I,s:f,s:s,s:I,s:I,s:s,s:s,s:I,s:s,s:s,s:s}", "xact", (json_int_t)sqlite3_column_int64(st, 0),
                            "at", sqlite3_column_double(st, 1), "kind", (const char *)sqlite3_column_text(st, 2), "job",
                            (json_int_t)sqlite3_column_int64(st, 3), "task", (json_int_t)sqlite3_column_int64(st, 4),
                            "memo", (const char *)sqlite3_column_text(st, 5), "bucket", "chain", "amount",
                            (json_int_t)sqlite3_column_int64(st, 6), "state", (const char *)sqlite3_column_text(st, 7),
                            "tx", (const char *)sqlite3_column_text(st, 8), "error",
                            (const char *)sqlite3_column_text(st, 9)));
    sqlite3_finalize(st);
    *out = json_pack("{s:s,s:o}", "account", account, "history", rows);
    return 0;
}
