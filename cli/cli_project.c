/* cli_project: a scene's project listed by the artist's Blender, named under one root, and put in the request. */
#include "cli/cli_project_impl.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_manifest.h"
#include "tests/ts_test.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEPS_SCRIPT "tessera-deps.py"     /* beside the tessera program */
#define DEPS_LIST "deps.json"             /* what the script writes, in a scratch folder */
#define DEPS_LOG "blender.log"            /* Blender's output, in the same folder */
#define DEPS_PY_FAILED 3                  /* Blender's exit status when the script raises */
#define DEPS_LIST_MAX (64L << 20)         /* largest list read */
#define DEPS_REFS_MAX (8 * TS_REQUEST_INPUTS_MAX) /* references listed (one file may be referenced many times) */
#define DEPS_KIND_MAX 32
#define DEPS_LOG_TAIL 12                  /* lines of Blender's output shown when it fails */
#define DEPS_LOG_TAIL_BYTES 4096
#define EXEC_FAILED 127

/* ---- paths, root and names (pure) ---- */

bool cli_project_inside(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return true;
    return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* root becomes the deepest folder holding both itself and file's folder. */
static void widen(char *root, const char *file)
{
    size_t dir = (size_t)(strrchr(file, '/') - file), rlen = strlen(root), i = 0;
    while (i < rlen && i < dir && root[i] == file[i])
        i++;
    bool boundary = (i == rlen || root[i] == '/') && (i == dir || file[i] == '/');
    if (!boundary)
        while (i > 0 && root[i] != '/')
            i--;
    if (i == 0)
        i = 1; /* "/" */
    root[i] = '\0';
}

int cli_project_root(const char *main, const cli_project_ref_t *refs, size_t count, char *root, size_t cap)
{
    const char *slash = strrchr(main, '/');
    size_t n = slash && slash > main ? (size_t)(slash - main) : 1;
    if (main[0] != '/' || n >= cap)
        return ts_error_set("%s: a scene's folder is an absolute path of at most %zu bytes", main, cap - 1);
    memcpy(root, main, n);
    root[n] = '\0';
    for (bool changed = true; changed;) { /* each change shortens the root: at most its depth of rounds */
        changed = false;
        for (size_t i = 0; i < count; i++) {
            if (!refs[i].relative)
                continue;
            bool holder = cli_project_inside(root, refs[i].holder), file = cli_project_inside(root, refs[i].path);
            if (holder != file) {
                widen(root, holder ? refs[i].path : refs[i].holder);
                changed = true;
            }
        }
    }
    return 0;
}

int cli_project_name(const char *root, const char *path, char *name, size_t cap)
{
    int n;
    if (cli_project_inside(root, path) && strcmp(root, path) != 0) {
        const char *under = path + (strcmp(root, "/") == 0 ? 1 : strlen(root) + 1);
        size_t first = strcspn(under, "/");
        if (first == strlen(TS_MANIFEST_OUTSIDE) && strncmp(under, TS_MANIFEST_OUTSIDE, first) == 0)
            return ts_error_set("%s: inside the project folder %s, it is under a folder named '%s', a name tessera "
                                "keeps for the files from outside the project: rename that folder", path, root,
                                TS_MANIFEST_OUTSIDE);
        n = snprintf(name, cap, "%s", under);
    } else
        n = snprintf(name, cap, "%s%s", TS_MANIFEST_OUTSIDE, path);
    if (n < 0 || (size_t)n >= cap)
        return ts_error_set("%s: its name in the job would be longer than %d bytes", path,
                            TS_REQUEST_INPUT_NAME_CAP - 1);
    if (ts_request_input_name_check(name) < 0)
        return ts_error_prefix("%s: cannot be named in the job", path);
    return 0;
}

/* How a path is shown to the artist: under the root as its name there, else as it is. */
const char *cli_project_shown(const cli_project_t *self, const char *path)
{
    if (!cli_project_inside(self->root, path) || strcmp(self->root, path) == 0)
        return path;
    return path + (strcmp(self->root, "/") == 0 ? 1 : strlen(self->root) + 1);
}

/* ---- the list (outside input) ---- */

/* A string member: present, without NUL bytes, 1..max bytes (0..max when may_be_empty). */
static const char *member_string(json_t *o, const char *key, size_t max, bool may_be_empty)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v) || strlen(s) > max || (!may_be_empty && !*s))
        return NULL;
    return s;
}

static const char *member_path(json_t *o, const char *key)
{
    const char *s = member_string(o, key, CLI_PROJECT_PATH_MAX, false);
    return s && ts_manifest_root_check(s) == 0 ? s : NULL; /* the project root's rule: absolute and normal */
}

static int parse_ref(json_t *e, size_t i, cli_project_ref_t *r)
{
    if (!json_is_object(e))
        return ts_error_set("file %zu is not an object", i + 1);
    json_t *relative = json_object_get(e, "relative"), *exists = json_object_get(e, "exists");
    r->path = member_path(e, "path");
    r->holder = member_path(e, "holder");
    r->ref = member_string(e, "ref", CLI_PROJECT_PATH_MAX, true);
    r->kind = member_string(e, "kind", DEPS_KIND_MAX, false);
    if (!r->path || !r->holder)
        return ts_error_set("file %zu: '%s' must be an absolute, normal path of at most %d bytes without control "
                            "characters", i + 1,
                            r->path ? "holder" : "path", CLI_PROJECT_PATH_MAX);
    if (!r->ref || !r->kind)
        return ts_error_set("file %zu (%s): '%s' must be a string of at most %d bytes", i + 1, r->path,
                            r->ref ? "kind" : "ref", r->ref ? DEPS_KIND_MAX : CLI_PROJECT_PATH_MAX);
    for (const char *k = r->kind; *k; k++)
        if ((unsigned char)*k < ' ' || *k == 0x7f)
            return ts_error_set("file %zu (%s): 'kind' holds a control character", i + 1, r->path);
    if (!json_is_boolean(relative) || !json_is_boolean(exists))
        return ts_error_set("file %zu (%s): '%s' must be true or false", i + 1, r->path,
                            json_is_boolean(relative) ? "exists" : "relative");
    r->relative = json_is_true(relative);
    r->exists = json_is_true(exists);
    return 0;
}

/* Digits separated by single dots: "3.4.1". */
static bool version_ok(const char *v)
{
    bool ok = *v >= '0' && *v <= '9';
    for (const char *p = v; ok && *p; p++)
        ok = (*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9');
    return ok;
}

static int parse_list(cli_project_t *self)
{
    json_t *o = self->list, *files = json_object_get(o, "files");
    const char *blender = member_string(o, "blender", DEPS_VERSION_CAP - 1, false);
    if (!json_is_object(o))
        return ts_error_set("not a JSON object");
    if (!blender || !version_ok(blender))
        return ts_error_set("'blender' must be a version such as 3.6.2");
    snprintf(self->blender, sizeof self->blender, "%s", blender);
    if (!(self->main = member_path(o, "main")))
        return ts_error_set("'main' must be an absolute, normal path of at most %d bytes without control characters",
                            CLI_PROJECT_PATH_MAX);
    if (!json_is_array(files) || json_array_size(files) > DEPS_REFS_MAX)
        return ts_error_set("'files' must be a list of at most %d files", DEPS_REFS_MAX);
    self->nrefs = json_array_size(files);
    if (self->nrefs && !(self->refs = calloc(self->nrefs, sizeof *self->refs)))
        return ts_error_set("out of memory");
    for (size_t i = 0; i < self->nrefs; i++)
        if (parse_ref(json_array_get(files, i), i, &self->refs[i]) < 0)
            return -1;
    return 0;
}

/* By path, then by how it is referenced (so that the reference shown for a file is always the same one). */
static int by_path(const void *a, const void *b)
{
    const file_t *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c == 0)
        c = strcmp(x->ref->holder, y->ref->holder);
    return c ? c : strcmp(x->ref->ref, y->ref->ref);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const file_t *)a)->name, ((const file_t *)b)->name);
}

/* One file per path (the scene first among equals: it sorts before its references), each named; sorted by name. */
static int collect_files(cli_project_t *self)
{
    file_t *all = calloc(self->nrefs + 1, sizeof *all);
    if (!all)
        return ts_error_set("out of memory");
    all[0].path = self->main;
    for (size_t i = 0; i < self->nrefs; i++)
        all[i + 1] = (file_t){.path = self->refs[i].path, .ref = &self->refs[i], .missing = !self->refs[i].exists};
    qsort(all + 1, self->nrefs, sizeof *all, by_path); /* the scene stays first */
    size_t n = 0;
    for (size_t i = 0; i <= self->nrefs; i++) {
        file_t *same = NULL;
        if (i > 0 && strcmp(all[i].path, self->main) == 0)
            same = &all[0];
        else if (n > 1 && strcmp(all[n - 1].path, all[i].path) == 0)
            same = &all[n - 1];
        if (same)
            same->missing = same->missing || (same->ref && all[i].missing);
        else
            all[n++] = all[i];
    }
    self->files = all;
    self->count = n;
    if (n > TS_REQUEST_INPUTS_MAX)
        return ts_error_set("the scene needs %zu files; a job takes at most %d", n, TS_REQUEST_INPUTS_MAX);
    for (size_t i = 0; i < n; i++)
        if (cli_project_name(self->root, all[i].path, all[i].name, sizeof all[i].name) < 0)
            return -1;
    qsort(all, n, sizeof *all, by_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(all[i - 1].name, all[i].name) == 0)
            return ts_error_set("%s and %s would both be named '%s' in the job", all[i - 1].path, all[i].path,
                                all[i].name);
    return 0;
}

cli_project_t *cli_project_parse(const char *text, size_t len, const char *source)
{
    cli_project_t *self = calloc(1, sizeof *self);
    json_error_t jerr;
    int rc = self ? 0 : ts_error_set("out of memory");
    if (rc == 0 && !(self->list = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
        rc = ts_error_set("line %d: %s", jerr.line, jerr.text);
    if (rc == 0)
        rc = parse_list(self);
    if (rc == 0)
        rc = cli_project_root(self->main, self->refs, self->nrefs, self->root, sizeof self->root);
    if (rc == 0)
        rc = ts_manifest_root_check(self->root);
    if (rc == 0)
        rc = collect_files(self);
    if (rc < 0) {
        cli_fail(CLI_EXIT_USAGE, "%s: %s", source, ts_error());
        cli_project_destroy(&self);
    }
    return self;
}

void cli_project_destroy(cli_project_t **self_p)
{
    cli_project_t *self = *self_p;
    if (!self)
        return;
    json_decref(self->list);
    free(self->refs);
    free(self->files);
    free(self);
    *self_p = NULL;
}

const char *cli_project_blender(const cli_project_t *self)
{
    return self->blender;
}

const json_t *cli_project_facts(const cli_project_t *self)
{
    const json_t *facts = json_object_get(self->list, "scene");
    return json_is_object(facts) ? facts : NULL;
}

const cli_project_ref_t *cli_project_refs(const cli_project_t *self, size_t *count)
{
    *count = self->nrefs;
    return self->refs;
}

void cli_project_series(const cli_project_t *self, char *series, size_t cap)
{
    const char *dot = strchr(self->blender, '.');
    dot = dot ? strchr(dot + 1, '.') : NULL;
    int n = dot ? (int)(dot - self->blender) : (int)strlen(self->blender);
    snprintf(series, cap, "%.*s", n, self->blender);
}

/* ---- discovery: the artist's Blender runs tessera-deps.py ---- */

/* tessera-deps.py beside the running program. */
static int find_script(char *script, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        return cli_fail(CLI_EXIT_USAGE, "cannot find the tessera program (/proc/self/exe): %s", strerror(errno));
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(script, cap, "%s/%s", exe, DEPS_SCRIPT);
    if (access(script, R_OK) < 0)
        return cli_fail(CLI_EXIT_USAGE, "%s: %s (it belongs beside the tessera program: reinstall tessera)", script,
                        strerror(errno));
    return 0;
}

/* The last lines of Blender's output, to stderr. */
static void show_log_tail(const char *log)
{
    char buf[DEPS_LOG_TAIL_BYTES + 1];
    int fd = open(log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    ssize_t n = pread(fd, buf, DEPS_LOG_TAIL_BYTES, end > DEPS_LOG_TAIL_BYTES ? end - DEPS_LOG_TAIL_BYTES : 0);
    close(fd);
    size_t stop = n > 0 ? (size_t)n : 0, start;
    while (stop > 0 && buf[stop - 1] == '\n')
        stop--;
    buf[stop] = '\0';
    int lines = 0;
    for (start = stop; start > 0; start--)
        if (buf[start - 1] == '\n' && ++lines == DEPS_LOG_TAIL)
            break;
    if (stop == 0)
        return;
    fprintf(stderr, "%s: Blender's last lines:\n", CLI_PROG);
    for (const char *line = buf + start; *line;) {
        size_t len = strcspn(line, "\n");
        fprintf(stderr, "  | %.*s\n", (int)len, line);
        line += len + (line[len] == '\n');
    }
}

/* Runs BLENDER -b ... SCENE --python SCRIPT -- LIST with its output into log: 0, or -1 with what happened. */
static int run_blender(const char *blender, const char *scene, const char *script, const char *list, const char *log,
                       bool *started)
{
    int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), report[2];
    if (logfd < 0 || pipe2(report, O_CLOEXEC) < 0) {
        int e = errno;
        if (logfd >= 0)
            close(logfd);
        return ts_error_set("%s: %s", log, strerror(e));
    }
    char *argv[] = {(char *)blender, "-b", "--factory-startup", "-noaudio", "-Y", "--python-exit-code",
                    TS_REQUEST_TEXT(DEPS_PY_FAILED), (char *)scene, "--python", (char *)script, "--", (char *)list, NULL};
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* Blender ends with an interrupted tessera */
        if (getppid() != parent)
            _exit(EXEC_FAILED);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, STDIN_FILENO);
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        execvp(blender, argv);
        int e = errno;
        ssize_t w = write(report[1], &e, sizeof e); /* the parent tells "cannot run" from Blender's own failures */
        (void)w;
        _exit(EXEC_FAILED);
    }
    int fork_errno = errno;
    close(logfd);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        return ts_error_set("fork: %s", strerror(fork_errno));
    }
    int exec_errno = 0, status = 0;
    ssize_t got;
    while ((got = read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
    }
    close(report[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got == (ssize_t)sizeof exec_errno)
        return ts_error_set("cannot run it: %s (name your Blender with --blender PATH or $TESSERA_BLENDER)",
                            strerror(exec_errno));
    *started = true;
    if (WIFSIGNALED(status))
        return ts_error_set("it was killed by signal %d", WTERMSIG(status));
    if (WEXITSTATUS(status) == DEPS_PY_FAILED)
        return ts_error_set("%s failed in it (exit status %d)", DEPS_SCRIPT, DEPS_PY_FAILED);
    if (WEXITSTATUS(status) != 0)
        return ts_error_set("it exited with status %d", WEXITSTATUS(status));
    return 0;
}

/* The master's test of a scene, made here so that Blender is not started on something else. */
static int check_blend(const char *scene)
{
    return ts_file_is_blend(scene) ? 0 : cli_fail(CLI_EXIT_USAGE, "%s: not a .blend file (no BLENDER header)", scene);
}

cli_project_t *cli_project_discover(const char *scene, const char *blender)
{
    char script[PATH_MAX], abs[PATH_MAX], cwd[PATH_MAX];
    if (check_blend(scene) < 0 || find_script(script, sizeof script) < 0)
        return NULL;
    if (scene[0] != '/' && !getcwd(cwd, sizeof cwd)) {
        cli_fail(CLI_EXIT_USAGE, "%s: the current folder: %s", scene, strerror(errno));
        return NULL;
    }
    if ((size_t)snprintf(abs, sizeof abs, "%s%s%s", scene[0] == '/' ? "" : cwd, scene[0] == '/' ? "" : "/", scene) >=
        sizeof abs) {
        cli_fail(CLI_EXIT_USAGE, "%s: the path is too long", scene);
        return NULL;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX], list[PATH_MAX + sizeof DEPS_LIST], log[PATH_MAX + sizeof DEPS_LOG];
    snprintf(dir, sizeof dir, "%s/tessera-deps.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        cli_fail(CLI_EXIT_USAGE, "%s: cannot make a scratch folder: %s", dir, strerror(errno));
        return NULL;
    }
    snprintf(list, sizeof list, "%s/%s", dir, DEPS_LIST);
    snprintf(log, sizeof log, "%s/%s", dir, DEPS_LOG);
    bool started = false, keep = false;
    cli_project_t *self = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    if (run_blender(blender, abs, script, list, log, &started) < 0) {
        if (started)
            show_log_tail(log);
        cli_fail(CLI_EXIT_USAGE, "Blender '%s' could not list the files of %s: %s", blender, scene, ts_error());
    } else if (ts_file_read(list, DEPS_LIST_MAX, 0, &text, &len) < 0) {
        show_log_tail(log);
        cli_fail(CLI_EXIT_USAGE, "%s wrote no list of the files of %s: %s", DEPS_SCRIPT, scene, ts_error());
    } else {
        self = cli_project_parse((const char *)text, len, list);
        keep = !self; /* the message names the list: it stays for a look, with Blender's output beside it */
    }
    free(text);
    if (!keep)
        ts_file_remove_dir(dir);
    return self;
}

/* ---- the request ---- */

int cli_project_request(const cli_project_t *self, json_t *request)
{
    json_t *inputs = json_array(), *missing = self->nmissing ? json_array() : NULL;
    const file_t *scene = NULL;
    for (size_t i = 0; i < self->count; i++) {
        const file_t *f = &self->files[i];
        if (!f->ref)
            scene = f;
        if (f->missing)
            json_array_append_new(missing, json_string(f->path));
        else
            json_array_append_new(inputs, json_pack("{s:s,s:s,s:I}", "name", f->name, "hash", f->hash, "size",
                                                    (json_int_t)f->size));
    }
    json_object_set_new(request, "scene", json_string(scene->hash));
    json_object_set_new(request, "scene_name", json_string(scene->name));
    json_object_set_new(request, "inputs", inputs);
    json_object_set_new(request, "project_root", json_string(self->root));
    if (missing)
        json_object_set_new(request, "missing", missing);
    if (json_array_size(inputs) + json_array_size(missing) != self->count || !json_object_get(request, "scene_name"))
        return cli_fail(CLI_EXIT_USAGE, "%s: cannot build the request (are the file names valid UTF-8?)", self->main);
    return 0;
}

/* ---- self-test ---- */

#define REF(p, h, rel) {.path = (p), .holder = (h), .ref = "", .kind = "image", .relative = (rel), .exists = true}

static int root_is(const char *main, const cli_project_ref_t *refs, size_t n, const char *want)
{
    char root[TS_MANIFEST_ROOT_CAP];
    if (cli_project_root(main, refs, n, root, sizeof root) < 0 || strcmp(root, want) != 0) {
        fprintf(stderr, "ts_cli_project: root of %s: got '%s', wanted '%s'\n", main, root, want);
        return 1;
    }
    return 0;
}

static int name_is(const char *root, const char *path, const char *want)
{
    char name[TS_REQUEST_INPUT_NAME_CAP] = "";
    int rc = cli_project_name(root, path, name, sizeof name);
    if (want ? rc < 0 || strcmp(name, want) != 0 : rc == 0 || !strstr(ts_error(), path)) {
        fprintf(stderr, "ts_cli_project: name of %s under %s: got '%s' (%s), wanted '%s'\n", path, root, name,
                rc < 0 ? ts_error() : "ok", want ? want : "an error naming the file");
        return 1;
    }
    return 0;
}

/* A list parsed: "" when it is refused, else the root and the names in order, "root: a b c". */
static void parse_text(const char *text, char *out, size_t cap)
{
    cli_project_t *p = cli_project_parse(text, strlen(text), "deps.json");
    if (!p) {
        snprintf(out, cap, "! %s", ts_error());
        return;
    }
    int n = snprintf(out, cap, "%s:", p->root);
    for (size_t i = 0; i < p->count && n > 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, " %s%s", p->files[i].name, p->files[i].missing ? "?" : "");
    cli_project_destroy(&p);
}

#define LIST(files) "{\"blender\":\"3.4.1\",\"main\":\"/home/a/proj/shot.blend\",\"files\":[" files "]}"
#define ENTRY(path, holder, rel, exists)                                                                            \
    "{\"path\":\"" path "\",\"holder\":\"" holder "\",\"ref\":\"//x\",\"relative\":" rel ",\"kind\":\"image\","  \
    "\"exists\":" exists "}"
#define SHOT "/home/a/proj/shot.blend"

int ts_cli_project_test(bool verbose)
{
    int failures = 0;
    TS_TEST_CHECK(cli_project_inside("/home/a", "/home/a/x.png") && cli_project_inside("/", "/x") &&
                      !cli_project_inside("/home/a", "/home/ab/x.png") && !cli_project_inside("/home/a", "/home"),
                  "inside is a path-component prefix");

    /* Roots: the scene's folder, widened only by relative references that cross it. */
    cli_project_ref_t plain[] = {REF("/home/a/proj/tex/m.png", SHOT, true), REF("/srv/shared/wood.png", SHOT, false)};
    failures += root_is(SHOT, plain, 2, "/home/a/proj");
    cli_project_ref_t up[] = {REF("/home/a/shared/wood.png", SHOT, true)};
    failures += root_is(SHOT, up, 1, "/home/a");
    cli_project_ref_t sibling[] = {REF("/home/a/projX/f.png", SHOT, true)}; /* not under /home/a/proj */
    failures += root_is(SHOT, sibling, 1, "/home/a");
    cli_project_ref_t outside_lib[] = {REF("/srv/lib/props.blend", SHOT, false),
                                       REF("/srv/lib/tex/skin.png", "/srv/lib/props.blend", true)};
    failures += root_is(SHOT, outside_lib, 2, "/home/a/proj");
    cli_project_ref_t into[] = {REF("/home/a/proj/tex/x.png", "/srv/lib/props.blend", true)}; /* holder widens */
    failures += root_is(SHOT, into, 1, "/");
    /* a second round: the library's own reference crosses the root only once the scene's has widened it */
    cli_project_ref_t rounds[] = {REF("/home/b/t.png", "/home/a/lib/l.blend", true),
                                  REF("/home/a/lib/l.blend", SHOT, true)};
    failures += root_is(SHOT, rounds, 2, "/home");
    failures += root_is("/shot.blend", plain, 2, "/");
    failures += root_is(SHOT, NULL, 0, "/home/a/proj");

    /* Names: under the root, else _outside + the absolute path; each a valid manifest name. */
    failures += name_is("/home/a/proj", SHOT, "shot.blend");
    failures += name_is("/home/a/proj", "/home/a/proj/tex/m.png", "tex/m.png");
    failures += name_is("/home/a/proj", "/srv/shared/wood.png", "_outside/srv/shared/wood.png");
    failures += name_is("/home/a/proj", "/home/a/projX/f.png", "_outside/home/a/projX/f.png");
    failures += name_is("/", "/srv/x.png", "srv/x.png");
    failures += name_is("/home", "/home/a/x\\y.png", NULL);
    failures += name_is("/home/a/proj", "/home/a/proj/_outside/srv/w.png", NULL); /* the layout's name is kept */
    failures += name_is("/", "/_outside", NULL);
    failures += name_is("/home/a/proj", "/srv/_outside/w.png", "_outside/srv/_outside/w.png");
    char long_path[300] = "/srv/";
    memset(long_path + 5, 'n', 250);
    long_path[255] = '\0';
    failures += name_is("/home", long_path, NULL); /* "_outside" + 255 bytes */

    /* Lists as Blender writes them: deduplicated, named, sorted by name; the scene itself once. */
    char got[2048];
    static const struct {
        const char *text, *want;
    } lists[] = {
        {LIST(""), "/home/a/proj: shot.blend"},
        {LIST(ENTRY("/home/a/proj/tex/m.png", SHOT, "true", "true") "," ENTRY("/srv/w.png", SHOT, "false", "true") ","
              ENTRY("/home/a/proj/tex/m.png", "/srv/lib.blend", "false", "true") ","
              ENTRY("/home/a/proj/gone.png", SHOT, "true", "false")),
         "/home/a/proj: _outside/srv/w.png gone.png? shot.blend tex/m.png"},
        {LIST(ENTRY("/home/a/shared/w.png", SHOT, "true", "true") "," ENTRY(SHOT, "/home/a/proj/b.blend", "true", "true")),
         "/home/a: proj/shot.blend shared/w.png"},
        {LIST(ENTRY("/home/a/proj/_outside/srv/w.png", SHOT, "true", "true") "," ENTRY("/srv/w.png", SHOT, "false", "true")),
         "! /home/a/proj/_outside/srv/w.png: inside the project folder /home/a/proj, it is under a folder named "
         "'_outside'"},
        {LIST(ENTRY("/home/a/proj/_outside", SHOT, "true", "true")), "! /home/a/proj/_outside: inside the project"},
        {LIST(ENTRY("/home/a/proj/_outsider/w.png", SHOT, "true", "true") "," ENTRY("/home/a/proj/x/_outside", SHOT,
              "true", "true")), "/home/a/proj: _outsider/w.png shot.blend x/_outside"},
        {LIST(ENTRY("/home/a/proj/x\\u0001.png", SHOT, "true", "true")), "! file 1: 'path' must be an absolute"},
        {"{\"blender\":\"3.4.1\"", "! deps.json: line 1: "},
        {"[]", "! deps.json: not a JSON object"},
        {"{\"blender\":\"3.x\",\"main\":\"" SHOT "\",\"files\":[]}", "! deps.json: 'blender' must be a version"},
        {"{\"blender\":\"3.4\",\"main\":\"shot.blend\",\"files\":[]}", "! deps.json: 'main' must be an absolute"},
        {"{\"blender\":\"3.4\",\"main\":\"" SHOT "\",\"files\":{}}", "! deps.json: 'files' must be a list"},
        {LIST(ENTRY("tex/m.png", SHOT, "true", "true")), "! deps.json: file 1: 'path' must be an absolute, normal"},
        {LIST(ENTRY("/home/a/proj/../x.png", SHOT, "true", "true")), "! deps.json: file 1: 'path' must be"},
        {LIST(ENTRY("/home/a/proj/x.png", "//shot.blend", "true", "true")), "! deps.json: file 1: 'holder' must be"},
        {LIST(ENTRY("/home/a/proj/x.png", SHOT, "1", "true")), "! deps.json: file 1 (/home/a/proj/x.png): 'relative'"},
        {LIST(ENTRY("/home/a/proj/x.png", SHOT, "true", "null")), "! deps.json: file 1 (/home/a/proj/x.png): 'exists'"},
        {LIST("{\"path\":\"/x\",\"holder\":\"/y\",\"ref\":7,\"kind\":\"image\",\"relative\":true,\"exists\":true}"),
         "! deps.json: file 1 (/x): 'ref' must be a string"},
        {LIST("\"/x\""), "! deps.json: file 1 is not an object"},
        {"{\"blender\":\"3.4\",\"blender\":\"3.5\",\"main\":\"" SHOT "\",\"files\":[]}", "! deps.json: line 1"},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) { /* a refusal by its words, a project exactly */
        parse_text(lists[i].text, got, sizeof got);
        bool refused = lists[i].want[0] == '!';
        if (verbose)
            printf("ts_cli_project_test: list %zu: %s\n", i + 1, got);
        TS_TEST_CHECK(refused ? got[0] == '!' && strstr(got, lists[i].want + 2) : strcmp(got, lists[i].want) == 0,
                      "list %zu: got '%s', wanted '%s'", i + 1, got, lists[i].want);
    }
    cli_project_t *p = cli_project_parse(LIST(""), strlen(LIST("")), "deps.json");
    char series[DEPS_VERSION_CAP] = "";
    if (p)
        cli_project_series(p, series, sizeof series);
    TS_TEST_CHECK(p && strcmp(cli_project_blender(p), "3.4.1") == 0 && strcmp(series, "3.4") == 0,
                  "Blender 3.4.1 is the 3.4 series: got '%s'", series);
    cli_project_destroy(&p);
    TS_TEST_CHECK(p == NULL, "destroy clears the pointer");

    if (verbose && !failures)
        printf("ts_cli_project_test: all ok\n");
    return failures ? -1 : 0;
}

const char *cli_artist_blender(const char *given)
{
    const char *env = getenv(CLI_BLENDER_ENV);
    return given ? given : env && *env ? env : CLI_BLENDER;
}
