/* ts_sandbox: the box every renderer and encoder runs in (bubblewrap): no network, no view of the slave's files.
   DESIGN: a scene is a stranger's file and Blender's reader is large, so the renderer is treated as hostile. The box
   (bwrap, from Debian) has namespaces of its own for everything (network: no host loopback, no LAN; pid; ipc; uts;
   user, with further user namespaces disabled), no capabilities, a new session (no terminal injection), and dies
   with the slave. It sees: /usr and the usual merged-/usr links read-only, the few /etc files a program loads
   with (the linker cache, alternatives, fonts, time zone, passwd/group: no shadow, no keys), a private /proc, a
   minimal /dev, a private /tmp as HOME, the renderer's own folder and the worker script's read-only, the running
   task's inputs read-only and one writable output folder, each at its own path, so no path needs translating.
   Nothing else of the slave's work folder (identity key, cache index, other jobs' inputs), no home folders, no
   other users' files. The environment is cleared (a token in the owner's shell stays out). GPUs named by the
   owner come in as their device nodes, with /sys read-only for their drivers. */
#include "slave/ts_sandbox.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARGS_MAX 160
#define CHECK_ERR_MAX 512

struct ts_sandbox {
    char *args[ARGS_MAX]; /* bwrap and its options, up to (not including) "--" */
    int nargs;
};

/* /etc files a dynamically linked program, Python and fontconfig load; nothing secret (no shadow, ssl, ssh). */
static const char *const ETC[] = {"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime",
                                  "passwd", "group", "nsswitch.conf", "os-release", "vulkan", "OpenCL", "glvnd",
                                  NULL};
/* top-level folders that are links into /usr on a merged-/usr system, or folders of their own on others */
static const char *const USR_LINKS[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", NULL};

static int add(ts_sandbox_t *self, const char *arg)
{
    if (self->nargs >= ARGS_MAX - 1)
        return ts_error_set("sandbox: too many arguments");
    if (!(self->args[self->nargs] = strdup(arg)))
        return ts_error_set("sandbox: out of memory");
    self->nargs++;
    return 0;
}

static int add3(ts_sandbox_t *self, const char *opt, const char *a, const char *b)
{
    return add(self, opt) < 0 || add(self, a) < 0 || (b && add(self, b) < 0) ? -1 : 0;
}

/* Whether path is dir or lies below it (both resolved). */
static bool is_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* The folder holding file shown read-only; or the file alone when the work folder lies within that folder (a
   wrapper script kept beside the slave's work folder), or when the folder is / itself. */
static int show_program(ts_sandbox_t *self, const char *file, const char *work_real)
{
    char real[PATH_MAX], dir[PATH_MAX];
    if (!realpath(file, real))
        return ts_error_set("sandbox: %s: %s", file, strerror(errno));
    snprintf(dir, sizeof dir, "%s", real);
    dirname(dir);
    if (is_within(dir, "/usr"))
        return 0; /* shown already */
    const char *shown = is_within(work_real, dir) || strcmp(dir, "/") == 0 ? real : dir;
    return add3(self, "--ro-bind", shown, shown);
}

ts_sandbox_t *ts_sandbox_new(const ts_sandbox_options_t *o)
{
    ts_sandbox_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("sandbox: out of memory");
        return NULL;
    }
    char work[PATH_MAX], path[PATH_MAX], link[PATH_MAX];
    int rc = realpath(o->work, work) ? 0 : ts_error_set("sandbox: --work %s: %s", o->work, strerror(errno));
    rc = rc < 0 ? rc : add(self, o->bwrap ? o->bwrap : "bwrap");
    static const char *const FIXED[] = {"--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                                        "--new-session", "--cap-drop", "ALL", "--clearenv", "--ro-bind", "/usr",
                                        "/usr", NULL};
    for (int i = 0; rc == 0 && FIXED[i]; i++)
        rc = add(self, FIXED[i]);
    for (int i = 0; rc == 0 && USR_LINKS[i]; i++) {
        snprintf(path, sizeof path, "/%s", USR_LINKS[i]);
        ssize_t n = readlink(path, link, sizeof link - 1);
        struct stat st;
        if (n > 0) {
            link[n] = '\0';
            rc = add3(self, "--symlink", link, path);
        } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = add3(self, "--ro-bind", path, path);
        }
    }
    for (int i = 0; rc == 0 && ETC[i]; i++) {
        snprintf(path, sizeof path, "/etc/%s", ETC[i]);
        rc = add3(self, "--ro-bind-try", path, path);
    }
    rc = rc < 0 ? rc : add3(self, "--symlink", "../proc/self/mounts", "/etc/mtab");
    rc = rc < 0 ? rc : add3(self, "--proc", "/proc", NULL);
    rc = rc < 0 ? rc : add3(self, "--dev", "/dev", NULL);
    rc = rc < 0 ? rc : add3(self, "--tmpfs", "/tmp", NULL);
    if (rc == 0 && o->exe)
        rc = show_program(self, o->exe, work);
    if (rc == 0 && o->script)
        rc = show_program(self, o->script, work);
    if (rc == 0 && o->helper)
        rc = realpath(o->helper, path) ? (is_within(path, "/usr") ? 0 : add3(self, "--ro-bind", path, path))
                                       : ts_error_set("sandbox: %s: %s", o->helper, strerror(errno));
    if (rc == 0 && o->inputs)
        rc = realpath(o->inputs, path) ? add3(self, "--ro-bind", path, path)
                                       : ts_error_set("sandbox: inputs %s: %s", o->inputs, strerror(errno));
    if (rc == 0 && o->out)
        rc = realpath(o->out, path) ? add3(self, "--bind", path, path)
                                    : ts_error_set("sandbox: out %s: %s", o->out, strerror(errno));
    for (int i = 0; rc == 0 && i < TS_SANDBOX_DEVICES_MAX && o->devices[i]; i++)
        rc = add3(self, "--dev-bind", o->devices[i], o->devices[i]);
    if (rc == 0 && o->devices[0])
        rc = add3(self, "--ro-bind", "/sys", "/sys"); /* GPU drivers read their devices' PCI facts there */
    static const char *const ENV[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8", NULL};
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        const char *const *env = pass == 0 ? ENV : o->env;
        for (int i = 0; rc == 0 && i < TS_SANDBOX_ENV_MAX && env[i]; i++) {
            const char *eq = strchr(env[i], '=');
            if (!eq) {
                rc = ts_error_set("sandbox: environment entry '%s' has no '='", env[i]);
                break;
            }
            snprintf(path, sizeof path, "%.*s", (int)(eq - env[i]), env[i]);
            rc = add3(self, "--setenv", path, eq + 1);
        }
    }
    rc = rc < 0 ? rc : add3(self, "--chdir", "/tmp", NULL);
    if (rc < 0) {
        ts_sandbox_destroy(&self);
        return NULL;
    }
    return self;
}

void ts_sandbox_destroy(ts_sandbox_t **self_p)
{
    ts_sandbox_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->nargs; i++)
        free(self->args[i]);
    free(self);
    *self_p = NULL;
}

const char *ts_sandbox_kind(const ts_sandbox_t *self)
{
    return self ? "bwrap" : "none";
}

char **ts_sandbox_argv(const ts_sandbox_t *self, char *const argv[])
{
    int n = 0;
    while (argv[n])
        n++;
    int pre = self ? self->nargs + 1 : 0;
    char **out = calloc((size_t)(pre + n + 1), sizeof *out);
    if (!out) {
        ts_error_set("sandbox: out of memory");
        return NULL;
    }
    for (int i = 0; self && i < self->nargs; i++)
        out[i] = self->args[i];
    if (self)
        out[self->nargs] = "--";
    for (int i = 0; i < n; i++)
        out[pre + i] = argv[i];
    return out;
}

void ts_sandbox_argv_free(char **argv)
{
    free(argv); /* the strings belong to the sandbox and the caller */
}

int ts_sandbox_check(const ts_sandbox_t *self)
{
    char *const cmd[] = {"/bin/true", NULL};
    char **argv = ts_sandbox_argv(self, cmd);
    int err[2];
    if (!argv || pipe2(err, O_CLOEXEC) != 0) {
        ts_sandbox_argv_free(argv);
        return ts_error_set("sandbox: cannot start its check: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(err[1], 2);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        execvp(argv[0], argv);
        _exit(errno == ENOENT ? 126 : 127);
    }
    ts_sandbox_argv_free(argv);
    close(err[1]);
    char why[CHECK_ERR_MAX] = "";
    size_t len = 0;
    ssize_t r;
    while (pid > 0 && len < sizeof why - 1 && (r = read(err[0], why + len, sizeof why - 1 - len)) > 0)
        len += (size_t)r;
    why[len] = '\0';
    close(err[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return ts_error_set("sandbox: cannot start its check: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char *nl = strchr(why, '\n');
    if (nl)
        *nl = '\0';
    if (WIFEXITED(status) && WEXITSTATUS(status) == 126 && !why[0])
        return ts_error_set("the renderers' sandbox needs bubblewrap, and %s was not found (apt-get install "
                            "bubblewrap); --no-sandbox runs renderers unconfined, which is unsafe",
                            self->args[0]);
    return ts_error_set("the renderers' sandbox cannot start on this machine: %s (are user namespaces off? see sysctl "
                        "kernel.unprivileged_userns_clone and user.max_user_namespaces); --no-sandbox runs renderers "
                        "unconfined, which is unsafe",
                        why[0] ? why : "bwrap failed without a word");
}

/* ---- self-test: the arguments, and the box itself where bwrap runs here */

static bool has_pair(const ts_sandbox_t *s, const char *opt, const char *arg)
{
    for (int i = 0; i + 1 < s->nargs; i++)
        if (strcmp(s->args[i], opt) == 0 && strcmp(s->args[i + 1], arg) == 0)
            return true;
    return false;
}

static bool mentions(const ts_sandbox_t *s, const char *arg)
{
    for (int i = 0; i < s->nargs; i++)
        if (strstr(s->args[i], arg))
            return true;
    return false;
}

int ts_sandbox_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts_sandbox_test.XXXXXX";
    if (!mkdtemp(dir)) {
        TS_TEST_CHECK(false, "mkdtemp: %s", strerror(errno));
        return failures;
    }
    char work[PATH_MAX], in[PATH_MAX], out[PATH_MAX], wrap[PATH_MAX], key[PATH_MAX];
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(in, sizeof in, "%s/inputs", work);
    snprintf(out, sizeof out, "%s/out", work);
    snprintf(wrap, sizeof wrap, "%s/blender-wrap", dir);
    snprintf(key, sizeof key, "%s/identity.key", work);
    mkdir(work, 0700);
    mkdir(in, 0755);
    mkdir(out, 0755);
    FILE *f = fopen(wrap, "w");
    if (f) {
        fputs("#!/bin/sh\nexec /bin/true\n", f);
        fclose(f);
    }
    chmod(wrap, 0755);
    f = fopen(key, "w");
    if (f) {
        fputs("secret\n", f);
        fclose(f);
    }
    ts_sandbox_options_t o = {.work = work, .inputs = in, .out = out, .exe = wrap, .env = {"TS_X=1"}};
    ts_sandbox_t *s = ts_sandbox_new(&o);
    TS_TEST_CHECK(s != NULL, "a sandbox is made: %s", ts_error());
    if (s) {
        TS_TEST_CHECK(has_pair(s, "--ro-bind", in) && has_pair(s, "--bind", out), "inputs read-only, out writable");
        TS_TEST_CHECK(has_pair(s, "--ro-bind", wrap) && !has_pair(s, "--ro-bind", dir),
                      "a wrapper beside the work folder is shown alone, not its folder");
        TS_TEST_CHECK(!mentions(s, "identity.key") && !has_pair(s, "--ro-bind", work) && !has_pair(s, "--bind", work),
                      "the work folder itself is not shown");
        TS_TEST_CHECK(has_pair(s, "--setenv", "TS_X") && mentions(s, "--clearenv") && mentions(s, "--unshare-all"),
                      "environment cleared and set; every namespace unshared");
        TS_TEST_CHECK(!mentions(s, "/sys"), "no /sys without GPUs");
        char *const cmd[] = {"/bin/cat", key, NULL};
        char **argv = ts_sandbox_argv(s, cmd);
        int n = 0;
        while (argv && argv[n])
            n++;
        TS_TEST_CHECK(argv && n == s->nargs + 3 && strcmp(argv[s->nargs], "--") == 0 && argv[n - 1] == key,
                      "the command follows '--'");
        ts_sandbox_argv_free(argv);
        if (ts_sandbox_check(s) == 0) { /* bwrap runs here: the key is out of sight inside */
            argv = ts_sandbox_argv(s, cmd);
            pid_t pid = fork();
            if (pid == 0) {
                int devnull = open("/dev/null", O_RDWR);
                dup2(devnull, 1);
                dup2(devnull, 2);
                execvp(argv[0], argv);
                _exit(127);
            }
            int status = 0;
            waitpid(pid, &status, 0);
            TS_TEST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0, "the identity key cannot be read inside");
            ts_sandbox_argv_free(argv);
        } else if (verbose) {
            printf("  (bwrap does not run here: %s)\n", ts_error());
        }
        ts_sandbox_destroy(&s);
    }
    o.bwrap = "/nonexistent/bwrap";
    s = ts_sandbox_new(&o);
    TS_TEST_CHECK(s && ts_sandbox_check(s) < 0 && strstr(ts_error(), "bubblewrap") && strstr(ts_error(), "--no-sandbox"),
                  "a missing bwrap is named, with --no-sandbox: %s", ts_error());
    ts_sandbox_destroy(&s);
    o.inputs = "/nonexistent/inputs";
    o.bwrap = NULL;
    TS_TEST_CHECK(!ts_sandbox_new(&o) && strstr(ts_error(), "/nonexistent/inputs"), "a missing folder is named: %s",
                  ts_error());
    char *const plain[] = {"/bin/true", NULL};
    char **argv = ts_sandbox_argv(NULL, plain);
    TS_TEST_CHECK(argv && argv[0] == plain[0] && !argv[1], "--no-sandbox runs the command as it is");
    ts_sandbox_argv_free(argv);
    TS_TEST_CHECK(strcmp(ts_sandbox_kind(NULL), "none") == 0, "no sandbox is named none");
    ts_test_remove_dir(dir);
    return failures;
}
