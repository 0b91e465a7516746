/* ts_manifest: a project's manifest, the blob that lists an artist's project for slaves: the root folder its files were
   taken from (on the artist's machine), the scene among them, and every file by name, content hash and size.
   DESIGN: the master writes it when a render of a project is submitted (master/job_render.c); a slave reads it as
   outside input and lays the job's folder out from it (slave/ts_layout.c). Names are relative paths that stay inside
   the job's folder (ts_request_input_name_check); files outside the project's root are named "_outside/<path>". */
#ifndef TS_MANIFEST_H
#define TS_MANIFEST_H

#include "lib/ts_hash.h"
#include "lib/ts_request.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_MANIFEST_VERSION 1
#define TS_MANIFEST_ROOT_CAP 1024         /* a root's buffer, terminator included */
#define TS_MANIFEST_BYTES_MAX (8 << 20)   /* largest manifest read */
#define TS_MANIFEST_OUTSIDE "_outside"    /* where files from outside the root are laid out */
/* Files this big travel through the swarm, a torrent each; smaller ones over HTTP: setting a torrent up costs ~0.3 s,
   more than sending a small file to every slave (a 2,000-file image sequence took 11 minutes by torrent). */
#define TS_MANIFEST_TORRENT_MIN (256 << 10)

typedef struct {
    char name[TS_REQUEST_INPUT_NAME_CAP];
    char hash[TS_HASH_HEX];
    int64_t size;
} ts_manifest_file_t;

typedef struct {
    char root[TS_MANIFEST_ROOT_CAP];      /* absolute and normal, on the artist's machine */
    char scene[TS_REQUEST_INPUT_NAME_CAP]; /* the .blend's name among the files */
    bool allow_missing;                   /* the artist let some files go missing: the renderer does not refuse */
    ts_manifest_file_t *files;            /* malloc'd: ts_manifest_free */
    int count;
} ts_manifest_t;

/* A project root: absolute and normal (no empty, "." or ".." part, no trailing '/', no control character), so the
   renderer can tell by prefix which absolute paths lie under it. -1 naming what is wrong. */
int ts_manifest_root_check(const char *root);
/* Reads a manifest: version, root, scene (one of the files), 1..TS_REQUEST_INPUTS_MAX files with valid, distinct
   names and hashes and sizes >= 0. -1 with a message naming the entry and field; *m is then empty. */
int ts_manifest_parse(const char *text, size_t len, ts_manifest_t *m);
void ts_manifest_free(ts_manifest_t *m);

int ts_manifest_test(bool verbose);

#endif
