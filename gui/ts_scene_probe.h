/* ts_scene_probe: a scene's facts and files as the artist's Blender reads them, through the installed CLI's
   `tessera inspect SCENE --json` run as a subprocess (its Blender, its discovery script: the app repeats neither). */
#ifndef TS_SCENE_PROBE_H
#define TS_SCENE_PROBE_H

#include <gio/gio.h>

typedef struct {
    int frame_start, frame_end, width, height, samples;
    char *engine, *file_format, *ext;
    GPtrArray *files;   /* char * per file: "path" for one found, "MISSING: path" for one missing */
    int missing;
} TsSceneFacts;

void ts_scene_facts_free(TsSceneFacts *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TsSceneFacts, ts_scene_facts_free)

/* Parses what `tessera inspect --json` prints; NULL with *error naming what is wrong. */
TsSceneFacts *ts_scene_facts_parse(const char *text, gsize len, GError **error);
/* Runs `tessera inspect scene --json` (the CLI beside the app, else on the PATH); cancelling stops the wait. */
void ts_scene_probe_async(const char *scene, GCancellable *cancellable, GAsyncReadyCallback cb, gpointer ud);
TsSceneFacts *ts_scene_probe_finish(GAsyncResult *result, GError **error);

#endif
