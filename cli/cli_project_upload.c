/* cli_project_upload: a project's files hashed as they are now; only the contents the master lacks uploaded. */
#include "cli/cli_http.h"
#include "cli/cli_project_impl.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HASH_BUF (256 << 10)
#define MB 1e6
#define PROGRESS_EVERY_S 0.1

/* ---- hashing ---- */

/* Hashes an open file as it is now; NULL, or what is wrong with it. */
static const char *hash_fd(int fd, char hash[TS_HASH_HEX], int64_t *size)
{
    static char buf[HASH_BUF];
    struct stat st;
    if (fstat(fd, &st) < 0)
        return strerror(errno);
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? "a folder, not a file" : "not a regular file";
    ts_hasher_t *h = ts_hasher_new();
    int64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const char *why = strerror(errno);
            ts_hasher_finish(&h, hash);
            return why;
        }
        if (n == 0)
            break;
        ts_hasher_update(h, buf, (size_t)n);
        total += n;
    }
    ts_hasher_finish(&h, hash);
    *size = total;
    return NULL;
}

static void hash_one(file_t *f)
{
    if (f->missing)
        return;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    f->why = fd < 0 ? strerror(errno) : hash_fd(fd, f->hash, &f->size);
    f->missing = f->why != NULL;
    if (fd >= 0)
        close(fd);
}

int cli_project_hash(cli_project_t *self, bool allow_missing)
{
    self->nmissing = 0;
    for (size_t i = 0; i < self->count; i++) {
        file_t *f = &self->files[i];
        hash_one(f);
        if (f->missing && !f->ref)
            return cli_fail(CLI_EXIT_USAGE, "%s: the scene cannot be read: %s", f->path, f->why ? f->why : "not found");
        if (!f->missing)
            continue;
        self->nmissing++;
        fprintf(stderr, "%s: missing file %s (%s %s)%s%s\n", cli_project_shown(self, f->ref->holder), f->path,
                f->ref->kind, f->ref->ref, f->why ? ": " : "", f->why ? f->why : "");
    }
    if (self->nmissing && !allow_missing)
        return cli_fail(CLI_EXIT_USAGE, "%zu file%s the scene needs %s missing: restore %s, or submit again with "
                        "--allow-missing to render without %s", self->nmissing, self->nmissing == 1 ? "" : "s",
                        self->nmissing == 1 ? "is" : "are", self->nmissing == 1 ? "it" : "them",
                        self->nmissing == 1 ? "it" : "them");
    if (self->nmissing)
        fprintf(stderr, "%s: leaving %zu missing file%s out (--allow-missing)\n", CLI_PROG, self->nmissing,
                self->nmissing == 1 ? "" : "s");
    return 0;
}

/* ---- asking and uploading ---- */

static int by_hash(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct hashes of the files present, sorted; *n their count. */
static const char **distinct_hashes(const cli_project_t *self, size_t *n)
{
    const char **h = malloc((self->count + 1) * sizeof *h);
    if (!h)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < self->count; i++)
        if (!self->files[i].missing)
            h[k++] = self->files[i].hash;
    qsort(h, k, sizeof *h, by_hash);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp(h[u - 1], h[i]) != 0)
            h[u++] = h[i];
    *n = u;
    return h;
}

static long find_hash(const char **hashes, size_t n, const char *hash)
{
    const char **at = bsearch(&hash, hashes, n, sizeof *hashes, by_hash);
    return at ? (long)(at - hashes) : -1;
}

/* POST blobs/missing: marks in lacks[] the hashes the master does not hold. */
static int ask_master(cli_http_t *http, const char **hashes, size_t n, bool *lacks)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(hashes[i]));
    json_t *body = json_pack("{s:o}", "hashes", list);
    cli_reply_t reply;
    int rc = body ? cli_http_json(http, "POST", "/api/v1/blobs/missing", body, &reply) : -1;
    json_decref(body);
    if (!body)
        return cli_fail(CLI_EXIT_USAGE, "out of memory");
    if (rc < 0)
        return cli_fail_reply(&reply, NULL, "asking the master which files it holds");
    json_t *missing = json_object_get(reply.json, "missing");
    size_t i;
    json_t *h;
    rc = json_is_array(missing) ? 0 : -1;
    json_array_foreach(missing, i, h) {
        long at = json_is_string(h) ? find_hash(hashes, n, json_string_value(h)) : -1;
        if (at < 0)
            rc = -1;
        else
            lacks[at] = true;
    }
    json_decref(reply.json);
    if (rc < 0)
        return cli_fail(CLI_EXIT_MASTER, "the master at %s answered blobs/missing with something other than a list "
                        "of the hashes asked about", cli_http_shown(http));
    return 0;
}

typedef struct {
    bool draw;              /* stderr is a terminal */
    size_t index, files;    /* the file being uploaded (1-based) of files */
    int64_t done, total;    /* bytes of the files before it, of them all */
    const char *name;
    double last;            /* when the line was drawn */
} progress_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw(void *ud, int64_t sent)
{
    progress_t *p = ud;
    double t = now_s();
    if (!p->draw || (p->last >= 0 && t - p->last < PROGRESS_EVERY_S))
        return;
    p->last = t;
    fprintf(stderr, "\ruploading %zu/%zu files, %.1f of %.1f MB: %s\033[K", p->index, p->files,
            (double)(p->done + sent) / MB, (double)p->total / MB, cli_basename(p->name));
}

/* Uploads one file as it was hashed: bytes that no longer match are named as a change. */
static int upload_one(cli_http_t *http, const file_t *f, progress_t *p, int64_t max_send_speed)
{
    static const char *const changed = "%s changed while it was uploaded (its content no longer matches the hash "
                                       "taken at discovery): submit again";
    FILE *in = fopen(f->path, "rb");
    if (!in)
        return cli_fail(CLI_EXIT_USAGE, "%s: cannot be read any more (%s): submit again", f->name, strerror(errno));
    struct stat st;
    if (fstat(fileno(in), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != f->size) {
        fclose(in);
        return cli_fail(CLI_EXIT_USAGE, changed, f->name);
    }
    char path[sizeof "/api/v1/blobs/" + TS_HASH_HEX], got[TS_HASH_HEX];
    snprintf(path, sizeof path, "/api/v1/blobs/%s", f->hash);
    cli_put_watch_t watch = {.hasher = ts_hasher_new(), .progress = draw, .ud = p, .max_send_speed = max_send_speed};
    cli_reply_t reply;
    p->name = f->name;
    draw(p, 0);
    int rc = cli_http_put_watched(http, path, in, f->size, &watch, &reply);
    ts_hasher_finish(&watch.hasher, got);
    fclose(in);
    if (rc == 0)
        json_decref(reply.json);
    if (watch.short_read || (watch.sent == f->size && strcmp(got, f->hash) != 0))
        return cli_fail(CLI_EXIT_USAGE, changed, f->name);
    return rc < 0 ? cli_fail_reply(&reply, NULL, "%s: upload", f->name) : 0;
}

static void plural(char *out, size_t cap, const char *verb, size_t files, int64_t bytes)
{
    snprintf(out, cap, "%s %zu file%s (%.1f MB)", verb, files, files == 1 ? "" : "s", (double)bytes / MB);
}

enum { HAVE, LACKS, QUEUED, SENT }; /* a content at the master, counted, then uploaded */

int cli_project_upload(cli_project_t *self, cli_http_t *http, int64_t max_send_speed, int64_t *uploaded,
                       int64_t *reused)
{
    size_t n = 0;
    const char **hashes = distinct_hashes(self, &n);
    char *state = hashes ? calloc(n + 1, 1) : NULL;
    bool *lacks = state ? calloc(n + 1, sizeof *lacks) : NULL;
    int rc = lacks ? ask_master(http, hashes, n, lacks) : cli_fail(CLI_EXIT_USAGE, "out of memory");
    progress_t p = {.draw = isatty(STDERR_FILENO), .last = -1};
    int64_t all = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        state[i] = lacks[i] ? LACKS : HAVE;
    for (size_t i = 0; rc == 0 && i < self->count; i++) { /* what is to be sent: each lacking content once */
        const file_t *f = &self->files[i];
        long at = f->missing ? -1 : find_hash(hashes, n, f->hash);
        all += f->missing ? 0 : f->size;
        if (at >= 0 && state[at] == LACKS) {
            state[at] = QUEUED;
            p.files++;
            p.total += f->size;
        }
    }
    for (size_t i = 0; rc == 0 && i < self->count; i++) {
        const file_t *f = &self->files[i];
        long at = f->missing ? -1 : find_hash(hashes, n, f->hash);
        if (at < 0 || state[at] != QUEUED)
            continue;
        state[at] = SENT;
        p.index++;
        rc = upload_one(http, f, &p, max_send_speed);
        p.done += f->size;
    }
    if (p.draw && p.index > 0)
        fputs("\r\033[K", stderr);
    if (rc == 0) {
        char up[CLI_MSG_MAX], kept[CLI_MSG_MAX];
        plural(up, sizeof up, "uploaded", p.files, p.total);
        plural(kept, sizeof kept, "reused", self->count - self->nmissing - p.files, all - p.total);
        fprintf(stderr, "%s, %s\n", up, kept);
        *uploaded = p.total;
        *reused = all - p.total;
    }
    free(lacks);
    free(state);
    free(hashes);
    return rc;
}
