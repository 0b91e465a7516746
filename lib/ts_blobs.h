/* ts_blobs: a content-addressed directory of files named by their BLAKE2b-256 hash (master store, slave cache). */
#ifndef TS_BLOBS_H
#define TS_BLOBS_H

#include "lib/ts_hash.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct ts_blobs ts_blobs_t;

/* Opens (creating if needed) the directory; stale temporary files of a crashed run are removed. */
ts_blobs_t *ts_blobs_new(const char *dir);
void ts_blobs_destroy(ts_blobs_t **self_p);

/* The path a blob has (or would have). */
void ts_blobs_path(const ts_blobs_t *self, const char *hash, char *out, size_t cap);
bool ts_blobs_has(const ts_blobs_t *self, const char *hash);
/* Creates a temporary file inside the store (same file system, so it can be renamed in).
   Returns an fd open for writing and fills path. */
int ts_blobs_tmp(const ts_blobs_t *self, char *path, size_t cap);
/* Stores bytes; fills hash. */
int ts_blobs_put_buf(const ts_blobs_t *self, const void *data, size_t len, char hash[TS_HASH_HEX]);
/* Moves a finished temporary file in under its hash (computed here). With expected set, a file whose
   hash differs is removed and refused with a message naming both hashes. */
int ts_blobs_put_file(const ts_blobs_t *self, const char *tmp_path, const char *expected,
                      char hash[TS_HASH_HEX]);
/* Re-hashes a stored blob; a corrupt one is removed and -1 returned. */
int ts_blobs_verify(const ts_blobs_t *self, const char *hash);

/* Marks a blob as just used (its modification time), for least-recently-used eviction. */
void ts_blobs_touch(const ts_blobs_t *self, const char *hash);
/* Removes the least recently used blobs until the store holds at most max_bytes, never those named in keep
   (a NULL-terminated list, may be NULL). Returns the number of bytes removed, or -1. */
long long ts_blobs_evict(const ts_blobs_t *self, long long max_bytes, const char *const *keep);

int ts_blobs_test(bool verbose);

#endif
