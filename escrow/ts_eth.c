/* ts_eth: an account on a chain over JSON-RPC: eth_call, estimate/sign/send/wait for EIP-1559 transactions. */
#include "escrow/ts_eth.h"
#include "escrow/ts_abi.h"
#include "escrow/ts_ethtx.h"
#include "escrow/ts_hexbytes.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Gas limit = estimate * 6 / 5 (20% margin); max fee = base fee * 2 + tip (room for the base fee to rise). */
#define GAS_MARGIN_NUM 6
#define GAS_MARGIN_DEN 5
#define BASE_FEE_MULTIPLIER 2
#define RECEIPT_POLL_NS 50000000L /* 50 ms */
#define NS_PER_S 1e9
/* JSON-RPC's "execution reverted" error code (EIP-1474 / geth, anvil). */
#define RPC_CODE_REVERTED 3
#define DESCRIBE_MAX 512

struct ts_eth {
    ts_rpc_t *rpc;
    ts_ethkey_t *key;
    uint8_t address[TS_ETH_ADDRESS_BYTES];
    char address_hex[TS_ETH_ADDRESS_HEX];
    uint64_t chain_id;
    double receipt_timeout_s;
    uint8_t *revert;
    size_t revert_len;
    bool has_revert;
};

/* A quantity field of an RPC result; -1 with ts_error naming what it is. */
static int quantity(json_t *v, const char *what, uint64_t *out)
{
    if (!json_is_string(v))
        return ts_error_set("%s: not a hex quantity", what);
    if (ts_hex_quantity_u64(json_string_value(v), out) < 0)
        return ts_error_prefix("%s", what);
    return 0;
}

/* Call a method whose result is a quantity. */
static int call_quantity(ts_eth_t *self, const char *method, json_t *params, uint64_t *out)
{
    json_t *r = ts_rpc_call(self->rpc, method, params);
    if (!r)
        return -1;
    int rc = quantity(r, method, out);
    json_decref(r);
    return rc;
}

ts_eth_t *ts_eth_new_opts(const char *rpc_url, const char *key_file, uint64_t expected_chain_id,
                          const ts_eth_options_t *opts)
{
    double rpc_timeout = opts && opts->rpc_timeout_s > 0 ? opts->rpc_timeout_s : TS_ETH_RPC_TIMEOUT_S;
    ts_eth_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("out of memory");
        return NULL;
    }
    self->receipt_timeout_s = opts && opts->receipt_timeout_s > 0 ? opts->receipt_timeout_s : TS_ETH_RECEIPT_TIMEOUT_S;
    if (!(self->key = ts_ethkey_load(key_file)) || !(self->rpc = ts_rpc_new(rpc_url, rpc_timeout)) ||
        call_quantity(self, "eth_chainId", NULL, &self->chain_id) < 0)
        goto fail;
    if (expected_chain_id && self->chain_id != expected_chain_id) {
        ts_error_set("chain id %llu at %s, expected %llu", (unsigned long long)self->chain_id, rpc_url,
                     (unsigned long long)expected_chain_id);
        goto fail;
    }
    ts_ethkey_address(self->key, self->address);
    ts_eth_address_format(self->address, self->address_hex);
    return self;
fail:
    ts_eth_destroy(&self);
    return NULL;
}

ts_eth_t *ts_eth_new(const char *rpc_url, const char *key_file, uint64_t expected_chain_id)
{
    return ts_eth_new_opts(rpc_url, key_file, expected_chain_id, NULL);
}

void ts_eth_destroy(ts_eth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ts_eth_t *self = *self_p;
    ts_rpc_destroy(&self->rpc);
    ts_ethkey_destroy(&self->key);
    free(self->revert);
    free(self);
    *self_p = NULL;
}

void ts_eth_address(const ts_eth_t *self, uint8_t out[TS_ETH_ADDRESS_BYTES])
{
    memcpy(out, self->address, TS_ETH_ADDRESS_BYTES);
}

uint64_t ts_eth_chain_id(const ts_eth_t *self)
{
    return self->chain_id;
}

ts_rpc_t *ts_eth_rpc(ts_eth_t *self)
{
    return self->rpc;
}

const uint8_t *ts_eth_last_revert(const ts_eth_t *self, size_t *len)
{
    *len = self->has_revert ? self->revert_len : 0;
    return self->has_revert ? (self->revert ? self->revert : (const uint8_t *)"") : NULL;
}

static void clear_revert(ts_eth_t *self)
{
    free(self->revert);
    self->revert = NULL;
    self->revert_len = 0;
    self->has_revert = false;
}

/* After a failed eth_call / eth_estimateGas: when the node says it reverted, keep the revert data and set
 * ts_error to "<what>: <decoded revert>". Otherwise the RPC's error stands. Returns -1. */
static int failed_execution(ts_eth_t *self, const char *what)
{
    const char *data = ts_rpc_last_error_data(self->rpc);
    int code = ts_rpc_last_error_code(self->rpc);
    bool decoded = data && ts_hex_decode(data, &self->revert, &self->revert_len) == 0;
    if (!decoded && code != RPC_CODE_REVERTED && !strstr(ts_error(), "revert"))
        return ts_error_prefix("%s", what);
    self->has_revert = true;
    ts_abi_revert_t r;
    char line[DESCRIBE_MAX];
    if (ts_abi_revert_decode(self->revert, self->revert_len, &r) < 0)
        return ts_error_set("%s: reverted with malformed revert data (%zu bytes)", what, self->revert_len);
    return ts_error_set("%s: %s", what, ts_abi_revert_describe(&r, line, sizeof line));
}

/* The call object for eth_call / eth_estimateGas: from, to (when given), data (when any), value (when any). */
static json_t *call_object(ts_eth_t *self, const uint8_t *to, const uint8_t *data, size_t len, uint64_t value)
{
    json_t *o = json_pack("{s:s}", "from", self->address_hex);
    char *hex = NULL;
    if (!o)
        goto fail;
    if (to) {
        char to_hex[TS_ETH_ADDRESS_HEX];
        if (json_object_set_new(o, "to", json_string(ts_eth_address_format(to, to_hex))) < 0)
            goto fail;
    }
    if (len) {
        if (!(hex = ts_hex_encode(data, len)) || json_object_set_new(o, "data", json_string(hex)) < 0)
            goto fail;
        free(hex);
    }
    if (value) {
        char q[TS_HEX_U64_MAX];
        if (json_object_set_new(o, "value", json_string(ts_hex_quantity_format(value, q))) < 0)
            goto fail;
    }
    return o;
fail:
    free(hex);
    json_decref(o);
    ts_error_set("out of memory building a call");
    return NULL;
}

int ts_eth_call(ts_eth_t *self, const uint8_t to[TS_ETH_ADDRESS_BYTES], const uint8_t *data, size_t len,
                uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    clear_revert(self);
    char what[sizeof "eth_call to " + TS_ETH_ADDRESS_HEX];
    char to_hex[TS_ETH_ADDRESS_HEX];
    snprintf(what, sizeof what, "eth_call to %s", ts_eth_address_format(to, to_hex));
    json_t *call = call_object(self, to, data, len, 0);
    if (!call)
        return -1;
    json_t *r = ts_rpc_call(self->rpc, "eth_call", json_pack("[o, s]", call, "latest"));
    if (!r)
        return failed_execution(self, what);
    int rc = json_is_string(r) ? ts_hex_decode(json_string_value(r), out, out_len) : ts_error_set("not a hex string");
    json_decref(r);
    return rc < 0 ? ts_error_prefix("%s: result", what) : 0;
}

/* Gas limit from eth_estimateGas (with the margin), or -1 with ts_error (a revert decoded). */
static int estimate_gas(ts_eth_t *self, const char *what, const uint8_t *to, const uint8_t *data, size_t len,
                        uint64_t value, uint64_t *gas_limit)
{
    json_t *call = call_object(self, to, data, len, value);
    if (!call)
        return -1;
    uint64_t est;
    if (call_quantity(self, "eth_estimateGas", json_pack("[o]", call), &est) < 0) {
        char prefix[DESCRIBE_MAX];
        snprintf(prefix, sizeof prefix, "eth_estimateGas for %s (not sent)", what);
        return failed_execution(self, prefix);
    }
    if (est > UINT64_MAX / GAS_MARGIN_NUM)
        return ts_error_set("eth_estimateGas for %s: estimate %llu is absurd", what, (unsigned long long)est);
    *gas_limit = est * GAS_MARGIN_NUM / GAS_MARGIN_DEN;
    return 0;
}

/* Max fee and tip from the latest block's base fee and the node's suggested tip. */
static int fees(ts_eth_t *self, uint64_t *max_fee, uint64_t *tip)
{
    json_t *block = ts_rpc_call(self->rpc, "eth_getBlockByNumber", json_pack("[s, b]", "latest", 0));
    if (!block)
        return -1;
    uint64_t base;
    int rc = json_is_object(block) ? quantity(json_object_get(block, "baseFeePerGas"), "latest block's baseFeePerGas",
                                              &base)
                                   : ts_error_set("eth_getBlockByNumber: no latest block");
    json_decref(block);
    if (rc < 0 || call_quantity(self, "eth_maxPriorityFeePerGas", NULL, tip) < 0)
        return -1;
    if (base > (UINT64_MAX - *tip) / BASE_FEE_MULTIPLIER)
        return ts_error_set("base fee %llu wei is too high to pay", (unsigned long long)base);
    *max_fee = base * BASE_FEE_MULTIPLIER + *tip;
    return 0;
}

/* Fill rcpt from an eth_getTransactionReceipt result. */
static int parse_receipt(json_t *r, ts_eth_receipt_t *rcpt)
{
    uint64_t status;
    if (quantity(json_object_get(r, "status"), "receipt status", &status) < 0 ||
        quantity(json_object_get(r, "gasUsed"), "receipt gasUsed", &rcpt->gas_used) < 0 ||
        quantity(json_object_get(r, "blockNumber"), "receipt blockNumber", &rcpt->block) < 0)
        return -1;
    rcpt->status = status == 1;
    json_t *ca = json_object_get(r, "contractAddress");
    rcpt->has_contract_address = json_is_string(ca);
    if (rcpt->has_contract_address && ts_eth_address_parse(json_string_value(ca), rcpt->contract_address) < 0)
        return ts_error_prefix("receipt contractAddress");
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / NS_PER_S;
}

/* Poll for the receipt of hash_hex until mined or the timeout. */
static int wait_receipt(ts_eth_t *self, const char *hash_hex, ts_eth_receipt_t *rcpt)
{
    double deadline = now_s() + self->receipt_timeout_s;
    char last_error[DESCRIBE_MAX] = "";
    for (;;) {
        json_t *r = ts_rpc_call(self->rpc, "eth_getTransactionReceipt", json_pack("[s]", hash_hex));
        if (json_is_object(r)) {
            int rc = parse_receipt(r, rcpt);
            json_decref(r);
            return rc < 0 ? ts_error_prefix("transaction %s", hash_hex) : 0;
        }
        if (!r) /* the node may be briefly unavailable: keep trying until the deadline */
            snprintf(last_error, sizeof last_error, " (last error: %s)", ts_error());
        json_decref(r);
        if (now_s() >= deadline)
            return ts_error_set("transaction %s: no receipt within %.0f s%s", hash_hex, self->receipt_timeout_s,
                                last_error);
        struct timespec pause = {0, RECEIPT_POLL_NS};
        nanosleep(&pause, NULL);
    }
}

int ts_eth_send(ts_eth_t *self, const uint8_t *to, const uint8_t *data, size_t len, uint64_t value,
                ts_eth_receipt_t *rcpt)
{
    ts_eth_receipt_t local;
    if (!rcpt)
        rcpt = &local;
    memset(rcpt, 0, sizeof *rcpt);
    clear_revert(self);
    char what[sizeof "a transaction to " + TS_ETH_ADDRESS_HEX], to_hex[TS_ETH_ADDRESS_HEX];
    if (to)
        snprintf(what, sizeof what, "a transaction to %s", ts_eth_address_format(to, to_hex));
    else
        snprintf(what, sizeof what, "a contract creation");
    ts_ethtx_t tx = {.chain_id = self->chain_id, .has_to = to != NULL, .value = value, .data = data, .data_len = len};
    if (to)
        memcpy(tx.to, to, TS_ETH_ADDRESS_BYTES);
    if (estimate_gas(self, what, to, data, len, value, &tx.gas_limit) < 0)
        return -1;
    if (fees(self, &tx.max_fee_per_gas, &tx.max_priority_fee_per_gas) < 0 ||
        call_quantity(self, "eth_getTransactionCount", json_pack("[s, s]", self->address_hex, "pending"),
                      &tx.nonce) < 0)
        return ts_error_prefix("preparing %s", what);

    uint8_t *raw = NULL;
    size_t raw_len;
    if (ts_ethtx_sign(&tx, self->key, &raw, &raw_len, rcpt->tx_hash) < 0)
        return -1;
    char *raw_hex = ts_hex_encode(raw, raw_len), *hash_hex = ts_hex_encode(rcpt->tx_hash, sizeof rcpt->tx_hash);
    free(raw);
    json_t *sent = raw_hex && hash_hex ? ts_rpc_call(self->rpc, "eth_sendRawTransaction", json_pack("[s]", raw_hex))
                                       : NULL;
    free(raw_hex);
    int rc = -1;
    if (!sent) {
        ts_error_prefix("sending %s", what);
        goto done;
    }
    if (!json_is_string(sent) || strcasecmp(json_string_value(sent), hash_hex) != 0)
        ts_warn("eth: node returned transaction hash %s for %s",
                json_is_string(sent) ? json_string_value(sent) : "(none)", hash_hex);
    json_decref(sent);
    ts_debug("eth: sent %s: %s, nonce %llu, gas limit %llu, max fee %llu wei", hash_hex, what,
             (unsigned long long)tx.nonce, (unsigned long long)tx.gas_limit, (unsigned long long)tx.max_fee_per_gas);
    if (wait_receipt(self, hash_hex, rcpt) < 0)
        goto done;
    if (rcpt->status != 1) {
        ts_error_set("transaction %s (%s) reverted in block %llu (gas used %llu of %llu)", hash_hex, what,
                     (unsigned long long)rcpt->block, (unsigned long long)rcpt->gas_used,
                     (unsigned long long)tx.gas_limit);
        goto done;
    }
    rc = 0;
done:
    free(hash_hex);
    return rc;
}

int ts_eth_deploy(ts_eth_t *self, const char *bytecode_hex, const uint8_t *ctor_args, size_t args_len,
                  uint8_t address_out[TS_ETH_ADDRESS_BYTES], ts_eth_receipt_t *rcpt)
{
    uint8_t *code;
    size_t code_len;
    if (ts_hex_decode(bytecode_hex, &code, &code_len) < 0)
        return ts_error_prefix("contract bytecode");
    if (code_len == 0)
        return ts_error_set("contract bytecode is empty");
    uint8_t *init = realloc(code, code_len + args_len);
    if (!init) {
        free(code);
        return ts_error_set("out of memory");
    }
    if (args_len)
        memcpy(init + code_len, ctor_args, args_len);
    ts_eth_receipt_t local;
    if (!rcpt)
        rcpt = &local;
    int rc = ts_eth_send(self, NULL, init, code_len + args_len, 0, rcpt);
    free(init);
    if (rc < 0)
        return -1;
    if (!rcpt->has_contract_address)
        return ts_error_set("deployment mined without a contract address in its receipt");
    memcpy(address_out, rcpt->contract_address, TS_ETH_ADDRESS_BYTES);
    return 0;
}
