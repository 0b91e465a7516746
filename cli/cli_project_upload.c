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

/* Opens a regular file for reading without blocking on a FIFO or a device: the fd (blocking again), or -1 with
   *why saying what it is instead. */
static int open_regular(const char *path, const char **why)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), flags;
    *why = NULL;
    if (fd < 0 || fstat(fd, &st) < 0)
        *why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        *why = S_ISDIR(st.st_mode)    ? "a folder, not a file"
               : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe), not a regular file"
                                      : "not a regular file";
    else if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
        *why = strerror(errno); /* reads block again: a slow disk is not "nothing yet" */
    if (*why && fd >= 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Hashes an open regular file as it is now; NULL, or what is wrong with it. */
static const char *hash_fd(int fd, char hash[TS_HASH_HEX], int64_t *size)
{
    static char buf[HASH_BUF];
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
    const char *why = NULL;
    int fd = open_regular(f->path, &why);
    f->why = fd < 0 ? why : hash_fd(fd, f->hash, &f->size);
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

/* ---- what is taken: files from outside the project folder, hidden files ---- */

#define TAKEN_SHOWN_MAX 20 /* files listed by name; then "and N more" */

enum { TAKEN_OUTSIDE, TAKEN_HIDDEN };

/* A name with a part that starts with '.' (".ssh/id_ed25519"; an outside file's name holds its whole path). */
static bool name_hidden(const char *name)
{
    for (const char *c = name; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
        if (*c == '.')
            return true;
    return false;
}

/* Is f, a file that is sent (not the scene, not missing), of the kind asked about? */
static bool taken(const cli_project_t *self, const file_t *f, int which)
{
    if (!f->ref || f->missing)
        return false;
    return which == TAKEN_OUTSIDE ? !cli_project_inside(self->root, f->path) : name_hidden(f->name);
}

/* Lists the files of a kind on stderr, one a line (at most TAKEN_SHOWN_MAX), after head; their count. */
static size_t show_taken(const cli_project_t *self, int which, const char *head)
{
    size_t n = 0, shown = 0;
    for (size_t i = 0; i < self->count; i++)
        n += taken(self, &self->files[i], which);
    for (size_t i = 0; n && i < self->count; i++) {
        const file_t *f = &self->files[i];
        if (!taken(self, f, which) || shown++ == TAKEN_SHOWN_MAX)
            continue;
        if (n == 1)
            fprintf(stderr, "%s: %s 1 file %s: %s (%s %s)\n", CLI_PROG, head,
                    which == TAKEN_OUTSIDE ? "from outside the project folder" : "with a hidden part in its path",
                    f->path, f->ref->kind, f->ref->ref);
        else {
            if (shown == 1)
                fprintf(stderr, "%s: %s %zu files %s:\n", CLI_PROG, head, n,
                        which == TAKEN_OUTSIDE ? "from outside the project folder" : "with a hidden part in their paths");
            fprintf(stderr, "  %s (%s %s)\n", f->path, f->ref->kind, f->ref->ref);
        }
    }
    if (n > TAKEN_SHOWN_MAX)
        fprintf(stderr, "  and %zu more\n", n - TAKEN_SHOWN_MAX);
    return n;
}

int cli_project_check_taken(const cli_project_t *self, bool allow_hidden)
{
    show_taken(self, TAKEN_OUTSIDE, "taking");
    size_t hidden = 0;
    for (size_t i = 0; i < self->count; i++)
        hidden += taken(self, &self->files[i], TAKEN_HIDDEN);
    if (!hidden || allow_hidden)
        return 0;
    show_taken(self, TAKEN_HIDDEN, "refusing");
    return cli_fail(CLI_EXIT_USAGE, "the scene names %s hidden file%s (a part of %s path starts with '.'), which may "
                    "be private: move %s into the project folder or pack %s into the .blend, or submit again with "
                    "--allow-hidden to send %s", hidden == 1 ? "a" : "several", hidden == 1 ? "" : "s",
                    hidden == 1 ? "its" : "their", hidden == 1 ? "it" : "them", hidden == 1 ? "it" : "them",
                    hidden == 1 ? "it" : "them");
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
    const char *why = NULL;
    int fd = open_regular(f->path, &why);
    FILE *in = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!in) {
        if (fd >= 0) {
            why = strerror(errno);
            close(fd);
        }
        return cli_fail(CLI_EXIT_USAGE, "%s: cannot be read any more (%s): submit again", f->name, why);
    }
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
