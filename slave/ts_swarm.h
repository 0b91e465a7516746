/* ts_swarm: the slave's side of the swarm: job inputs fetched through their torrents (peers from the master, local
   service discovery, the master's web seed when no peer helps), verified into the cache and seeded from there. */
#ifndef TS_SWARM_H
#define TS_SWARM_H

#include "lib/ts_blobs.h"
#include "torrent/torrent.h"
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *listen;      /* torrent listen interfaces */
    bool lsd;                /* local service discovery: the PCs of one café find each other */
    long web_seed_after_s;   /* seconds without progress from peers before the web seed is used */
    const char *dir;         /* .torrent files and unfinished downloads */
} ts_swarm_options_t;

typedef struct ts_swarm ts_swarm_t;

/* Starts the session and seeds again every cached input whose .torrent is kept in dir. */
ts_swarm_t *ts_swarm_new(const ts_swarm_options_t *opts, ts_blobs_t *cache);
void ts_swarm_destroy(ts_swarm_t **self_p);
int ts_swarm_port(ts_swarm_t *self);
/* Where the master seeds ("address:port"); set from the reactor when the master welcomes us. */
void ts_swarm_set_master(ts_swarm_t *self, const char *host_port);

/* Fetches the blob hash into the cache through its torrent (the .torrent from torrent_url, checked against
   info_hash unless it is ""; the content hash is checked either way; announce: the master is told of it), connecting the peers (and the master's seed when from_master); the finished file is verified by its content hash, moved into the
   cache and seeded. Gives up (-1, message with progress and peers) when nothing arrives for a long while even from
   the web seed, or when *stop is set. Used from one thread. */
int ts_swarm_fetch(ts_swarm_t *self, const char *hash, const char *info_hash, const char *torrent_url,
                   char *const *peers, size_t npeers, bool from_master, bool announce, volatile sig_atomic_t *stop);
/* The content hashes being seeded and announced (scenes, not each file of a project), newest first, at most max,
   into hashes, with ptrs[i] = hashes[i] (ready for a message's repeated string field); returns the count. Safe from
   any thread. */
size_t ts_swarm_seeding(ts_swarm_t *self, char (*hashes)[TS_HASH_HEX], char **ptrs, int max);
/* Stops seeding inputs that are no longer in the cache (evicted, or removed as corrupt). */
void ts_swarm_forget_missing(ts_swarm_t *self);

#endif
