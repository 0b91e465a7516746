/* ts_layout: an artist's project laid out for the renderer: a folder per manifest in which every file of the project
   sits at its name, hard-linked from the slave's cache (never copied), so the scene's relative paths resolve as on
   the artist's machine.
   DESIGN: the folder is <parent>/<manifest hash>, complete when <parent>/<manifest hash>.ready exists (a crash while
   laying it out leaves no marker, and the next task lays it out again). Names come from ts_manifest_parse, which
   confines them to the folder; cached files are made read-only, since a link shares them with the cache. */
#ifndef TS_LAYOUT_H
#define TS_LAYOUT_H

#include "lib/ts_blobs.h"
#include "lib/ts_manifest.h"
#include <stdbool.h>
#include <stddef.h>

#define TS_LAYOUT_KEPT 8 /* laid-out projects kept; older ones are removed */

/* Lays the manifest's files out under parent/<manifest_hash> (every file must be in the cache), keeping a complete
   layout as it is; fills dir. -1 with a message naming the file. */
int ts_layout_build(const ts_manifest_t *m, const char *manifest_hash, ts_blobs_t *cache, const char *parent,
                    char *dir, size_t cap);
/* Whether the project of that manifest is laid out whole under parent. */
bool ts_layout_ready(const char *parent, const char *manifest_hash);
/* Removes the laid-out projects under parent but the TS_LAYOUT_KEPT most recently used (keep_none: all but
   keep_hash, so evicted cache files really free their space). */
void ts_layout_prune(const char *parent, const char *keep_hash, bool keep_none);

int ts_layout_test(bool verbose);

#endif
