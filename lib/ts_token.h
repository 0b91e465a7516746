/* ts_token: API tokens: making one, reading one from an Authorization header, and hashing its secret.
   DESIGN: a token is "tsk_" + a key id (16 hex digits) + a secret (64 hex digits, 256 random bits). The master
   keeps the key id and the BLAKE2b-256 of the secret, never the token: a caller's token is found by its key id
   and its secret's hash compared in constant time (sodium_memcmp), so neither a stolen database nor the
   time an answer takes gives a token away. */
#ifndef TS_TOKEN_H
#define TS_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TS_TOKEN_PREFIX "tsk_"
#define TS_TOKEN_ID_HEX 16
#define TS_TOKEN_SECRET_HEX 64
#define TS_TOKEN_LEN (4 + TS_TOKEN_ID_HEX + TS_TOKEN_SECRET_HEX)
#define TS_TOKEN_CAP (TS_TOKEN_LEN + 1)
#define TS_TOKEN_HASH_BYTES 32

/* A token as the master checks it: its key id (text) and the hash of its secret. */
typedef struct {
    char id[TS_TOKEN_ID_HEX + 1];
    unsigned char hash[TS_TOKEN_HASH_BYTES];
} ts_token_key_t;

/* A new random token (libsodium's randombytes) and its key. */
void ts_token_new(char token[TS_TOKEN_CAP], ts_token_key_t *key);
/* The key of a token given as len bytes (not NUL-terminated); -1 when it is not a token's form (no ts_error:
   the text may be a secret and is never repeated). */
int ts_token_parse(const char *token, size_t len, ts_token_key_t *key);
/* The token in an Authorization header's value ("Bearer <token>", the scheme in any case, spaces around): *token
   points into header; 0, or -1 when the header is not a Bearer credential. */
int ts_token_from_header(const char *header, const char **token, size_t *len);
/* Whether two secrets' hashes are equal, in time that does not depend on where they differ. */
bool ts_token_hash_equal(const unsigned char a[TS_TOKEN_HASH_BYTES], const unsigned char b[TS_TOKEN_HASH_BYTES]);

int ts_token_test(bool verbose);

#endif
