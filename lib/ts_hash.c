/* ts_hash: BLAKE2b-256 content hashes (libsodium crypto_generichash) as hex. */
#include "lib/ts_hash.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_HASH_READ_CHUNK (1 << 16)

struct ts_hasher {
    crypto_generichash_state st;
};

ts_hasher_t *ts_hasher_new(void)
{
    ts_hasher_t *self = malloc(sizeof *self);
    if (self)
        crypto_generichash_init(&self->st, NULL, 0, TS_HASH_BYTES);
    return self;
}

void ts_hasher_update(ts_hasher_t *self, const void *data, size_t len)
{
    crypto_generichash_update(&self->st, data, len);
}

void ts_hasher_finish(ts_hasher_t **self_p, char hex[TS_HASH_HEX])
{
    unsigned char out[TS_HASH_BYTES];
    crypto_generichash_final(&(*self_p)->st, out, sizeof out);
    sodium_bin2hex(hex, TS_HASH_HEX, out, sizeof out);
    free(*self_p);
    *self_p = NULL;
}

void ts_hash_buf(const void *data, size_t len, char hex[TS_HASH_HEX])
{
    unsigned char out[TS_HASH_BYTES];
    crypto_generichash(out, sizeof out, data, len, NULL, 0);
    sodium_bin2hex(hex, TS_HASH_HEX, out, sizeof out);
}

int ts_hash_file(const char *path, char hex[TS_HASH_HEX])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ts_error_set("%s: %s", path, strerror(errno));
    ts_hasher_t *h = ts_hasher_new();
    unsigned char *buf = malloc(TS_HASH_READ_CHUNK);
    if (!h || !buf) {
        fclose(f);
        free(buf);
        free(h);
        return ts_error_set("%s: out of memory", path);
    }
    size_t n;
    while ((n = fread(buf, 1, TS_HASH_READ_CHUNK, f)) > 0)
        ts_hasher_update(h, buf, n);
    int bad = ferror(f);
    fclose(f);
    free(buf);
    ts_hasher_finish(&h, hex);
    return bad ? ts_error_set("%s: read error", path) : 0;
}

bool ts_hash_valid(const char *text)
{
    if (!text || strlen(text) != TS_HASH_HEX - 1)
        return false;
    for (const char *p = text; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int ts_hash_test(bool verbose)
{
    /* BLAKE2b-256 of "abc" (RFC 7693 parameters with a 32-byte digest). */
    char hex[TS_HASH_HEX];
    ts_hash_buf("abc", 3, hex);
    if (strcmp(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319") != 0) {
        fprintf(stderr, "ts_hash: BLAKE2b-256(abc) = %s\n", hex);
        return -1;
    }
    ts_hasher_t *h = ts_hasher_new();
    ts_hasher_update(h, "a", 1);
    ts_hasher_update(h, "bc", 2);
    char hex2[TS_HASH_HEX];
    ts_hasher_finish(&h, hex2);
    if (strcmp(hex, hex2) != 0 || h != NULL)
        return -1;
    if (!ts_hash_valid(hex) || ts_hash_valid("abc") || ts_hash_valid("BDDD813C634239723171EF3FEE98579B94964E3BB1CB3E427262C8C068D52319"))
        return -1;
    if (ts_hash_file("/nonexistent/x", hex) != -1 || !strstr(ts_error(), "/nonexistent/x"))
        return -1;
    if (verbose)
        printf("ts_hash: ok\n");
    return 0;
}
