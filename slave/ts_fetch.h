/* ts_fetch: HTTP downloads: a job input by content hash into the slave's verified cache, small documents to memory. */
#ifndef TS_FETCH_H
#define TS_FETCH_H

#include "lib/ts_blobs.h"
#include <signal.h>

/* PEM certificate(s) to trust for an https master instead of the system's (NULL: the system's); set once, before
   any fetch. */
void ts_fetch_set_ca_file(const char *path);

/* Downloads <base_url>/<hash> into the cache; the download is verified against the hash before it is moved in.
   (The caller decides whether a cached copy will do.) */
int ts_fetch_blob(ts_blobs_t *cache, const char *base_url, const char *hash, volatile sig_atomic_t *stop);

/* Downloads a small document (at most max bytes) into memory: *data (malloc'd, the caller frees), *len. */
int ts_fetch_mem(const char *url, size_t max, unsigned char **data, size_t *len, volatile sig_atomic_t *stop);

#endif
