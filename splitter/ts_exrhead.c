/* ts_exrhead: walks OpenEXR headers (magic, version flags, attributes) and bounds every attribute by the file. */
#include "splitter/ts_exrhead.h"
#include "tests/ts_test.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define EXR_MAGIC 20000630u        /* 0x762f3101, little-endian */
#define EXR_VERSION 2
#define EXR_FLAG_LONG_NAMES 0x400u /* names up to 255 bytes, else 31 */
#define EXR_FLAG_MULTIPART 0x1000u /* several headers, ended by an empty one */
#define EXR_FLAGS_KNOWN (0x200u | 0x400u | 0x800u | 0x1000u)
#define SHORT_NAME_MAX 31
#define LONG_NAME_MAX 255
#define PARTS_MAX 1024

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A null-terminated name at data[*at], at most max bytes; its length, or -1. */
static long name_at(const unsigned char *data, size_t len, size_t at, size_t max)
{
    for (size_t i = at; i < len && i - at <= max; i++)
        if (data[i] == '\0')
            return (long)(i - at);
    return -1;
}

bool ts_exrhead_magic(const unsigned char *data, size_t len)
{
    return len >= 4 && le32(data) == EXR_MAGIC;
}

int ts_exrhead_check(const unsigned char *data, size_t len, long long size, char *why, size_t cap)
{
    if (len < 8 || !ts_exrhead_magic(data, len)) {
        snprintf(why, cap, "not an OpenEXR file (no magic number)");
        return -1;
    }
    uint32_t version = le32(data + 4);
    if ((version & 0xffu) != EXR_VERSION || (version & ~0xffu & ~EXR_FLAGS_KNOWN)) {
        snprintf(why, cap, "OpenEXR version field 0x%08x is not one this reader knows", (unsigned)version);
        return -1;
    }
    size_t max = version & EXR_FLAG_LONG_NAMES ? LONG_NAME_MAX : SHORT_NAME_MAX;
    bool multipart = version & EXR_FLAG_MULTIPART;
    size_t at = 8;
    for (int part = 0; part < PARTS_MAX; part++) {
        int attributes = 0;
        for (;;) {
            if (at >= len) {
                snprintf(why, cap, "the OpenEXR header ends past the first %zu bytes", len);
                return -1;
            }
            if (data[at] == '\0') { /* end of this header */
                at++;
                break;
            }
            long n = name_at(data, len, at, max);
            if (n < 0) {
                snprintf(why, cap, "an OpenEXR attribute name at byte %zu is longer than %zu bytes", at, max);
                return -1;
            }
            const char *name = (const char *)data + at;
            at += (size_t)n + 1;
            long t = name_at(data, len, at, max);
            if (t <= 0) {
                snprintf(why, cap, "OpenEXR attribute '%s' has no type name", name);
                return -1;
            }
            at += (size_t)t + 1;
            if (at + 4 > len) {
                snprintf(why, cap, "OpenEXR attribute '%s' has no size", name);
                return -1;
            }
            uint32_t bytes = le32(data + at);
            at += 4;
            if ((long long)bytes > size - (long long)at) {
                snprintf(why, cap, "OpenEXR attribute '%s' claims %u bytes, the file has %lld after it", name,
                         (unsigned)bytes, size - (long long)at);
                return -1;
            }
            at += bytes;
            attributes++;
        }
        if (!multipart)
            return 0;
        if (attributes == 0) /* the empty header that ends a multi-part file's headers */
            return part > 0 ? 0 : (snprintf(why, cap, "a multi-part OpenEXR file without parts"), -1);
    }
    snprintf(why, cap, "an OpenEXR file with more than %d parts", PARTS_MAX);
    return -1;
}

/* Appends an attribute to buf at *at. */
static void put_attr(unsigned char *buf, size_t *at, const char *name, const char *type, uint32_t bytes,
                     const void *value, size_t value_len)
{
    memcpy(buf + *at, name, strlen(name) + 1);
    *at += strlen(name) + 1;
    memcpy(buf + *at, type, strlen(type) + 1);
    *at += strlen(type) + 1;
    for (int i = 0; i < 4; i++)
        buf[(*at)++] = (unsigned char)(bytes >> (8 * i));
    memcpy(buf + *at, value, value_len);
    *at += value_len;
}

int ts_exrhead_test(bool verbose)
{
    int failures = 0;
    unsigned char buf[256];
    char why[256];
    size_t at = 0;
    const unsigned char head[] = {0x76, 0x2f, 0x31, 0x01, 0x02, 0x00, 0x00, 0x00};
    memcpy(buf, head, sizeof head);
    at = sizeof head;
    put_attr(buf, &at, "owner", "string", 5, "tessa", 5);
    buf[at++] = '\0';
    size_t good = at;
    TS_TEST_CHECK(ts_exrhead_check(buf, good, (long long)good + 100, why, sizeof why) == 0, "sound header: %s", why);
    /* an attribute's size at, just over and far over the bytes the file has */
    at = sizeof head;
    put_attr(buf, &at, "owner", "string", 5, "tessa", 5);
    buf[at++] = '\0';
    TS_TEST_CHECK(ts_exrhead_check(buf, at, (long long)at, why, sizeof why) == 0, "value ending at the end");
    at = sizeof head;
    put_attr(buf, &at, "owner", "string", 6, "tessa", 5);
    TS_TEST_CHECK(ts_exrhead_check(buf, at, (long long)at, why, sizeof why) < 0 && strstr(why, "'owner' claims 6"),
                  "one byte over: %s", why);
    at = sizeof head;
    put_attr(buf, &at, "Exif:ImageHistory", "string", 0x7a75662du, "-fuzz", 5); /* the fuzzer's 2 GB string */
    TS_TEST_CHECK(ts_exrhead_check(buf, at, 235, why, sizeof why) < 0 && strstr(why, "2054514221 bytes"),
                  "2 GB claim: %s", why);
    /* names: 31 bytes without the long-names flag, 32 refused; 255 with it */
    char name[300];
    memset(name, 'n', sizeof name);
    name[31] = '\0';
    at = sizeof head;
    put_attr(buf, &at, name, "int", 4, "\0\0\0\0", 4);
    buf[at++] = '\0';
    TS_TEST_CHECK(ts_exrhead_check(buf, at, (long long)at, why, sizeof why) == 0, "31-byte name: %s", why);
    name[31] = 'n';
    name[32] = '\0';
    at = sizeof head;
    put_attr(buf, &at, name, "int", 4, "\0\0\0\0", 4);
    buf[at++] = '\0';
    TS_TEST_CHECK(ts_exrhead_check(buf, at, (long long)at, why, sizeof why) < 0, "32-byte name refused");
    buf[5] = 0x04; /* long names */
    TS_TEST_CHECK(ts_exrhead_check(buf, at, (long long)at, why, sizeof why) == 0, "32-byte long name: %s", why);
    /* no magic, a wrong version, a header that never ends */
    TS_TEST_CHECK(ts_exrhead_check((const unsigned char *)"PNG\r\n\032\n\0", 8, 8, why, sizeof why) < 0, "no magic");
    buf[4] = 3;
    TS_TEST_CHECK(ts_exrhead_check(buf, at, (long long)at, why, sizeof why) < 0, "version 3");
    buf[4] = 2;
    TS_TEST_CHECK(ts_exrhead_check(buf, at - 1, (long long)at - 1, why, sizeof why) < 0, "no end of header");
    if (verbose)
        printf("  exrhead: attribute bounds, name lengths, magic, version, end of header\n");
    return failures ? -1 : 0;
}
