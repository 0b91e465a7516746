/* ts_exclusive: the listed names, and one pass over /proc/PID/comm comparing each process's name with them. */
#include "slave/ts_exclusive.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ts_exclusive {
    int n;
    char (*names)[TS_EXCLUSIVE_NAME_MAX + 1];
};

ts_exclusive_t *ts_exclusive_new(const char *names)
{
    ts_exclusive_t *self = calloc(1, sizeof *self);
    size_t max = 1;
    for (const char *c = names; c && *c; c++)
        max += *c == ',';
    if (!self || !(self->names = calloc(max, sizeof *self->names))) {
        free(self);
        ts_error_set("out of memory");
        return NULL;
    }
    const char *at = names ? names : "";
    for (;;) {
        size_t len = strcspn(at, ",");
        const char *start = at, *end = at + len;
        while (start < end && isspace((unsigned char)*start))
            start++;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if (end == start) {
            ts_error_set("exclusive applications '%s': an empty name", names ? names : "");
            goto fail;
        }
        if (end - start > TS_EXCLUSIVE_NAME_MAX) {
            ts_error_set("exclusive application '%.*s': longer than %d characters, all /proc/PID/comm holds of a "
                         "name (give its first %d)",
                         (int)(end - start), start, TS_EXCLUSIVE_NAME_MAX, TS_EXCLUSIVE_NAME_MAX);
            goto fail;
        }
        memcpy(self->names[self->n++], start, (size_t)(end - start));
        if (!at[len])
            return self;
        at += len + 1;
    }
fail:
    ts_exclusive_destroy(&self);
    return NULL;
}

void ts_exclusive_destroy(ts_exclusive_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->names);
    free(*self_p);
    *self_p = NULL;
}

/* Process pid's name, "" when it is gone or unreadable. */
static void comm_of(int proc_fd, const char *pid, char name[TS_EXCLUSIVE_NAME_MAX + 2])
{
    char path[64];
    snprintf(path, sizeof path, "%s/comm", pid);
    name[0] = 0;
    int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, name, TS_EXCLUSIVE_NAME_MAX + 1);
    close(fd);
    if (n <= 0)
        return;
    name[n] = 0;
    name[strcspn(name, "\n")] = 0;
}

const char *ts_exclusive_running(ts_exclusive_t *self)
{
    DIR *d = opendir("/proc");
    if (!d)
        return NULL;
    const char *found = NULL;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char name[TS_EXCLUSIVE_NAME_MAX + 2];
        comm_of(dirfd(d), e->d_name, name);
        for (int i = 0; i < self->n && !found; i++)
            if (strcmp(name, self->names[i]) == 0)
                found = self->names[i];
    }
    closedir(d);
    return found;
}

/* ---- self-test ---- */

/* Waits up to 2 s for ts_exclusive_running to say want (NULL: nothing). */
static bool becomes(ts_exclusive_t *ex, const char *want)
{
    double until = ts_clock_mono() + 2;
    for (;;) {
        const char *got = ts_exclusive_running(ex);
        if (want ? got && strcmp(got, want) == 0 : !got)
            return true;
        if (ts_clock_mono() > until)
            return false;
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
}

int ts_exclusive_test(bool verbose)
{
    int failures = 0;
    const char *bad[] = {"", " ", "mygame,,other", "mygame,", "averyveryverylongname"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_exclusive_t *ex = ts_exclusive_new(bad[i]);
        TS_TEST_CHECK(!ex && (strstr(ts_error(), "empty name") || strstr(ts_error(), "longer than 15")),
                      "'%s' refused: %s", bad[i], ts_error());
        ts_exclusive_destroy(&ex);
    }
    ts_exclusive_t *ok = ts_exclusive_new("abcdefghijklmno");
    TS_TEST_CHECK(ok, "15 characters are fine: %s", ts_error());
    ts_exclusive_destroy(&ok);

    /* A program started under a listed name (a link to sleep: comm is the name it was run by), then gone. */
    char dir[] = "/tmp/ts_exclusive_testXXXXXX", game[32], link[128], names[96];
    if (!mkdtemp(dir)) {
        fprintf(stderr, "exclusive: mkdtemp: %s\n", strerror(errno));
        return failures + 1;
    }
    snprintf(game, sizeof game, "game-%d", (int)getpid() % 1000000);
    snprintf(link, sizeof link, "%s/%s", dir, game);
    snprintf(names, sizeof names, " notthere , %s ,other-game", game);
    ts_exclusive_t *ex = ts_exclusive_new(names);
    TS_TEST_CHECK(ex, "'%s': %s", names, ts_error());
    TS_TEST_CHECK(symlink("/bin/sleep", link) == 0, "symlink %s: %s", link, strerror(errno));
    if (ex) {
        TS_TEST_CHECK(becomes(ex, NULL), "nothing listed runs yet");
        pid_t pid = fork();
        if (pid == 0) {
            execl(link, game, "30", (char *)NULL);
            _exit(127);
        }
        TS_TEST_CHECK(pid > 0 && becomes(ex, game), "%s found running", game);
        if (verbose)
            printf("exclusive: %s running (pid %d)\n", game, (int)pid);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        TS_TEST_CHECK(becomes(ex, NULL), "and gone once it has exited");
    }
    ts_exclusive_destroy(&ex);
    unlink(link);
    rmdir(dir);
    return failures;
}
