/* ts_abi_test: the ABI encoder and decoders against the Solidity spec's examples and ethers v6's encodings. */
#include "escrow/ts_abi.h"
#include "escrow/ts_hexbytes.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_RELEASE 3

/* Compare the encoder's output with want (0x hex); destroys the encoder. */
static int expect(ts_abi_t **abi, const char *what, const char *want)
{
    size_t n;
    const uint8_t *d = ts_abi_data(*abi, &n);
    char *got = d ? ts_hex_encode(d, n) : NULL;
    int rc = got && strcmp(got, want) == 0 ? 0 : -1;
    if (rc)
        fprintf(stderr, "ts_abi: %s encoded as\n  %s\nexpected\n  %s\n", what, got ? got : ts_error(), want);
    free(got);
    ts_abi_destroy(abi);
    return rc;
}

static int test_encode(void)
{
    int rc = 0;
    /* Solidity ABI spec, "Examples": baz(uint32,bool) with 69, true. */
    ts_abi_t *a = ts_abi_new("baz(uint32,bool)");
    ts_abi_uint64(a, 69);
    ts_abi_bool(a, true);
    rc |= expect(&a, "baz(69,true)",
                 "0xcdcd77c000000000000000000000000000000000000000000000000000000000000000450000000000000000000000000000000000000000000000000000000000000001");
    /* sam(bytes,bool,uint256[]) with "dave", true, [1,2,3]. */
    a = ts_abi_new("sam(bytes,bool,uint256[])");
    const uint64_t one_two_three[] = {1, 2, 3};
    ts_abi_bytes(a, "dave", 4);
    ts_abi_bool(a, true);
    ts_abi_uint256_array_u64(a, one_two_three, 3);
    rc |= expect(&a, "sam(\"dave\",true,[1,2,3])",
                 "0xa5643bf20000000000000000000000000000000000000000000000000000000000000060000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000a0000000000000000000000000000000000000000000000000000000000000000464617665000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000003");
    /* release(bytes32,bytes32[],address[],uint256[]) as ethers v6 Interface.encodeFunctionData writes it. */
    uint8_t job[TS_ABI_WORD], ids[NUM_RELEASE][TS_ABI_WORD], payees[NUM_RELEASE][TS_ABI_ADDRESS];
    for (int i = 0; i < TS_ABI_WORD; i++)
        job[i] = (uint8_t)(i + 1);
    for (int k = 0; k < NUM_RELEASE; k++)
        memset(ids[k], 0xaa + 0x11 * k, TS_ABI_WORD);
    if (ts_hex_decode_fixed("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", payees[0], TS_ABI_ADDRESS) ||
        ts_hex_decode_fixed("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", payees[1], TS_ABI_ADDRESS) ||
        ts_hex_decode_fixed("0x90F79bf6EB2c4f870365E785982E1f101E93b906", payees[2], TS_ABI_ADDRESS))
        return -1;
    const int64_t amounts_i64[NUM_RELEASE] = {1, 1000000000000000000LL, INT64_MAX};
    const uint64_t amounts[NUM_RELEASE] = {1, 1000000000000000000ULL, UINT64_MAX};
    const char *release_hex =
        "0xa2af7ed60102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20000000000000000000000000000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000000000000001000000000000000000000000000000000000000000000000000000000000000180"
        "0000000000000000000000000000000000000000000000000000000000000003aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
        "000000000000000000000000000000000000000000000000000000000000000300000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c80000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc00000000000000000000000090f79bf6eb2c4f870365e785982e1f101e93b906"
        "000000000000000000000000000000000000000000000000000000000000000300000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000de0b6b3a7640000000000000000000000000000000000000000000000000000ffffffffffffffff";
    a = ts_abi_new("release(bytes32,bytes32[],address[],uint256[])");
    ts_abi_bytes32(a, job);
    ts_abi_bytes32_array(a, (const uint8_t(*)[TS_ABI_WORD])ids, NUM_RELEASE);
    ts_abi_address_array(a, (const uint8_t(*)[TS_ABI_ADDRESS])payees, NUM_RELEASE);
    ts_abi_uint256_array_u64(a, amounts, NUM_RELEASE);
    rc |= expect(&a, "release(...)", release_hex);
    /* The same through int64 amounts: only the last amount differs (INT64_MAX instead of UINT64_MAX). */
    a = ts_abi_new("release(bytes32,bytes32[],address[],uint256[])");
    ts_abi_bytes32(a, job);
    ts_abi_bytes32_array(a, (const uint8_t(*)[TS_ABI_WORD])ids, NUM_RELEASE);
    ts_abi_address_array(a, (const uint8_t(*)[TS_ABI_ADDRESS])payees, NUM_RELEASE);
    ts_abi_uint256_array_i64(a, amounts_i64, NUM_RELEASE);
    size_t n;
    const uint8_t *d = ts_abi_data(a, &n);
    if (!d || n != strlen(release_hex) / 2 - 1 || d[n - 8] != 0x7f || d[n - 1] != 0xff) {
        fprintf(stderr, "ts_abi: release with int64 amounts wrong\n");
        rc = -1;
    }
    ts_abi_destroy(&a);
    const int64_t negative[] = {5, -1};
    a = ts_abi_new("f(uint256[])");
    if (ts_abi_uint256_array_i64(a, negative, 2) != -1 || !strstr(ts_error(), "item 1 is negative") ||
        ts_abi_data(a, &n) != NULL) {
        fprintf(stderr, "ts_abi: negative uint256 accepted\n");
        rc = -1;
    }
    ts_abi_destroy(&a);
    /* string, bytes32-sized bytes, uint64, address, bool, empty bytes and empty string (ethers v6). */
    uint8_t b32[TS_ABI_WORD], addr[TS_ABI_ADDRESS];
    for (int i = 0; i < TS_ABI_WORD; i++)
        b32[i] = (uint8_t)(0xf0 ^ i);
    ts_hex_decode_fixed("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266", addr, TS_ABI_ADDRESS);
    a = ts_abi_new("mix(string,bytes,uint64,address,bool,bytes,string)");
    ts_abi_string(a, "Hello, world! This is 33 bytes.!!");
    ts_abi_bytes(a, b32, sizeof b32);
    ts_abi_uint64(a, 1234567890123ULL);
    ts_abi_address(a, addr);
    ts_abi_bool(a, false);
    ts_abi_bytes(a, NULL, 0);
    ts_abi_string(a, "");
    rc |= expect(&a, "mix(...)",
                 "0x48d7008e00000000000000000000000000000000000000000000000000000000000000e000000000000000000000000000000000000000000000000000000000000001400000000000000000000000000000000000000000000000000000011f71fb04cb000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb922660000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000018000000000000000000000000000000000000000000000000000000000000001a0"
                 "000000000000000000000000000000000000000000000000000000000000002148656c6c6f2c20776f726c642120546869732069732033332062797465732e2121000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000020f0f1f2f3f4f5f6f7f8f9fafbfcfdfeffe0e1e2e3e4e5e6e7e8e9eaebecedeeef00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
    /* Constructor arguments: no selector. */
    a = ts_abi_new(NULL);
    ts_abi_uint64(a, 1);
    rc |= expect(&a, "bare uint", "0x0000000000000000000000000000000000000000000000000000000000000001");
    return rc;
}

static int test_decode(void)
{
    uint8_t *d;
    size_t n;
    /* Return data: (uint256 5, address anvil0, bool true, bytes32 0x01..20, uint256 2^64). */
    if (ts_hex_decode("0x0000000000000000000000000000000000000000000000000000000000000005"
                      "000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
                      "0000000000000000000000000000000000000000000000000000000000000001"
                      "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
                      "0000000000000000000000000000000000000000000000010000000000000000",
                      &d, &n) < 0)
        return -1;
    uint64_t v;
    bool b;
    uint8_t addr[TS_ABI_ADDRESS], w[TS_ABI_WORD];
    int rc = 0;
    if (ts_abi_word_u64(d, n, 0, &v) || v != 5 || ts_abi_word_address(d, n, 1, addr) || addr[0] != 0xf3 ||
        addr[19] != 0x66 || ts_abi_word_bool(d, n, 2, &b) || !b || ts_abi_word_bytes32(d, n, 3, w) || w[31] != 0x20) {
        fprintf(stderr, "ts_abi: decoding return words failed: %s\n", ts_error());
        rc = -1;
    }
    if (ts_abi_word_u64(d, n, 4, &v) != -1 || !strstr(ts_error(), "64 bits") || ts_abi_word_u64(d, n, 5, &v) != -1 ||
        ts_abi_word_address(d, n, 3, addr) != -1 || ts_abi_word_bool(d, n, 0, &b) != -1 ||
        ts_abi_word_u64(d, n - 1, 4, &v) != -1) {
        fprintf(stderr, "ts_abi: bad return words accepted\n");
        rc = -1;
    }
    free(d);

    ts_abi_revert_t r;
    char line[TS_ABI_REVERT_MESSAGE_MAX + 64];
    /* Error("insufficient balance") as Solidity's require writes it. */
    if (ts_hex_decode("0x08c379a000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000014696e73756666696369656e742062616c616e6365000000000000000000000000",
                      &d, &n) < 0)
        return -1;
    if (ts_abi_revert_decode(d, n, &r) || r.kind != TS_ABI_REVERT_STRING || strcmp(r.message, "insufficient balance") ||
        strcmp(ts_abi_revert_describe(&r, line, sizeof line), "reverted: insufficient balance")) {
        fprintf(stderr, "ts_abi: Error(string) decoded as \"%s\"\n", r.message);
        rc = -1;
    }
    /* Truncated Error(string): the length word claims more than is there. */
    if (ts_abi_revert_decode(d, n - TS_ABI_WORD, &r) != -1 || ts_abi_revert_decode(d, 3, &r) != -1) {
        fprintf(stderr, "ts_abi: truncated Error(string) accepted\n");
        rc = -1;
    }
    free(d);
    /* InsufficientFunds(bytes32 job, uint256 have, uint256 want) with (0x01..20, 5, 7), from ethers. */
    if (ts_hex_decode("0xa8f7bc8a0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2000000000000000000000000000000000000000000000000000000000000000050000000000000000000000000000000000000000000000000000000000000007",
                      &d, &n) < 0)
        return -1;
    uint64_t have = 0, want = 0;
    if (ts_abi_revert_decode(d, n, &r) || r.kind != TS_ABI_REVERT_CUSTOM ||
        !ts_abi_revert_is(&r, "InsufficientFunds(bytes32,uint256,uint256)") || ts_abi_revert_is(&r, "Error(string)") ||
        ts_abi_word_u64(r.args, r.args_len, 1, &have) || ts_abi_word_u64(r.args, r.args_len, 2, &want) || have != 5 ||
        want != 7 || strcmp(ts_abi_revert_describe(&r, line, sizeof line), "reverted with custom error 0xa8f7bc8a")) {
        fprintf(stderr, "ts_abi: custom error decoded wrong (%s)\n", line);
        rc = -1;
    }
    free(d);
    /* Panic(0x11) (arithmetic overflow) and empty revert data. */
    if (ts_hex_decode("0x4e487b710000000000000000000000000000000000000000000000000000000000000011", &d, &n) < 0)
        return -1;
    if (ts_abi_revert_decode(d, n, &r) || r.kind != TS_ABI_REVERT_PANIC || r.panic_code != 0x11 ||
        ts_abi_revert_decode(NULL, 0, &r) || r.kind != TS_ABI_REVERT_EMPTY ||
        strcmp(ts_abi_revert_describe(&r, line, sizeof line), "reverted without data")) {
        fprintf(stderr, "ts_abi: panic / empty revert decoded wrong\n");
        rc = -1;
    }
    free(d);
    /* Control characters in a revert message do not reach logs. */
    ts_abi_t *a = ts_abi_new("Error(string)");
    ts_abi_string(a, "bad\nline\x1b[31m");
    const uint8_t *e = ts_abi_data(a, &n);
    if (!e || ts_abi_revert_decode(e, n, &r) || strcmp(r.message, "bad?line?[31m")) {
        fprintf(stderr, "ts_abi: control characters kept in \"%s\"\n", r.message);
        rc = -1;
    }
    ts_abi_destroy(&a);
    return rc;
}

int ts_abi_test(bool verbose)
{
    uint8_t sel[TS_ABI_SELECTOR];
    ts_abi_selector("release(bytes32,bytes32[],address[],uint256[])", sel);
    int rc = (sel[0] == 0xa2 && sel[1] == 0xaf && sel[2] == 0x7e && sel[3] == 0xd6) ? 0 : -1;
    if (rc)
        fprintf(stderr, "ts_abi: release selector wrong\n");
    rc |= test_encode();
    rc |= test_decode();
    if (rc == 0 && verbose)
        printf("ts_abi: ok\n");
    return rc ? -1 : 0;
}
