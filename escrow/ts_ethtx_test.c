/* ts_ethtx_test: signed EIP-1559 transactions byte for byte against ethers v6 Wallet.signTransaction. */
#include "escrow/ts_ethtx.h"
#include "escrow/ts_hexbytes.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_ANVIL0 "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define KEY_WEB3 "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
#define GWEI 1000000000ULL
#define ETHER 1000000000000000000ULL

typedef struct {
    const char *what, *key, *to, *data, *raw, *hash;
    uint64_t chain_id, nonce, tip, max_fee, gas, value;
} vector_t;

/* Expected raw transactions and hashes printed by ethers v6 (Wallet.signTransaction, Transaction.from(raw).hash). */
static const vector_t s_vectors[] = {
    {"ERC-20 style call with value", KEY_ANVIL0, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
     "0xa9059cbb00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8000000000000000000000000000000000000000000000000000000000000002a",
     "0x02f8bb827a6907843b9aca008506fc23ac00830186a09470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a7640000b844a9059cbb00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8000000000000000000000000000000000000000000000000000000000000002ac080a0afcd63513ded62367cefc60f2622284ee589057c8fd30ecebfbbc74dec38508ba0442b58304bdb9b2d95ffa37f3ce19fcd937d7733d13e84eab569b57a72e7762e",
     "0x8f18ae682122f7015498ef566a8e4a7ad246015570f3e86e7bf1f88aa3292fe8", 31337, 7, GWEI, 30 * GWEI, 100000, ETHER},
    {"contract creation (y_parity 1)", KEY_ANVIL0, NULL, "0x600a600c600039600a6000f3602a60005260206000f3",
     "0x02f86a827a698080847735940082ea60808096600a600c600039600a6000f3602a60005260206000f3c001a00147ebaf87fa37f4eb89afd217cad878f52f6611f18de722d7b463618d9ef081a003ac59f6d2116e2f2a706663460b7829e6333062abf2b3b435e112b2adbe738d",
     "0x7fbb4acbf7fe4c2606c21b2162d6277c965e5910b46016ea608d8059f818be0c", 31337, 0, 0, 2 * GWEI, 60000, 0},
    {"mainnet transfer, maximal fee and value", KEY_WEB3, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", "0x",
     "0x02f8740182012c0288ffffffffffffffff825208942c7536e3605d9c16a7a3d7b1898e529396a65c2388ffffffffffffffff80c080a01ebd1755c09330d23ad271a3efe43e3116dc4eab1da3c30c8644c4d28da3356fa04b76b3d6dbe0f50a31f397190e09df42ca6d9b5e5f49ff1ffafc6cb47cc41f56",
     "0x26f47b4632c60dda1bdd47dee8aec35ca62eedf1da83ac354569cda6450e5d06", 1, 300, 2, UINT64_MAX, 21000, UINT64_MAX},
    {"s with a leading zero byte", KEY_ANVIL0, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "",
     "0x02f863827a690501038252089470997970c51812dc3a010c7d01b50e0d17dc79c80580c080a0040c964da069d82a6550ff8bb3107074b2bc091fa1fcf4b80bfcfe01923e7f629f6ab161ef6454255832e0843343cec69a119b7a602da1b97da9e7a19ebd65a5",
     "0x9a7c1d73dc80c0912e3ad5c4b9f7eefa74446d53aabb061b6c9a7ef30cc20d88", 31337, 5, 1, 3, 21000, 5},
};

static int check(const vector_t *v, bool verbose)
{
    ts_ethkey_t *key = ts_ethkey_from_hex(v->key);
    ts_ethtx_t tx = {.chain_id = v->chain_id, .nonce = v->nonce, .max_priority_fee_per_gas = v->tip,
                     .max_fee_per_gas = v->max_fee, .gas_limit = v->gas, .value = v->value};
    uint8_t *data = NULL, *raw = NULL, hash[TS_ETHTX_HASH_BYTES];
    size_t len = 0;
    int rc = -1;
    if (!key || ts_hex_decode(v->data, &data, &tx.data_len) < 0 ||
        (v->to && (tx.has_to = true, ts_eth_address_parse(v->to, tx.to) < 0))) {
        fprintf(stderr, "ts_ethtx: %s: setup: %s\n", v->what, ts_error());
        goto done;
    }
    tx.data = data;
    if (ts_ethtx_sign(&tx, key, &raw, &len, hash) < 0) {
        fprintf(stderr, "ts_ethtx: %s: %s\n", v->what, ts_error());
        goto done;
    }
    char *raw_hex = ts_hex_encode(raw, len), *hash_hex = ts_hex_encode(hash, sizeof hash);
    if (raw_hex && hash_hex && strcmp(raw_hex, v->raw) == 0 && strcmp(hash_hex, v->hash) == 0)
        rc = 0;
    else
        fprintf(stderr, "ts_ethtx: %s:\n  raw  %s\n  want %s\n  hash %s\n  want %s\n", v->what, raw_hex, v->raw, hash_hex,
                v->hash);
    free(raw_hex);
    free(hash_hex);
    if (rc == 0 && verbose)
        printf("ts_ethtx: %s ok\n", v->what);
done:
    free(raw);
    free(data);
    ts_ethkey_destroy(&key);
    return rc;
}

int ts_ethtx_test(bool verbose)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof s_vectors / sizeof s_vectors[0]; i++)
        rc |= check(&s_vectors[i], verbose);
    /* A length without data is refused. */
    ts_ethkey_t *key = ts_ethkey_from_hex(KEY_ANVIL0);
    ts_ethtx_t bad = {.chain_id = 1, .data_len = 4};
    uint8_t *raw, hash[TS_ETHTX_HASH_BYTES];
    size_t len;
    if (!key || ts_ethtx_sign(&bad, key, &raw, &len, hash) != -1 || raw) {
        fprintf(stderr, "ts_ethtx: data length without data accepted\n");
        rc = -1;
    }
    ts_ethkey_destroy(&key);
    if (rc == 0 && verbose)
        printf("ts_ethtx: ok\n");
    return rc ? -1 : 0;
}
