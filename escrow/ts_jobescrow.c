/* ts_jobescrow: typed calls of the TesseraToken and JobEscrow contracts over ts_eth (see ts_jobescrow.h). */
#include "escrow/ts_jobescrow.h"
#include "escrow/ts_abi.h"
#include "escrow/ts_keccak.h"
#include "lib/ts_error.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Creation bytecode, generated from the Solidity sources by escrow/contracts/compile.js (build/gen). */
extern const char ts_contract_token_hex[];
extern const char ts_contract_escrow_hex[];

#define ID_TEXT_MAX 256

/* The errors the contracts and OpenZeppelin's ERC-20 revert with, so a refused transaction is named. */
static const char *const KNOWN_ERRORS[] = {
    "ZeroAmount()", "ZeroAddress()", "JobExists(bytes32)", "UnknownJob(bytes32)", "JobClosed(bytes32)",
    "DeadlineInPast(uint64)", "LengthMismatch()", "InsufficientFunds(bytes32,uint256,uint256)",
    "PriceMismatch(bytes32,uint256,uint256)", "NotAllowed()", "DeadlineNotReached(uint64)",
    "InsufficientStake(uint256,uint256)", "NothingPending()", "CooldownActive(uint64)",
    "AccessControlUnauthorizedAccount(address,bytes32)", "ERC20InsufficientBalance(address,uint256,uint256)",
    "ERC20InsufficientAllowance(address,uint256,uint256)", "ERC20InvalidReceiver(address)",
    "SafeCastOverflowedUintDowncast(uint8,uint256)", "ReentrancyGuardReentrantCall()",
};

struct ts_jobescrow {
    ts_eth_t *eth;
    ts_address_t escrow, token;
    ts_jobescrow_spent_t spent;
    uint8_t last_tx[32];
};

static int view(ts_jobescrow_t *self, const ts_address_t to, ts_abi_t *abi, uint8_t **out, size_t *len)
{
    size_t n = 0;
    const uint8_t *data = abi ? ts_abi_data(abi, &n) : NULL;
    int rc = data ? ts_eth_call(self->eth, to, data, n, out, len) : -1;
    ts_abi_destroy(&abi);
    return rc;
}

static int transact(ts_jobescrow_t *self, const ts_address_t to, ts_abi_t *abi, const char *what)
{
    size_t n = 0;
    const uint8_t *data = abi ? ts_abi_data(abi, &n) : NULL;
    ts_eth_receipt_t rcpt;
    memset(&rcpt, 0, sizeof rcpt);
    int rc = data ? ts_eth_send(self->eth, to, data, n, 0, &rcpt) : -1;
    ts_abi_destroy(&abi);
    size_t rlen = 0;
    const uint8_t *revert = rc < 0 ? ts_eth_last_revert(self->eth, &rlen) : NULL;
    ts_abi_revert_t r;
    if (revert && ts_abi_revert_decode(revert, rlen, &r) == 0 && r.kind == TS_ABI_REVERT_CUSTOM)
        for (size_t i = 0; i < sizeof KNOWN_ERRORS / sizeof KNOWN_ERRORS[0]; i++)
            if (ts_abi_revert_is(&r, KNOWN_ERRORS[i])) {
                ts_error_prefix("the contract refused it with %.*s", (int)strcspn(KNOWN_ERRORS[i], "("),
                                KNOWN_ERRORS[i]);
                break;
            }
    memcpy(self->last_tx, rcpt.tx_hash, sizeof self->last_tx);
    if (rcpt.gas_used) {
        self->spent.gas += rcpt.gas_used;
        self->spent.transactions++;
    }
    return rc < 0 ? ts_error_prefix("%s", what) : 0;
}

ts_jobescrow_t *ts_jobescrow_new(ts_eth_t *eth, const ts_address_t escrow)
{
    ts_jobescrow_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("out of memory");
        return NULL;
    }
    self->eth = eth;
    memcpy(self->escrow, escrow, sizeof self->escrow);
    uint8_t *out = NULL;
    size_t len = 0;
    char shown[TS_ETH_ADDRESS_HEX];
    if (view(self, escrow, ts_abi_new("token()"), &out, &len) < 0 || ts_abi_word_address(out, len, 0, self->token) < 0) {
        ts_error_prefix("no JobEscrow contract at %s", ts_eth_address_format(escrow, shown));
        free(out);
        free(self);
        return NULL;
    }
    free(out);
    return self;
}

void ts_jobescrow_destroy(ts_jobescrow_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

void ts_jobescrow_token(const ts_jobescrow_t *self, ts_address_t out)
{
    memcpy(out, self->token, sizeof self->token);
}

ts_jobescrow_spent_t ts_jobescrow_spent(const ts_jobescrow_t *self)
{
    return self->spent;
}

void ts_jobescrow_last_tx(const ts_jobescrow_t *self, uint8_t out[32])
{
    memcpy(out, self->last_tx, sizeof self->last_tx);
}

int ts_jobescrow_deploy(ts_eth_t *eth, int64_t supply, const ts_address_t treasury, uint64_t cooldown_s,
                        ts_address_t token_out, ts_address_t escrow_out, uint64_t *gas)
{
    ts_eth_receipt_t rcpt;
    ts_abi_t *args = ts_abi_new(NULL);
    size_t n = 0;
    ts_abi_uint64(args, (uint64_t)supply);
    const uint8_t *data = ts_abi_data(args, &n);
    int rc = data ? ts_eth_deploy(eth, ts_contract_token_hex, data, n, token_out, &rcpt) : -1;
    ts_abi_destroy(&args);
    if (rc < 0)
        return ts_error_prefix("deploying TesseraToken");
    *gas = rcpt.gas_used;
    ts_address_t admin;
    ts_eth_address(eth, admin);
    args = ts_abi_new(NULL);
    ts_abi_address(args, token_out);
    ts_abi_address(args, admin);
    ts_abi_address(args, treasury);
    ts_abi_uint64(args, cooldown_s);
    data = ts_abi_data(args, &n);
    rc = data ? ts_eth_deploy(eth, ts_contract_escrow_hex, data, n, escrow_out, &rcpt) : -1;
    ts_abi_destroy(&args);
    if (rc < 0)
        return ts_error_prefix("deploying JobEscrow");
    *gas += rcpt.gas_used;
    return 0;
}

static void hash_text(const char *text, ts_chain_id_t out)
{
    ts_keccak256(text, strlen(text), out);
}

void ts_jobescrow_job_id(const char *salt, int64_t job, ts_chain_id_t out)
{
    char text[ID_TEXT_MAX];
    snprintf(text, sizeof text, "tessera:%s:job:%" PRId64, salt, job);
    hash_text(text, out);
}

void ts_jobescrow_task_id(const char *salt, int64_t task, const char *ref, ts_chain_id_t out)
{
    char text[ID_TEXT_MAX];
    snprintf(text, sizeof text, "tessera:%s:task:%" PRId64 ":%s", salt, task, ref ? ref : "");
    hash_text(text, out);
}

void ts_jobescrow_slash_id(const char *salt, int64_t verdict, ts_chain_id_t out)
{
    char text[ID_TEXT_MAX];
    snprintf(text, sizeof text, "tessera:%s:slash:%" PRId64, salt, verdict);
    hash_text(text, out);
}

int ts_jobescrow_approve(ts_jobescrow_t *self, int64_t amount)
{
    ts_abi_t *a = ts_abi_new("approve(address,uint256)");
    ts_abi_address(a, self->escrow);
    ts_abi_uint64(a, (uint64_t)amount);
    return transact(self, self->token, a, "token approve");
}

int ts_jobescrow_fund(ts_jobescrow_t *self, const ts_chain_id_t job, int64_t amount, uint64_t deadline)
{
    ts_abi_t *a = ts_abi_new("fund(bytes32,uint256,uint64)");
    ts_abi_bytes32(a, job);
    ts_abi_uint64(a, (uint64_t)amount);
    ts_abi_uint64(a, deadline);
    return transact(self, self->escrow, a, "fund");
}

int ts_jobescrow_lock(ts_jobescrow_t *self, const ts_chain_id_t job, const ts_chain_id_t *tasks, const int64_t *prices,
                      size_t n)
{
    ts_abi_t *a = ts_abi_new("lock(bytes32,bytes32[],uint256[])");
    ts_abi_bytes32(a, job);
    ts_abi_bytes32_array(a, (const uint8_t(*)[TS_ABI_WORD])tasks, n);
    ts_abi_uint256_array_i64(a, prices, n);
    return transact(self, self->escrow, a, "lock");
}

int ts_jobescrow_release(ts_jobescrow_t *self, const ts_chain_id_t job, const ts_chain_id_t *tasks,
                         const ts_address_t *workers, const int64_t *prices, size_t n)
{
    ts_abi_t *a = ts_abi_new("release(bytes32,bytes32[],address[],uint256[])");
    ts_abi_bytes32(a, job);
    ts_abi_bytes32_array(a, (const uint8_t(*)[TS_ABI_WORD])tasks, n);
    ts_abi_address_array(a, (const uint8_t(*)[TS_ABI_ADDRESS])workers, n);
    ts_abi_uint256_array_i64(a, prices, n);
    return transact(self, self->escrow, a, "release");
}

int ts_jobescrow_slash(ts_jobescrow_t *self, const ts_address_t worker, int64_t amount, const ts_chain_id_t slash_id,
                       const ts_chain_id_t job)
{
    ts_abi_t *a = ts_abi_new("slash(address,uint256,bytes32,bytes32)");
    ts_abi_address(a, worker);
    ts_abi_uint64(a, (uint64_t)amount);
    ts_abi_bytes32(a, slash_id);
    ts_abi_bytes32(a, job);
    return transact(self, self->escrow, a, "slash");
}

int ts_jobescrow_refund(ts_jobescrow_t *self, const ts_chain_id_t job)
{
    ts_abi_t *a = ts_abi_new("refund(bytes32)");
    ts_abi_bytes32(a, job);
    return transact(self, self->escrow, a, "refund");
}

int ts_jobescrow_stake_for(ts_jobescrow_t *self, const ts_address_t worker, int64_t amount)
{
    ts_abi_t *a = ts_abi_new("stakeFor(address,uint256)");
    ts_abi_address(a, worker);
    ts_abi_uint64(a, (uint64_t)amount);
    return transact(self, self->escrow, a, "stakeFor");
}

/* An unsigned word that must fit an int64 amount. */
static int word_amount(const uint8_t *d, size_t len, size_t i, int64_t *out)
{
    uint64_t v;
    if (ts_abi_word_u64(d, len, i, &v) < 0 || v > INT64_MAX)
        return ts_error_set("an amount on chain does not fit 63 bits");
    *out = (int64_t)v;
    return 0;
}

int ts_jobescrow_job(ts_jobescrow_t *self, const ts_chain_id_t job, ts_jobescrow_job_t *out)
{
    ts_abi_t *a = ts_abi_new("jobs(bytes32)");
    ts_abi_bytes32(a, job);
    uint8_t *d = NULL;
    size_t len = 0;
    int rc = view(self, self->escrow, a, &d, &len);
    memset(out, 0, sizeof *out);
    if (rc == 0 && (ts_abi_word_address(d, len, 0, out->requester) < 0 || ts_abi_word_u64(d, len, 1, &out->deadline) < 0 ||
                    ts_abi_word_bool(d, len, 2, &out->closed) < 0 || word_amount(d, len, 3, &out->available) < 0 ||
                    word_amount(d, len, 4, &out->locked) < 0))
        rc = -1;
    free(d);
    static const ts_address_t zero;
    out->exists = rc == 0 && memcmp(out->requester, zero, sizeof zero) != 0;
    return rc;
}

int ts_jobescrow_balance_of(ts_jobescrow_t *self, const ts_address_t who, int64_t *out)
{
    ts_abi_t *a = ts_abi_new("balanceOf(address)");
    ts_abi_address(a, who);
    uint8_t *d = NULL;
    size_t len = 0;
    int rc = view(self, self->token, a, &d, &len);
    if (rc == 0)
        rc = word_amount(d, len, 0, out);
    free(d);
    return rc;
}

int ts_jobescrow_stake_of(ts_jobescrow_t *self, const ts_address_t who, int64_t *active, int64_t *pending)
{
    ts_abi_t *a = ts_abi_new("stakes(address)");
    ts_abi_address(a, who);
    uint8_t *d = NULL;
    size_t len = 0;
    int rc = view(self, self->escrow, a, &d, &len);
    if (rc == 0 && (word_amount(d, len, 0, active) < 0 || word_amount(d, len, 1, pending) < 0))
        rc = -1;
    free(d);
    return rc;
}

int ts_jobescrow_treasury(ts_jobescrow_t *self, ts_address_t out)
{
    uint8_t *d = NULL;
    size_t len = 0;
    int rc = view(self, self->escrow, ts_abi_new("treasury()"), &d, &len);
    if (rc == 0)
        rc = ts_abi_word_address(d, len, 0, out);
    free(d);
    return rc;
}
