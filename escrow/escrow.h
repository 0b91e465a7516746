/* escrow: the interface the master moves money through: fund a job, lock a task's price, release it to the worker,
   pay from the farm's pool, slash a stake, refund what is left; balances and history.
   DESIGN: every call runs inside the caller's SQLite transaction on the master's store (db), so a task's state
   change and the money it moves commit together. The local backend is a double-entry ledger in that database;
   the evm backend writes the same calls to an outbox there, which a payer thread sends to the JobEscrow contract
   (escrow/contracts/JobEscrow.sol); every call is idempotent by (kind, job, task, ref) on both sides, so a crash
   and a retry never pay twice. Amounts are integers of the token's smallest unit (TS_TOKEN_UNIT per token). */
#ifndef TS_ESCROW_H
#define TS_ESCROW_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#define TS_TOKEN_DECIMALS 6
#define TS_TOKEN_UNIT 1000000LL

typedef struct ts_escrow ts_escrow_t;

typedef struct {
    const char *backend;       /* "local" (default) or "evm" */
    /* local: what a new farm mints, each recorded as a 'mint' transaction */
    int64_t requester_mint;    /* to a requester's balance when it first funds a job */
    int64_t node_stake_mint;   /* to a node's stake when it first joins */
    int64_t farm_mint;         /* to the farm's own account (which pays spot checks and redone work) once */
    double slash_share;        /* share of a node's stake a failed check takes (0..1] */
    /* evm */
    const char *rpc_url;
    const char *contract;      /* the JobEscrow address, 0x... */
    const char *key_file;      /* the master's key: requester, operator and verifier on the contract */
    uint64_t chain_id;         /* expected chain id; 0: whatever the RPC reports */
    int64_t pool;              /* evm: what the farm's pool job is funded with (pays checks and redone work) */
    double settle_s;           /* evm: a job's locks and payments wait up to this long to go out in one batch */
    const char *salt;          /* makes this farm's job and task ids unique on a shared contract (the master's id) */
} ts_escrow_config_t;

/* Opens the backend on the master's database (creates its tables). NULL with ts_error() on bad configuration. */
ts_escrow_t *ts_escrow_new(const ts_escrow_config_t *cfg, sqlite3 *db);
void ts_escrow_destroy(ts_escrow_t **self_p);
const char *ts_escrow_backend(const ts_escrow_t *self);
/* Whether money moves after the calls commit (evm: the payer sends the outbox) rather than within them. */
bool ts_escrow_settles_later(const ts_escrow_t *self);

/* All of the following run inside the caller's transaction on db. They return 0 when done (or already done
   before: the same call again changes nothing), 1 when they cannot be done for a reason ts_error() gives and the
   caller may go on (an unfunded pool, a node without an address), -1 on a database error or refused input. */

/* A requester locks a job's budget. Refused (-1) when its balance is short; the message names both figures. */
int ts_escrow_fund(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *requester, int64_t amount,
                   double deadline);
/* The requester of a job funded before adds amount to its funds (work requeued after it ran, paid as new work),
   once per ref. Refused (-1) when its balance is short, the message naming both figures; 1 when the backend cannot
   add to a job's funds (on a chain a job is funded once and its refund closes it). */
int ts_escrow_fund_more(ts_escrow_t *self, sqlite3 *db, int64_t job, const char *ref, int64_t amount);
/* Moves a task's price from the job's funds to the task (once per task; 1 when the job's funds are short). */
int ts_escrow_lock(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, int64_t price);
/* Pays a task's locked price to the node that did it (once per task; 1 when the task holds no lock). */
int ts_escrow_release(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *node, int64_t price);
/* The farm's own account pays a node (a spot check, or work redone after a cheater was caught), once per
   (task, ref). 1 when the farm's account is short. */
int ts_escrow_pay(ts_escrow_t *self, sqlite3 *db, int64_t job, int64_t task, const char *ref, const char *node,
                  int64_t amount);
/* Takes the configured share of a node's stake to the farm's account, once per verdict. */
int ts_escrow_slash(ts_escrow_t *self, sqlite3 *db, const char *node, int64_t job, int64_t verdict);
/* Returns what is left of a job's funds (unlocked and locked but unpaid) to its requester, once. */
int ts_escrow_refund(ts_escrow_t *self, sqlite3 *db, int64_t job);
/* The operator credits a requester's balance (local: minted, recorded as a 'credit' transaction), once per ref.
   -1 where the backend cannot (evm: tokens are sent on the chain, not made by the farm). */
int ts_escrow_credit(ts_escrow_t *self, sqlite3 *db, const char *requester, int64_t amount, const char *ref);
/* A node joined the farm (local: its starting stake is minted the first time). */
int ts_escrow_node_joined(ts_escrow_t *self, sqlite3 *db, const char *node);
/* A node's stake as last known (evm: as the payer last read it from the chain); -1 on error. */
int64_t ts_escrow_stake(ts_escrow_t *self, sqlite3 *db, const char *node);
/* What one failed check takes from a stake: stake times the slash share, within 0..stake (what a node has at risk;
   the backends' slash takes this). */
int64_t ts_escrow_slash_of(const ts_escrow_t *self, int64_t stake);

/* Every account with kind, balance, stake, locked (and totals: minted, held); NULL with ts_error(). */
json_t *ts_escrow_wallet_json(ts_escrow_t *self, sqlite3 *db);
/* An account's transactions, newest first; 0 found, 1 unknown account, -1 error. */
int ts_escrow_history_json(ts_escrow_t *self, sqlite3 *db, const char *account, int limit, json_t **out);

/* Token amounts as text: "12.5" <-> 12500000 units. Parse refuses negatives, more than TS_TOKEN_DECIMALS
   decimals and overflow. */
int ts_amount_parse(const char *text, int64_t *units);
void ts_amount_format(int64_t units, char *out, size_t cap);

int ts_ledger_test(bool verbose);

/* Finalizes the statements the escrow keeps prepared for db (its SQL helpers cache them per connection): call
   before closing a connection an escrow backend has used. */
void ts_escrow_sql_forget(sqlite3 *db);

#endif
