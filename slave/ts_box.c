/* ts_box: the folder that shows the running task's inputs, and nothing else, to the sandboxed renderer.
   DESIGN: the sandbox binds one inputs folder read-only for the life of the persistent renderer, and the executor
   changes what is in it between tasks: a cached input is hard-linked in under its hash (no copy), an artist's
   laid-out project is moved in by rename (one system call for thousands of files) and moved home again before
   the next task is prepared. The paths stay the same for every task of a job, so the renderer keeps its scene
   loaded; another job's inputs are never in sight, so a hostile scene cannot read them into its output. */
#include "slave/ts_box.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ts_box_clear(const char *box, const char *projects)
{
    DIR *d = opendir(box);
    if (!d)
        return ts_error_set("the inputs folder %s: %s", box, strerror(errno));
    int rc = 0;
    struct dirent *e;
    char path[PATH_MAX], home[PATH_MAX];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", box, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (!S_ISDIR(st.st_mode)) {
            if (unlink(path) != 0 && errno != ENOENT)
                rc = ts_error_set("cannot remove %s: %s", path, strerror(errno));
            continue;
        }
        snprintf(home, sizeof home, "%s/%s", projects, e->d_name);
        if (rename(path, home) == 0)
            continue;
        /* home has been laid out again meanwhile: this copy is stale */
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
        if (system(cmd) != 0)
            rc = ts_error_set("cannot move %s home to %s: %s", path, home, strerror(errno));
    }
    closedir(d);
    return rc;
}

int ts_box_file(const char *box, const char *src, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", box, name);
    if (n < 0 || (size_t)n >= cap)
        return ts_error_set("%s/%s: the path is too long", box, name);
    if (link(src, out) == 0 || errno == EEXIST)
        return 0;
    return ts_error_set("cannot show %s to the renderer as %s: %s", src, out, strerror(errno));
}

int ts_box_project(const char *box, const char *projects, const char *name, char *out, size_t cap)
{
    char home[PATH_MAX];
    snprintf(home, sizeof home, "%s/%s", projects, name);
    int n = snprintf(out, cap, "%s/%s", box, name);
    if (n < 0 || (size_t)n >= cap)
        return ts_error_set("%s/%s: the path is too long", box, name);
    if (rename(home, out) == 0)
        return 0;
    return ts_error_set("cannot show the project %s to the renderer: %s", home, strerror(errno));
}

/* ---- self-test */

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int ts_box_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    char dir[] = "/tmp/ts_box_test.XXXXXX";
    if (!mkdtemp(dir)) {
        TS_TEST_CHECK(false, "mkdtemp: %s", strerror(errno));
        return failures;
    }
    char box[PATH_MAX], projects[PATH_MAX], blob[PATH_MAX], path[PATH_MAX], shown[PATH_MAX];
    snprintf(box, sizeof box, "%s/box", dir);
    snprintf(projects, sizeof projects, "%s/projects", dir);
    snprintf(blob, sizeof blob, "%s/blob", dir);
    mkdir(box, 0755);
    mkdir(projects, 0755);
    snprintf(path, sizeof path, "%s/p1", projects);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/p1/scene.blend", projects);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
    f = fopen(blob, "w");
    if (f)
        fclose(f);
    TS_TEST_CHECK(ts_box_file(box, blob, "abc", shown, sizeof shown) == 0 && exists(shown), "a file is shown: %s",
                  ts_error());
    TS_TEST_CHECK(ts_box_file(box, blob, "abc", shown, sizeof shown) == 0, "showing it twice is fine: %s", ts_error());
    TS_TEST_CHECK(ts_box_project(box, projects, "p1", shown, sizeof shown) == 0, "a project is shown: %s", ts_error());
    snprintf(path, sizeof path, "%s/p1/scene.blend", box);
    TS_TEST_CHECK(exists(path) && strncmp(path, shown, strlen(shown)) == 0, "its files are in the box");
    snprintf(path, sizeof path, "%s/p1", projects);
    TS_TEST_CHECK(!exists(path), "and not at home while shown");
    TS_TEST_CHECK(ts_box_clear(box, projects) == 0, "the box is cleared: %s", ts_error());
    snprintf(path, sizeof path, "%s/p1/scene.blend", projects);
    TS_TEST_CHECK(exists(path) && exists(blob), "the project is home again, the cached file kept");
    snprintf(path, sizeof path, "%s/abc", box);
    TS_TEST_CHECK(!exists(path), "the link is gone");
    /* a project laid out again at home while a stale copy sat in the box */
    TS_TEST_CHECK(ts_box_project(box, projects, "p1", shown, sizeof shown) == 0, "shown again: %s", ts_error());
    snprintf(path, sizeof path, "%s/p1", projects);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/p1/new", projects);
    f = fopen(path, "w");
    if (f)
        fclose(f);
    TS_TEST_CHECK(ts_box_clear(box, projects) == 0 && exists(path), "the fresh layout wins over a stale one: %s",
                  ts_error());
    snprintf(path, sizeof path, "%s/p1", box);
    TS_TEST_CHECK(!exists(path), "the stale one is removed");
    TS_TEST_CHECK(ts_box_project(box, projects, "missing", shown, sizeof shown) < 0 && strstr(ts_error(), "missing"),
                  "a missing project is named: %s", ts_error());
    ts_test_remove_dir(dir);
    return failures;
}
