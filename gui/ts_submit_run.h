/* ts_submit_run: a submit is the installed CLI run as a subprocess (`tessera submit render SCENE --frames A-B
   --tiles CxR --format F [--priority N] [--budget T] --json`) with the app's master, token and CA file in its environment: the CLI finds the
   scene's files with the artist's Blender and uploads only what the master lacks, so the app never repeats that.
   Its stderr lines are handed over as they come; its JSON on stdout gives the job. */
#ifndef TS_SUBMIT_RUN_H
#define TS_SUBMIT_RUN_H

#include "gui/ts_config.h"
#include <gio/gio.h>

typedef struct {
    const char *scene;   /* the .blend */
    const char *frames;  /* "A-B" or "N" */
    const char *tiles;   /* "CxR" */
    const char *format;  /* "scene", "png", "exr" */
    const char *name;    /* may be NULL or "" */
    int priority;        /* --priority: higher runs first */
    const char *budget;  /* --budget in tokens ("12.5"); NULL or "": the master's default */
} TsSubmitRequest;

/* The CLI: `tessera` beside this program (an installed or built tree), else on the PATH; NULL when neither. */
char *ts_submit_find_cli(void);
/* The CLI's arguments for a request (NULL-terminated; g_strfreev it). */
char **ts_submit_argv(const char *cli, const TsSubmitRequest *req);
/* Checks a request as the CLI and the master will (frames, grid, the scene readable); FALSE with *error naming the
   field. */
gboolean ts_submit_check(const TsSubmitRequest *req, GError **error);
/* Runs the CLI; line gets each line it writes on stderr (main thread). Cancelling kills it. */
void ts_submit_run_async(const TsConfig *cfg, const TsSubmitRequest *req, void (*line)(const char *text, gpointer ud),
                         GCancellable *cancellable, GAsyncReadyCallback cb, gpointer ud);
/* The new job's id, or 0 with *error: the CLI's own last words and its exit code's meaning. */
gint64 ts_submit_run_finish(GAsyncResult *result, GError **error);

#endif
