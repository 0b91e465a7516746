/* ts_seeder: the master's side of the swarm: a torrent per render input (a .blend), seeded from the blob store with
   a BEP 19 web seed that points at the blob's own HTTP URL. Safe from any thread (one lock). */
#ifndef TS_SEEDER_H
#define TS_SEEDER_H

#include "lib/ts_blobs.h"
#include "torrent/torrent.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *listen;        /* torrent listen interfaces ("0.0.0.0:0": any free port, announced to slaves) */
    bool lsd;                  /* local service discovery */
    int upload_slots;          /* slaves uploaded to at once; 1 makes them share among themselves */
    const char *web_seed_base; /* "<public url>/api/v1/blobs": a blob's web seed is <base>/<hash> */
    const char *dir;           /* where the .torrent files are kept between runs */
} ts_seeder_options_t;

typedef struct ts_seeder ts_seeder_t;

ts_seeder_t *ts_seeder_new(const ts_seeder_options_t *opts, ts_blobs_t *blobs);
void ts_seeder_destroy(ts_seeder_t **self_p);
/* The TCP port the seeding session listens on. */
int ts_seeder_port(ts_seeder_t *self);
/* Makes (or reloads from dir) the torrent of a stored blob and seeds it; a blob already published is not hashed
   again. Fills info_hash (may be NULL). -1 with ts_error() when the blob is missing or cannot be read. */
int ts_seeder_publish(ts_seeder_t *self, const char *hash, char info_hash[TS_TORRENT_HASH_HEX + 1]);
/* The .torrent of a published blob: malloc'd bytes the caller frees. 0, or 1 when it is not published. */
int ts_seeder_torrent(ts_seeder_t *self, const char *hash, unsigned char **bytes, size_t *len);
/* Payload bytes uploaded by the seeding session since it started (torrent peers only; web seed bytes are HTTP). */
int64_t ts_seeder_uploaded(ts_seeder_t *self);

#endif
