/* ts_sandbox: the box every renderer and encoder runs in (bubblewrap): no network, no view of the slave's files. */
#ifndef TS_SANDBOX_H
#define TS_SANDBOX_H

#include <stdbool.h>

#define TS_SANDBOX_DEVICES_MAX 16
#define TS_SANDBOX_ENV_MAX 8

typedef struct {
    const char *bwrap;    /* the bubblewrap executable (NULL: "bwrap" on PATH) */
    const char *work;     /* the slave's work folder: nothing of it is shown but inputs and out */
    const char *inputs;   /* the running task's inputs (slave/ts_box.h), shown read-only at the same path */
    const char *out;      /* where outputs are written, shown writable at the same path */
    const char *exe;      /* the renderer's executable (absolute, resolved): its folder is shown read-only, or the
                             file alone when the work folder lies inside that folder (a wrapper script beside it) */
    const char *script;   /* the worker script (NULL: none): its folder read-only */
    const char *helper;   /* the slave's own program, whose encoder runs in the box (NULL: none): the file alone */
    const char *devices[TS_SANDBOX_DEVICES_MAX]; /* device nodes passed through (the owner's GPUs), NULL-ended */
    const char *env[TS_SANDBOX_ENV_MAX];         /* NAME=VALUE set inside, NULL-ended */
} ts_sandbox_options_t;

typedef struct ts_sandbox ts_sandbox_t;

/* Builds the box's arguments from o (copied). Returns NULL with ts_error() when a path cannot be resolved. */
ts_sandbox_t *ts_sandbox_new(const ts_sandbox_options_t *o);
void ts_sandbox_destroy(ts_sandbox_t **self_p);

/* Starts /bin/true in the box: 0, or -1 with ts_error() saying why (bubblewrap missing, user namespaces off) and
   that --no-sandbox runs renderers unconfined. */
int ts_sandbox_check(const ts_sandbox_t *self);

/* argv run inside the box: a malloc'd, NULL-ended vector (bwrap's arguments, "--", then argv's), for
   execvp in a forked child; with self NULL (--no-sandbox) a copy of argv. Free with ts_sandbox_argv_free. */
char **ts_sandbox_argv(const ts_sandbox_t *self, char *const argv[]);
void ts_sandbox_argv_free(char **argv);

/* What tessera nodes shows: "bwrap" or "none". */
const char *ts_sandbox_kind(const ts_sandbox_t *self);

int ts_sandbox_test(bool verbose);

#endif
