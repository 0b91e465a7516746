/* ts_ethtx: EIP-1559 transaction payloads (EIP-2718 typed envelope), signed with ts_ethkey. */
#include "escrow/ts_ethtx.h"
#include "escrow/ts_keccak.h"
#include "escrow/ts_rlp.h"
#include "lib/ts_error.h"
#include <stdlib.h>
#include <string.h>

#define SIG_WORD 32

/* Append the nine unsigned fields; failures are sticky in the encoder. */
static void put_fields(ts_rlp_t *r, const ts_ethtx_t *tx)
{
    ts_rlp_uint(r, tx->chain_id);
    ts_rlp_uint(r, tx->nonce);
    ts_rlp_uint(r, tx->max_priority_fee_per_gas);
    ts_rlp_uint(r, tx->max_fee_per_gas);
    ts_rlp_uint(r, tx->gas_limit);
    ts_rlp_bytes(r, tx->to, tx->has_to ? TS_ETH_ADDRESS_BYTES : 0);
    ts_rlp_uint(r, tx->value);
    ts_rlp_bytes(r, tx->data, tx->data_len);
    ts_rlp_list_begin(r); /* access list: empty */
    ts_rlp_list_end(r);
}

/* 0x02 || rlp; malloc'd, or NULL with ts_error. */
static uint8_t *envelope(ts_rlp_t *r, size_t *len)
{
    size_t n;
    const uint8_t *d = ts_rlp_data(r, &n);
    if (!d)
        return NULL;
    uint8_t *out = malloc(n + 1);
    if (!out) {
        ts_error_set("out of memory");
        return NULL;
    }
    out[0] = TS_ETHTX_TYPE_EIP1559;
    memcpy(out + 1, d, n);
    *len = n + 1;
    return out;
}

int ts_ethtx_sign(const ts_ethtx_t *tx, const ts_ethkey_t *key, uint8_t **raw, size_t *len,
                  uint8_t hash[TS_ETHTX_HASH_BYTES])
{
    *raw = NULL;
    *len = 0;
    if (tx->data_len && !tx->data)
        return ts_error_set("transaction: data length %zu without data", tx->data_len);
    uint8_t digest[TS_KECCAK256_BYTES], r_sig[SIG_WORD], s_sig[SIG_WORD];
    int recid;
    size_t n;
    ts_rlp_t *r = ts_rlp_new();
    if (!r)
        return -1;
    ts_rlp_list_begin(r);
    put_fields(r, tx);
    ts_rlp_list_end(r);
    uint8_t *unsigned_tx = envelope(r, &n);
    ts_rlp_destroy(&r);
    if (!unsigned_tx)
        return ts_error_prefix("transaction");
    ts_keccak256(unsigned_tx, n, digest);
    free(unsigned_tx);
    if (ts_ethkey_sign(key, digest, r_sig, s_sig, &recid) < 0)
        return ts_error_prefix("transaction");

    if (!(r = ts_rlp_new()))
        return -1;
    ts_rlp_list_begin(r);
    put_fields(r, tx);
    ts_rlp_uint(r, (uint64_t)recid);
    ts_rlp_uint256(r, r_sig);
    ts_rlp_uint256(r, s_sig);
    ts_rlp_list_end(r);
    *raw = envelope(r, len);
    ts_rlp_destroy(&r);
    if (!*raw)
        return ts_error_prefix("transaction");
    ts_keccak256(*raw, *len, hash);
    return 0;
}
