/* ts_idle: the table of idle sources, the choice of one ("auto": the first in the table that opens, each failure
   kept for the error), and the busy file, which overrides whatever the source says. */
#include "slave/ts_idle.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const ts_idle_source_t *const SOURCES[] = {&ts_idle_x11, &ts_idle_logind, &ts_idle_input, &ts_idle_file};
#define N_SOURCES (sizeof SOURCES / sizeof SOURCES[0])

struct ts_idle {
    const ts_idle_source_t *source;
    void *state;
    char *busy_file;
    char text[512];
};

/* "x11, logind, input, file" */
static void source_names(char *out, size_t cap)
{
    size_t at = 0;
    out[0] = 0;
    for (size_t i = 0; i < N_SOURCES && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? ", " : "", SOURCES[i]->name);
}

static char s_names[256];
static pthread_once_t s_names_once = PTHREAD_ONCE_INIT;

static void fill_names(void)
{
    source_names(s_names, sizeof s_names);
}

const char *ts_idle_sources(void)
{
    pthread_once(&s_names_once, fill_names);
    return s_names;
}

static ts_idle_t *wrap(const ts_idle_source_t *source, void *state, const char *busy_file)
{
    ts_idle_t *self = calloc(1, sizeof *self);
    if (!self || (busy_file && !(self->busy_file = strdup(busy_file)))) {
        free(self);
        source->close(state);
        ts_error_set("out of memory");
        return NULL;
    }
    self->source = source;
    self->state = state;
    source->describe(state, self->text, sizeof self->text);
    if (busy_file) {
        size_t len = strlen(self->text);
        snprintf(self->text + len, sizeof self->text - len, ", busy while %s exists", busy_file);
    }
    return self;
}

/* Every automatic source in order; the error lists each one's reason. */
static ts_idle_t *open_auto(const char *display, const char *busy_file)
{
    char why[2048] = "";
    size_t at = 0;
    for (size_t i = 0; i < N_SOURCES; i++) {
        if (!SOURCES[i]->automatic)
            continue;
        void *state = SOURCES[i]->open(NULL, display);
        if (state)
            return wrap(SOURCES[i], state, busy_file);
        if (at < sizeof why)
            at += (size_t)snprintf(why + at, sizeof why - at, "%s%s: %s", at ? "; " : "", SOURCES[i]->name,
                                   ts_error());
    }
    ts_error_set("no idle source: %s", why);
    return NULL;
}

ts_idle_t *ts_idle_new(const char *source, const char *display, const char *busy_file)
{
    if (busy_file && !busy_file[0])
        busy_file = NULL;
    if (!source || !source[0] || strcmp(source, "auto") == 0)
        return open_auto(display, busy_file);
    const char *colon = strchr(source, ':');
    size_t name_len = colon ? (size_t)(colon - source) : strlen(source);
    const char *arg = colon && colon[1] ? colon + 1 : NULL;
    for (size_t i = 0; i < N_SOURCES; i++) {
        if (strlen(SOURCES[i]->name) != name_len || strncmp(SOURCES[i]->name, source, name_len) != 0)
            continue;
        void *state = SOURCES[i]->open(arg, display);
        if (!state) {
            ts_error_prefix("idle source %s", SOURCES[i]->name);
            return NULL;
        }
        return wrap(SOURCES[i], state, busy_file);
    }
    ts_error_set("idle source '%s': unknown (auto, %s)", source, ts_idle_sources());
    return NULL;
}

void ts_idle_destroy(ts_idle_t **self_p)
{
    ts_idle_t *self = *self_p;
    if (!self)
        return;
    self->source->close(self->state);
    free(self->busy_file);
    free(self);
    *self_p = NULL;
}

const char *ts_idle_describe(const ts_idle_t *self)
{
    return self->text;
}

double ts_idle_seconds(ts_idle_t *self)
{
    /* The source first, every call: the input source drains its devices, and a lost source is reported even while
       the busy file stands. */
    double s = self->source->seconds(self->state);
    if (s < 0)
        return -1;
    if (self->busy_file) {
        if (access(self->busy_file, F_OK) == 0)
            return 0;
        if (errno != ENOENT && errno != ENOTDIR)
            return ts_error_set("busy file %s: %s", self->busy_file, strerror(errno));
    }
    return s;
}

/* ---- self-test ---- */

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static int set_age(const char *path, double age)
{
    double t = ts_clock_wall() - age;
    struct timespec times[2] = {{(time_t)t, 0}, {(time_t)t, 0}};
    return utimensat(AT_FDCWD, path, times, 0);
}

static int touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    return utimensat(AT_FDCWD, path, NULL, 0);
}

static int test_file_and_busy(const char *dir)
{
    int failures = 0;
    char beat[512], busy[512], spec[600];
    snprintf(beat, sizeof beat, "%s/heartbeat", dir);
    snprintf(busy, sizeof busy, "%s/customer-on", dir);
    snprintf(spec, sizeof spec, "file:%s", beat);
    TS_TEST_CHECK(touch(beat) == 0 && set_age(beat, 30) == 0, "heartbeat file: %s", strerror(errno));
    ts_idle_t *idle = ts_idle_new(spec, NULL, busy);
    TS_TEST_CHECK(idle, "file source: %s", ts_error());
    if (!idle)
        return failures;
    TS_TEST_CHECK(strstr(ts_idle_describe(idle), "file ") == ts_idle_describe(idle) &&
                      strstr(ts_idle_describe(idle), "busy while"),
                  "describe: %s", ts_idle_describe(idle));
    double s = ts_idle_seconds(idle);
    TS_TEST_CHECK(s >= 29 && s <= 32, "a heartbeat 30 s old reads %.2f s", s);
    TS_TEST_CHECK(touch(busy) == 0 && ts_idle_seconds(idle) == 0, "the busy file makes it 0");
    unlink(busy);
    s = ts_idle_seconds(idle);
    TS_TEST_CHECK(s >= 29 && s <= 32, "the busy file gone, %.2f s again", s);
    touch(beat);
    s = ts_idle_seconds(idle);
    TS_TEST_CHECK(s >= 0 && s < 2, "touched, %.2f s", s);
    unlink(beat);
    TS_TEST_CHECK(ts_idle_seconds(idle) == -1 && strstr(ts_error(), beat), "a vanished file fails: %s", ts_error());
    ts_idle_destroy(&idle);
    TS_TEST_CHECK(!idle, "destroy clears the pointer");
    return failures;
}

static int test_refusals(void)
{
    int failures = 0;
    TS_TEST_CHECK(strcmp(ts_idle_sources(), "x11, logind, input, file") == 0, "sources: %s", ts_idle_sources());
    TS_TEST_CHECK(!ts_idle_new("screensaver", NULL, NULL) && strstr(ts_error(), "'screensaver': unknown") &&
                      strstr(ts_error(), "x11, logind, input, file"),
                  "an unknown source: %s", ts_error());
    TS_TEST_CHECK(!ts_idle_new("file", NULL, NULL) && strstr(ts_error(), "file:PATH"), "file without a path: %s",
                  ts_error());
    TS_TEST_CHECK(!ts_idle_new("file:/nonexistent/ts-idle", NULL, NULL) && strstr(ts_error(), "/nonexistent/ts-idle"),
                  "file that is not there: %s", ts_error());
    TS_TEST_CHECK(!ts_idle_new("x11", ":9876", NULL) && strstr(ts_error(), "idle source x11: ") &&
                      strstr(ts_error(), ":9876"),
                  "x11 on a display without a server: %s", ts_error());
    /* auto without $DISPLAY: every source's reason, in order (or, on a desktop, logind or input) */
    char *saved = getenv("DISPLAY") ? strdup(getenv("DISPLAY")) : NULL;
    unsetenv("DISPLAY");
    ts_idle_t *idle = ts_idle_new("auto", NULL, NULL);
    if (idle) {
        TS_TEST_CHECK(strncmp(ts_idle_describe(idle), "x11", 3) != 0, "auto without a display: %s",
                      ts_idle_describe(idle));
        ts_idle_destroy(&idle);
    } else {
        const char *e = ts_error(), *x = strstr(e, "x11: $DISPLAY is not set; "), *l = strstr(e, "; logind: "),
                   *i = strstr(e, "; input: ");
        TS_TEST_CHECK(strncmp(e, "no idle source: ", 16) == 0 && x && l && i && x < l && l < i,
                      "auto's error names each source in order: %s", e);
    }
    if (saved)
        setenv("DISPLAY", saved, 1);
    free(saved);
    return failures;
}

static int write_event(int fd, unsigned short type, unsigned short code, int value)
{
    struct input_event ev = {.type = type, .code = code, .value = value};
    struct input_event syn = {.type = EV_SYN, .code = SYN_REPORT};
    return write(fd, &ev, sizeof ev) == (ssize_t)sizeof ev && write(fd, &syn, sizeof syn) == (ssize_t)sizeof syn
               ? 0
               : -1;
}

/* The input source over a FIFO named like an event device: what it drains, and which events count as input. */
static int test_input(const char *dir)
{
    int failures = 0;
    char devdir[512], node[600], spec[600];
    snprintf(devdir, sizeof devdir, "%s/input", dir);
    snprintf(node, sizeof node, "%s/event3", devdir);
    snprintf(spec, sizeof spec, "input:%s", devdir);
    mkdir(devdir, 0755);
    TS_TEST_CHECK(!ts_idle_new(spec, NULL, NULL) && strstr(ts_error(), "no event device"), "empty dir: %s",
                  ts_error());
    TS_TEST_CHECK(mkfifo(node, 0600) == 0, "mkfifo %s: %s", node, strerror(errno));
    ts_idle_t *idle = ts_idle_new(spec, NULL, NULL);
    TS_TEST_CHECK(idle, "input over a FIFO: %s", ts_error());
    if (!idle)
        return failures;
    TS_TEST_CHECK(strstr(ts_idle_describe(idle), "1 event device"), "describe: %s", ts_idle_describe(idle));
    int w = open(node, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    TS_TEST_CHECK(w >= 0, "open %s for writing: %s", node, strerror(errno));
    double s = ts_idle_seconds(idle);
    TS_TEST_CHECK(s >= 0 && s < 1, "just opened: %.3f s", s);
    sleep_s(0.3);
    write_event(w, EV_SW, SW_LID, 1);
    s = ts_idle_seconds(idle);
    TS_TEST_CHECK(s >= 0.25 && s < 2, "a lid switch is not input: %.3f s", s);
    write_event(w, EV_REL, REL_X, 4);
    s = ts_idle_seconds(idle);
    TS_TEST_CHECK(s >= 0 && s < 0.1, "a mouse move is: %.3f s", s);
    sleep_s(0.2);
    write_event(w, EV_KEY, KEY_A, 1);
    s = ts_idle_seconds(idle);
    TS_TEST_CHECK(s >= 0 && s < 0.1, "so is a key: %.3f s", s);
    if (w >= 0)
        close(w);
    s = ts_idle_seconds(idle);
    TS_TEST_CHECK(s >= 0 && s < 1, "a device with no writer is quiet, not an error: %.3f (%s)", s, ts_error());
    ts_idle_destroy(&idle);
    unlink(node);
    rmdir(devdir);
    return failures;
}

/* The path of prog in $PATH, or "" when it is not there. */
static void which(const char *prog, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    out[0] = 0;
    while (path && *path) {
        size_t len = strcspn(path, ":");
        snprintf(out, cap, "%.*s/%s", (int)len, path, prog);
        if (len && access(out, X_OK) == 0)
            return;
        path += len + (path[len] == ':');
    }
    out[0] = 0;
}

/* An Xvfb on a free display (-displayfd); its pid, or -1. */
static pid_t start_xvfb(const char *xvfb, char *display, size_t cap)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        dup2(p[1], 3);
        execl(xvfb, "Xvfb", "-displayfd", "3", "-screen", "0", "64x64x24", "-nolisten", "tcp", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char num[16] = "";   /* "N\n", maybe in pieces: closing the pipe before the newline is fatal to Xvfb */
    size_t n = 0;
    while (pid > 0 && n < sizeof num - 1 && !strchr(num, '\n')) {
        ssize_t got = read(p[0], num + n, sizeof num - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(p[0]);
    if (!strchr(num, '\n')) {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return -1;
    }
    snprintf(display, cap, ":%d", atoi(num));
    return pid;
}

/* The x11 source against a real server: it reads, survives the server stopping (no hang) and going away (no
   exit). */
static int test_x11(bool verbose)
{
    int failures = 0;
    char xvfb[512], display[32];
    which("Xvfb", xvfb, sizeof xvfb);
    if (!xvfb[0]) {
        if (verbose)
            printf("idle: no Xvfb in $PATH, x11 checked against a missing server only\n");
        return 0;
    }
    pid_t pid = start_xvfb(xvfb, display, sizeof display);
    TS_TEST_CHECK(pid > 0, "Xvfb did not start");
    if (pid <= 0)
        return failures;
    ts_idle_t *idle = ts_idle_new("x11", display, NULL);
    TS_TEST_CHECK(idle, "x11 on %s: %s", display, ts_error());
    if (idle) {
        TS_TEST_CHECK(strstr(ts_idle_describe(idle), display), "describe: %s", ts_idle_describe(idle));
        double s = ts_idle_seconds(idle);
        TS_TEST_CHECK(s >= 0 && s < 60, "a new server's idle time: %.3f (%s)", s, ts_error());
        kill(pid, SIGSTOP);
        double t0 = ts_clock_mono();
        s = ts_idle_seconds(idle);
        double took = ts_clock_mono() - t0;
        TS_TEST_CHECK(s == -1 && took < TS_IDLE_WAIT_S + 0.5 && strstr(ts_error(), "did not answer"),
                      "a stopped server: %.3f after %.3f s (%s)", s, took, ts_error());
        kill(pid, SIGCONT);
        s = ts_idle_seconds(idle);
        TS_TEST_CHECK(s >= 0, "answers again once it runs: %.3f (%s)", s, ts_error());
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        pid = -1;
        s = ts_idle_seconds(idle);
        TS_TEST_CHECK(s == -1 && strstr(ts_error(), "lost"), "the server gone: %.3f (%s)", s, ts_error());
        TS_TEST_CHECK(ts_idle_seconds(idle) == -1, "and it stays failed");
        if (verbose)
            printf("idle: x11 on %s: %s\n", display, ts_error());
        ts_idle_destroy(&idle);
    }
    if (pid > 0) {
        kill(pid, SIGCONT);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return failures;
}

int ts_idle_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts_idle_testXXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "idle: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    failures += test_file_and_busy(dir);
    failures += test_refusals();
    failures += test_input(dir);
    failures += test_x11(verbose);
    rmdir(dir);
    return failures;
}
