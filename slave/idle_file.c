/* idle_file: the age of a file (now minus its mtime) that something else touches on user input (a desktop agent, a
   login script, a test); never chosen by auto. */
#include "slave/ts_idle.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char path[PATH_MAX];
} file_t;

static double age(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return ts_error_set("%s: %s", path, strerror(errno));
    double s = ts_clock_wall() - ((double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9);
    return s > 0 ? s : 0;
}

static void *file_open(const char *arg, const char *display)
{
    if (!arg) {
        ts_error_set("give the file as file:PATH");
        return NULL;
    }
    if (strlen(arg) >= PATH_MAX) {
        ts_error_set("%.64s...: path too long", arg);
        return NULL;
    }
    if (age(arg) < 0)
        return NULL;
    file_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("out of memory");
        return NULL;
    }
    snprintf(self->path, sizeof self->path, "%s", arg);
    return self;
}

static double file_seconds(void *state)
{
    return age(((file_t *)state)->path);
}

static void file_describe(const void *state, char *out, size_t cap)
{
    snprintf(out, cap, "file %s (its age)", ((const file_t *)state)->path);
}

static void file_close(void *state)
{
    free(state);
}

const ts_idle_source_t ts_idle_file = {
    .name = "file", .automatic = false,
    .open = file_open, .seconds = file_seconds, .describe = file_describe, .close = file_close,
};
