/* ts_blobs: content-addressed files (<dir>/<2 hex>/<64 hex>), written to tmp/, fsynced, renamed in. */
#include "lib/ts_blobs.h"
#include "lib/ts_error.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FANOUT_CHARS 2

struct ts_blobs {
    char dir[PATH_MAX];
    char tmpdir[PATH_MAX];
};

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return ts_error_set("%s: %s", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return ts_error_set("%s: %s", buf, strerror(errno));
    return 0;
}

ts_blobs_t *ts_blobs_new(const char *dir)
{
    ts_blobs_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    snprintf(self->tmpdir, sizeof self->tmpdir, "%s/tmp", dir);
    if (mkdir_p(self->tmpdir) < 0) {
        free(self);
        return NULL;
    }
    DIR *d = opendir(self->tmpdir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    if (d)
        closedir(d);
    return self;
}

void ts_blobs_destroy(ts_blobs_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

void ts_blobs_path(const ts_blobs_t *self, const char *hash, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%.*s/%s", self->dir, FANOUT_CHARS, hash, hash);
}

bool ts_blobs_has(const ts_blobs_t *self, const char *hash)
{
    if (!ts_hash_valid(hash))
        return false;
    char path[PATH_MAX];
    ts_blobs_path(self, hash, path, sizeof path);
    return access(path, R_OK) == 0;
}

int ts_blobs_tmp(const ts_blobs_t *self, char *path, size_t cap)
{
    snprintf(path, cap, "%s/blob.XXXXXX", self->tmpdir);
    int fd = mkstemp(path);
    if (fd < 0)
        return ts_error_set("%s: %s", self->tmpdir, strerror(errno));
    return fd;
}

static int move_in(const ts_blobs_t *self, const char *tmp_path, const char *hash)
{
    char sub[PATH_MAX], dst[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/%.*s", self->dir, FANOUT_CHARS, hash);
    if (mkdir(sub, 0755) != 0 && errno != EEXIST)
        return ts_error_set("%s: %s", sub, strerror(errno));
    ts_blobs_path(self, hash, dst, sizeof dst);
    if (rename(tmp_path, dst) != 0) {
        int e = errno;
        unlink(tmp_path);
        return ts_error_set("%s: %s", dst, strerror(e));
    }
    return 0;
}

int ts_blobs_put_buf(const ts_blobs_t *self, const void *data, size_t len, char hash[TS_HASH_HEX])
{
    ts_hash_buf(data, len, hash);
    if (ts_blobs_has(self, hash))
        return 0;
    char tmp[PATH_MAX];
    int fd = ts_blobs_tmp(self, tmp, sizeof tmp);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return ts_error_set("%s: write: %s", tmp, strerror(e));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return ts_error_set("%s: %s", tmp, strerror(errno));
    }
    return move_in(self, tmp, hash);
}

int ts_blobs_put_file(const ts_blobs_t *self, const char *tmp_path, const char *expected,
                      char hash[TS_HASH_HEX])
{
    if (ts_hash_file(tmp_path, hash) < 0) {
        unlink(tmp_path);
        return -1;
    }
    if (expected && strcmp(expected, hash) != 0) {
        unlink(tmp_path);
        return ts_error_set("content hash is %s, not %s as named", hash, expected);
    }
    int fd = open(tmp_path, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return move_in(self, tmp_path, hash);
}

int ts_blobs_verify(const ts_blobs_t *self, const char *hash)
{
    char path[PATH_MAX], got[TS_HASH_HEX];
    ts_blobs_path(self, hash, path, sizeof path);
    if (ts_hash_file(path, got) < 0)
        return -1;
    if (strcmp(got, hash) != 0) {
        unlink(path);
        return ts_error_set("%s: corrupt (content hash %s), removed", path, got);
    }
    return 0;
}

void ts_blobs_touch(const ts_blobs_t *self, const char *hash)
{
    char path[PATH_MAX];
    ts_blobs_path(self, hash, path, sizeof path);
    utimensat(AT_FDCWD, path, NULL, 0);
}

typedef struct {
    char hash[TS_HASH_HEX];
    long long size;
    struct timespec used;
} blob_entry_t;

static int older_first(const void *a, const void *b)
{
    const blob_entry_t *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    return (x->used.tv_nsec > y->used.tv_nsec) - (x->used.tv_nsec < y->used.tv_nsec);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keep list sorted for bsearch (a project's thousands of files); *n gets its length. NULL when empty. */
static const char **sorted_keep(const char *const *keep, size_t *n)
{
    *n = 0;
    while (keep && keep[*n])
        (*n)++;
    const char **sorted = *n ? malloc(*n * sizeof *sorted) : NULL;
    if (!sorted) {
        *n = 0;
        return NULL;
    }
    memcpy(sorted, keep, *n * sizeof *sorted);
    qsort(sorted, *n, sizeof *sorted, str_cmp);
    return sorted;
}

long long ts_blobs_evict(const ts_blobs_t *self, long long max_bytes, const char *const *keep)
{
    blob_entry_t *all = NULL;
    size_t n = 0, cap = 0;
    long long total = 0, removed = 0;
    DIR *top = opendir(self->dir);
    if (!top)
        return ts_error_set("%s: %s", self->dir, strerror(errno));
    for (struct dirent *d; (d = readdir(top));) {
        if (strlen(d->d_name) != FANOUT_CHARS)
            continue;
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", self->dir, d->d_name);
        DIR *dd = opendir(sub);
        for (struct dirent *e; dd && (e = readdir(dd));) {
            struct stat st;
            if (!ts_hash_valid(e->d_name) || fstatat(dirfd(dd), e->d_name, &st, 0) != 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                blob_entry_t *grown = realloc(all, cap * sizeof *all);
                if (!grown)
                    break;
                all = grown;
            }
            snprintf(all[n].hash, sizeof all[n].hash, "%s", e->d_name);
            all[n].size = (long long)st.st_size;
            all[n].used = st.st_mtim;
            total += all[n].size;
            n++;
        }
        if (dd)
            closedir(dd);
    }
    closedir(top);
    qsort(all, n, sizeof *all, older_first);
    size_t nkeep = 0;
    const char **keeps = total > max_bytes ? sorted_keep(keep, &nkeep) : NULL;
    if (total > max_bytes && keep && keep[0] && !keeps) {
        free(all);
        return ts_error_set("out of memory");
    }
    for (size_t i = 0; i < n && total > max_bytes; i++) {
        const char *hash = all[i].hash;
        if (keeps && bsearch(&hash, keeps, nkeep, sizeof *keeps, str_cmp))
            continue;
        char path[PATH_MAX];
        ts_blobs_path(self, all[i].hash, path, sizeof path);
        if (unlink(path) == 0) {
            total -= all[i].size;
            removed += all[i].size;
        }
    }
    free(keeps);
    free(all);
    return removed;
}

int ts_blobs_test(bool verbose)
{
    char dir[] = "/tmp/ts_blobs_test.XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    int rc = -1;
    char hash[TS_HASH_HEX], path[PATH_MAX], tmp[PATH_MAX];
    ts_blobs_t *b = ts_blobs_new(dir);
    if (!b || ts_blobs_put_buf(b, "hello", 5, hash) < 0 || !ts_blobs_has(b, hash))
        goto out;
    char expect[TS_HASH_HEX];
    ts_hash_buf("hello", 5, expect);
    if (strcmp(expect, hash) != 0)
        goto out;
    /* A file whose content is not what its name says is refused and removed. */
    int fd = ts_blobs_tmp(b, tmp, sizeof tmp);
    if (fd < 0 || write(fd, "other", 5) != 5)
        goto out;
    close(fd);
    if (ts_blobs_put_file(b, tmp, expect, hash) != -1 || access(tmp, F_OK) == 0)
        goto out;
    /* Corruption on disk is detected and the blob removed. */
    ts_blobs_path(b, expect, path, sizeof path);
    FILE *f = fopen(path, "w");
    fputs("jello", f);
    fclose(f);
    if (ts_blobs_verify(b, expect) != -1 || ts_blobs_has(b, expect))
        goto out;
    if (ts_blobs_has(b, "../../etc/passwd"))
        goto out;
    /* Eviction: three blobs of 100 bytes used in the order a, b, c; a bound of 250 bytes removes the oldest that
       is not named keep (b, since a is kept); touching makes a blob recent again. */
    char h1[TS_HASH_HEX], h2[TS_HASH_HEX], h3[TS_HASH_HEX], buf[100];
    memset(buf, 'a', sizeof buf);
    ts_blobs_put_buf(b, buf, sizeof buf, h1);
    memset(buf, 'b', sizeof buf);
    ts_blobs_put_buf(b, buf, sizeof buf, h2);
    memset(buf, 'c', sizeof buf);
    ts_blobs_put_buf(b, buf, sizeof buf, h3);
    struct timespec times[2] = {{0, UTIME_OMIT}, {1000, 0}};
    char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX];
    ts_blobs_path(b, h1, p1, sizeof p1);
    ts_blobs_path(b, h2, p2, sizeof p2);
    ts_blobs_path(b, h3, p3, sizeof p3);
    utimensat(AT_FDCWD, p1, times, 0);
    times[1].tv_sec = 2000;
    utimensat(AT_FDCWD, p2, times, 0);
    times[1].tv_sec = 3000;
    utimensat(AT_FDCWD, p3, times, 0);
    const char *keep_a[] = {h1, NULL};
    if (ts_blobs_evict(b, 250, keep_a) != 100 || !ts_blobs_has(b, h1) || ts_blobs_has(b, h2) || !ts_blobs_has(b, h3))
        goto out;
    ts_blobs_touch(b, h1); /* now a is the most recent: c goes first */
    if (ts_blobs_evict(b, 100, NULL) != 100 || !ts_blobs_has(b, h1) || ts_blobs_has(b, h3))
        goto out;
    rc = 0;
out:
    ts_blobs_destroy(&b);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = -1;
    if (verbose || rc)
        fprintf(rc ? stderr : stdout, "ts_blobs: %s\n", rc ? "FAILED" : "ok");
    return rc;
}
