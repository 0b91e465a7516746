/* ts_rlp: RLP encoder; lists are closed by moving their payload up to make room for the length prefix. */
#include "escrow/ts_rlp.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RLP_MAX_DEPTH 64
#define RLP_INITIAL_CAP 256
/* Prefixes: a single byte below 0x80 is itself; strings start at 0x80, lists at 0xc0; lengths of 56 and up are
 * written as a big-endian length-of-length after 0xb7 / 0xf7. */
#define RLP_SINGLE_MAX 0x7f
#define RLP_STRING 0x80
#define RLP_LIST 0xc0
#define RLP_SHORT_MAX 55
#define RLP_LONG_OFFSET 55
#define RLP_U256_BYTES 32

struct ts_rlp {
    uint8_t *buf;
    size_t len, cap;
    size_t open[RLP_MAX_DEPTH]; /* payload start of each open list */
    int depth;
    bool failed;
};

ts_rlp_t *ts_rlp_new(void)
{
    ts_rlp_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("rlp: out of memory");
        return NULL;
    }
    return self;
}

void ts_rlp_destroy(ts_rlp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

static int fail(ts_rlp_t *self, const char *why)
{
    self->failed = true;
    return ts_error_set("rlp: %s", why);
}

static int reserve(ts_rlp_t *self, size_t more)
{
    if (self->failed)
        return -1;
    if (more > SIZE_MAX / 2 - self->len)
        return fail(self, "encoding too large");
    if (self->len + more <= self->cap)
        return 0;
    size_t cap = self->cap ? self->cap : RLP_INITIAL_CAP;
    while (cap < self->len + more)
        cap *= 2;
    uint8_t *b = realloc(self->buf, cap);
    if (!b)
        return fail(self, "out of memory");
    self->buf = b;
    self->cap = cap;
    return 0;
}

/* Number of bytes in the big-endian form of n (0 for n == 0). */
static size_t be_len(uint64_t n)
{
    size_t k = 0;
    for (; n; n >>= 8)
        k++;
    return k;
}

static void put_be(uint8_t *out, uint64_t n, size_t k)
{
    for (size_t i = 0; i < k; i++)
        out[k - 1 - i] = (uint8_t)(n >> (8 * i));
}

/* The prefix for a payload of len bytes with base RLP_STRING or RLP_LIST; returns its length. */
static size_t header(uint8_t out[1 + sizeof(uint64_t)], uint8_t base, size_t len)
{
    if (len <= RLP_SHORT_MAX) {
        out[0] = (uint8_t)(base + len);
        return 1;
    }
    size_t k = be_len(len);
    out[0] = (uint8_t)(base + RLP_LONG_OFFSET + k);
    put_be(out + 1, len, k);
    return 1 + k;
}

int ts_rlp_bytes(ts_rlp_t *self, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint8_t h[1 + sizeof(uint64_t)];
    size_t hl = (len == 1 && p[0] <= RLP_SINGLE_MAX) ? 0 : header(h, RLP_STRING, len);
    if (reserve(self, hl + len) < 0)
        return -1;
    memcpy(self->buf + self->len, h, hl);
    if (len)
        memcpy(self->buf + self->len + hl, p, len);
    self->len += hl + len;
    return 0;
}

int ts_rlp_uint(ts_rlp_t *self, uint64_t v)
{
    uint8_t be[sizeof v];
    size_t k = be_len(v);
    put_be(be, v, k);
    return ts_rlp_bytes(self, be, k);
}

int ts_rlp_uint256(ts_rlp_t *self, const uint8_t be[32])
{
    size_t skip = 0;
    while (skip < RLP_U256_BYTES && be[skip] == 0)
        skip++;
    return ts_rlp_bytes(self, be + skip, RLP_U256_BYTES - skip);
}

int ts_rlp_list_begin(ts_rlp_t *self)
{
    if (self->failed)
        return -1;
    if (self->depth == RLP_MAX_DEPTH)
        return fail(self, "lists nested too deeply");
    self->open[self->depth++] = self->len;
    return 0;
}

int ts_rlp_list_end(ts_rlp_t *self)
{
    if (self->failed)
        return -1;
    if (self->depth == 0)
        return fail(self, "list end without a list begin");
    size_t start = self->open[--self->depth], payload = self->len - start;
    uint8_t h[1 + sizeof(uint64_t)];
    size_t hl = header(h, RLP_LIST, payload);
    if (reserve(self, hl) < 0)
        return -1;
    memmove(self->buf + start + hl, self->buf + start, payload);
    memcpy(self->buf + start, h, hl);
    self->len += hl;
    return 0;
}

const uint8_t *ts_rlp_data(const ts_rlp_t *self, size_t *len)
{
    *len = 0;
    if (self->failed) {
        ts_error_set("rlp: an earlier append failed");
        return NULL;
    }
    if (self->depth) {
        ts_error_set("rlp: %d list(s) still open", self->depth);
        return NULL;
    }
    *len = self->len;
    return self->buf ? self->buf : (const uint8_t *)"";
}

/* Compare the encoding with want (hex); prints what differs. */
static int expect(ts_rlp_t **rp, const char *what, const char *want)
{
    size_t n;
    const uint8_t *d = ts_rlp_data(*rp, &n);
    char got[2 * 64 + 2 * 8 + 1] = "";
    int rc = 0;
    if (!d || 2 * n != strlen(want)) {
        rc = -1;
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned v;
            if (sscanf(want + 2 * i, "%2x", &v) != 1 || v != d[i])
                rc = -1;
        }
    }
    if (rc) {
        for (size_t i = 0; d && i < n && 2 * i + 2 < sizeof got; i++)
            snprintf(got + 2 * i, 3, "%02x", d[i]);
        fprintf(stderr, "ts_rlp: %s encoded as %s%s, expected %s\n", what, got, d ? "" : ts_error(), want);
    }
    ts_rlp_destroy(rp);
    *rp = ts_rlp_new();
    return rc;
}

int ts_rlp_test(bool verbose)
{
    ts_rlp_t *r = ts_rlp_new();
    if (!r)
        return -1;
    int rc = 0;
    ts_rlp_bytes(r, "dog", 3);
    rc |= expect(&r, "\"dog\"", "83646f67");
    ts_rlp_list_begin(r);
    ts_rlp_bytes(r, "cat", 3);
    ts_rlp_bytes(r, "dog", 3);
    ts_rlp_list_end(r);
    rc |= expect(&r, "[\"cat\",\"dog\"]", "c88363617483646f67");
    ts_rlp_bytes(r, "", 0);
    rc |= expect(&r, "\"\"", "80");
    ts_rlp_list_begin(r);
    ts_rlp_list_end(r);
    rc |= expect(&r, "[]", "c0");
    ts_rlp_uint(r, 0);
    rc |= expect(&r, "0", "80");
    ts_rlp_bytes(r, "\0", 1);
    rc |= expect(&r, "\"\\x00\"", "00");
    ts_rlp_uint(r, 15);
    rc |= expect(&r, "15", "0f");
    ts_rlp_uint(r, 0x80);
    rc |= expect(&r, "128", "8180");
    ts_rlp_uint(r, 1024);
    rc |= expect(&r, "1024", "820400");
    ts_rlp_uint(r, UINT64_MAX);
    rc |= expect(&r, "2^64-1", "88ffffffffffffffff");
    uint8_t u[RLP_U256_BYTES] = {0};
    ts_rlp_uint256(r, u);
    rc |= expect(&r, "uint256 0", "80");
    u[30] = 0x04;
    ts_rlp_uint256(r, u);
    rc |= expect(&r, "uint256 1024", "820400");
    /* The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ]. */
    ts_rlp_list_begin(r);
    ts_rlp_list_begin(r);
    ts_rlp_list_end(r);
    ts_rlp_list_begin(r);
    ts_rlp_list_begin(r);
    ts_rlp_list_end(r);
    ts_rlp_list_end(r);
    ts_rlp_list_begin(r);
    ts_rlp_list_begin(r);
    ts_rlp_list_end(r);
    ts_rlp_list_begin(r);
    ts_rlp_list_begin(r);
    ts_rlp_list_end(r);
    ts_rlp_list_end(r);
    ts_rlp_list_end(r);
    ts_rlp_list_end(r);
    rc |= expect(&r, "three", "c7c0c1c0c3c0c1c0");
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit"; /* 56 bytes */
    ts_rlp_bytes(r, lorem, strlen(lorem));
    rc |= expect(&r, "56-byte string",
                 "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20"
                 "636f6e7365637465747572206164697069736963696e6720656c6974");
    /* A list whose payload is 56+ bytes takes a long header. */
    ts_rlp_list_begin(r);
    ts_rlp_bytes(r, lorem, strlen(lorem));
    ts_rlp_list_end(r);
    rc |= expect(&r, "[56-byte string]",
                 "f83ab8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20"
                 "636f6e7365637465747572206164697069736963696e6720656c6974");
    /* A 1024-byte string: two-byte length. Check only the header and size. */
    uint8_t big[1024] = {0};
    ts_rlp_bytes(r, big, sizeof big);
    size_t n;
    const uint8_t *d = ts_rlp_data(r, &n);
    if (!d || n != sizeof big + 3 || d[0] != 0xb9 || d[1] != 0x04 || d[2] != 0x00) {
        fprintf(stderr, "ts_rlp: 1024-byte string header wrong\n");
        rc = -1;
    }
    ts_rlp_destroy(&r);
    /* Misuse is reported and sticky. */
    r = ts_rlp_new();
    ts_rlp_list_begin(r);
    if (ts_rlp_data(r, &n) || !strstr(ts_error(), "open")) {
        fprintf(stderr, "ts_rlp: open list not reported\n");
        rc = -1;
    }
    ts_rlp_list_end(r);
    if (ts_rlp_list_end(r) != -1 || ts_rlp_data(r, &n) || ts_rlp_uint(r, 1) != -1) {
        fprintf(stderr, "ts_rlp: unbalanced list end not reported\n");
        rc = -1;
    }
    ts_rlp_destroy(&r);
    if (r)
        rc = -1;
    if (rc == 0 && verbose)
        printf("ts_rlp: ok\n");
    return rc ? -1 : 0;
}
