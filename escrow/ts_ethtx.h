/* ts_ethtx: EIP-1559 (type 0x02) transactions: RLP encoding and signing. */
#ifndef TS_ETHTX_H
#define TS_ETHTX_H

#include "escrow/ts_ethkey.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_ETHTX_TYPE_EIP1559 0x02
#define TS_ETHTX_HASH_BYTES 32

typedef struct {
    uint64_t chain_id;
    uint64_t nonce;
    uint64_t max_priority_fee_per_gas; /* wei */
    uint64_t max_fee_per_gas;          /* wei */
    uint64_t gas_limit;
    bool has_to; /* false: contract creation */
    uint8_t to[TS_ETH_ADDRESS_BYTES];
    uint64_t value; /* wei */
    const uint8_t *data;
    size_t data_len;
} ts_ethtx_t;

/* Sign over keccak256(0x02 || rlp([chain_id, nonce, max_priority_fee, max_fee, gas, to, value, data, []])) and
 * return the raw transaction 0x02 || rlp([... 9 fields, y_parity, r, s]) (malloc'd, for eth_sendRawTransaction)
 * and its hash keccak256(raw). 0, or -1 with ts_error. */
int ts_ethtx_sign(const ts_ethtx_t *tx, const ts_ethkey_t *key, uint8_t **raw, size_t *len,
                  uint8_t hash[TS_ETHTX_HASH_BYTES]);

int ts_ethtx_test(bool verbose);

#endif
