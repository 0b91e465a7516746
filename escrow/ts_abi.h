/* ts_abi: Solidity contract ABI: encoding a call (selector, head/tail layout) and decoding return and revert data. */
#ifndef TS_ABI_H
#define TS_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_ABI_WORD 32
#define TS_ABI_SELECTOR 4
#define TS_ABI_ADDRESS 20
/* Longest Error(string) message kept by ts_abi_revert_decode (longer ones are cut). */
#define TS_ABI_REVERT_MESSAGE_MAX 256

/* The first 4 bytes of keccak256(signature), e.g. "transfer(address,uint256)" (canonical types, no spaces). */
void ts_abi_selector(const char *signature, uint8_t out[TS_ABI_SELECTOR]);

/* Encoder: arguments are appended in order; ts_abi_data lays them out. */
typedef struct ts_abi ts_abi_t;

/* signature: the function, whose selector starts the data; NULL for bare arguments (constructor arguments). */
ts_abi_t *ts_abi_new(const char *signature);
void ts_abi_destroy(ts_abi_t **self_p);

/* Each returns 0, or -1 with ts_error set (a failure is remembered and ts_abi_data then fails too). */
int ts_abi_uint256(ts_abi_t *self, const uint8_t be[TS_ABI_WORD]);
/* Any uintN (uint8..uint256) from a uint64. */
int ts_abi_uint64(ts_abi_t *self, uint64_t v);
int ts_abi_address(ts_abi_t *self, const uint8_t a[TS_ABI_ADDRESS]);
int ts_abi_bytes32(ts_abi_t *self, const uint8_t b[TS_ABI_WORD]);
int ts_abi_bool(ts_abi_t *self, bool v);
int ts_abi_bytes32_array(ts_abi_t *self, const uint8_t (*items)[TS_ABI_WORD], size_t n);
int ts_abi_address_array(ts_abi_t *self, const uint8_t (*items)[TS_ABI_ADDRESS], size_t n);
int ts_abi_uint256_array_u64(ts_abi_t *self, const uint64_t *items, size_t n);
/* uint256[] from int64s; a negative item is an error. */
int ts_abi_uint256_array_i64(ts_abi_t *self, const int64_t *items, size_t n);
int ts_abi_bytes(ts_abi_t *self, const void *data, size_t len);
int ts_abi_string(ts_abi_t *self, const char *s);

/* Selector + head + tail; valid until the encoder changes or is destroyed. NULL with ts_error after a failure. */
const uint8_t *ts_abi_data(ts_abi_t *self, size_t *len);

/* Return data: word i (0-based, after any selector the caller skipped). -1 with ts_error when the data is too
 * short or the word is not a valid value of the type (uint64 that does not fit, address/bool with stray bits). */
int ts_abi_word_u64(const uint8_t *data, size_t len, size_t i, uint64_t *out);
int ts_abi_word_address(const uint8_t *data, size_t len, size_t i, uint8_t out[TS_ABI_ADDRESS]);
int ts_abi_word_bool(const uint8_t *data, size_t len, size_t i, bool *out);
int ts_abi_word_bytes32(const uint8_t *data, size_t len, size_t i, uint8_t out[TS_ABI_WORD]);

/* Revert data, as returned by a failed eth_call / eth_estimateGas. */
typedef enum {
    TS_ABI_REVERT_EMPTY,  /* no data: require(false), revert() or out of gas */
    TS_ABI_REVERT_STRING, /* Error(string): message */
    TS_ABI_REVERT_PANIC,  /* Panic(uint256): panic_code (0x01 assert, 0x11 overflow, 0x12 division by zero...) */
    TS_ABI_REVERT_CUSTOM, /* a custom error: selector, and its ABI-encoded arguments in args */
} ts_abi_revert_kind_t;

typedef struct {
    ts_abi_revert_kind_t kind;
    uint8_t selector[TS_ABI_SELECTOR];     /* all kinds but EMPTY */
    char message[TS_ABI_REVERT_MESSAGE_MAX]; /* STRING: the text, control characters replaced by '?' */
    uint64_t panic_code;                   /* PANIC (UINT64_MAX when the code does not fit) */
    const uint8_t *args;                   /* CUSTOM: the bytes after the selector (points into the input) */
    size_t args_len;
} ts_abi_revert_t;

/* 0, or -1 with ts_error when the data is malformed (shorter than a selector, a bad Error(string) encoding). */
int ts_abi_revert_decode(const uint8_t *data, size_t len, ts_abi_revert_t *out);
/* True when the revert's selector is that of signature, e.g. "InsufficientFunds(bytes32,uint256,uint256)". */
bool ts_abi_revert_is(const ts_abi_revert_t *r, const char *signature);
/* One line for an error message: "reverted: <text>", "panicked with code 0x11", "reverted with custom error
 * 0x1234abcd", "reverted without data". Returns buf. */
char *ts_abi_revert_describe(const ts_abi_revert_t *r, char *buf, size_t size);

int ts_abi_test(bool verbose);

#endif
