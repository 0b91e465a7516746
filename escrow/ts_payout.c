/* ts_payout: a node's signed claim on its payout address (EIP-191 personal message), made and checked. */
#include "escrow/ts_payout.h"
#include "escrow/ts_hexbytes.h"
#include "escrow/ts_keccak.h"
#include "lib/ts_error.h"
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLAIM_MAX 160
#define EIP191_PREFIX "\x19" "Ethereum Signed Message:\n"
#define V_OFFSET 27             /* v = 27 + recovery id */
#define PUBKEY_UNCOMPRESSED 65  /* 0x04, X, Y */

/* keccak256 of the EIP-191 personal message "tessera payout for node <id>". */
static void claim_hash(const char *node_id, uint8_t out[32])
{
    char claim[CLAIM_MAX], msg[CLAIM_MAX + 48];
    int n = snprintf(claim, sizeof claim, "tessera payout for node %s", node_id);
    int m = snprintf(msg, sizeof msg, EIP191_PREFIX "%d%s", n, claim);
    ts_keccak256(msg, (size_t)m, out);
}

int ts_payout_sign(const ts_ethkey_t *key, const char *node_id, uint8_t sig[TS_PAYOUT_SIG_BYTES])
{
    uint8_t hash[32];
    int recid = 0;
    claim_hash(node_id, hash);
    if (ts_ethkey_sign(key, hash, sig, sig + 32, &recid) < 0)
        return -1;
    sig[64] = (uint8_t)(V_OFFSET + recid);
    return 0;
}

int ts_payout_verify(const char *node_id, const uint8_t *sig, size_t len, const uint8_t address[TS_ETH_ADDRESS_BYTES])
{
    if (len != TS_PAYOUT_SIG_BYTES)
        return ts_error_set("payout signature: %zu bytes, expected %d", len, TS_PAYOUT_SIG_BYTES);
    int recid = sig[64] >= V_OFFSET ? sig[64] - V_OFFSET : sig[64];
    if (recid < 0 || recid > 3)
        return ts_error_set("payout signature: bad recovery byte %d", sig[64]);
    uint8_t hash[32], ser[PUBKEY_UNCOMPRESSED], digest[32];
    claim_hash(node_id, hash);
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey pub;
    size_t ser_len = sizeof ser;
    int ok = ctx && secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig, recid) &&
             secp256k1_ecdsa_recover(ctx, &pub, &rs, hash) &&
             secp256k1_ec_pubkey_serialize(ctx, ser, &ser_len, &pub, SECP256K1_EC_UNCOMPRESSED);
    if (ctx)
        secp256k1_context_destroy(ctx);
    if (!ok)
        return ts_error_set("payout signature: not a valid signature");
    ts_keccak256(ser + 1, ser_len - 1, digest);
    if (memcmp(digest + 12, address, TS_ETH_ADDRESS_BYTES) != 0) {
        char shown[TS_ETH_ADDRESS_HEX];
        return ts_error_set("payout signature: not made by the key of %s", ts_eth_address_format(address, shown));
    }
    return 0;
}

int ts_payout_test(bool verbose)
{
    /* anvil's account 1; the expected signature is ethers' Wallet.signMessage of the same claim (RFC 6979) */
    static const char *key_hex = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    static const char *expected = "0x23838c33ef699f198f6dda17082530936776ab103da28d4f09f660ae764fa9765784116baf0c136af977"
                                  "7e09a6845165d37ecf49acdf459c228d12d26e7b531a1b";
    char node[65];
    memset(node, 0, sizeof node);
    for (int i = 0; i < 64; i += 2)
        memcpy(node + i, "ab", 2);
    ts_ethkey_t *key = ts_ethkey_from_hex(key_hex);
    uint8_t sig[TS_PAYOUT_SIG_BYTES], address[TS_ETH_ADDRESS_BYTES], other[TS_ETH_ADDRESS_BYTES];
    int rc = -1;
    char *hex = NULL;
    if (!key || ts_payout_sign(key, node, sig) < 0)
        goto out;
    ts_ethkey_address(key, address);
    hex = ts_hex_encode(sig, sizeof sig);
    if (!hex || strcmp(hex, expected) != 0) {
        fprintf(stderr, "payout test: signature %s, expected %s\n", hex ? hex : "?", expected);
        goto out;
    }
    if (ts_payout_verify(node, sig, sizeof sig, address) != 0) {
        fprintf(stderr, "payout test: own signature refused: %s\n", ts_error());
        goto out;
    }
    memcpy(other, address, sizeof other);
    other[0] ^= 1;
    char node2[65];
    memcpy(node2, node, sizeof node2);
    node2[0] = 'c';
    uint8_t bad[TS_PAYOUT_SIG_BYTES];
    memcpy(bad, sig, sizeof bad);
    bad[64] = 99;
    if (ts_payout_verify(node, sig, sizeof sig, other) == 0 || ts_payout_verify(node2, sig, sizeof sig, address) == 0 ||
        ts_payout_verify(node, sig, sizeof sig - 1, address) == 0 || ts_payout_verify(node, bad, sizeof bad, address) == 0) {
        fprintf(stderr, "payout test: a wrong address, node, length or recovery byte was accepted\n");
        goto out;
    }
    rc = 0;
    if (verbose)
        printf("payout: ok\n");
out:
    free(hex);
    ts_ethkey_destroy(&key);
    return rc;
}
