/* ts_file: whole small files in and out of memory; scratch directories removed. */
#include "lib/ts_file.h"
#include "lib/ts_error.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ts_file_read(const char *path, size_t max, int allow_empty, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ts_error_set("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ts_error_set("%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if ((max && size > max) || (size == 0 && !allow_empty)) {
        fclose(f);
        return ts_error_set("%s: %zu bytes (expected 1..%zu)", path, size, max ? max : (size_t)SSIZE_MAX);
    }
    uint8_t *buf = malloc(size + 1);
    size_t got = buf ? fread(buf, 1, size, f) : 0;
    fclose(f);
    if (!buf || got != size) {
        free(buf);
        return ts_error_set("%s: %s", path, buf ? "short read" : "out of memory");
    }
    buf[size] = 0;
    *data = buf;
    *len = size;
    return 0;
}

int ts_file_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return ts_error_set("%s: %s", tmp, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            err = errno;
        unlink(tmp);
        return ts_error_set("%s: %s", path, strerror(err));
    }
    return 0;
}

int ts_file_write_fd(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

void ts_file_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char path[PATH_MAX];
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

bool ts_file_is_blend(const char *path)
{
    static const struct {
        const char *magic;
        size_t len;
    } BLEND[] = {{"BLENDER", 7}, {"\x1f\x8b", 2}, {"\x28\xb5\x2f\xfd", 4}}; /* plain, gzip, zstd */
    char head[8] = "";
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    for (size_t i = 0; i < sizeof BLEND / sizeof BLEND[0]; i++)
        if (n >= BLEND[i].len && memcmp(head, BLEND[i].magic, BLEND[i].len) == 0)
            return true;
    return false;
}
