/* ts_hexbytes: hex codecs for byte strings and JSON-RPC quantities. */
#include "escrow/ts_hexbytes.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define U256_BYTES 32
#define HEX_DIGITS "0123456789abcdef"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char *skip_prefix(const char *hex)
{
    return (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) ? hex + 2 : hex;
}

/* Decode 2n digits at p into out; -1 with ts_error on a non-hex digit. */
static int decode_digits(const char *p, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(p[2 * i]), lo = hex_value(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ts_error_set("non-hex character at position %zu", 2 * i + (hi < 0 ? 0 : 1));
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int ts_hex_decode(const char *hex, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!hex)
        return ts_error_set("no hex string");
    const char *p = skip_prefix(hex);
    size_t digits = strlen(p);
    if (digits % 2)
        return ts_error_set("odd number of hex digits (%zu)", digits);
    if (digits == 0)
        return 0;
    uint8_t *b = malloc(digits / 2);
    if (!b)
        return ts_error_set("out of memory decoding %zu hex digits", digits);
    if (decode_digits(p, b, digits / 2) < 0) {
        free(b);
        return -1;
    }
    *out = b;
    *len = digits / 2;
    return 0;
}

int ts_hex_decode_fixed(const char *hex, uint8_t *out, size_t n)
{
    if (!hex)
        return ts_error_set("no hex string");
    const char *p = skip_prefix(hex);
    size_t digits = strlen(p);
    if (digits != 2 * n)
        return ts_error_set("expected %zu hex digits, found %zu", 2 * n, digits);
    return decode_digits(p, out, n);
}

char *ts_hex_encode(const uint8_t *b, size_t n)
{
    char *s = malloc(2 * n + 3);
    if (!s) {
        ts_error_set("out of memory encoding %zu bytes as hex", n);
        return NULL;
    }
    s[0] = '0';
    s[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        s[2 + 2 * i] = HEX_DIGITS[b[i] >> 4];
        s[3 + 2 * i] = HEX_DIGITS[b[i] & 0xf];
    }
    s[2 + 2 * n] = '\0';
    return s;
}

/* The digits of a quantity without 0x and leading zeros; NULL with ts_error when malformed. */
static const char *quantity_digits(const char *q, size_t *n)
{
    if (!q || q[0] != '0' || (q[1] != 'x' && q[1] != 'X') || q[2] == '\0') {
        ts_error_set("malformed quantity \"%.40s\" (expected 0x and hex digits)", q ? q : "(null)");
        return NULL;
    }
    const char *p = q + 2;
    for (const char *c = p; *c; c++)
        if (hex_value(*c) < 0) {
            ts_error_set("malformed quantity \"%.40s\" (non-hex character)", q);
            return NULL;
        }
    while (*p == '0' && p[1])
        p++;
    *n = strlen(p);
    return p;
}

int ts_hex_quantity_u64(const char *q, uint64_t *out)
{
    size_t n;
    const char *p = quantity_digits(q, &n);
    if (!p)
        return -1;
    if (n > 2 * sizeof(uint64_t))
        return ts_error_set("quantity %.80s does not fit in 64 bits", q);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 4 | (uint64_t)hex_value(p[i]);
    *out = v;
    return 0;
}

int ts_hex_quantity_u256(const char *q, uint8_t out[32])
{
    size_t n;
    const char *p = quantity_digits(q, &n);
    if (!p)
        return -1;
    if (n > 2 * U256_BYTES)
        return ts_error_set("quantity %.80s does not fit in 256 bits", q);
    memset(out, 0, U256_BYTES);
    /* Fill from the least significant digit. */
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)hex_value(p[n - 1 - i]);
        out[U256_BYTES - 1 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
    }
    return 0;
}

char *ts_hex_quantity_format(uint64_t v, char out[TS_HEX_U64_MAX])
{
    snprintf(out, TS_HEX_U64_MAX, "0x%llx", (unsigned long long)v);
    return out;
}

#define FAIL(...) (fprintf(stderr, "ts_hexbytes: " __VA_ARGS__), fputc('\n', stderr), -1)

int ts_hexbytes_test(bool verbose)
{
    uint8_t *b;
    size_t n;
    if (ts_hex_decode("0x00fFa0", &b, &n) != 0 || n != 3 || b[0] != 0 || b[1] != 0xff || b[2] != 0xa0)
        return FAIL("decode 0x00fFa0");
    char *s = ts_hex_encode(b, n);
    free(b);
    bool same = s && strcmp(s, "0x00ffa0") == 0;
    free(s);
    if (!same)
        return FAIL("encode");
    if (ts_hex_decode("0x", &b, &n) != 0 || n != 0 || b || ts_hex_decode("", &b, &n) != 0 || n != 0)
        return FAIL("decode empty");
    if (ts_hex_decode("abc", &b, &n) != -1 || !strstr(ts_error(), "odd"))
        return FAIL("odd digits accepted");
    if (ts_hex_decode("0xag", &b, &n) != -1 || !strstr(ts_error(), "position 1") || b)
        return FAIL("bad digit accepted: %s", ts_error());
    uint8_t f[2];
    if (ts_hex_decode_fixed("BEEF", f, 2) != 0 || f[0] != 0xbe || f[1] != 0xef ||
        ts_hex_decode_fixed("0xbeef00", f, 2) != -1)
        return FAIL("decode_fixed");
    uint64_t v;
    if (ts_hex_quantity_u64("0x0", &v) != 0 || v != 0 || ts_hex_quantity_u64("0x1a", &v) != 0 || v != 26 ||
        ts_hex_quantity_u64("0x000ffffffffffffffff", &v) != 0 || v != UINT64_MAX)
        return FAIL("quantity parse");
    if (ts_hex_quantity_u64("0x10000000000000000", &v) != -1 || ts_hex_quantity_u64("0x", &v) != -1 ||
        ts_hex_quantity_u64("12", &v) != -1 || ts_hex_quantity_u64("0x1g", &v) != -1 ||
        ts_hex_quantity_u64(NULL, &v) != -1)
        return FAIL("bad quantity accepted");
    uint8_t w[32];
    if (ts_hex_quantity_u256("0x21e19e0c9bab2400000", w) != 0 || w[31] != 0 || w[22] != 0x02 || w[23] != 0x1e ||
        w[21] != 0)
        return FAIL("u256 quantity (10000 ETH in wei)");
    char q[TS_HEX_U64_MAX];
    if (strcmp(ts_hex_quantity_format(0, q), "0x0") != 0 ||
        strcmp(ts_hex_quantity_format(UINT64_MAX, q), "0xffffffffffffffff") != 0)
        return FAIL("quantity format");
    if (verbose)
        printf("ts_hexbytes: ok\n");
    return 0;
}
