/* ts_eth: a sending account on an Ethereum chain: calls, signed EIP-1559 transactions, receipts, deployments. */
#ifndef TS_ETH_H
#define TS_ETH_H

#include "escrow/ts_ethkey.h"
#include "escrow/ts_rpc.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_ETH_RPC_TIMEOUT_S 30.0
#define TS_ETH_RECEIPT_TIMEOUT_S 60.0

typedef struct {
    double rpc_timeout_s;     /* each JSON-RPC call; 0: TS_ETH_RPC_TIMEOUT_S */
    double receipt_timeout_s; /* waiting for a sent transaction's receipt; 0: TS_ETH_RECEIPT_TIMEOUT_S */
} ts_eth_options_t;

typedef struct {
    uint8_t tx_hash[32];
    uint64_t gas_used;
    uint64_t block;
    int status; /* 1 ok, 0 reverted */
    uint8_t contract_address[TS_ETH_ADDRESS_BYTES];
    bool has_contract_address;
} ts_eth_receipt_t;

typedef struct ts_eth ts_eth_t;

/* Loads the key file and reads eth_chainId; expected_chain_id 0 accepts any chain. NULL with ts_error (the key
 * file's problem, "chain RPC at <url> is unreachable: ...", or "chain id X at <url>, expected Y"). */
ts_eth_t *ts_eth_new(const char *rpc_url, const char *key_file, uint64_t expected_chain_id);
/* The same with options (NULL: defaults). */
ts_eth_t *ts_eth_new_opts(const char *rpc_url, const char *key_file, uint64_t expected_chain_id,
                          const ts_eth_options_t *opts);
void ts_eth_destroy(ts_eth_t **self_p);

void ts_eth_address(const ts_eth_t *self, uint8_t out[TS_ETH_ADDRESS_BYTES]);
uint64_t ts_eth_chain_id(const ts_eth_t *self);
/* The node connection, for other queries (eth_getBalance, eth_getLogs...). */
ts_rpc_t *ts_eth_rpc(ts_eth_t *self);

/* eth_call from this account at "latest"; *out (malloc'd, NULL when empty) gets the return data. On a revert:
 * -1 with ts_error "eth_call to 0x...: reverted: <Error(string) text>" / "reverted with custom error 0x12345678" /
 * "panicked with code 0x11" / "reverted without data", and the raw revert bytes from ts_eth_last_revert. */
int ts_eth_call(ts_eth_t *self, const uint8_t to[TS_ETH_ADDRESS_BYTES], const uint8_t *data, size_t len,
                uint8_t **out, size_t *out_len);
/* The revert data of the last failed ts_eth_call / ts_eth_send / ts_eth_deploy when it was a revert (len may be
 * 0: a revert without data); NULL when the last call did not fail with a revert. */
const uint8_t *ts_eth_last_revert(const ts_eth_t *self, size_t *len);

/* Send a transaction (to NULL: contract creation) and wait for its receipt. Gas is estimated first; a revert at
 * estimation fails like ts_eth_call, and nothing is sent. Gas limit: estimate * 1.2; max fee: 2 * latest base fee
 * + eth_maxPriorityFeePerGas; nonce: the account's pending count. rcpt (may be NULL) is filled once the
 * transaction is sent (tx_hash) and mined (the rest). -1 with ts_error on any failure, including a mined
 * transaction that reverted (status 0: "transaction 0x... reverted ...") and no receipt within the timeout. */
int ts_eth_send(ts_eth_t *self, const uint8_t *to, const uint8_t *data, size_t len, uint64_t value,
                ts_eth_receipt_t *rcpt);
/* Deploy bytecode_hex (creation code, optional 0x) followed by ABI-encoded constructor arguments. */
int ts_eth_deploy(ts_eth_t *self, const char *bytecode_hex, const uint8_t *ctor_args, size_t args_len,
                  uint8_t address_out[TS_ETH_ADDRESS_BYTES], ts_eth_receipt_t *rcpt);

/* Against a node at env TS_TEST_RPC (anvil, chain 31337, its default accounts); skipped when unset. */
int ts_eth_anvil_test(bool verbose);

#endif
