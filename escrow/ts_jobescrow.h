/* ts_jobescrow: typed calls of the TesseraToken and JobEscrow contracts (escrow/contracts/) over ts_eth: deploy,
   approve, fund, lock, release, slash, refund, stake, and the views; the farm's job, task and slash ids. */
#ifndef TS_JOBESCROW_H
#define TS_JOBESCROW_H

#include "escrow/ts_eth.h"
#include <stdbool.h>
#include <stdint.h>

#define TS_ID_BYTES 32
typedef uint8_t ts_chain_id_t[TS_ID_BYTES];
typedef uint8_t ts_address_t[TS_ETH_ADDRESS_BYTES];

typedef struct ts_jobescrow ts_jobescrow_t;

/* Gas and transactions spent through one handle. */
typedef struct {
    uint64_t gas, transactions;
} ts_jobescrow_spent_t;

/* The contract at address (reads its token; fails clearly when there is no JobEscrow there). */
ts_jobescrow_t *ts_jobescrow_new(ts_eth_t *eth, const ts_address_t escrow);
void ts_jobescrow_destroy(ts_jobescrow_t **self_p);
void ts_jobescrow_token(const ts_jobescrow_t *self, ts_address_t out);
ts_jobescrow_spent_t ts_jobescrow_spent(const ts_jobescrow_t *self);
/* The hash of the last transaction sent through this handle. */
void ts_jobescrow_last_tx(const ts_jobescrow_t *self, uint8_t out[32]);

/* Deploys the token (supply minted to the deployer) and the escrow (the deployer its admin, operator and verifier). */
int ts_jobescrow_deploy(ts_eth_t *eth, int64_t supply, const ts_address_t treasury, uint64_t cooldown_s,
                        ts_address_t token_out, ts_address_t escrow_out, uint64_t *gas);

/* Ids on chain: unique per farm (salt: the master's id) and per job, task (with a ref for payments by the farm's
   pool) and verdict. */
void ts_jobescrow_job_id(const char *salt, int64_t job, ts_chain_id_t out);
void ts_jobescrow_task_id(const char *salt, int64_t task, const char *ref, ts_chain_id_t out);
void ts_jobescrow_slash_id(const char *salt, int64_t verdict, ts_chain_id_t out);

/* Transactions: 0, or -1 with ts_error (a revert names the contract's error). gas (may be NULL) gets the gas used. */
int ts_jobescrow_approve(ts_jobescrow_t *self, int64_t amount);
int ts_jobescrow_fund(ts_jobescrow_t *self, const ts_chain_id_t job, int64_t amount, uint64_t deadline);
int ts_jobescrow_lock(ts_jobescrow_t *self, const ts_chain_id_t job, const ts_chain_id_t *tasks, const int64_t *prices,
                      size_t n);
int ts_jobescrow_release(ts_jobescrow_t *self, const ts_chain_id_t job, const ts_chain_id_t *tasks,
                         const ts_address_t *workers, const int64_t *prices, size_t n);
int ts_jobescrow_slash(ts_jobescrow_t *self, const ts_address_t worker, int64_t amount, const ts_chain_id_t slash_id,
                       const ts_chain_id_t job);
int ts_jobescrow_refund(ts_jobescrow_t *self, const ts_chain_id_t job);
int ts_jobescrow_stake_for(ts_jobescrow_t *self, const ts_address_t worker, int64_t amount);

/* Views. */
typedef struct {
    ts_address_t requester;
    uint64_t deadline;
    bool closed;
    int64_t available, locked;
    bool exists;
} ts_jobescrow_job_t;
int ts_jobescrow_job(ts_jobescrow_t *self, const ts_chain_id_t job, ts_jobescrow_job_t *out);
int ts_jobescrow_balance_of(ts_jobescrow_t *self, const ts_address_t who, int64_t *out);
/* Active stake and stake waiting out its cooldown. */
int ts_jobescrow_stake_of(ts_jobescrow_t *self, const ts_address_t who, int64_t *active, int64_t *pending);
int ts_jobescrow_treasury(ts_jobescrow_t *self, ts_address_t out);

#endif
