/* ts_ethkey_test: known key/address pairs, key file parsing and its errors, signatures that recover, EIP-55. */
#include "escrow/ts_ethkey.h"
#include "escrow/ts_keccak.h"
#include "lib/ts_error.h"
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY_WEB3 "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
#define ADDR_WEB3 "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
#define KEY_ANVIL0 "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define ADDR_ANVIL0 "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
/* The secp256k1 group order n: the first key that is out of range. */
#define KEY_ORDER "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
#define KEY_ORDER_MINUS_1 "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"
#define PUBKEY_UNCOMPRESSED 65
#define SIG_COMPACT 64

#define FAIL(...) (fprintf(stderr, "ts_ethkey: " __VA_ARGS__), fputc('\n', stderr), -1)

static int expect_address(ts_ethkey_t *k, const char *want, const char *what)
{
    if (!k)
        return FAIL("%s: %s", what, ts_error());
    uint8_t a[TS_ETH_ADDRESS_BYTES];
    char s[TS_ETH_ADDRESS_HEX];
    ts_ethkey_address(k, a);
    ts_eth_address_format(a, s);
    ts_ethkey_destroy(&k);
    if (strcmp(s, want) != 0)
        return FAIL("%s: address %s, expected %s", what, s, want);
    return 0;
}

/* Write text to a fresh temporary file; the path goes in path (PATH_MAX-sized buffer). */
static int write_temp(const char *text, char *path, size_t size)
{
    snprintf(path, size, "/tmp/ts_ethkey_test.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t n = strlen(text);
    int rc = write(fd, text, n) == (ssize_t)n ? 0 : -1;
    close(fd);
    return rc;
}

/* Load text from a key file; expect failure whose message holds `expect` and the path but no key digits. */
static int expect_load_error(const char *text, const char *expect)
{
    char path[64];
    if (write_temp(text, path, sizeof path) < 0)
        return FAIL("cannot write a temporary file");
    ts_ethkey_t *k = ts_ethkey_load(path);
    int rc = 0;
    if (k)
        rc = FAIL("key file \"%s\" accepted", text);
    else if (!strstr(ts_error(), expect) || !strstr(ts_error(), path) || strstr(ts_error(), "4c0883a6") ||
             strstr(ts_error(), "ffffffff"))
        rc = FAIL("key file error \"%s\" should name the file and say \"%s\" (and never show the key)", ts_error(), expect);
    ts_ethkey_destroy(&k);
    unlink(path);
    return rc;
}

static int test_keys(void)
{
    int rc = 0;
    rc |= expect_address(ts_ethkey_from_hex("0x" KEY_WEB3), ADDR_WEB3, "web3 example key");
    rc |= expect_address(ts_ethkey_from_hex(KEY_ANVIL0), ADDR_ANVIL0, "anvil account 0");
    char path[64];
    if (write_temp("  \n0x" KEY_ANVIL0 "\n\n", path, sizeof path) < 0)
        return FAIL("cannot write a temporary file");
    rc |= expect_address(ts_ethkey_load(path), ADDR_ANVIL0, "key file with 0x and whitespace");
    unlink(path);
    if (write_temp("4C0883A69102937D6231471B5DBB6204FE5129617082792AE468D01A3F362318", path, sizeof path) < 0)
        return FAIL("cannot write a temporary file");
    rc |= expect_address(ts_ethkey_load(path), ADDR_WEB3, "upper-case key file without newline");
    unlink(path);
    rc |= expect_load_error("", "found 0 characters");
    rc |= expect_load_error("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f36231\n", "found 63 characters");
    rc |= expect_load_error("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f36231z", "non-hex character");
    rc |= expect_load_error("4c0883a69102937d6231471b5dbb6204 fe5129617082792ae468d01a3f36231", "non-hex character");
    rc |= expect_load_error("0000000000000000000000000000000000000000000000000000000000000000", "zero or not below");
    rc |= expect_load_error(KEY_ORDER, "zero or not below");
    ts_ethkey_t *k = ts_ethkey_from_hex(KEY_ORDER_MINUS_1);
    if (!k)
        rc |= FAIL("n-1 refused: %s", ts_error());
    ts_ethkey_destroy(&k);
    if (ts_ethkey_load("/nonexistent/key") || !strstr(ts_error(), "/nonexistent/key"))
        rc |= FAIL("missing file error: %s", ts_error());
    return rc;
}

static int test_sign(void)
{
    ts_ethkey_t *k = ts_ethkey_from_hex(KEY_ANVIL0);
    if (!k)
        return FAIL("%s", ts_error());
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    int rc = 0;
    for (int round = 0; round < 8 && rc == 0; round++) {
        uint8_t hash[32], r[32], s[32], r2[32], s2[32], sig64[SIG_COMPACT];
        int recid, recid2;
        ts_keccak256(&round, sizeof round, hash);
        if (ts_ethkey_sign(k, hash, r, s, &recid) || ts_ethkey_sign(k, hash, r2, s2, &recid2)) {
            rc = FAIL("sign: %s", ts_error());
            break;
        }
        if (memcmp(r, r2, 32) || memcmp(s, s2, 32) || recid != recid2)
            rc = FAIL("signatures are not deterministic");
        if (recid != 0 && recid != 1)
            rc = FAIL("recovery id %d", recid);
        /* Recover the public key and hash it to the address. */
        memcpy(sig64, r, 32);
        memcpy(sig64 + 32, s, 32);
        secp256k1_ecdsa_recoverable_signature sig;
        secp256k1_pubkey pub;
        uint8_t ser[PUBKEY_UNCOMPRESSED], h[TS_KECCAK256_BYTES], want[TS_ETH_ADDRESS_BYTES];
        size_t ser_len = sizeof ser;
        if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, sig64, recid) ||
            !secp256k1_ecdsa_recover(ctx, &pub, &sig, hash) ||
            !secp256k1_ec_pubkey_serialize(ctx, ser, &ser_len, &pub, SECP256K1_EC_UNCOMPRESSED)) {
            rc = FAIL("signature does not recover");
            break;
        }
        ts_keccak256(ser + 1, ser_len - 1, h);
        ts_ethkey_address(k, want);
        if (memcmp(h + TS_KECCAK256_BYTES - TS_ETH_ADDRESS_BYTES, want, TS_ETH_ADDRESS_BYTES))
            rc = FAIL("signature recovers to another key");
        /* Ethereum needs low s (s <= n/2): the top bit of s is clear. */
        if (s[0] & 0x80)
            rc = FAIL("high s");
    }
    secp256k1_context_destroy(ctx);
    ts_ethkey_destroy(&k);
    return rc;
}

static int test_eip55(void)
{
    /* EIP-55's test cases. */
    static const char *vectors[] = {
        "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        uint8_t a[TS_ETH_ADDRESS_BYTES];
        char s[TS_ETH_ADDRESS_HEX];
        if (ts_eth_address_parse(vectors[i], a) < 0) {
            rc = FAIL("%s refused: %s", vectors[i], ts_error());
            continue;
        }
        if (strcmp(ts_eth_address_format(a, s), vectors[i]) != 0)
            rc = FAIL("%s formatted as %s", vectors[i], s);
    }
    uint8_t a[TS_ETH_ADDRESS_BYTES];
    if (ts_eth_address_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", a) < 0)
        rc = FAIL("all-lower-case address refused");
    if (ts_eth_address_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", a) != -1 || !strstr(ts_error(), "EIP-55"))
        rc = FAIL("bad checksum accepted");
    static const char *bad[] = {"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA",
                                "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ts_eth_address_parse(bad[i], a) != -1 || !strstr(ts_error(), "not an Ethereum address"))
            rc = FAIL("\"%s\" accepted as an address", bad[i]);
    if (ts_eth_address_parse(NULL, a) != -1)
        rc = FAIL("NULL accepted as an address");
    return rc;
}

int ts_ethkey_test(bool verbose)
{
    int rc = test_keys();
    rc |= test_sign();
    rc |= test_eip55();
    if (rc == 0 && verbose)
        printf("ts_ethkey: ok\n");
    return rc ? -1 : 0;
}
