/* ts_blender: a persistent Blender child process (or the slave's own encoder, which speaks the same way): start,
   request/reply over pipes, crash and hang handling.
   DESIGN: Blender runs `-b -Y --factory-startup` (embedded scripts never run) with the worker script, reads
   requests on fd 3 and answers on fd 4, while its own chatter goes to a log file. The child is in its own
   process group and dies with the slave (PR_SET_PDEATHSIG), so a killed slave leaves no renderer behind. It runs in
   the slave's sandbox (slave/ts_sandbox.h) with at most PROCS_MAX processes of its user. */
#include "slave/ts_blender.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_log.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CMD_FD 3
#define REPLY_FD 4
#define POLL_SLICE_MS 100
#define KILL_GRACE_MS 3000
#define REPLY_MAX (1 << 20)
#define PROCS_MAX 4096 /* RLIMIT_NPROC: a scene that forks without end meets it long before the machine does */

struct ts_blender {
    char *exe, *script, *log;
    char **program;     /* another program's argv (NULL-ended, owned), run in Blender's place */
    char label[16];     /* what the log calls it: "blender", "encoder" */
    int threads;
    int64_t max_data;   /* RLIMIT_DATA of the child (0: none) */
    const ts_sandbox_t *sandbox; /* NULL: unconfined */
    char *gpus;         /* Cycles ids of the lent GPUs, comma-separated */
    pid_t pid;
    _Atomic int group;   /* the process group to end on a preemption (the pid while it runs), 0 when none */
    int cmd_fd, reply_fd;
    char *buf;
    size_t len;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ts_blender_t *ts_blender_new(const char *exe, const char *script, const char *log, int threads, int64_t max_data,
                             const ts_sandbox_t *sandbox)
{
    ts_blender_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->exe = strdup(exe);
    self->script = strdup(script);
    self->log = strdup(log);
    self->threads = threads;
    self->max_data = max_data;
    self->sandbox = sandbox;
    self->pid = -1;
    self->cmd_fd = self->reply_fd = -1;
    self->buf = malloc(REPLY_MAX);
    snprintf(self->label, sizeof self->label, "blender");
    return self;
}

ts_blender_t *ts_blender_new_program(const char *label, char *const argv[], const char *log, int64_t max_data,
                                     const ts_sandbox_t *sandbox)
{
    ts_blender_t *self = ts_blender_new(argv[0], "", log, 0, max_data, sandbox);
    int n = 0;
    while (argv[n])
        n++;
    if (self && (self->program = calloc((size_t)n + 1, sizeof *self->program)))
        for (int i = 0; i < n; i++)
            self->program[i] = strdup(argv[i]);
    if (self)
        snprintf(self->label, sizeof self->label, "%s", label);
    return self;
}

bool ts_blender_running(const ts_blender_t *self)
{
    return self->pid > 0;
}

void ts_blender_set_gpus(ts_blender_t *self, const char *cycles_ids)
{
    free(self->gpus);
    self->gpus = strdup(cycles_ids);
}

static int start(ts_blender_t *self)
{
    int cmd[2], reply[2];
    if (pipe2(cmd, O_CLOEXEC) != 0)
        return ts_error_set("pipe: %s", strerror(errno));
    if (pipe2(reply, O_CLOEXEC) != 0) {
        close(cmd[0]);
        close(cmd[1]);
        return ts_error_set("pipe: %s", strerror(errno));
    }
    char *blender_argv[] = {self->exe, "-b", "-Y", "--factory-startup", "-noaudio", "--python-exit-code", "1",
                            "--python", self->script, "--", "--cmd-fd", "3", "--reply-fd", "4", NULL};
    /* made before fork: the child only execs */
    char **argv = ts_sandbox_argv(self->sandbox, self->program ? self->program : blender_argv);
    int logfd = argv ? open(self->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    pid_t pid = argv ? fork() : -1;
    if (pid < 0) {
        int e = errno;
        ts_sandbox_argv_free(argv);
        close(cmd[0]), close(cmd[1]), close(reply[0]), close(reply[1]);
        if (logfd >= 0)
            close(logfd);
        return argv ? ts_error_set("fork: %s", strerror(e)) : -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        if (self->max_data > 0) { /* the owner's cap: an allocation past it fails, the task with it */
            struct rlimit lim = {(rlim_t)self->max_data, (rlim_t)self->max_data};
            setrlimit(RLIMIT_DATA, &lim);
        }
        struct rlimit procs;
        if (getrlimit(RLIMIT_NPROC, &procs) == 0 && (procs.rlim_cur == RLIM_INFINITY || procs.rlim_cur > PROCS_MAX)) {
            procs.rlim_cur = PROCS_MAX;
            setrlimit(RLIMIT_NPROC, &procs);
        }
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        if (logfd >= 0) {
            dup2(logfd, 1);
            dup2(logfd, 2);
        }
        dup2(cmd[0], CMD_FD);
        dup2(reply[1], REPLY_FD);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    ts_sandbox_argv_free(argv);
    if (logfd >= 0)
        close(logfd);
    close(cmd[0]);
    close(reply[1]);
    self->pid = pid;
    self->group = pid;
    self->cmd_fd = cmd[1];
    self->reply_fd = reply[0];
    self->len = 0;
    ts_info("%s started (pid %d%s)", self->label, (int)pid, self->sandbox ? ", sandboxed" : ", no sandbox");
    return 0;
}

/* Reaps the child; fills why with how it ended. */
static void reap(ts_blender_t *self, int options, char *why, size_t cap)
{
    int status = 0;
    pid_t r = waitpid(self->pid, &status, options);
    if (r == self->pid) {
        self->group = 0;
        if (WIFEXITED(status))
            snprintf(why, cap, "exited with status %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            snprintf(why, cap, "killed by signal %d", WTERMSIG(status));
        self->pid = -1;
    }
}

void ts_blender_kill(ts_blender_t *self)
{
    if (self->cmd_fd >= 0)
        close(self->cmd_fd);
    if (self->reply_fd >= 0)
        close(self->reply_fd);
    self->cmd_fd = self->reply_fd = -1;
    if (self->pid <= 0)
        return;
    char why[64] = "";
    kill(-self->pid, SIGTERM);
    kill(self->pid, SIGTERM);
    for (int waited = 0; self->pid > 0 && waited < KILL_GRACE_MS; waited += POLL_SLICE_MS) {
        reap(self, WNOHANG, why, sizeof why);
        if (self->pid > 0)
            usleep(POLL_SLICE_MS * 1000);
    }
    if (self->pid > 0) {
        kill(-self->pid, SIGKILL);
        kill(self->pid, SIGKILL);
        reap(self, 0, why, sizeof why);
    }
    ts_info("%s stopped (%s)", self->label, why[0] ? why : "gone");
    self->pid = -1;
    self->group = 0;
}

void ts_blender_preempt(ts_blender_t *self)
{
    int group = self->group;
    if (group > 0)
        kill(-group, SIGKILL); /* Blender and anything it started; the caller of ts_blender_call reaps it */
}

void ts_blender_destroy(ts_blender_t **self_p)
{
    ts_blender_t *self = *self_p;
    if (!self)
        return;
    ts_blender_kill(self);
    free(self->exe);
    free(self->script);
    free(self->log);
    free(self->gpus);
    for (int i = 0; self->program && self->program[i]; i++)
        free(self->program[i]);
    free(self->program);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

json_t *ts_blender_call(ts_blender_t *self, json_t *request, double timeout_s, volatile sig_atomic_t *stop)
{
    if (self->pid > 0) { /* gone while idle (a preemption killed it between tasks): start another, no failure */
        char why[64] = "";
        reap(self, WNOHANG, why, sizeof why);
        if (self->pid <= 0) {
            ts_info("%s stopped while idle (%s)", self->label, why[0] ? why : "gone");
            if (self->cmd_fd >= 0)
                close(self->cmd_fd);
            if (self->reply_fd >= 0)
                close(self->reply_fd);
            self->cmd_fd = self->reply_fd = -1;
        }
    }
    if (self->pid <= 0 && start(self) < 0)
        return NULL;
    if (!self->program && json_object_get(request, "threads") == NULL)
        json_object_set_new(request, "threads", json_integer(self->threads));
    if (!self->program && json_object_get(request, "gpu_ids") == NULL)
        json_object_set_new(request, "gpu_ids", json_string(self->gpus ? self->gpus : ""));
    char *line = json_dumps(request, JSON_COMPACT);
    if (!line) {
        ts_error_set("cannot encode the request");
        return NULL;
    }
    size_t n = strlen(line);
    signal(SIGPIPE, SIG_IGN);
    int wrc = ts_file_write_fd(self->cmd_fd, line, n) < 0 || ts_file_write_fd(self->cmd_fd, "\n", 1) < 0 ? -1 : 0;
    free(line);
    double deadline = mono() + timeout_s;
    char why[64] = "";
    while (wrc == 0) {
        char *nl = memchr(self->buf, '\n', self->len);
        if (nl) {
            *nl = '\0';
            json_error_t jerr;
            json_t *reply = json_loads(self->buf, 0, &jerr);
            size_t used = (size_t)(nl - self->buf) + 1;
            memmove(self->buf, nl + 1, self->len - used);
            self->len -= used;
            if (!reply || !json_is_object(reply)) {
                json_decref(reply);
                ts_blender_kill(self);
                ts_error_set("the %s worker sent a malformed reply", self->label);
                return NULL;
            }
            return reply;
        }
        if (stop && *stop) {
            ts_blender_kill(self);
            ts_error_set("stopped");
            return NULL;
        }
        if (mono() > deadline) {
            ts_blender_kill(self);
            ts_error_set("%s did not answer within %.0f s and was killed", self->program ? "the encoder" : "Blender",
                         timeout_s);
            return NULL;
        }
        struct pollfd p = {.fd = self->reply_fd, .events = POLLIN};
        int pr = poll(&p, 1, POLL_SLICE_MS);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        if (self->len >= REPLY_MAX - 1) {
            ts_blender_kill(self);
            ts_error_set("the %s worker's reply is longer than %d bytes", self->label, REPLY_MAX);
            return NULL;
        }
        ssize_t r = read(self->reply_fd, self->buf + self->len, REPLY_MAX - 1 - self->len);
        if (r > 0)
            self->len += (size_t)r;
        else if (r == 0 || errno != EINTR)
            break;
    }
    /* The pipe closed or failed: Blender ended. */
    close(self->cmd_fd);
    close(self->reply_fd);
    self->cmd_fd = self->reply_fd = -1;
    if (self->pid > 0) {
        for (int waited = 0; self->pid > 0 && waited < KILL_GRACE_MS; waited += POLL_SLICE_MS) {
            reap(self, WNOHANG, why, sizeof why);
            if (self->pid > 0)
                usleep(POLL_SLICE_MS * 1000);
        }
        if (self->pid > 0)
            ts_blender_kill(self);
    }
    ts_error_set("%s crashed (%s); see %s", self->program ? "the encoder" : "Blender", why[0] ? why : "pipe closed", self->log);
    return NULL;
}
