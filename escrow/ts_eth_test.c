/* ts_eth_test: ts_eth against a live anvil (env TS_TEST_RPC): a value transfer, a deployed contract that reverts
 * with a custom error, and the wrong-chain and unreachable errors. Run by tests/test_eth_anvil.sh. */
#include "tests/ts_test.h"
#include "escrow/ts_abi.h"
#include "escrow/ts_eth.h"
#include "escrow/ts_hexbytes.h"
#include "lib/ts_error.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* anvil's defaults: chain 31337, accounts from the "test test ... junk" mnemonic. */
#define ANVIL_CHAIN_ID 31337
#define ANVIL_KEY0 "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define ANVIL_ADDR0 "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
#define ANVIL_ADDR1 "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define TRANSFER_WEI 1234567890123456789ULL
#define PLAIN_TRANSFER_GAS 21000
#define WRONG_CHAIN_ID 1
#define U256_BYTES 32

/* The test contract: with no calldata it returns uint256 42; with any calldata it reverts with
 * InsufficientFunds(bytes32 job, uint256 have, uint256 want) = (0x01..0x20, 5, 7). */
#define CUSTOM_ERROR "InsufficientFunds(bytes32,uint256,uint256)"
#define RETURNED_VALUE 42
#define ERROR_HAVE 5
#define ERROR_WANT 7
#define OP_CALLDATASIZE 0x36
#define OP_PUSH1 0x60
#define OP_PUSH32 0x7f
#define OP_JUMPI 0x57
#define OP_JUMPDEST 0x5b
#define OP_MSTORE 0x52
#define OP_RETURN 0xf3
#define OP_REVERT 0xfd
#define OP_DUP1 0x80
#define OP_CODECOPY 0x39
#define CODE_MAX 256

typedef struct {
    uint8_t b[CODE_MAX];
    size_t n;
} code_t;

static void op(code_t *c, uint8_t o)
{
    if (c->n < CODE_MAX)
        c->b[c->n++] = o;
}

static void push1(code_t *c, uint8_t v)
{
    op(c, OP_PUSH1);
    op(c, v);
}

static void push32(code_t *c, const uint8_t w[U256_BYTES])
{
    op(c, OP_PUSH32);
    for (int i = 0; i < U256_BYTES; i++)
        op(c, w[i]);
}

/* Creation code as hex (malloc'd): a constructor copying the runtime out, then the runtime. */
static char *contract_hex(const uint8_t job[U256_BYTES])
{
    code_t rt = {0}, init = {0};
    /* if (calldatasize) goto revert; mstore(0, 42); return(0, 32) */
    const uint8_t revert_at = 14; /* offset of the JUMPDEST below: 1+2+1+2+2+1+2+2+1 */
    op(&rt, OP_CALLDATASIZE);
    push1(&rt, revert_at);
    op(&rt, OP_JUMPI);
    push1(&rt, RETURNED_VALUE);
    push1(&rt, 0);
    op(&rt, OP_MSTORE);
    push1(&rt, U256_BYTES);
    push1(&rt, 0);
    op(&rt, OP_RETURN);
    if (rt.n != revert_at)
        return NULL;
    op(&rt, OP_JUMPDEST);
    /* revert: memory = selector || job || have || want; revert(0, 4 + 3 * 32) */
    uint8_t w[U256_BYTES] = {0};
    ts_abi_selector(CUSTOM_ERROR, w);
    push32(&rt, w);
    push1(&rt, 0);
    op(&rt, OP_MSTORE);
    push32(&rt, job);
    push1(&rt, TS_ABI_SELECTOR);
    op(&rt, OP_MSTORE);
    memset(w, 0, sizeof w);
    w[U256_BYTES - 1] = ERROR_HAVE;
    push32(&rt, w);
    push1(&rt, TS_ABI_SELECTOR + U256_BYTES);
    op(&rt, OP_MSTORE);
    w[U256_BYTES - 1] = ERROR_WANT;
    push32(&rt, w);
    push1(&rt, TS_ABI_SELECTOR + 2 * U256_BYTES);
    op(&rt, OP_MSTORE);
    push1(&rt, TS_ABI_SELECTOR + 3 * U256_BYTES);
    push1(&rt, 0);
    op(&rt, OP_REVERT);
    /* constructor: codecopy(0, <runtime offset>, len); return(0, len) */
    const uint8_t init_len = 11;
    push1(&init, (uint8_t)rt.n);
    op(&init, OP_DUP1);
    push1(&init, init_len);
    push1(&init, 0);
    op(&init, OP_CODECOPY);
    push1(&init, 0);
    op(&init, OP_RETURN);
    if (init.n != init_len || init.n + rt.n > CODE_MAX)
        return NULL;
    memcpy(init.b + init.n, rt.b, rt.n);
    return ts_hex_encode(init.b, init.n + rt.n);
}

#define FAIL(...) (fprintf(stderr, "ts_eth_anvil: " __VA_ARGS__), fputc('\n', stderr), -1)

static int balance(ts_eth_t *eth, const char *addr, uint8_t out[U256_BYTES])
{
    json_t *r = ts_rpc_call(ts_eth_rpc(eth), "eth_getBalance", json_pack("[s, s]", addr, "latest"));
    int rc = json_is_string(r) ? ts_hex_quantity_u256(json_string_value(r), out) : -1;
    json_decref(r);
    return rc;
}

static int pending_nonce(ts_eth_t *eth, uint64_t *out)
{
    json_t *r = ts_rpc_call(ts_eth_rpc(eth), "eth_getTransactionCount", json_pack("[s, s]", ANVIL_ADDR0, "pending"));
    int rc = json_is_string(r) ? ts_hex_quantity_u64(json_string_value(r), out) : -1;
    json_decref(r);
    return rc;
}

/* after - before as a uint64, or UINT64_MAX when negative or too large. */
static uint64_t difference(const uint8_t after[U256_BYTES], const uint8_t before[U256_BYTES])
{
    uint8_t d[U256_BYTES];
    int borrow = 0;
    for (int i = U256_BYTES - 1; i >= 0; i--) {
        int v = after[i] - before[i] - borrow;
        borrow = v < 0;
        d[i] = (uint8_t)(v + (borrow ? 256 : 0));
    }
    uint64_t out;
    return borrow || ts_abi_word_u64(d, sizeof d, 0, &out) < 0 ? UINT64_MAX : out;
}

static int test_transfer(ts_eth_t *eth, bool verbose)
{
    uint8_t to[TS_ETH_ADDRESS_BYTES], before[U256_BYTES], after[U256_BYTES];
    ts_eth_receipt_t rcpt;
    if (ts_eth_address_parse(ANVIL_ADDR1, to) < 0 || balance(eth, ANVIL_ADDR1, before) < 0)
        return FAIL("balance before: %s", ts_error());
    if (ts_eth_send(eth, to, NULL, 0, TRANSFER_WEI, &rcpt) < 0)
        return FAIL("transfer: %s", ts_error());
    if (balance(eth, ANVIL_ADDR1, after) < 0)
        return FAIL("balance after: %s", ts_error());
    uint64_t got = difference(after, before);
    if (got != TRANSFER_WEI)
        return FAIL("account 1 balance changed by %llu wei, expected %llu", (unsigned long long)got, TRANSFER_WEI);
    if (rcpt.status != 1 || rcpt.gas_used != PLAIN_TRANSFER_GAS || rcpt.block == 0 || rcpt.has_contract_address)
        return FAIL("transfer receipt: status %d, gas %llu, block %llu", rcpt.status, (unsigned long long)rcpt.gas_used,
                    (unsigned long long)rcpt.block);
    if (verbose)
        printf("ts_eth_anvil: transfer of %llu wei mined in block %llu\n", TRANSFER_WEI, (unsigned long long)rcpt.block);
    return 0;
}

static int test_contract(ts_eth_t *eth, bool verbose)
{
    uint8_t job[U256_BYTES], addr[TS_ETH_ADDRESS_BYTES];
    for (int i = 0; i < U256_BYTES; i++)
        job[i] = (uint8_t)(i + 1);
    char *code = contract_hex(job);
    ts_eth_receipt_t rcpt;
    int rc = code ? ts_eth_deploy(eth, code, NULL, 0, addr, &rcpt) : -1;
    free(code);
    if (rc < 0)
        return FAIL("deploy: %s", ts_error());
    if (rcpt.status != 1 || !rcpt.has_contract_address || memcmp(addr, rcpt.contract_address, sizeof addr))
        return FAIL("deploy receipt");
    /* The plain call returns 42. */
    uint8_t *out;
    size_t out_len;
    uint64_t v = 0;
    if (ts_eth_call(eth, addr, NULL, 0, &out, &out_len) < 0)
        return FAIL("call: %s", ts_error());
    rc = ts_abi_word_u64(out, out_len, 0, &v);
    free(out);
    if (rc < 0 || v != RETURNED_VALUE)
        return FAIL("call returned %llu, expected %d", (unsigned long long)v, RETURNED_VALUE);
    /* A call with data reverts with the custom error, reported by selector, the raw data kept. */
    uint8_t sel[TS_ABI_SELECTOR];
    char sel_text[64], addr_hex[TS_ETH_ADDRESS_HEX];
    ts_abi_selector(CUSTOM_ERROR, sel);
    snprintf(sel_text, sizeof sel_text, "custom error 0x%02x%02x%02x%02x", sel[0], sel[1], sel[2], sel[3]);
    ts_eth_address_format(addr, addr_hex);
    if (ts_eth_call(eth, addr, sel, sizeof sel, &out, &out_len) != -1 || !strstr(ts_error(), sel_text) ||
        !strstr(ts_error(), addr_hex))
        return FAIL("reverting call: \"%s\" should name %s and the contract", ts_error(), sel_text);
    size_t n;
    const uint8_t *data = ts_eth_last_revert(eth, &n);
    ts_abi_revert_t r;
    uint64_t have = 0, want = 0;
    uint8_t got_job[U256_BYTES];
    if (!data || ts_abi_revert_decode(data, n, &r) < 0 || !ts_abi_revert_is(&r, CUSTOM_ERROR) ||
        ts_abi_word_bytes32(r.args, r.args_len, 0, got_job) < 0 || memcmp(got_job, job, sizeof job) ||
        ts_abi_word_u64(r.args, r.args_len, 1, &have) < 0 || ts_abi_word_u64(r.args, r.args_len, 2, &want) < 0 ||
        have != ERROR_HAVE || want != ERROR_WANT)
        return FAIL("revert data (%zu bytes) does not decode to " CUSTOM_ERROR, n);
    if (verbose)
        printf("ts_eth_anvil: call reverted as expected: %s\n", ts_error());
    /* Sending the same fails at estimation and sends nothing. */
    uint64_t nonce_before, nonce_after;
    if (pending_nonce(eth, &nonce_before) < 0)
        return FAIL("nonce: %s", ts_error());
    if (ts_eth_send(eth, addr, sel, sizeof sel, 0, &rcpt) != -1 || !strstr(ts_error(), sel_text) ||
        !strstr(ts_error(), "not sent"))
        return FAIL("reverting send: \"%s\" should say it was not sent and name %s", ts_error(), sel_text);
    if (verbose)
        printf("ts_eth_anvil: send refused as expected: %s\n", ts_error());
    if (!ts_eth_last_revert(eth, &n) || n != TS_ABI_SELECTOR + 3 * U256_BYTES)
        return FAIL("no revert data after a failed send");
    if (pending_nonce(eth, &nonce_after) < 0 || nonce_after != nonce_before)
        return FAIL("a transaction was sent for a reverting estimate (nonce %llu -> %llu)",
                    (unsigned long long)nonce_before, (unsigned long long)nonce_after);
    /* A successful call clears the revert. */
    if (ts_eth_call(eth, addr, NULL, 0, &out, &out_len) < 0 || ts_eth_last_revert(eth, &n))
        return FAIL("revert data kept after a successful call");
    free(out);
    return 0;
}

/* A loopback port with nothing listening (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int test_errors(const char *url, const char *key_file)
{
    int rc = 0;
    char want[256];
    ts_eth_t *eth = ts_eth_new(url, key_file, WRONG_CHAIN_ID);
    snprintf(want, sizeof want, "chain id %d at %s, expected %d", ANVIL_CHAIN_ID, url, WRONG_CHAIN_ID);
    if (eth || strcmp(ts_error(), want) != 0)
        rc = FAIL("wrong chain: \"%s\", expected \"%s\"", ts_error(), want);
    ts_eth_destroy(&eth);
    char closed[64];
    snprintf(closed, sizeof closed, "http://127.0.0.1:%d", closed_port());
    eth = ts_eth_new(closed, key_file, 0);
    snprintf(want, sizeof want, "chain RPC at %s is unreachable: ", closed);
    if (eth || strncmp(ts_error(), want, strlen(want)) != 0)
        rc = FAIL("closed port: \"%s\"", ts_error());
    ts_eth_destroy(&eth);
    eth = ts_eth_new(url, "/nonexistent/key", 0);
    if (eth || !strstr(ts_error(), "/nonexistent/key"))
        rc = FAIL("missing key file: \"%s\"", ts_error());
    ts_eth_destroy(&eth);
    return rc;
}

int ts_eth_anvil_test(bool verbose)
{
    const char *url = getenv("TS_TEST_RPC");
    if (!url || !*url) {
        printf("eth_anvil: skipped (set TS_TEST_RPC to an anvil URL; tests/test_eth_anvil.sh does)\n");
        return TS_TEST_SKIPPED;
    }
    char key_file[] = "/tmp/ts_eth_test_key.XXXXXX";
    int fd = mkstemp(key_file);
    if (fd < 0 || write(fd, ANVIL_KEY0 "\n", sizeof ANVIL_KEY0) != (ssize_t)sizeof ANVIL_KEY0) {
        if (fd >= 0)
            close(fd);
        return FAIL("cannot write a key file");
    }
    close(fd);
    int rc = test_errors(url, key_file);
    ts_eth_t *eth = ts_eth_new(url, key_file, ANVIL_CHAIN_ID);
    unlink(key_file);
    if (!eth)
        return FAIL("new: %s", ts_error());
    uint8_t a[TS_ETH_ADDRESS_BYTES];
    char a_hex[TS_ETH_ADDRESS_HEX];
    ts_eth_address(eth, a);
    if (strcmp(ts_eth_address_format(a, a_hex), ANVIL_ADDR0) != 0 || ts_eth_chain_id(eth) != ANVIL_CHAIN_ID)
        rc = FAIL("account %s on chain %llu", a_hex, (unsigned long long)ts_eth_chain_id(eth));
    rc |= test_transfer(eth, verbose);
    rc |= test_contract(eth, verbose);
    ts_eth_destroy(&eth);
    if (rc == 0 && verbose)
        printf("ts_eth_anvil: ok\n");
    return rc ? -1 : 0;
}
