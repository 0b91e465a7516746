/* ts_fetch: fetching a job input by content hash over HTTP into the slave's verified cache. */
#ifndef TS_FETCH_H
#define TS_FETCH_H

#include "lib/ts_blobs.h"
#include <signal.h>

/* Makes sure the cache holds hash, downloading <base_url>/<hash> when it does not; the download is
   verified against the hash. A cached copy is re-hashed once per run (verified set by the caller). */
int ts_fetch_blob(ts_blobs_t *cache, const char *base_url, const char *hash, volatile sig_atomic_t *stop);

/* Downloads a small document (at most max bytes) into memory: *data (malloc'd, the caller frees), *len. */
int ts_fetch_mem(const char *url, size_t max, unsigned char **data, size_t *len, volatile sig_atomic_t *stop);

#endif
