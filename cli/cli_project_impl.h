/* cli_project_impl: a project's state, private to cli_project.c and cli_project_upload.c; not for other callers. */
#ifndef CLI_PROJECT_IMPL_H
#define CLI_PROJECT_IMPL_H

#include "cli/cli.h"
#include "lib/ts_hash.h"
#include "lib/ts_manifest.h"
#include "lib/ts_request.h"
#include <stdbool.h>
#include <stdint.h>

#define DEPS_VERSION_CAP 32

typedef struct {
    const char *path;                      /* absolute, normal */
    const cli_project_ref_t *ref;          /* how it was first referenced; NULL: the scene itself */
    bool missing;                          /* not found by Blender, or not a readable regular file */
    const char *why;                       /* what was wrong when it could not be read (NULL: not found) */
    char name[TS_REQUEST_INPUT_NAME_CAP];
    char hash[TS_HASH_HEX];
    int64_t size;
} file_t;

struct cli_project {
    json_t *list;                          /* the parsed list: the references' strings live in it */
    char blender[DEPS_VERSION_CAP];
    const char *main;
    cli_project_ref_t *refs;
    size_t nrefs;
    char root[TS_MANIFEST_ROOT_CAP];
    file_t *files;                         /* sorted by name, one per path */
    size_t count, nmissing;
};

/* A path as the artist is shown it (cli_project.c). */
const char *cli_project_shown(const cli_project_t *self, const char *path);

#endif
