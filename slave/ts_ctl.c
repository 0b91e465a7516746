/* ts_ctl: a Unix stream socket, one JSON line per connection; the peer's uid (SO_PEERCRED) must be ours or root. */
#include "slave/ts_ctl.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "tests/ts_test.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CTL_LINE_MAX 256
#define CTL_REPLY_MAX 65536
#define CTL_TIMEOUT_S 2

struct ts_ctl {
    int fd;
    char path[sizeof ((struct sockaddr_un *)0)->sun_path];
    ts_ctl_handler_t handler;
    void *arg;
};

static int address(const char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path)
        return ts_error_set("control socket %s: the path is longer than %zu bytes", path, sizeof a->sun_path - 1);
    snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
    return 0;
}

static void timeouts(int fd)
{
    struct timeval tv = {.tv_sec = CTL_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

ts_ctl_t *ts_ctl_listen(const char *path, ts_ctl_handler_t handler, void *arg)
{
    struct sockaddr_un a;
    if (address(path, &a) < 0)
        return NULL;
    ts_ctl_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->handler = handler;
    self->arg = arg;
    snprintf(self->path, sizeof self->path, "%s", path);
    self->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* left by a slave that did not stop cleanly */
    mode_t old = umask(077);
    int rc = self->fd < 0 ? -1 : bind(self->fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (rc < 0 || listen(self->fd, 8) < 0) {
        ts_error_set("control socket %s: %s", path, strerror(errno));
        if (self->fd >= 0)
            close(self->fd);
        free(self);
        return NULL;
    }
    return self;
}

void ts_ctl_destroy(ts_ctl_t **self_p)
{
    ts_ctl_t *self = *self_p;
    if (!self)
        return;
    close(self->fd);
    unlink(self->path);
    free(self);
    *self_p = NULL;
}

int ts_ctl_fd(const ts_ctl_t *self)
{
    return self->fd;
}

static void reply(int fd, json_t *answer)
{
    char *text = json_dumps(answer, JSON_COMPACT);
    json_decref(answer);
    if (text) {
        size_t n = strlen(text);
        if (write(fd, text, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
            ts_warn("control socket: the answer was not sent: %s", strerror(errno));
        free(text);
    }
}

void ts_ctl_serve(ts_ctl_t *self)
{
    int fd;
    while ((fd = accept4(self->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        timeouts(fd);
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || (cred.uid != getuid() && cred.uid != 0)) {
            ts_warn("control socket: a command from uid %d refused (only uid %d or root may)", (int)cred.uid,
                    (int)getuid());
            reply(fd, json_pack("{s:s}", "error", "refused: the slave runs as another user"));
            close(fd);
            continue;
        }
        char line[CTL_LINE_MAX];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof line - 1 && (n = read(fd, line + got, sizeof line - 1 - got)) > 0) {
            got += (size_t)n;
            if (memchr(line, '\n', got))
                break;
        }
        line[got] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        json_t *answer = self->handler(self->arg, line);
        reply(fd, answer ? answer : json_pack("{s:s}", "error", "unknown command (pause, resume or status)"));
        close(fd);
    }
}

int ts_ctl_request(const char *path, const char *command, json_t **out)
{
    struct sockaddr_un a;
    if (address(path, &a) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return ts_error_set("control socket %s: %s%s", path, strerror(err),
                            err == ENOENT || err == ECONNREFUSED ? " (is the slave running with this --work?)"
                            : err == EACCES                       ? " (it belongs to the user the slave runs as)"
                                                                  : "");
    }
    timeouts(fd);
    size_t n = strlen(command);
    char *buf = malloc(CTL_REPLY_MAX);
    size_t got = 0;
    ssize_t r;
    if (!buf || write(fd, command, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
        free(buf);
        close(fd);
        return ts_error_set("control socket %s: %s", path, strerror(errno));
    }
    while (got < CTL_REPLY_MAX - 1 && (r = read(fd, buf + got, CTL_REPLY_MAX - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    json_error_t err;
    *out = json_loadb(buf, got, JSON_DISABLE_EOF_CHECK, &err);
    free(buf);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ts_error_set("control socket %s: no answer from the slave", path);
    }
    const char *e = json_string_value(json_object_get(*out, "error"));
    if (e) {
        ts_error_set("control socket %s: %s", path, e);
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* ---- self-test: a server and a client in one process (the server served between connect and read) ---- */

static json_t *echo(void *arg, const char *command)
{
    (*(int *)arg)++;
    return strcmp(command, "status") == 0 ? json_pack("{s:s}", "state", "working") : NULL;
}

int ts_ctl_test(bool verbose)
{
    (void)verbose;
    int failures = 0, calls = 0;
    char dir[] = "/tmp/ts_ctl_test.XXXXXX", path[128];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/ctl.sock", dir);
    ts_ctl_t *ctl = ts_ctl_listen(path, echo, &calls);
    TS_TEST_CHECK(ctl != NULL, "listen: %s", ts_error());
    struct stat st;
    TS_TEST_CHECK(ctl && stat(path, &st) == 0 && (st.st_mode & 077) == 0, "the socket is private (mode %o)",
                  (unsigned)(st.st_mode & 0777));
    if (ctl) {
        pid_t pid = fork();
        if (pid == 0) { /* the client, in a child: the parent serves */
            json_t *r = NULL;
            int ok = ts_ctl_request(path, "status", &r) == 0 && strcmp(json_string_value(json_object_get(r, "state")), "working") == 0;
            json_decref(r);
            int bad = ts_ctl_request(path, "dance", &r) < 0 && strstr(ts_error(), "unknown command") != NULL;
            _exit(ok && bad ? 0 : 1);
        }
        for (int i = 0; i < 100 && calls < 2; i++) {
            usleep(20000);
            ts_ctl_serve(ctl);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        TS_TEST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && calls == 2,
                      "status answered, an unknown command refused by name (calls %d)", calls);
        ts_ctl_destroy(&ctl);
    }
    json_t *r = NULL;
    TS_TEST_CHECK(ts_ctl_request(path, "status", &r) < 0 && strstr(ts_error(), "is the slave running"),
                  "no slave: a clear error: %s", ts_error());
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    TS_TEST_CHECK(ts_ctl_listen(longp, echo, &calls) == NULL && strstr(ts_error(), "longer than"), "a too long path");
    rmdir(dir);
    return failures;
}
