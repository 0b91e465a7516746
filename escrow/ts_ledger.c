/* ts_ledger: the local escrow backend, a double-entry ledger in the master's SQLite (the embedded default).
   DESIGN: a transaction (ledger_xacts) holds entries (ledger_entries) that sum to zero; money is only created
   by 'mint' transactions, whose counter-entry goes to the issuer account "mint", so the sum over every other
   account is exactly what was minted. An account's money sits in buckets: balance, stake, escrow (a job's
   funds not yet locked to a task) and locked (locked to a task); wallets show escrow + locked as locked.
   Transactions are unique by (kind, job, task, ref): a repeated call finds its transaction and changes nothing. */
#include "escrow/ts_escrow_impl.h"
#include "lib/ts_clock.h"
#include "lib/ts_account.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISSUER "mint"
#define FARM "farm"
#define NAME_MAX_LEN 160

static const char *const LEDGER_SCHEMA =
    "CREATE TABLE IF NOT EXISTS ledger_accounts("
    " name TEXT PRIMARY KEY, kind TEXT NOT NULL, created REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS ledger_xacts("
    " id INTEGER PRIMARY KEY, kind TEXT NOT NULL, job INT NOT NULL DEFAULT 0, task INT NOT NULL DEFAULT 0,"
    " ref TEXT NOT NULL DEFAULT '', memo TEXT NOT NULL DEFAULT '', at REAL NOT NULL, UNIQUE(kind, job, task, ref));"
    "CREATE TABLE IF NOT EXISTS ledger_entries("
    " xact INT NOT NULL REFERENCES ledger_xacts(id), account TEXT NOT NULL REFERENCES ledger_accounts(name),"
    " bucket TEXT NOT NULL, job INT NOT NULL DEFAULT 0, amount INT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS ledger_by_account ON ledger_entries(account, bucket, job);"
    "CREATE INDEX IF NOT EXISTS ledger_by_xact ON ledger_entries(xact);"
    /* what each (account, bucket, job) holds: the sum of its entries, kept with every posting, so a balance is one
       row to read however many transactions a farm has made */
    "CREATE TABLE IF NOT EXISTS ledger_balances("
    " account TEXT NOT NULL, bucket TEXT NOT NULL, job INT NOT NULL, amount INT NOT NULL,"
    " PRIMARY KEY(account, bucket, job)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS ledger_jobs(job INTEGER PRIMARY KEY, requester TEXT NOT NULL, deadline REAL NOT NULL);";

typedef struct {
    const char *account, *bucket;
    int64_t job, amount;
} entry_t;

/* Posts a balanced transaction once: 0 posted or already there (*posted says which), -1 error. */
static int post(sqlite3 *db, const char *kind, int64_t job, int64_t task, const char *ref, const char *memo,
                const entry_t *e, int n, bool *posted)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += e[i].amount;
    if (sum != 0)
        return ts_error_set("ledger: %s transaction does not balance (%" PRId64 ")", kind, sum);
    if (ts_escrow_sql(db, "INSERT OR IGNORE INTO ledger_xacts(kind,job,task,ref,memo,at) VALUES(?,?,?,?,?,?)",
                      "tiittd", kind, job, task, ref, memo, ts_clock_wall()) < 0)
        return -1;
    *posted = sqlite3_changes(db) == 1;
    if (!*posted)
        return 0;
    int64_t xact = sqlite3_last_insert_rowid(db);
    for (int i = 0; i < n; i++)
        if (e[i].amount != 0 &&
            (ts_escrow_sql(db, "INSERT INTO ledger_entries(xact,account,bucket,job,amount) VALUES(?,?,?,?,?)", "ittii",
                           xact, e[i].account, e[i].bucket, e[i].job, e[i].amount) < 0 ||
             ts_escrow_sql(db, "INSERT INTO ledger_balances(account,bucket,job,amount) VALUES(?,?,?,?) "
                               "ON CONFLICT DO UPDATE SET amount=amount+excluded.amount", "ttii",
                           e[i].account, e[i].bucket, e[i].job, e[i].amount) < 0))
            return -1;
    return 0;
}

/* What account holds in bucket for job (job < 0: for all its jobs together). */
static int64_t held(sqlite3 *db, const char *account, const char *bucket, int64_t job)
{
    int64_t v = 0;
    if ((job < 0 ? ts_escrow_sql_int(db, &v, 0, "SELECT sum(amount) FROM ledger_balances WHERE account=? AND bucket=?",
                                     "tt", account, bucket)
                 : ts_escrow_sql_int(db, &v, 0, "SELECT amount FROM ledger_balances WHERE account=? AND bucket=? AND "
                                                "job=?", "tti", account, bucket, job)) < 0)
        return -1;
    return v;
}

/* A ledger from before the balances were kept gets them from its entries, once. */
static int fill_balances(sqlite3 *db)
{
    int64_t kept = 0, entries = 0;
    if (ts_escrow_sql_int(db, &kept, 0, "SELECT count(*) FROM ledger_balances", NULL) < 0 ||
        ts_escrow_sql_int(db, &entries, 0, "SELECT count(*) FROM ledger_entries", NULL) < 0)
        return -1;
    if (kept > 0 || entries == 0)
        return 0;
    return ts_escrow_sql(db, "INSERT INTO ledger_balances(account,bucket,job,amount) SELECT account, bucket, job, "
                             "sum(amount) FROM ledger_entries GROUP BY account, bucket, job", NULL);
}

static bool xact_exists(sqlite3 *db, const char *kind, int64_t job, int64_t task, const char *ref)
{
    int64_t v = 0;
    ts_escrow_sql_int(db, &v, 0, "SELECT 1 FROM ledger_xacts WHERE kind=? AND job=? AND task=? AND ref=?", "tiit",
                      kind, job, task, ref);
    return v == 1;
}

/* Creates an account the first time, minting amount into bucket for it (recorded as a 'mint' transaction). */
static int open_account(sqlite3 *db, const char *name, const char *kind, const char *bucket, int64_t amount)
{
    if (ts_escrow_sql(db, "INSERT OR IGNORE INTO ledger_accounts(name,kind,created) VALUES(?,?,?)", "ttd", name,
                      kind, ts_clock_wall()) < 0)
        return -1;
    if (sqlite3_changes(db) == 0 || amount <= 0)
        return 0;
    char memo[NAME_MAX_LEN + 32];
    snprintf(memo, sizeof memo, "starting %s of %s", bucket, name);
    entry_t e[] = {{ISSUER, "balance", 0, -amount}, {name, bucket, 0, amount}};
    bool posted;
    return post(db, "mint", 0, 0, name, memo, e, 2, &posted);
}

static int requester_name(const char *requester, char *out, size_t cap)
{
    if (!requester || ts_account_name_check("requester", requester) < 0)
        return -1;
    snprintf(out, cap, "requester:%s", requester);
    return 0;
}

static void node_name(const char *node, char *out, size_t cap)
{
    snprintf(out, cap, "node:%s", node);
}

/* The requester account of a job: 1 found, 0 unknown job. */
static int job_requester(sqlite3 *db, int64_t job, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT requester FROM ledger_jobs WHERE job=?", -1, &st, NULL) != SQLITE_OK)
        return ts_error_set("ledger: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, job);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return found;
}

static int ledger_open(ts_escrow_t *self, sqlite3 *db)
{
    if (ts_escrow_schema(db, LEDGER_SCHEMA, "ledger") < 0)
        return -1;
    if (ts_escrow_sql(db, "BEGIN IMMEDIATE", NULL) < 0)
        return -1;
    int rc = fill_balances(db);
    if (rc == 0)
        rc = open_account(db, ISSUER, "issuer", "balance", 0);
    if (rc == 0)
        rc = open_account(db, FARM, "farm", "balance", self->cfg.farm_mint);
    ts_escrow_sql(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL);
    return rc;
}

/* Moves amount from a requester's balance (acct; shown by name in messages) to a job's funds as one 'fund'
   transaction; refused when the balance is short, naming it and `what` the amount is. */
static int fund_post(sqlite3 *db, const char *acct, const char *shown, int64_t job, const char *ref, int64_t amount,
                     const char *what, const char *memo)
{
    int64_t balance = held(db, acct, "balance", -1);
    if (balance < 0)
        return -1;
    if (balance < amount) {
        char b[32], a[32];
        ts_amount_format(balance, b, sizeof b);
        ts_amount_format(amount, a, sizeof a);
        return ts_error_set("requester %s: balance %s is below %s %s", shown, b, what, a);
    }
    entry_t e[] = {{acct, "balance", 0, -amount}, {acct, "escrow", job, amount}};
    bool posted;
    return post(db, "fund", job, 0, ref, memo, e, 2, &posted);
}

static int ledger_fund(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *requester, int64_t amount,
                       double deadline)
{
    char acct[NAME_MAX_LEN];
    if (requester_name(requester, acct, sizeof acct) < 0 || open_account(db, acct, "requester", "balance",
                                                                         self->cfg.requester_mint) < 0)
        return -1;
    if (xact_exists(db, "fund", job, 0, ""))
        return 0;
    char memo[64];
    snprintf(memo, sizeof memo, "budget of job %" PRId64, job);
    if (fund_post(db, acct, requester, job, "", amount, "the budget", memo) < 0)
        return -1;
    return ts_escrow_sql(db, "INSERT OR REPLACE INTO ledger_jobs(job,requester,deadline) VALUES(?,?,?)", "itd", job,
                         acct, deadline);
}

static const char *display_name(const char *name);

/* More funds for a job funded before, from its requester's balance: a 'fund' transaction of its own (ref). */
static int ledger_fund_more(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *ref, int64_t amount)
{
    char acct[NAME_MAX_LEN];
    int rc = job_requester(db, job, acct, sizeof acct);
    if (rc <= 0)
        return rc < 0 ? -1 : ts_error_set("job %" PRId64 ": it was never funded", job);
    if (xact_exists(db, "fund", job, 0, ref))
        return 0;
    char memo[64];
    snprintf(memo, sizeof memo, "more funds for job %" PRId64, job);
    return fund_post(db, acct, display_name(acct), job, ref, amount, "the price", memo);
}

static int ledger_credit(ts_escrow_t *self, sqlite3 *db, const char *requester, int64_t amount, const char *ref)
{
    char acct[NAME_MAX_LEN];
    if (requester_name(requester, acct, sizeof acct) < 0 || open_account(db, acct, "requester", "balance",
                                                                         self->cfg.requester_mint) < 0)
        return -1;
    if (amount <= 0)
        return ts_error_set("credit: the amount must be above 0");
    char memo[NAME_MAX_LEN + 32], a[32];
    ts_amount_format(amount, a, sizeof a);
    snprintf(memo, sizeof memo, "credit of %s to %s", a, requester);
    entry_t e[] = {{ISSUER, "balance", 0, -amount}, {acct, "balance", 0, amount}};
    bool posted;
    return post(db, "credit", 0, 0, ref, memo, e, 2, &posted);
}

static int ledger_lock(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, int64_t price)
{
    char acct[NAME_MAX_LEN];
    int rc = job_requester(db, job, acct, sizeof acct);
    if (rc <= 0)
        return rc < 0 ? -1 : ts_error_set("job %" PRId64 ": not funded", job) + 2;
    if (xact_exists(db, "lock", job, task, ""))
        return 0;
    int64_t free_funds = held(db, acct, "escrow", job);
    if (free_funds < price)
        return free_funds < 0 ? -1
                              : ts_error_set("job %" PRId64 ": funds left (%" PRId64 ") below task %" PRId64
                                             "'s price %" PRId64,
                                             job, free_funds, task, price) + 2;
    entry_t e[] = {{acct, "escrow", job, -price}, {acct, "locked", job, price}};
    bool posted;
    return post(db, "lock", job, task, "", "task price", e, 2, &posted);
}

static int ledger_release(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *node, int64_t price)
{
    char acct[NAME_MAX_LEN], worker[NAME_MAX_LEN];
    if (job_requester(db, job, acct, sizeof acct) <= 0 || !xact_exists(db, "lock", job, task, ""))
        return ts_error_set("job %" PRId64 " task %" PRId64 ": no price locked", job, task) + 2;
    if (xact_exists(db, "release", job, task, ""))
        return 0;
    int64_t locked = 0;
    if (ts_escrow_sql_int(db, &locked, 0,
                          "SELECT e.amount FROM ledger_entries e JOIN ledger_xacts x ON x.id=e.xact WHERE x.kind='lock'"
                          " AND x.job=? AND x.task=? AND e.bucket='locked'",
                          "ii", job, task) < 0)
        return -1;
    if (held(db, acct, "locked", job) < locked)
        return ts_error_set("job %" PRId64 ": refunded before task %" PRId64 " was paid", job, task) + 2;
    node_name(node, worker, sizeof worker);
    if (open_account(db, worker, "node", "stake", 0) < 0)
        return -1;
    entry_t e[] = {{acct, "locked", job, -locked}, {worker, "balance", 0, locked}};
    bool posted;
    return post(db, "release", job, task, "", "accepted task", e, 2, &posted);
}

static int ledger_pay(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *ref, const char *node,
                      int64_t amount)
{
    char worker[NAME_MAX_LEN];
    if (xact_exists(db, "pay", job, task, ref))
        return 0;
    int64_t farm = held(db, FARM, "balance", -1);
    if (farm < amount)
        return farm < 0 ? -1 : ts_error_set("the farm's account (%" PRId64 ") cannot pay %" PRId64, farm, amount) + 2;
    node_name(node, worker, sizeof worker);
    if (open_account(db, worker, "node", "stake", 0) < 0)
        return -1;
    entry_t e[] = {{FARM, "balance", 0, -amount}, {worker, "balance", 0, amount}};
    char memo[64];
    snprintf(memo, sizeof memo, "%s by the farm", ref);
    bool posted;
    return post(db, "pay", job, task, ref, memo, e, 2, &posted);
}

static int ledger_slash(ts_escrow_t *self, sqlite3 *db, const char *node, int64_t job, int64_t verdict)
{
    char worker[NAME_MAX_LEN];
    node_name(node, worker, sizeof worker);
    if (xact_exists(db, "slash", job, verdict, ""))
        return 0;
    int64_t stake = held(db, worker, "stake", -1);
    if (stake < 0)
        return -1;
    int64_t take = ts_escrow_slash_of(self, stake);
    if (open_account(db, worker, "node", "stake", 0) < 0)
        return -1;
    entry_t e[] = {{worker, "stake", 0, -take}, {FARM, "balance", 0, take}};
    bool posted;
    return post(db, "slash", job, verdict, "", "failed a spot check", e, 2, &posted);
}

static int ledger_refund(ts_escrow_t *self, sqlite3 *db, int64_t job)
{
    char acct[NAME_MAX_LEN];
    int rc = job_requester(db, job, acct, sizeof acct);
    if (rc <= 0)
        return rc; /* a job without a budget (from before payments) has nothing to return */
    int64_t esc = held(db, acct, "escrow", job), lk = held(db, acct, "locked", job);
    if (esc < 0 || lk < 0)
        return -1;
    if (esc == 0 && lk == 0)
        return 0;
    /* a job reopened after its refund may be refunded again: each refund its own transaction */
    int64_t n = 0;
    if (ts_escrow_sql_int(db, &n, 0, "SELECT count(*) FROM ledger_xacts WHERE kind='refund' AND job=?", "i", job) < 0)
        return -1;
    char ref[24];
    snprintf(ref, sizeof ref, "%" PRId64, n);
    entry_t e[] = {{acct, "escrow", job, -esc}, {acct, "locked", job, -lk}, {acct, "balance", 0, esc + lk}};
    bool posted;
    return post(db, "refund", job, 0, ref, "what the job did not spend", e, 3, &posted);
}

static int ledger_node_joined(ts_escrow_t *self, sqlite3 *db, const char *node)
{
    char worker[NAME_MAX_LEN];
    node_name(node, worker, sizeof worker);
    return open_account(db, worker, "node", "stake", self->cfg.node_stake_mint);
}

static int64_t ledger_stake(ts_escrow_t *self, sqlite3 *db, const char *node)
{
    char worker[NAME_MAX_LEN];
    node_name(node, worker, sizeof worker);
    return held(db, worker, "stake", -1);
}

static const char *display_name(const char *name)
{
    const char *colon = strchr(name, ':');
    return colon ? colon + 1 : name;
}

static json_t *ledger_wallet(ts_escrow_t *self, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT a.name, a.kind,"
                           " coalesce(sum(CASE WHEN e.bucket='balance' THEN e.amount END),0),"
                           " coalesce(sum(CASE WHEN e.bucket='stake' THEN e.amount END),0),"
                           " coalesce(sum(CASE WHEN e.bucket IN ('escrow','locked') THEN e.amount END),0)"
                           " FROM ledger_accounts a LEFT JOIN ledger_balances e ON e.account=a.name"
                           " WHERE a.name!='" ISSUER "' GROUP BY a.name ORDER BY a.kind, a.name",
                           -1, &st, NULL) != SQLITE_OK) {
        ts_error_set("ledger: %s", sqlite3_errmsg(db));
        return NULL;
    }
    json_t *accounts = json_array();
    int64_t total = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t b = sqlite3_column_int64(st, 2), s = sqlite3_column_int64(st, 3), l = sqlite3_column_int64(st, 4);
        total += b + s + l;
        json_array_append_new(accounts, json_pack("{s:s,s:s,s:I,s:I,s:I}", "account",
                                                  display_name((const char *)sqlite3_column_text(st, 0)), "kind",
                                                  (const char *)sqlite3_column_text(st, 1), "balance", (json_int_t)b,
                                                  "stake", (json_int_t)s, "locked", (json_int_t)l));
    }
    sqlite3_finalize(st);
    int64_t minted = -held(db, ISSUER, "balance", -1);
    return json_pack("{s:s,s:i,s:o,s:I,s:I}", "backend", "local", "decimals", TS_TOKEN_DECIMALS, "accounts", accounts,
                     "minted", (json_int_t)minted, "held", (json_int_t)total);
}

/* The ledger name of an account given as shown (requester name, node id or its prefix, "farm"): 1 found. */
static int find_account(sqlite3 *db, const char *account, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM ledger_accounts WHERE name!='" ISSUER "' AND (name=?1 OR name='requester:'||?1"
                           " OR (name LIKE 'node:%' AND substr(name,6,length(?1))=?1)) ORDER BY name LIMIT 2",
                           -1, &st, NULL) != SQLITE_OK)
        return ts_error_set("ledger: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, account, -1, SQLITE_TRANSIENT);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 2)
        if (n++ == 0)
            snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (n > 1 && strcmp(out, account) != 0)
        return ts_error_set("account '%s' is ambiguous", account);
    return n > 0;
}

static int ledger_history(ts_escrow_t *self, sqlite3 *db, const char *account, int limit, json_t **out)
{
    char name[NAME_MAX_LEN];
    int rc = find_account(db, account, name, sizeof name);
    if (rc <= 0)
        return rc < 0 ? -1 : 1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT x.id, x.at, x.kind, x.job, x.task, x.memo, e.bucket, e.amount FROM ledger_entries e"
                           " JOIN ledger_xacts x ON x.id=e.xact WHERE e.account=? ORDER BY x.id DESC, e.rowid LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return ts_error_set("ledger: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
    json_t *rows = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(rows, json_pack("{s:I,s:f,s:s,s:I,s:I,s:s,s:s,s:I}", "xact",
                                              (json_int_t)sqlite3_column_int64(st, 0), "at", sqlite3_column_double(st, 1),
                                              "kind", (const char *)sqlite3_column_text(st, 2), "job",
                                              (json_int_t)sqlite3_column_int64(st, 3), "task",
                                              (json_int_t)sqlite3_column_int64(st, 4), "memo",
                                              (const char *)sqlite3_column_text(st, 5), "bucket",
                                              (const char *)sqlite3_column_text(st, 6), "amount",
                                              (json_int_t)sqlite3_column_int64(st, 7)));
    sqlite3_finalize(st);
    *out = json_pack("{s:s,s:o}", "account", display_name(name), "history", rows);
    return 0;
}

const ts_escrow_ops_t ts_ledger_ops = {
    .name = "local",
    .open = ledger_open,
    .fund = ledger_fund,
    .fund_more = ledger_fund_more,
    .lock = ledger_lock,
    .release = ledger_release,
    .pay = ledger_pay,
    .slash = ledger_slash,
    .refund = ledger_refund,
    .node_joined = ledger_node_joined,
    .credit = ledger_credit,
    .stake = ledger_stake,
    .wallet = ledger_wallet,
    .history = ledger_history,
};
