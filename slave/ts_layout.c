/* ts_layout: a project's folder of hard links, its ready marker, and pruning old ones. */
#include "slave/ts_layout.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READY_SUFFIX ".ready"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The folders of path's name below dir, each created unless it is there. */
static int make_parents(const char *dir, const char *name)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return ts_error_set("%s: the path is too long", name);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return ts_error_set("%s: cannot make folder %s: %s", name, path, strerror(errno));
        *p = '/';
    }
    return 0;
}

static int link_file(const ts_manifest_file_t *f, ts_blobs_t *cache, const char *dir)
{
    char from[PATH_MAX], to[PATH_MAX];
    ts_blobs_path(cache, f->hash, from, sizeof from);
    snprintf(to, sizeof to, "%s/%s", dir, f->name);
    if (make_parents(dir, f->name) < 0)
        return -1;
    if (chmod(from, 0444) < 0) /* the link shares the file with the cache: nobody writes to it */
        return ts_error_set("%s: the cached file: %s", f->name, strerror(errno));
    if (link(from, to) < 0)
        return ts_error_set("%s: cannot link it into the job's folder: %s", f->name,
                            errno == ENOTDIR || errno == EEXIST ? "a file and a folder of the same name"
                            : errno == EXDEV ? "the cache is on another file system (links need one)"
                                             : strerror(errno));
    return 0;
}

bool ts_layout_ready(const char *parent, const char *manifest_hash)
{
    char ready[PATH_MAX];
    snprintf(ready, sizeof ready, "%s/%s%s", parent, manifest_hash, READY_SUFFIX);
    return access(ready, F_OK) == 0;
}

int ts_layout_build(const ts_manifest_t *m, const char *manifest_hash, ts_blobs_t *cache, const char *parent,
                    char *dir, size_t cap)
{
    char ready[PATH_MAX];
    int n = snprintf(dir, cap, "%s/%s", parent, manifest_hash);
    if (n < 0 || (size_t)n >= cap || (size_t)n + strlen(READY_SUFFIX) >= sizeof ready)
        return ts_error_set("%s: the path is too long", parent);
    snprintf(ready, sizeof ready, "%s%s", dir, READY_SUFFIX);
    if (mkdir(parent, 0755) < 0 && errno != EEXIST)
        return ts_error_set("%s: %s", parent, strerror(errno));
    if (access(ready, F_OK) == 0) {
        utimensat(AT_FDCWD, ready, NULL, 0); /* most recently used */
        return 0;
    }
    remove_tree(dir);
    if (mkdir(dir, 0755) < 0)
        return ts_error_set("%s: %s", dir, strerror(errno));
    for (int i = 0; i < m->count; i++)
        if (link_file(&m->files[i], cache, dir) < 0)
            return -1;
    FILE *f = fopen(ready, "w");
    if (!f)
        return ts_error_set("%s: %s", ready, strerror(errno));
    fclose(f);
    return 0;
}

typedef struct {
    char hash[TS_HASH_HEX];
    double used;
} kept_t;

static int newest_first(const void *a, const void *b)
{
    double x = ((const kept_t *)a)->used, y = ((const kept_t *)b)->used;
    return x < y ? 1 : x > y ? -1 : 0;
}

void ts_layout_prune(const char *parent, const char *keep_hash, bool keep_none)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    kept_t *all = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != TS_HASH_HEX - 1 || !ts_hash_valid(e->d_name))
            continue;
        char ready[PATH_MAX];
        struct stat st;
        snprintf(ready, sizeof ready, "%s/%s%s", parent, e->d_name, READY_SUFFIX);
        if (n == cap) {
            kept_t *grown = realloc(all, (cap = cap ? cap * 2 : 16) * sizeof *all);
            if (!grown)
                break;
            all = grown;
        }
        snprintf(all[n].hash, sizeof all[n].hash, "%s", e->d_name);
        all[n++].used = stat(ready, &st) == 0 ? (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9 : 0;
    }
    closedir(d);
    qsort(all, n, sizeof *all, newest_first);
    for (size_t i = 0; i < n; i++) {
        bool keep = keep_hash && strcmp(all[i].hash, keep_hash) == 0;
        if (keep || (!keep_none && i < TS_LAYOUT_KEPT))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s%s", parent, all[i].hash, READY_SUFFIX);
        unlink(path); /* first the marker: a half-removed folder is never taken for complete */
        snprintf(path, sizeof path, "%s/%s", parent, all[i].hash);
        remove_tree(path);
    }
    free(all);
}

/* ---- self-test ---- */

int ts_layout_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    char root[] = "/tmp/ts_layout_XXXXXX", cdir[PATH_MAX], parent[PATH_MAX], dir[PATH_MAX], path[PATH_MAX];
    if (!mkdtemp(root))
        return -1;
    snprintf(cdir, sizeof cdir, "%s/cache", root);
    snprintf(parent, sizeof parent, "%s/projects", root);
    ts_blobs_t *cache = ts_blobs_new(cdir);
    char h1[TS_HASH_HEX], h2[TS_HASH_HEX];
    ts_blobs_put_buf(cache, "scene", 5, h1);
    ts_blobs_put_buf(cache, "texture", 7, h2);
    ts_manifest_file_t files[] = {{"shot.blend", "", 5}, {"tex/a/marble.png", "", 7}, {"_outside/srv/wood.png", "", 7}};
    snprintf(files[0].hash, TS_HASH_HEX, "%s", h1);
    snprintf(files[1].hash, TS_HASH_HEX, "%s", h2);
    snprintf(files[2].hash, TS_HASH_HEX, "%s", h2);
    ts_manifest_t m = {.root = "/home/ann/proj", .scene = "shot.blend", .files = files, .count = 3};
    TS_TEST_CHECK(ts_layout_build(&m, h1, cache, parent, dir, sizeof dir) == 0, "layout: %s", ts_error());
    struct stat a, b;
    char blob[PATH_MAX];
    ts_blobs_path(cache, h2, blob, sizeof blob);
    snprintf(path, sizeof path, "%s/tex/a/marble.png", dir);
    TS_TEST_CHECK(stat(path, &a) == 0 && stat(blob, &b) == 0 && a.st_ino == b.st_ino && (a.st_mode & 0222) == 0,
                  "a laid-out file is the cache's file, read-only (a hard link, not a copy)");
    TS_TEST_CHECK(ts_layout_build(&m, h1, cache, parent, dir, sizeof dir) == 0, "a complete layout is kept: %s",
                  ts_error());
    /* a file and a folder of one name cannot both be laid out */
    ts_manifest_file_t clash[] = {{"shot.blend", "", 5}, {"shot.blend/x", "", 7}};
    snprintf(clash[0].hash, TS_HASH_HEX, "%s", h1);
    snprintf(clash[1].hash, TS_HASH_HEX, "%s", h2);
    ts_manifest_t mc = {.root = "/p", .scene = "shot.blend", .files = clash, .count = 2};
    TS_TEST_CHECK(ts_layout_build(&mc, h2, cache, parent, dir, sizeof dir) < 0 && strstr(ts_error(), "shot.blend/x"),
                  "a file and a folder of one name: '%s'", ts_error());
    ts_layout_prune(parent, NULL, true);
    snprintf(path, sizeof path, "%s/%s", parent, h1);
    TS_TEST_CHECK(access(path, F_OK) != 0, "pruning removes the layouts");
    TS_TEST_CHECK(access(blob, F_OK) == 0, "pruning leaves the cache's files");
    ts_blobs_destroy(&cache);
    remove_tree(root);
    return failures ? -1 : 0;
}
