/* ts_keccak: Keccak-256 written from the Keccak reference (Keccak-f[1600], rate 1088 bits, pad10*1 with 0x01). */
#include "escrow/ts_keccak.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KECCAK_LANES 25
#define KECCAK_PLANE 5 /* lanes per row: the state is 5 x 5 lanes */
#define KECCAK_ROUNDS 24
#define KECCAK_LANE_BYTES 8
/* Capacity 2 * 256 bits, so the rate is (1600 - 512) / 8 = 136 bytes. */
#define KECCAK256_RATE ((KECCAK_LANES * KECCAK_LANE_BYTES) - 2 * TS_KECCAK256_BYTES)
/* Keccak's multi-rate padding: first pad bit (0x01, where SHA-3 uses 0x06) and the last bit of the block. */
#define KECCAK_PAD_FIRST 0x01
#define KECCAK_PAD_LAST 0x80

static const uint64_t s_round_constants[KECCAK_ROUNDS] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rho rotation offsets and pi destinations, following lane (x, y) = (1, 0) around the pi cycle. */
static const unsigned s_rho[KECCAK_LANES - 1] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                                 27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned s_pi[KECCAK_LANES - 1] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                                15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static uint64_t rotl64(uint64_t v, unsigned n)
{
    return (v << n) | (v >> (64 - n));
}

static void keccak_f1600(uint64_t a[KECCAK_LANES])
{
    for (int round = 0; round < KECCAK_ROUNDS; round++) {
        /* theta */
        uint64_t c[KECCAK_PLANE], d;
        for (int x = 0; x < KECCAK_PLANE; x++) {
            c[x] = 0;
            for (int y = 0; y < KECCAK_LANES; y += KECCAK_PLANE)
                c[x] ^= a[y + x];
        }
        for (int x = 0; x < KECCAK_PLANE; x++) {
            d = c[(x + KECCAK_PLANE - 1) % KECCAK_PLANE] ^ rotl64(c[(x + 1) % KECCAK_PLANE], 1);
            for (int y = 0; y < KECCAK_LANES; y += KECCAK_PLANE)
                a[y + x] ^= d;
        }
        /* rho and pi */
        uint64_t cur = a[1];
        for (int i = 0; i < KECCAK_LANES - 1; i++) {
            uint64_t next = a[s_pi[i]];
            a[s_pi[i]] = rotl64(cur, s_rho[i]);
            cur = next;
        }
        /* chi */
        for (int y = 0; y < KECCAK_LANES; y += KECCAK_PLANE) {
            for (int x = 0; x < KECCAK_PLANE; x++)
                c[x] = a[y + x];
            for (int x = 0; x < KECCAK_PLANE; x++)
                a[y + x] = c[x] ^ (~c[(x + 1) % KECCAK_PLANE] & c[(x + 2) % KECCAK_PLANE]);
        }
        /* iota */
        a[0] ^= s_round_constants[round];
    }
}

/* XOR a block of bytes into the state, lanes little-endian as the spec defines them. */
static void absorb(uint64_t a[KECCAK_LANES], const uint8_t *block, size_t len)
{
    for (size_t i = 0; i < len; i++)
        a[i / KECCAK_LANE_BYTES] ^= (uint64_t)block[i] << (8 * (i % KECCAK_LANE_BYTES));
}

void ts_keccak256(const void *data, size_t len, uint8_t out[TS_KECCAK256_BYTES])
{
    uint64_t a[KECCAK_LANES] = {0};
    const uint8_t *p = data;
    while (len >= KECCAK256_RATE) {
        absorb(a, p, KECCAK256_RATE);
        keccak_f1600(a);
        p += KECCAK256_RATE;
        len -= KECCAK256_RATE;
    }
    uint8_t last[KECCAK256_RATE] = {0};
    if (len)
        memcpy(last, p, len);
    last[len] ^= KECCAK_PAD_FIRST;
    last[KECCAK256_RATE - 1] ^= KECCAK_PAD_LAST;
    absorb(a, last, KECCAK256_RATE);
    keccak_f1600(a);
    for (size_t i = 0; i < TS_KECCAK256_BYTES; i++)
        out[i] = (uint8_t)(a[i / KECCAK_LANE_BYTES] >> (8 * (i % KECCAK_LANE_BYTES)));
}

/* Test input of n bytes: byte i is (i * 31 + 7) mod 256. */
static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)(i * 31 + 7);
}

static int check(const char *what, const void *data, size_t len, const char *want_hex, bool verbose)
{
    uint8_t d[TS_KECCAK256_BYTES];
    char hex[2 * TS_KECCAK256_BYTES + 1];
    ts_keccak256(data, len, d);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    if (strcmp(hex, want_hex) != 0) {
        fprintf(stderr, "ts_keccak: keccak256(%s) = %s, expected %s\n", what, hex, want_hex);
        return -1;
    }
    if (verbose)
        printf("ts_keccak: %s ok\n", what);
    return 0;
}

int ts_keccak_test(bool verbose)
{
    /* Expected digests from ethers v6 keccak256 and js-sha3, which agree. */
    static const struct {
        size_t len;
        const char *hex;
    } patterns[] = {
        {1, "ee2a4bc7db81da2b7164e56b3649b1e2a09c58c455b15dabddd9146c7582cebc"},
        {135, "adee8145bb33dc0320ad44945eeeb391e4668f0f7c69ccbbf6550a7cba245e52"},
        {136, "eaccfc5aa7bf6bf1941809ef7cc9ee6a2fa306a7dd1de3f2e8504849b0a5e3c4"},
        {137, "ea0e0b9657469f0b4f53604f1068ab4bd4a5e7b0a458d24a78f1fe2ec7bd4db0"},
        {1000, "c77d9bffcae9f0984e6dff7eea63cc14cad5f367f791e27b08a1953f192f30a5"},
    };
    int rc = 0;
    rc |= check("\"\"", "", 0, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", verbose);
    rc |= check("\"abc\"", "abc", 3, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45", verbose);
    for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
        uint8_t *buf = malloc(patterns[k].len);
        if (!buf)
            return -1;
        for (size_t i = 0; i < patterns[k].len; i++)
            buf[i] = pattern_byte(i);
        char what[64];
        snprintf(what, sizeof what, "%zu pattern bytes", patterns[k].len);
        rc |= check(what, buf, patterns[k].len, patterns[k].hex, verbose);
        free(buf);
    }
    const char *sig = "transfer(address,uint256)";
    uint8_t d[TS_KECCAK256_BYTES];
    ts_keccak256(sig, strlen(sig), d);
    if (d[0] != 0xa9 || d[1] != 0x05 || d[2] != 0x9c || d[3] != 0xbb) {
        fprintf(stderr, "ts_keccak: selector of %s is %02x%02x%02x%02x, expected a9059cbb\n", sig, d[0], d[1], d[2],
                d[3]);
        rc = -1;
    }
    if (rc == 0 && verbose)
        printf("ts_keccak: ok\n");
    return rc ? -1 : 0;
}
