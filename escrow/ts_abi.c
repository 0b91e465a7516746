/* ts_abi: Solidity ABI encoder (static words in the head, dynamic values in the tail behind offsets) and decoders. */
#include "escrow/ts_abi.h"
#include "escrow/ts_keccak.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABI_INITIAL_ARGS 8
#define ADDRESS_PAD (TS_ABI_WORD - TS_ABI_ADDRESS)
#define U64_BYTES 8
#define U64_PAD (TS_ABI_WORD - U64_BYTES)
#define SIG_ERROR_STRING "Error(string)"
#define SIG_PANIC "Panic(uint256)"
#define ASCII_DEL 0x7f

typedef struct {
    bool dynamic;
    uint8_t word[TS_ABI_WORD]; /* static: the value */
    uint8_t *tail;             /* dynamic: the encoding behind the offset */
    size_t tail_len;
} abi_arg_t;

struct ts_abi {
    bool has_selector, failed;
    uint8_t selector[TS_ABI_SELECTOR];
    abi_arg_t *args;
    size_t n, cap;
    uint8_t *out;
};

void ts_abi_selector(const char *signature, uint8_t out[TS_ABI_SELECTOR])
{
    uint8_t h[TS_KECCAK256_BYTES];
    ts_keccak256(signature, strlen(signature), h);
    memcpy(out, h, TS_ABI_SELECTOR);
}

ts_abi_t *ts_abi_new(const char *signature)
{
    ts_abi_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("abi: out of memory");
        return NULL;
    }
    if (signature) {
        self->has_selector = true;
        ts_abi_selector(signature, self->selector);
    }
    return self;
}

void ts_abi_destroy(ts_abi_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ts_abi_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        free(self->args[i].tail);
    free(self->args);
    free(self->out);
    free(self);
    *self_p = NULL;
}

static int fail(ts_abi_t *self, const char *why)
{
    self->failed = true;
    return ts_error_set("abi: %s", why);
}

/* A new zeroed argument slot, or NULL (failure recorded). */
static abi_arg_t *push(ts_abi_t *self)
{
    if (self->failed)
        return NULL;
    if (self->n == self->cap) {
        size_t cap = self->cap ? 2 * self->cap : ABI_INITIAL_ARGS;
        abi_arg_t *a = realloc(self->args, cap * sizeof *a);
        if (!a) {
            fail(self, "out of memory");
            return NULL;
        }
        self->args = a;
        self->cap = cap;
    }
    abi_arg_t *a = &self->args[self->n++];
    memset(a, 0, sizeof *a);
    return a;
}

static void u64_word(uint64_t v, uint8_t w[TS_ABI_WORD])
{
    memset(w, 0, TS_ABI_WORD);
    for (int i = 0; i < U64_BYTES; i++)
        w[TS_ABI_WORD - 1 - i] = (uint8_t)(v >> (8 * i));
}

static void address_word(const uint8_t a[TS_ABI_ADDRESS], uint8_t w[TS_ABI_WORD])
{
    memset(w, 0, ADDRESS_PAD);
    memcpy(w + ADDRESS_PAD, a, TS_ABI_ADDRESS);
}

static int push_word(ts_abi_t *self, const uint8_t w[TS_ABI_WORD])
{
    abi_arg_t *a = push(self);
    if (!a)
        return -1;
    memcpy(a->word, w, TS_ABI_WORD);
    return 0;
}

int ts_abi_uint256(ts_abi_t *self, const uint8_t be[TS_ABI_WORD])
{
    return push_word(self, be);
}

int ts_abi_uint64(ts_abi_t *self, uint64_t v)
{
    uint8_t w[TS_ABI_WORD];
    u64_word(v, w);
    return push_word(self, w);
}

int ts_abi_address(ts_abi_t *self, const uint8_t a[TS_ABI_ADDRESS])
{
    uint8_t w[TS_ABI_WORD];
    address_word(a, w);
    return push_word(self, w);
}

int ts_abi_bytes32(ts_abi_t *self, const uint8_t b[TS_ABI_WORD])
{
    return push_word(self, b);
}

int ts_abi_bool(ts_abi_t *self, bool v)
{
    return ts_abi_uint64(self, v ? 1 : 0);
}

/* A dynamic argument: a length word followed by body_len bytes (zero-padded to whole words), to be filled by the
 * caller at the returned pointer; NULL on failure. */
static uint8_t *push_dynamic(ts_abi_t *self, size_t count, size_t body_len)
{
    if (self->failed)
        return NULL;
    if (body_len > SIZE_MAX / 2) {
        fail(self, "argument too large");
        return NULL;
    }
    size_t padded = (body_len + TS_ABI_WORD - 1) / TS_ABI_WORD * TS_ABI_WORD;
    uint8_t *tail = calloc(1, TS_ABI_WORD + padded);
    abi_arg_t *a = tail ? push(self) : NULL;
    if (!a) {
        free(tail);
        fail(self, "out of memory");
        return NULL;
    }
    a->dynamic = true;
    a->tail = tail;
    a->tail_len = TS_ABI_WORD + padded;
    u64_word(count, tail);
    return tail + TS_ABI_WORD;
}

int ts_abi_bytes32_array(ts_abi_t *self, const uint8_t (*items)[TS_ABI_WORD], size_t n)
{
    uint8_t *body = push_dynamic(self, n, n * TS_ABI_WORD);
    if (!body)
        return -1;
    for (size_t i = 0; i < n; i++)
        memcpy(body + i * TS_ABI_WORD, items[i], TS_ABI_WORD);
    return 0;
}

int ts_abi_address_array(ts_abi_t *self, const uint8_t (*items)[TS_ABI_ADDRESS], size_t n)
{
    uint8_t *body = push_dynamic(self, n, n * TS_ABI_WORD);
    if (!body)
        return -1;
    for (size_t i = 0; i < n; i++)
        address_word(items[i], body + i * TS_ABI_WORD);
    return 0;
}

int ts_abi_uint256_array_u64(ts_abi_t *self, const uint64_t *items, size_t n)
{
    uint8_t *body = push_dynamic(self, n, n * TS_ABI_WORD);
    if (!body)
        return -1;
    for (size_t i = 0; i < n; i++)
        u64_word(items[i], body + i * TS_ABI_WORD);
    return 0;
}

int ts_abi_uint256_array_i64(ts_abi_t *self, const int64_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i] < 0) {
            self->failed = true;
            return ts_error_set("abi: uint256[] item %zu is negative (%lld)", i, (long long)items[i]);
        }
    uint8_t *body = push_dynamic(self, n, n * TS_ABI_WORD);
    if (!body)
        return -1;
    for (size_t i = 0; i < n; i++)
        u64_word((uint64_t)items[i], body + i * TS_ABI_WORD);
    return 0;
}

int ts_abi_bytes(ts_abi_t *self, const void *data, size_t len)
{
    uint8_t *body = push_dynamic(self, len, len);
    if (!body)
        return -1;
    if (len)
        memcpy(body, data, len);
    return 0;
}

int ts_abi_string(ts_abi_t *self, const char *s)
{
    return ts_abi_bytes(self, s, strlen(s));
}

const uint8_t *ts_abi_data(ts_abi_t *self, size_t *len)
{
    *len = 0;
    if (self->failed) {
        ts_error_set("abi: an earlier argument failed to encode");
        return NULL;
    }
    size_t head = self->n * TS_ABI_WORD, total = head;
    for (size_t i = 0; i < self->n; i++)
        total += self->args[i].tail_len;
    size_t sel = self->has_selector ? TS_ABI_SELECTOR : 0;
    uint8_t *out = malloc(sel + total + 1);
    if (!out) {
        ts_error_set("abi: out of memory");
        return NULL;
    }
    memcpy(out, self->selector, sel);
    size_t tail = head;
    for (size_t i = 0; i < self->n; i++) {
        abi_arg_t *a = &self->args[i];
        uint8_t *h = out + sel + i * TS_ABI_WORD;
        if (!a->dynamic) {
            memcpy(h, a->word, TS_ABI_WORD);
            continue;
        }
        u64_word(tail, h);
        memcpy(out + sel + tail, a->tail, a->tail_len);
        tail += a->tail_len;
    }
    free(self->out);
    self->out = out;
    *len = sel + total;
    return out;
}

/* Word i of data, or NULL with ts_error when the data is too short. */
static const uint8_t *word_at(const uint8_t *data, size_t len, size_t i)
{
    if (i >= len / TS_ABI_WORD) {
        ts_error_set("abi: return data of %zu bytes has no word %zu", len, i);
        return NULL;
    }
    return data + i * TS_ABI_WORD;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* The value of a word that must fit in 64 bits; -1 (without ts_error) when it does not. */
static int word_u64(const uint8_t *w, uint64_t *out)
{
    if (!all_zero(w, U64_PAD))
        return -1;
    uint64_t v = 0;
    for (int i = U64_PAD; i < TS_ABI_WORD; i++)
        v = v << 8 | w[i];
    *out = v;
    return 0;
}

int ts_abi_word_u64(const uint8_t *data, size_t len, size_t i, uint64_t *out)
{
    const uint8_t *w = word_at(data, len, i);
    if (!w)
        return -1;
    if (word_u64(w, out) < 0)
        return ts_error_set("abi: word %zu does not fit in 64 bits", i);
    return 0;
}

int ts_abi_word_address(const uint8_t *data, size_t len, size_t i, uint8_t out[TS_ABI_ADDRESS])
{
    const uint8_t *w = word_at(data, len, i);
    if (!w)
        return -1;
    if (!all_zero(w, ADDRESS_PAD))
        return ts_error_set("abi: word %zu is not an address (high bytes set)", i);
    memcpy(out, w + ADDRESS_PAD, TS_ABI_ADDRESS);
    return 0;
}

int ts_abi_word_bool(const uint8_t *data, size_t len, size_t i, bool *out)
{
    const uint8_t *w = word_at(data, len, i);
    uint64_t v;
    if (!w)
        return -1;
    if (word_u64(w, &v) < 0 || v > 1)
        return ts_error_set("abi: word %zu is not a bool", i);
    *out = v == 1;
    return 0;
}

int ts_abi_word_bytes32(const uint8_t *data, size_t len, size_t i, uint8_t out[TS_ABI_WORD])
{
    const uint8_t *w = word_at(data, len, i);
    if (!w)
        return -1;
    memcpy(out, w, TS_ABI_WORD);
    return 0;
}

static bool selector_is(const uint8_t selector[TS_ABI_SELECTOR], const char *signature)
{
    uint8_t sel[TS_ABI_SELECTOR];
    ts_abi_selector(signature, sel);
    return memcmp(sel, selector, TS_ABI_SELECTOR) == 0;
}

/* Error(string) arguments: an offset word, then at the offset a length word and the bytes. */
static int decode_error_string(const uint8_t *args, size_t len, char *msg, size_t size)
{
    uint64_t off, n;
    if (ts_abi_word_u64(args, len, 0, &off) < 0 || off % TS_ABI_WORD || off > len - TS_ABI_WORD ||
        ts_abi_word_u64(args + off, len - off, 0, &n) < 0 || n > len - off - TS_ABI_WORD)
        return ts_error_set("abi: malformed Error(string) revert data (%zu bytes)", len);
    const uint8_t *s = args + off + TS_ABI_WORD;
    size_t k = n < size - 1 ? (size_t)n : size - 1;
    for (size_t i = 0; i < k; i++)
        msg[i] = (s[i] < ' ' || s[i] == ASCII_DEL) ? '?' : (char)s[i];
    msg[k] = '\0';
    return 0;
}

int ts_abi_revert_decode(const uint8_t *data, size_t len, ts_abi_revert_t *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0) {
        out->kind = TS_ABI_REVERT_EMPTY;
        return 0;
    }
    if (len < TS_ABI_SELECTOR)
        return ts_error_set("abi: revert data of %zu bytes is shorter than a selector", len);
    memcpy(out->selector, data, TS_ABI_SELECTOR);
    const uint8_t *args = data + TS_ABI_SELECTOR;
    size_t args_len = len - TS_ABI_SELECTOR;
    if (selector_is(out->selector, SIG_ERROR_STRING)) {
        out->kind = TS_ABI_REVERT_STRING;
        return decode_error_string(args, args_len, out->message, sizeof out->message);
    }
    if (selector_is(out->selector, SIG_PANIC)) {
        out->kind = TS_ABI_REVERT_PANIC;
        const uint8_t *w = word_at(args, args_len, 0);
        if (!w)
            return ts_error_set("abi: malformed Panic(uint256) revert data (%zu bytes)", len);
        if (word_u64(w, &out->panic_code) < 0)
            out->panic_code = UINT64_MAX;
        return 0;
    }
    out->kind = TS_ABI_REVERT_CUSTOM;
    out->args = args;
    out->args_len = args_len;
    return 0;
}

bool ts_abi_revert_is(const ts_abi_revert_t *r, const char *signature)
{
    return r->kind != TS_ABI_REVERT_EMPTY && selector_is(r->selector, signature);
}

char *ts_abi_revert_describe(const ts_abi_revert_t *r, char *buf, size_t size)
{
    const uint8_t *s = r->selector;
    switch (r->kind) {
    case TS_ABI_REVERT_EMPTY:
        snprintf(buf, size, "reverted without data");
        break;
    case TS_ABI_REVERT_STRING:
        snprintf(buf, size, "reverted: %s", r->message);
        break;
    case TS_ABI_REVERT_PANIC:
        snprintf(buf, size, "panicked with code 0x%llx", (unsigned long long)r->panic_code);
        break;
    case TS_ABI_REVERT_CUSTOM:
        snprintf(buf, size, "reverted with custom error 0x%02x%02x%02x%02x", s[0], s[1], s[2], s[3]);
        break;
    }
    return buf;
}
