/* ts_pnghead: PNG chunk lengths and what compressed chunks inflate to (zlib), checked before libpng sees the file. */
#include "splitter/ts_pnghead.h"
#include "tests/ts_test.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const unsigned char SIGNATURE[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

bool ts_pnghead_magic(const unsigned char *data, size_t len)
{
    return len >= sizeof SIGNATURE && memcmp(data, SIGNATURE, sizeof SIGNATURE) == 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Inflates data (a zlib stream), counting at most max bytes; the first 4 bytes out go to head when not NULL. The
   count, or max + 1 when it would be more (a corrupt stream counts what came out before the error). */
static size_t inflated_size(const unsigned char *data, size_t len, size_t max, unsigned char head[4])
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return 0;
    unsigned char out[16384];
    size_t total = 0;
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    int rc = Z_OK;
    while (rc == Z_OK && total <= max) {
        z.next_out = out;
        z.avail_out = sizeof out;
        rc = inflate(&z, Z_NO_FLUSH);
        size_t got = sizeof out - z.avail_out;
        if (head && total < 4)
            memcpy(head + total, out, got < 4 - total ? got : 4 - total);
        total += got;
        if (got == 0 && rc == Z_OK)
            break; /* no progress: the input ran out */
    }
    inflateEnd(&z);
    return total > max ? max + 1 : total;
}

/* The compressed part of an iCCP, zTXt or iTXt chunk: an offset into data, or -1 when it holds none. */
static long compressed_part(const char *type, const unsigned char *data, size_t len)
{
    const unsigned char *nul = memchr(data, 0, len);
    if (!nul)
        return -1;
    size_t at = (size_t)(nul - data) + 1; /* after the keyword (or profile name) */
    if (strcmp(type, "iCCP") == 0 || strcmp(type, "zTXt") == 0)
        return at + 1 <= len ? (long)(at + 1) : -1; /* the compression method byte, then the stream */
    if (at + 2 > len || data[at] == 0)
        return -1; /* iTXt: not compressed */
    at += 2;
    for (int i = 0; i < 2; i++) { /* the language tag and the translated keyword */
        const unsigned char *z = memchr(data + at, 0, len - at);
        if (!z)
            return -1;
        at = (size_t)(z - data) + 1;
    }
    return (long)at;
}

int ts_pnghead_check(FILE *f, char *why, size_t cap)
{
    unsigned char sig[8], head[8];
    if (fread(sig, 1, sizeof sig, f) != sizeof sig || !ts_pnghead_magic(sig, sizeof sig))
        return 0;
    unsigned char *data = NULL;
    int rc = 0;
    while (rc == 0 && fread(head, 1, sizeof head, f) == sizeof head) {
        uint32_t len = be32(head);
        char type[5];
        memcpy(type, head + 4, 4);
        type[4] = '\0';
        for (int i = 0; i < 4; i++)
            if (!((type[i] >= 'a' && type[i] <= 'z') || (type[i] >= 'A' && type[i] <= 'Z')))
                type[i] = '?';
        bool image = strcmp(type, "IDAT") == 0 || strcmp(type, "fdAT") == 0;
        bool packed = strcmp(type, "iCCP") == 0 || strcmp(type, "zTXt") == 0 || strcmp(type, "iTXt") == 0;
        if (len > 0x7fffffffu) {
            snprintf(why, cap, "chunk %s: length %u is beyond PNG's 2^31-1", type, (unsigned)len);
            rc = -1;
        } else if (!image && len > TS_PNGHEAD_CHUNK_MAX) {
            snprintf(why, cap, "chunk %s: %u bytes (at most %u outside the image data)", type, (unsigned)len,
                     TS_PNGHEAD_CHUNK_MAX);
            rc = -1;
        } else if (packed && len > 0) {
            unsigned char *grown = realloc(data, len);
            if (!grown || fread(grown, 1, len, f) != len) {
                data = grown ? grown : data;
                break; /* a file that ends early: the reader says so */
            }
            data = grown;
            long at = compressed_part(type, data, len);
            unsigned char icc[4] = {0};
            size_t out = at < 0 ? 0 : inflated_size(data + at, len - (size_t)at, TS_PNGHEAD_INFLATE_MAX,
                                                    strcmp(type, "iCCP") == 0 ? icc : NULL);
            uint32_t declared = strcmp(type, "iCCP") == 0 && out >= 4 ? be32(icc) : 0;
            if (out > TS_PNGHEAD_INFLATE_MAX || declared > TS_PNGHEAD_INFLATE_MAX) {
                snprintf(why, cap, "chunk %s: inflates to more than %u bytes%s", type, TS_PNGHEAD_INFLATE_MAX,
                         declared > TS_PNGHEAD_INFLATE_MAX ? " (its ICC profile claims more)" : "");
                rc = -1;
            } else if (fseek(f, 4, SEEK_CUR) != 0) {
                break;
            }
            continue;
        }
        if (rc == 0 && (strcmp(type, "IEND") == 0 || fseek(f, (long)len + 4, SEEK_CUR) != 0))
            break;
    }
    free(data);
    return rc;
}

/* ---- self-test: PNGs built in memory ---- */

static size_t put_chunk(unsigned char *buf, size_t at, const char *type, uint32_t len, const unsigned char *data,
                        size_t have)
{
    buf[at] = (unsigned char)(len >> 24);
    buf[at + 1] = (unsigned char)(len >> 16);
    buf[at + 2] = (unsigned char)(len >> 8);
    buf[at + 3] = (unsigned char)len;
    memcpy(buf + at + 4, type, 4);
    if (have)
        memcpy(buf + at + 8, data, have);
    memset(buf + at + 8 + have, 0, 4); /* CRC: not checked here */
    return at + 12 + have;
}

static int check_buf(const unsigned char *buf, size_t len, char *why, size_t cap)
{
    FILE *f = fmemopen((void *)buf, len, "rb");
    int rc = f ? ts_pnghead_check(f, why, cap) : -2;
    if (f)
        fclose(f);
    return rc;
}

int ts_pnghead_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    static unsigned char buf[1 << 16];
    char why[256];
    unsigned char ihdr[13] = {0, 0, 0, 8, 0, 0, 0, 8, 8, 2, 0, 0, 0};
    size_t at = 8;
    memcpy(buf, SIGNATURE, 8);
    at = put_chunk(buf, at, "IHDR", 13, ihdr, 13);
    size_t base = at;
    /* a sound file: IHDR, a small tEXt, IDAT, IEND */
    at = put_chunk(buf, at, "tEXt", 5, (const unsigned char *)"a\0bcd", 5);
    at = put_chunk(buf, at, "IDAT", 3, (const unsigned char *)"xyz", 3);
    at = put_chunk(buf, at, "IEND", 0, NULL, 0);
    TS_TEST_CHECK(check_buf(buf, at, why, sizeof why) == 0, "a sound PNG passes: %s", why);
    TS_TEST_CHECK(check_buf((const unsigned char *)"GIF89a.....", 11, why, sizeof why) == 0, "not a PNG: not ours");
    /* the fuzzer's file: a tEXt chunk claiming 1,886,745,389 bytes */
    at = put_chunk(buf, base, "tEXt", 1886745389u, NULL, 0);
    TS_TEST_CHECK(check_buf(buf, at, why, sizeof why) < 0 && strstr(why, "tEXt"), "a 1.9 GB tEXt is refused: %s", why);
    at = put_chunk(buf, base, "IDAT", 1886745389u, NULL, 0);
    TS_TEST_CHECK(check_buf(buf, at, why, sizeof why) == 0, "image data may be long (read as it streams)");
    at = put_chunk(buf, base, "tEXt", 0x80000000u, NULL, 0);
    TS_TEST_CHECK(check_buf(buf, at, why, sizeof why) < 0 && strstr(why, "2^31"), "beyond 2^31-1: %s", why);
    /* a zTXt bomb: 20 MiB of zeros compress to about 20 KiB */
    size_t plain = 20u << 20;
    unsigned char *zeros = calloc(1, plain), packed[40000];
    uLongf plen = sizeof packed - 8;
    int zrc = zeros ? compress2(packed + 3, &plen, zeros, plain, 9) : -1;
    free(zeros);
    TS_TEST_CHECK(zrc == Z_OK, "zlib compress: %d", zrc);
    if (zrc == Z_OK) {
        memcpy(packed, "k\0\0", 3); /* keyword "k", NUL, method 0 */
        at = put_chunk(buf, base, "zTXt", (uint32_t)(plen + 3), packed, plen + 3);
        at = put_chunk(buf, at, "IEND", 0, NULL, 0);
        TS_TEST_CHECK(check_buf(buf, at, why, sizeof why) < 0 && strstr(why, "zTXt"), "a zTXt bomb: %s", why);
    }
    /* an ICC profile whose header claims 1.9 GB, in a few bytes */
    unsigned char prof[64] = {0x70, 0x75, 0x00, 0x00}, icc[128];
    uLongf ilen = sizeof icc - 6;
    compress2(icc + 6, &ilen, prof, sizeof prof, 9);
    memcpy(icc, "name\0\0", 6);
    at = put_chunk(buf, base, "iCCP", (uint32_t)(ilen + 6), icc, ilen + 6);
    at = put_chunk(buf, at, "IEND", 0, NULL, 0);
    TS_TEST_CHECK(check_buf(buf, at, why, sizeof why) < 0 && strstr(why, "ICC"), "an ICC profile claiming 1.9 GB: %s",
                  why);
    /* a short file ends the walk without a verdict (the reader reports it) */
    TS_TEST_CHECK(check_buf(buf, base + 4, why, sizeof why) == 0, "a truncated chunk header is left to the reader");
    return failures;
}
