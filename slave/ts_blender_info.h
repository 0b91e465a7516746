/* ts_blender_info: Blender's version and devices cached in the work dir, so a slave start runs no Blender. */
#ifndef TS_BLENDER_INFO_H
#define TS_BLENDER_INFO_H

#include <jansson.h>
#include <stdbool.h>

#define TS_BLENDER_INFO_FILE "blender-info.json" /* in the slave's work dir */

/* The cache key: the executable as execvp would run it (searched on PATH when it has no '/', symlinks resolved),
   its size and mtime, and the worker script's size and mtime; an upgraded Blender or worker changes it.
   NULL with ts_error() when either cannot be found or stat'ed (then nothing is cached). */
json_t *ts_blender_info_key(const char *exe, const char *script);
/* exe as execvp would find it (a path, or the first executable of that name on PATH), symlinks resolved, into out
   (PATH_MAX bytes). 0, or -1 with ts_error() naming it. */
int ts_blender_info_resolve(const char *exe, char *out);
/* The cached info reply ({"blender": VERSION, "devices": [NAME...]}) in path when it was stored under key; NULL
   when the file is missing, unreadable, malformed or stale (ts_error() says which; never worth more than a debug
   line: the caller probes again). */
json_t *ts_blender_info_load(const char *path, const json_t *key);
/* Stores the info reply's version and devices under key in path, atomically (temporary file, rename).
   -1 with ts_error() when the reply lacks them or the file cannot be written. */
int ts_blender_info_save(const char *path, const json_t *key, const json_t *reply);

int ts_blender_info_test(bool verbose);

#endif
