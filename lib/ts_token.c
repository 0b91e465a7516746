/* ts_token: API tokens (libsodium): random key id and secret, the Bearer header, the secret's hash. */
#include "lib/ts_token.h"
#include "tests/ts_test.h"
#include <sodium.h>
#include <string.h>
#include <strings.h>

static bool hex_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

static void hash_secret(const char *secret, unsigned char hash[TS_TOKEN_HASH_BYTES])
{
    crypto_generichash(hash, TS_TOKEN_HASH_BYTES, (const unsigned char *)secret, TS_TOKEN_SECRET_HEX, NULL, 0);
}

void ts_token_new(char token[TS_TOKEN_CAP], ts_token_key_t *key)
{
    unsigned char id[TS_TOKEN_ID_HEX / 2], secret[TS_TOKEN_SECRET_HEX / 2];
    randombytes_buf(id, sizeof id);
    randombytes_buf(secret, sizeof secret);
    memcpy(token, TS_TOKEN_PREFIX, 4);
    sodium_bin2hex(token + 4, TS_TOKEN_ID_HEX + 1, id, sizeof id);
    sodium_bin2hex(token + 4 + TS_TOKEN_ID_HEX, TS_TOKEN_SECRET_HEX + 1, secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
    ts_token_parse(token, TS_TOKEN_LEN, key);
}

int ts_token_parse(const char *token, size_t len, ts_token_key_t *key)
{
    if (len != TS_TOKEN_LEN || memcmp(token, TS_TOKEN_PREFIX, 4) != 0 || !hex_digits(token + 4, len - 4))
        return -1;
    memcpy(key->id, token + 4, TS_TOKEN_ID_HEX);
    key->id[TS_TOKEN_ID_HEX] = '\0';
    hash_secret(token + 4 + TS_TOKEN_ID_HEX, key->hash);
    return 0;
}

int ts_token_from_header(const char *header, const char **token, size_t *len)
{
    const char *p = header;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
        return -1;
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0)
        return -1;
    *token = p;
    *len = n;
    return 0;
}

bool ts_token_hash_equal(const unsigned char a[TS_TOKEN_HASH_BYTES], const unsigned char b[TS_TOKEN_HASH_BYTES])
{
    return sodium_memcmp(a, b, TS_TOKEN_HASH_BYTES) == 0;
}

int ts_token_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    char t1[TS_TOKEN_CAP], t2[TS_TOKEN_CAP];
    ts_token_key_t k1, k2, parsed;
    ts_token_new(t1, &k1);
    ts_token_new(t2, &k2);
    TS_TEST_CHECK(strlen(t1) == TS_TOKEN_LEN && strncmp(t1, TS_TOKEN_PREFIX, 4) == 0, "a token is tsk_ and 80 hex digits");
    TS_TEST_CHECK(strcmp(t1, t2) != 0 && strcmp(k1.id, k2.id) != 0, "two tokens differ");
    TS_TEST_CHECK(ts_token_parse(t1, strlen(t1), &parsed) == 0 && strcmp(parsed.id, k1.id) == 0 &&
                 ts_token_hash_equal(parsed.hash, k1.hash),
             "a token parses back to its key");
    TS_TEST_CHECK(!ts_token_hash_equal(k1.hash, k2.hash), "different secrets hash apart");
    char bad[TS_TOKEN_CAP];
    memcpy(bad, t1, sizeof bad);
    bad[TS_TOKEN_LEN - 1] = bad[TS_TOKEN_LEN - 1] == '0' ? '1' : '0';
    TS_TEST_CHECK(ts_token_parse(bad, strlen(bad), &parsed) == 0 && strcmp(parsed.id, k1.id) == 0 &&
                 !ts_token_hash_equal(parsed.hash, k1.hash),
             "one changed digit of the secret: same key id, another hash");
    TS_TEST_CHECK(ts_token_parse(t1, TS_TOKEN_LEN - 1, &parsed) < 0, "a short token is refused");
    bad[5] = 'G';
    TS_TEST_CHECK(ts_token_parse(bad, strlen(bad), &parsed) < 0, "an upper-case/non-hex digit is refused");
    TS_TEST_CHECK(ts_token_parse("Bearer x", 8, &parsed) < 0, "text that is no token is refused");
    const char *tok;
    size_t n;
    TS_TEST_CHECK(ts_token_from_header("Bearer abc", &tok, &n) == 0 && n == 3 && strncmp(tok, "abc", 3) == 0,
             "Bearer header");
    TS_TEST_CHECK(ts_token_from_header("  bearer \tabc  ", &tok, &n) == 0 && n == 3, "scheme in any case, spaces around");
    TS_TEST_CHECK(ts_token_from_header("Basic abc", &tok, &n) < 0, "Basic is not Bearer");
    TS_TEST_CHECK(ts_token_from_header("Bearer", &tok, &n) < 0 && ts_token_from_header("Bearer   ", &tok, &n) < 0,
             "Bearer without a token");
    TS_TEST_CHECK(ts_token_from_header("Bearerabc", &tok, &n) < 0, "no space after the scheme");
    return failures;
}
