/* ts_payer: sends the evm backend's outbox to the JobEscrow contract, off the reactor, and reads the chain's
   balances and stakes back. */
#ifndef TS_PAYER_H
#define TS_PAYER_H

#include "escrow/escrow.h"

typedef struct ts_payer ts_payer_t;

/* The evm options are complete and well-formed (the chain itself is checked by ts_payer_new). */
int ts_payer_check_config(const ts_escrow_config_t *cfg);
/* Connects to the chain (checks its id and the contract) with its own connection to the database at db_path. */
ts_payer_t *ts_payer_new(const ts_escrow_config_t *cfg, const char *db_path);
void ts_payer_destroy(ts_payer_t **self_p);
/* Sends what the outbox holds, batched per job and kind; returns rows settled, -1 when the chain is unreachable
   (the rows stay for the next pass). Also refreshes the stakes of the nodes it knows. */
int ts_payer_pass(ts_payer_t *self);
/* Gas and transactions spent so far (bench). */
void ts_payer_stats(ts_payer_t *self, uint64_t *gas, uint64_t *transactions);

/* The wallet as the chain has it, and what the outbox sent for an account. */
json_t *ts_payer_wallet_json(const ts_escrow_config_t *cfg, sqlite3 *db);
int ts_payer_history_json(const ts_escrow_config_t *cfg, sqlite3 *db, const char *account, int limit, json_t **out);

#endif
