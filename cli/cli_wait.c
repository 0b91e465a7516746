/* cli_wait: `tessera wait`: polls a job with a progress line, then downloads its outputs into --out. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLI_WAIT_POLL_S 0.4     /* between two looks at the job */
#define CLI_WAIT_RETRY_S 30.0   /* how long an unreachable master is retried before giving up */
#define CLI_WAIT_BAR_WIDTH 24
#define CLI_WAIT_PATH_MAX 128
#define CLI_WAIT_STATE_MAX 32
#define CLI_PERCENT 100
#define CLI_NS_PER_S 1e9
#define CLI_FILE_MODE 0666
#define CLI_DIR_MODE 0777
#define CLI_LINE_CLEAR "\r\033[K"

static const char *const WAIT_SYNOPSIS = "wait JOB [--out DIR] [--timeout SECONDS] [--json]";
static const char *const WAIT_SUMMARY =
    "Waits until the job ends, showing its progress on stderr. When it is done and --out is given,\n"
    "downloads every output frame into DIR. Exit 0: done (and all outputs written); 1: the job\n"
    "failed or was cancelled; 3: no such job; 4: master unreachable; 5: --timeout expired.";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / CLI_NS_PER_S;
}

static void sleep_s(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)seconds};
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * CLI_NS_PER_S);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static bool state_is_final(const char *state)
{
    return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0;
}

static void draw_progress(long id, const json_t *job)
{
    long tasks_done = cli_json_int(job, "tasks_done"), tasks_total = cli_json_int(job, "tasks_total");
    long frames_done = cli_json_int(job, "frames_done"), frames_total = cli_json_int(job, "frames_total");
    long percent = tasks_total > 0 ? tasks_done * CLI_PERCENT / tasks_total : 0;
    if (percent < 0 || percent > CLI_PERCENT)
        percent = percent < 0 ? 0 : CLI_PERCENT;
    int filled = (int)(percent * CLI_WAIT_BAR_WIDTH / CLI_PERCENT);
    char bar[CLI_WAIT_BAR_WIDTH + 1];
    for (int i = 0; i < CLI_WAIT_BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[CLI_WAIT_BAR_WIDTH] = '\0';
    fprintf(stderr, "\rjob %ld [%s] %3ld%%  tasks %ld/%ld  frames %ld/%ld  %s\033[K", id, bar, percent,
            tasks_done, tasks_total, frames_done, frames_total, cli_json_str(job, "state", "?"));
}

/* mkdir -p: creates dir and its parents. */
static int make_dirs(const char *dir)
{
    char *path = strdup(dir);
    if (!path)
        return cli_fail(CLI_EXIT_USAGE, "--out %s: out of memory", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, CLI_DIR_MODE) < 0 && errno != EEXIST) {
            int err = errno;
            free(path);
            return cli_fail(CLI_EXIT_USAGE, "--out %s: cannot create the directory: %s", dir, strerror(err));
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(path);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return cli_fail(CLI_EXIT_USAGE, "--out %s: not a directory", dir);
    return 0;
}

/* Downloads one output to dir/name (or to the file `as` in dir) through a temporary file in dir; *written gets
   the path (malloc'd). */
static int download_one(cli_http_t *http, long id, const json_t *output, const char *dir, const char *as,
                        mode_t mode, char **written)
{
    const char *name = cli_json_str(output, "name", NULL);
    long frame = cli_json_int(output, "frame");
    char *final_path = as ? strdup(as) : cli_url_join(dir, name); /* joins file paths with one '/' as well */
    char *tmp = NULL;
    if (!final_path || asprintf(&tmp, "%s/.%s.XXXXXX", dir, name) < 0) {
        free(final_path);
        return cli_fail(CLI_EXIT_USAGE, "%s: out of memory", name);
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(final_path);
        free(tmp);
        return cli_fail(CLI_EXIT_USAGE, "--out %s: cannot create a file there: %s", dir, strerror(err));
    }
    char path[CLI_WAIT_PATH_MAX];
    snprintf(path, sizeof path, "/api/v1/jobs/%ld/outputs/%ld", id, frame);
    ts_hasher_t *hasher = ts_hasher_new();
    int64_t bytes = 0;
    cli_reply_t reply;
    int ret = cli_http_get_file(http, path, fd, hasher, &bytes, &reply);
    char hex[TS_HASH_HEX] = "";
    if (hasher)
        ts_hasher_finish(&hasher, hex);
    if (ret < 0) {
        cli_fail_reply(&reply, "no such output", "job %ld: frame %ld (%s)", id, frame, name);
    } else if (json_is_integer(json_object_get(output, "size")) && cli_json_int(output, "size") != bytes) {
        ret = cli_fail(CLI_EXIT_MASTER, "job %ld: %s: received %lld bytes, the master announced %ld", id, name,
                       (long long)bytes, cli_json_int(output, "size"));
    } else if (ts_hash_valid(cli_json_str(output, "hash", NULL)) && hex[0] &&
               strcmp(hex, cli_json_str(output, "hash", "")) != 0) {
        ret = cli_fail(CLI_EXIT_MASTER, "job %ld: %s: the received content does not match its hash", id, name);
    } else {
        int err = fchmod(fd, mode) < 0 ? errno : 0;
        if (close(fd) < 0 && !err)
            err = errno; /* a late write error shows here */
        fd = -1;
        if (!err && rename(tmp, final_path) < 0)
            err = errno;
        if (err)
            ret = cli_fail(CLI_EXIT_USAGE, "%s: %s", final_path, strerror(err));
    }
    if (fd >= 0)
        close(fd);
    if (ret < 0)
        unlink(tmp);
    free(tmp);
    if (ret == 0)
        *written = final_path;
    else
        free(final_path);
    return ret;
}

static int download_all(cli_http_t *http, long id, const json_t *outputs, const char *dir, const char *as, bool tty,
                        bool quiet);

static int download_outputs(cli_http_t *http, long id, const json_t *job, const char *out, bool tty, bool quiet)
{
    /* A job with one output (a transcode's video, a contact sheet) writes it to the file --out; a render's frames go
       into the directory --out. */
    bool single = json_is_true(json_object_get(job, "single_output"));
    char *out_copy = strdup(out);
    if (!out_copy)
        return cli_fail(CLI_EXIT_USAGE, "--out %s: out of memory", out);
    const char *dir = single ? dirname(out_copy) : out;
    int rc = 0;
    const json_t *outputs = json_object_get(job, "outputs");
    long frames_total = cli_json_int(job, "frames_total");
    if (!json_is_array(outputs))
        rc = cli_fail(CLI_EXIT_MASTER, "job %ld: the master's answer has no outputs list", id);
    else if (frames_total > 0 && (long)json_array_size(outputs) != frames_total)
        rc = cli_fail(CLI_EXIT_MASTER, "job %ld: done, but the master lists %zu outputs for %ld frames", id,
                      json_array_size(outputs), frames_total);
    else if (single && json_array_size(outputs) != 1)
        rc = cli_fail(CLI_EXIT_MASTER, "job %ld: a %s job with %zu outputs, not one", id, cli_json_str(job, "type", ""),
                      json_array_size(outputs));
    if (rc == 0)
        rc = download_all(http, id, outputs, dir, single ? out : NULL, tty, quiet);
    free(out_copy);
    return rc;
}

static int download_all(cli_http_t *http, long id, const json_t *outputs, const char *dir, const char *as, bool tty,
                        bool quiet)
{
    size_t i;
    const json_t *output;
    json_array_foreach(outputs, i, output) {
        const char *name = cli_json_str(output, "name", NULL), *why = NULL;
        if (!cli_output_name_ok(name, &why))
            return cli_fail(CLI_EXIT_MASTER, "job %ld: refusing the output name '%s' from the master: %s", id,
                            name ? name : "", why);
        if (!json_is_integer(json_object_get(output, "frame")))
            return cli_fail(CLI_EXIT_MASTER, "job %ld: output %s has no frame number", id, name);
    }
    if (make_dirs(dir) < 0)
        return -1;
    mode_t mask = umask(0);
    umask(mask);
    json_array_foreach(outputs, i, output) {
        if (tty)
            fprintf(stderr, "\rdownloading %zu/%zu %s\033[K", i + 1, json_array_size(outputs),
                    cli_json_str(output, "name", ""));
        char *written = NULL;
        int ret = download_one(http, id, output, dir, as, (mode_t)(CLI_FILE_MODE & ~mask), &written);
        if (tty)
            fputs(CLI_LINE_CLEAR, stderr);
        if (ret < 0)
            return -1;
        if (!quiet)
            printf("%s\n", written);
        fflush(stdout);
        free(written);
    }
    return 0;
}

int cli_wait_job(cli_http_t *http, long id, const cli_wait_opts_t *opts)
{
    bool tty = isatty(STDERR_FILENO);
    char path[CLI_WAIT_PATH_MAX];
    snprintf(path, sizeof path, "/api/v1/jobs/%ld", id);
    double start = now_s(), failing_since = -1;
    char state[CLI_WAIT_STATE_MAX] = "";
    json_t *job = NULL;
    bool drawn = false;
    int ret = 0;
    for (;;) {
        cli_reply_t reply;
        if (cli_http_json(http, "GET", path, NULL, &reply) < 0) {
            bool transient = !reply.local && (reply.status == 0 || reply.status >= 500);
            if (!transient || (failing_since >= 0 && now_s() - failing_since > CLI_WAIT_RETRY_S)) {
                ret = cli_fail_reply(&reply, "no such job", "job %ld", id);
                break;
            }
            if (failing_since < 0) {
                failing_since = now_s();
                fprintf(stderr, "%sjob %ld: %s; retrying for %.0f s\n", drawn ? "\n" : "", id, reply.error,
                        CLI_WAIT_RETRY_S);
                drawn = false;
            }
        } else {
            failing_since = -1;
            json_decref(job);
            job = reply.json;
            const char *now_state = cli_json_str(job, "state", NULL);
            if (!now_state) {
                ret = cli_fail(CLI_EXIT_MASTER, "job %ld: the master's answer has no state", id);
                break;
            }
            if (tty) {
                draw_progress(id, job);
                drawn = true;
            } else if (strcmp(now_state, state) != 0) {
                fprintf(stderr, "job %ld: %s\n", id, now_state);
            }
            snprintf(state, sizeof state, "%s", now_state);
            if (state_is_final(state))
                break;
        }
        double waited = now_s() - start;
        if (opts->timeout > 0 && waited >= opts->timeout) {
            ret = cli_fail(CLI_EXIT_TIMEOUT, "job %ld: still %s after --timeout %g s", id,
                           state[0] ? state : "unknown", opts->timeout);
            break;
        }
        double nap = CLI_WAIT_POLL_S;
        if (opts->timeout > 0 && opts->timeout - waited < nap)
            nap = opts->timeout - waited;
        sleep_s(nap);
    }
    if (drawn)
        fputc('\n', stderr);
    if (ret == 0) {
        if (strcmp(state, "done") == 0) {
            if (opts->out)
                ret = download_outputs(http, id, job, opts->out, tty, opts->json);
        } else {
            const char *error = cli_json_str(job, "error", NULL);
            ret = cli_fail(CLI_EXIT_JOB, "job %ld %s%s%s", id, state, error ? ": " : "", error ? error : "");
        }
        if (opts->json && opts->extra)
            json_object_update(job, (json_t *)opts->extra);
        if (opts->json)
            cli_print_json(job);
    }
    json_decref(job);
    return ret;
}

int cli_cmd_wait(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *out = NULL, *master = NULL;
    double timeout = 0;
    bool json = false;
    ts_opt_t table[] = {
        {"out", TS_OPT_STRING, NULL, 1, 0, &out, "when done, download every output frame into DIR (created); for a job with one output (transcode, contactsheet), the output FILE"},
        {"timeout", TS_OPT_DOUBLE, "0", 0, CLI_WAIT_TIMEOUT_MAX, &timeout,
         "give up after SECONDS with exit code 5; 0 waits forever"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print the final job as JSON on stdout"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    char *pos[1];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, 1, &npos, WAIT_SYNOPSIS, WAIT_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    if (npos != 1)
        return cli_fail(CLI_EXIT_USAGE, "wait: which job? (usage: %s %s)", CLI_PROG, WAIT_SYNOPSIS);
    long id;
    if (cli_parse_job_id(pos[0], &id) < 0)
        return cli_keep(CLI_EXIT_USAGE);
    if (out && !*out)
        return cli_fail(CLI_EXIT_USAGE, "--out '': the directory name is empty");
    cli_ctx_override(ctx, master);
    cli_http_t *http = cli_http_new(ctx);
    if (!http)
        return -1;
    cli_wait_opts_t opts = {.out = out, .timeout = timeout, .json = json};
    int ret = cli_wait_job(http, id, &opts);
    cli_http_free(&http);
    return ret;
}
