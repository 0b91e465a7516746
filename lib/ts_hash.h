/* ts_hash: content hashes (BLAKE2b-256 from libsodium) as lower-case hex, for the content-addressed store. */
#ifndef TS_HASH_H
#define TS_HASH_H

#include <stdbool.h>
#include <stddef.h>

#define TS_HASH_BYTES 32
#define TS_HASH_HEX (TS_HASH_BYTES * 2 + 1)

typedef struct ts_hasher ts_hasher_t;

ts_hasher_t *ts_hasher_new(void);
void ts_hasher_update(ts_hasher_t *self, const void *data, size_t len);
/* Writes the hex digest and destroys the hasher. */
void ts_hasher_finish(ts_hasher_t **self_p, char hex[TS_HASH_HEX]);

void ts_hash_buf(const void *data, size_t len, char hex[TS_HASH_HEX]);
/* 0, or -1 with ts_error() naming the file. */
int ts_hash_file(const char *path, char hex[TS_HASH_HEX]);
/* True when text is exactly 64 lower-case hex digits. */
bool ts_hash_valid(const char *text);

int ts_hash_test(bool verbose);

#endif
