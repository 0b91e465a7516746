/* cli_jobs: `tessera jobs`, `status`, `cancel`, `nodes` and `lift`: one request each, shown as text or JSON. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLI_JOBS_PATH_MAX 128
#define CLI_JOBS_TEXT_MAX 64
#define CLI_JOBS_SCENE_WIDTH_MAX 40
#define CLI_JOBS_HASH_SHOWN 12
#define CLI_NODES_ID_SHOWN 12
#define CLI_PERCENT 100
#define CLI_GIB (1024.0 * 1024.0 * 1024.0)
#define CLI_SECONDS_PER_MINUTE 60
#define CLI_SECONDS_PER_HOUR 3600
#define CLI_SECONDS_PER_DAY 86400

static const char *const STATUS_SYNOPSIS = "status JOB [--json]";
static const char *const STATUS_SUMMARY = "Shows one job: state, progress, scene, frames, tiles, outputs, error.";
static const char *const CANCEL_SYNOPSIS = "cancel JOB [--json]";
static const char *const CANCEL_SUMMARY =
    "Cancels a job; its queued and running tasks are dropped. A job that already ended is refused (exit 2).";
static const char *const JOBS_SYNOPSIS =
    "jobs [--state STATE[,STATE]] [--name NAME] [--requester ACCOUNT] [--json] [--watch [--after ID]]";
static const char *const JOBS_SUMMARY =
    "Lists the jobs, oldest first (--json: the array of jobs, each with id, name, state, started and finished as\n"
    "Unix seconds). States: waiting (for the jobs it is --after), queued, running, paused, held (a job it waits for\n"
    "failed), done, failed, cancelled.\n"
    "--watch follows the master's events instead: a line for each change of a job (`job 12 (name) running -> done`)\n"
    "or of one of its tasks; after a lost connection (a master restart) it goes on from the last event it printed,\n"
    "missing none and repeating none. A requester sees its own jobs' events.";
static const char *const NODES_SYNOPSIS = "nodes [--json]";
static const char *const NODES_SUMMARY =
    "Lists every render node the master has seen with its state (blocked: failed a spot check on some job; "
    "quarantined: gets no work), reputation (consecutive valid results), spot-check rate and checks passed/failed "
    "(--json: the array of nodes). GPUS: lent of its Vulkan devices; SANDBOX: what its renderers run in, UNSAFE when "
    "its owner passed --no-sandbox.";
static const char *const LIFT_SYNOPSIS = "lift NODE [--json]";
static const char *const LIFT_SUMMARY =
    "Ends a node's quarantine (NODE: its id, a unique prefix of it, or its name); its blocks on past jobs stay.";

/* Parses the options of a command taking [JOB] [--json]; *http is the client. 1: help shown. */
static int prepare(cli_ctx_t *ctx, int argc, char **argv, bool want_job, const char *synopsis,
                   const char *summary, long *id, bool *json, cli_http_t **http)
{
    char *pos[1];
    int npos, n = want_job ? 1 : 0;
    int ready = cli_http_command(ctx, argc, argv, synopsis, summary, pos, n, n, &npos, "job", json, http);
    if (ready == 0 && want_job && cli_parse_job_id(pos[0], id) < 0) {
        cli_http_free(http);
        return cli_keep(CLI_EXIT_USAGE);
    }
    return ready;
}

static void format_time(double unix_time, char *out, size_t cap)
{
    if (unix_time <= 0 || !isfinite(unix_time)) {
        snprintf(out, cap, "-");
        return;
    }
    time_t t = (time_t)unix_time;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

static void format_ago(double unix_time, char *out, size_t cap)
{
    if (unix_time <= 0 || !isfinite(unix_time)) {
        snprintf(out, cap, "never");
        return;
    }
    long ago = (long)difftime(time(NULL), (time_t)unix_time);
    if (ago < 0)
        ago = 0;
    if (ago < CLI_SECONDS_PER_MINUTE)
        snprintf(out, cap, "%lds ago", ago);
    else if (ago < CLI_SECONDS_PER_HOUR)
        snprintf(out, cap, "%ldm ago", ago / CLI_SECONDS_PER_MINUTE);
    else if (ago < CLI_SECONDS_PER_DAY)
        snprintf(out, cap, "%ldh ago", ago / CLI_SECONDS_PER_HOUR);
    else
        snprintf(out, cap, "%ldd ago", ago / CLI_SECONDS_PER_DAY);
}

static void format_frames(const json_t *job, char *out, size_t cap)
{
    long a = cli_json_int(job, "frame_start"), b = cli_json_int(job, "frame_end");
    if (a == b)
        snprintf(out, cap, "%ld", a);
    else
        snprintf(out, cap, "%ld-%ld", a, b);
}

static void format_progress(const json_t *job, char *out, size_t cap)
{
    long done = cli_json_int(job, "tasks_done"), total = cli_json_int(job, "tasks_total");
    if (total <= 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%ld/%ld %3ld%%", done, total, done * CLI_PERCENT / total);
}

static void print_job(long id, const json_t *job)
{
    char frames[CLI_JOBS_TEXT_MAX], when[CLI_JOBS_TEXT_MAX];
    const char *state = cli_json_str(job, "state", "?");
    printf("job %ld: %s\n", id, state);
    printf("  scene     %s (%.*s)\n", cli_json_str(job, "scene_name", "?"), CLI_JOBS_HASH_SHOWN,
           cli_json_str(job, "scene", "?"));
    long ninputs = cli_json_int(job, "inputs_count");
    if (ninputs > 1)
        printf("  project   %ld files\n", ninputs);
    const json_t *missing = json_object_get(job, "missing"); /* let go at submit, with --allow-missing */
    for (size_t i = 0; i < json_array_size(missing); i++) {
        const char *path = json_string_value(json_array_get(missing, i));
        printf("  missing   %s\n", path ? path : "?");
    }
    if (cli_json_int(job, "missing_count") > (long)json_array_size(missing))
        printf("  missing   ... and %ld more\n", cli_json_int(job, "missing_count") - (long)json_array_size(missing));
    format_frames(job, frames, sizeof frames);
    printf("  frames    %s, %ld of %ld done\n", frames, cli_json_int(job, "frames_done"),
           cli_json_int(job, "frames_total"));
    printf("  tiles     %ldx%ld, %ld of %ld tasks done, %ld running\n", cli_json_int(job, "tiles_x"),
           cli_json_int(job, "tiles_y"), cli_json_int(job, "tasks_done"), cli_json_int(job, "tasks_total"),
           cli_json_int(job, "tasks_running"));
    printf("  format    %s, priority %ld", cli_json_str(job, "format", "?"), cli_json_int(job, "priority"));
    if (cli_json_int(job, "width") > 0)
        printf(", %ldx%ld px", cli_json_int(job, "width"), cli_json_int(job, "height"));
    printf("\n");
    format_time(cli_json_num(job, "created"), when, sizeof when);
    printf("  created   %s\n", when);
    if (cli_json_num(job, "finished") > 0) {
        format_time(cli_json_num(job, "finished"), when, sizeof when);
        printf("  finished  %s\n", when);
    }
    const json_t *v = json_object_get(job, "verification");
    if (cli_json_int(job, "checks_total") > 0 || cli_json_int(v, "checks_failed") > 0)
        printf("  checks    %ld of %ld done, %ld failed; %.0f%% extra compute\n", cli_json_int(job, "checks_done"),
               cli_json_int(job, "checks_total"), cli_json_int(v, "checks_failed"),
               cli_json_num(v, "work_seconds") > 0
                   ? CLI_PERCENT * cli_json_num(v, "check_seconds") / cli_json_num(v, "work_seconds")
                   : 0.0);
    if (cli_json_int(v, "disputes_open") > 0 || cli_json_int(v, "disputes_unresolved") > 0)
        printf("  disputes  %ld waiting for a third node, %ld unresolved (nobody punished)\n",
               cli_json_int(v, "disputes_open"), cli_json_int(v, "disputes_unresolved"));
    if (cli_json_int(job, "budget") > 0) {
        char budget[CLI_JOBS_TEXT_MAX], paid[CLI_JOBS_TEXT_MAX];
        ts_amount_format(cli_json_int(job, "budget"), budget, sizeof budget);
        ts_amount_format(cli_json_int(job, "paid"), paid, sizeof paid);
        printf("  budget    %s tokens from %s, %s paid for accepted pieces%s\n", budget,
               cli_json_str(job, "requester", "?"), paid,
               json_is_false(json_object_get(job, "funded")) ? " (waiting for the budget to reach the chain)" : "");
    }
    const json_t *outputs = json_object_get(job, "outputs");
    if (json_array_size(outputs) > 0)
        printf("  outputs   %zu (%s ...)\n", json_array_size(outputs),
               cli_json_str(json_array_get(outputs, 0), "name", "?"));
    const json_t *notify = json_object_get(job, "notify");
    if (notify) {
        const char *failing = cli_json_str(notify, "error", NULL);
        printf("  webhook   delivered up to event %ld", cli_json_int(notify, "delivered"));
        if (failing)
            printf("; %ld attempts failed in a row, the last: %s", cli_json_int(notify, "failures"), failing);
        printf("\n");
    }
    const char *error = cli_json_str(job, "error", NULL);
    if (error)
        printf("  error     %s\n", error);
}

/* One request about one job (GET the job, or POST an action on it), printed as JSON or by print. */
static int job_command(cli_ctx_t *ctx, int argc, char **argv, const char *synopsis, const char *summary,
                       const char *method, const char *action, void (*print)(long id, const json_t *job))
{
    long id = 0;
    bool json = false;
    cli_http_t *http = NULL;
    int ready = prepare(ctx, argc, argv, true, synopsis, summary, &id, &json, &http);
    if (ready != 0)
        return ready > 0 ? 0 : -1;
    char path[CLI_JOBS_PATH_MAX];
    snprintf(path, sizeof path, "/api/v1/jobs/%ld%s", id, action);
    cli_reply_t reply;
    int ret = cli_http_json(http, method, path, NULL, &reply);
    if (ret < 0)
        cli_fail_reply(&reply, "no such job", "job %ld", id);
    else if (json)
        cli_print_json(reply.json);
    else
        print(id, reply.json);
    json_decref(reply.json);
    cli_http_free(&http);
    return ret;
}

int cli_cmd_status(cli_ctx_t *ctx, int argc, char **argv)
{
    return job_command(ctx, argc, argv, STATUS_SYNOPSIS, STATUS_SUMMARY, "GET", "", print_job);
}

static void print_cancelled(long id, const json_t *job)
{
    printf("job %ld: %s\n", id, cli_json_str(job, "state", "cancelled"));
}

static const char *const PAUSE_SYNOPSIS = "pause JOB [--json]";
static const char *const PAUSE_SUMMARY = "Pauses a job: its running tasks finish, nothing new starts until `resume`.";
static const char *const RESUME_SYNOPSIS = "resume JOB [--json]";
static const char *const RESUME_SUMMARY = "Resumes a paused job (it waits again for any job it is --after).";

static void print_state(long id, const json_t *job)
{
    printf("job %ld: %s\n", id, cli_json_str(job, "state", "?"));
}

int cli_cmd_pause(cli_ctx_t *ctx, int argc, char **argv)
{
    return job_command(ctx, argc, argv, PAUSE_SYNOPSIS, PAUSE_SUMMARY, "POST", "/pause", print_state);
}

int cli_cmd_resume(cli_ctx_t *ctx, int argc, char **argv)
{
    return job_command(ctx, argc, argv, RESUME_SYNOPSIS, RESUME_SUMMARY, "POST", "/resume", print_state);
}

int cli_cmd_cancel(cli_ctx_t *ctx, int argc, char **argv)
{
    return job_command(ctx, argc, argv, CANCEL_SYNOPSIS, CANCEL_SUMMARY, "POST", "/cancel", print_cancelled);
}

/* GET path and return its member `key`, which must be an array (a new reference). */
static json_t *get_list(cli_http_t *http, const char *path, const char *key)
{
    cli_reply_t reply;
    if (cli_http_json(http, "GET", path, NULL, &reply) < 0) {
        cli_fail_reply(&reply, NULL, "%s", key);
        return NULL;
    }
    json_t *list = json_object_get(reply.json, key);
    if (!json_is_array(list) && !(json_is_object(list) && strcmp(key, "stats") == 0)) {
        json_decref(reply.json);
        cli_fail(CLI_EXIT_MASTER, "%s: the master's answer has no '%s' array", key, key);
        return NULL;
    }
    json_incref(list);
    json_decref(reply.json);
    return list;
}

static int by_age(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    double cx = cli_json_num(x, "created"), cy = cli_json_num(y, "created");
    if (cx != cy)
        return cx < cy ? -1 : 1;
    long ix = cli_json_int(x, "id"), iy = cli_json_int(y, "id");
    return (ix > iy) - (ix < iy);
}

static void print_jobs(const json_t *jobs)
{
    size_t n = json_array_size(jobs);
    if (n == 0) {
        printf("no jobs\n");
        return;
    }
    const json_t **sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return;
    int scene_width = (int)strlen("SCENE");
    for (size_t i = 0; i < n; i++) {
        sorted[i] = json_array_get(jobs, i);
        int w = (int)strlen(cli_json_str(sorted[i], "scene_name", "-"));
        if (w > scene_width)
            scene_width = w < CLI_JOBS_SCENE_WIDTH_MAX ? w : CLI_JOBS_SCENE_WIDTH_MAX;
    }
    qsort(sorted, n, sizeof *sorted, by_age);
    printf("%-6s %-9s %-16s %-16s %-*s %-13s %s\n", "ID", "STATE", "PROGRESS", "NAME", scene_width, "SCENE", "FRAMES",
           "TILES");
    for (size_t i = 0; i < n; i++) {
        const json_t *job = sorted[i];
        char progress[CLI_JOBS_TEXT_MAX], frames[CLI_JOBS_TEXT_MAX];
        format_progress(job, progress, sizeof progress);
        format_frames(job, frames, sizeof frames);
        const char *jname = cli_json_str(job, "name", "");
        printf("%-6ld %-9s %-16s %-16.16s %-*.*s %-13s %ldx%ld\n", cli_json_int(job, "id"),
               cli_json_str(job, "state", "?"), progress, jname[0] ? jname : "-", scene_width, scene_width,
               cli_json_str(job, "scene_name", "-"), frames,
               cli_json_int(job, "tiles_x"), cli_json_int(job, "tiles_y"));
    }
    free(sorted);
}

static int list_command(cli_ctx_t *ctx, int argc, char **argv, const char *synopsis, const char *summary,
                        const char *path, const char *key, void (*print)(const json_t *))
{
    bool json = false;
    cli_http_t *http = NULL;
    int ready = prepare(ctx, argc, argv, false, synopsis, summary, NULL, &json, &http);
    if (ready != 0)
        return ready > 0 ? 0 : -1;
    json_t *list = get_list(http, path, key);
    cli_http_free(&http);
    if (!list)
        return -1;
    if (json)
        cli_print_json(list);
    else
        print(list);
    json_decref(list);
    return 0;
}

/* Whether text is one of the comma-separated words of list. */
static bool listed(const char *list, const char *text)
{
    size_t n = strlen(text);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, text, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

/* tessera jobs' filters, for a job or for an event of one (whose state is the one it went to). */
typedef struct {
    const char *state, *name, *requester;
} jobs_filter_t;

static bool job_wanted(const jobs_filter_t *f, const json_t *o, const char *state_key)
{
    return (!f->state || listed(f->state, cli_json_str(o, state_key, ""))) &&
           (!f->name || strcmp(cli_json_str(o, "name", ""), f->name) == 0) &&
           (!f->requester || strcmp(cli_json_str(o, "requester", ""), f->requester) == 0);
}

static bool event_wanted(const json_t *event, void *filter)
{
    return job_wanted(filter, event, "to");
}

int cli_cmd_jobs(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *master = NULL;
    jobs_filter_t f = {NULL, NULL, NULL};
    bool json = false, watch = false;
    long after = -1;
    ts_opt_t table[] = {
        {"state", TS_OPT_STRING, NULL, 1, 0, &f.state,
         "only jobs in these states (comma-separated; --watch: changes into them)"},
        {"name", TS_OPT_STRING, NULL, 1, 0, &f.name, "only jobs of this name"},
        {"requester", TS_OPT_STRING, NULL, 1, 0, &f.requester, "only jobs this account pays for"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print the master's JSON instead of text"},
        {"watch", TS_OPT_FLAG, NULL, 1, 0, &watch,
         "follow every change of the jobs and their tasks as it happens, one line each, until Ctrl-C (--json: each "
         "event's JSON a line)"},
        {"after", TS_OPT_INT, "-1", -1, 1e18, &after, "--watch: start after this event id (0: every event the master "
         "keeps; default: the next change)"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    char *pos[1];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, 0, &npos, JOBS_SYNOPSIS, JOBS_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    if (after >= 0 && !watch)
        return cli_fail(CLI_EXIT_USAGE, "--after goes with --watch");
    cli_ctx_override(ctx, master);
    cli_http_t *http = cli_http_new(ctx);
    if (http && watch) {
        cli_watch_opts_t wo = {.json = json, .after = after, .keep = event_wanted, .ud = &f};
        int ret = cli_watch(http, &wo);
        cli_http_free(&http);
        return ret;
    }
    json_t *all = http ? get_list(http, "/api/v1/jobs", "jobs") : NULL;
    cli_http_free(&http);
    if (!all)
        return -1;
    json_t *jobs = json_array();
    size_t i;
    json_t *job;
    json_array_foreach(all, i, job) {
        if (job_wanted(&f, job, "state"))
            json_array_append(jobs, job);
    }
    if (json)
        cli_print_json(jobs);
    else
        print_jobs(jobs);
    json_decref(jobs);
    json_decref(all);
    return 0;
}

static void print_nodes(const json_t *nodes)
{
    size_t n = json_array_size(nodes);
    if (n == 0) {
        printf("no nodes\n");
        return;
    }
    printf("%-12s %-16s %-11s %-8s %-9s %-5s %-7s %5s %8s %6s %6s %5s %5s %7s %s\n", "ID", "NAME", "STATE", "BLENDER",
           "DEVICES", "GPUS", "SANDBOX", "CORES", "MEMORY", "DONE", "FAILED", "REP", "RATE", "CHECKS", "LAST SEEN");
    size_t i;
    const json_t *node;
    json_array_foreach(nodes, i, node) {
        char devices[CLI_JOBS_TEXT_MAX] = "", memory[CLI_JOBS_TEXT_MAX], seen[CLI_JOBS_TEXT_MAX];
        size_t j;
        const json_t *dev;
        json_array_foreach(json_object_get(node, "devices"), j, dev) {
            size_t used = strlen(devices);
            snprintf(devices + used, sizeof devices - used, "%s%s", j ? "," : "",
                     json_string_value(dev) ? json_string_value(dev) : "?");
        }
        snprintf(memory, sizeof memory, "%.1fG", (double)cli_json_int(node, "memory") / CLI_GIB);
        format_ago(cli_json_num(node, "last_seen"), seen, sizeof seen);
        /* GPUs lent of those it has; a node without a sandbox runs strangers' scenes with its owner's rights */
        char gpus[CLI_JOBS_TEXT_MAX];
        int lent = 0;
        json_array_foreach(json_object_get(node, "gpus"), j, dev)
            lent += json_is_true(json_object_get(dev, "enabled"));
        snprintf(gpus, sizeof gpus, "%d/%zu", lent, json_array_size(json_object_get(node, "gpus")));
        const char *sandbox = cli_json_str(node, "sandbox", "");
        if (strcmp(sandbox, "none") == 0)
            sandbox = "UNSAFE";
        char checks[CLI_JOBS_TEXT_MAX];
        snprintf(checks, sizeof checks, "%ld/%ld", cli_json_int(node, "checks_passed"),
                 cli_json_int(node, "checks_failed"));
        printf("%-12.*s %-16s %-11s %-8s %-9s %-5s %-7s %5ld %8s %6ld %6ld %5ld %5.2f %7s %s\n", CLI_NODES_ID_SHOWN,
               cli_json_str(node, "id", "?"), cli_json_str(node, "name", "?"), cli_json_str(node, "state", "?"),
               cli_json_str(node, "blender", "?"), devices[0] ? devices : "-", gpus, sandbox[0] ? sandbox : "-",
               cli_json_int(node, "cores"), memory,
               cli_json_int(node, "tasks_done"), cli_json_int(node, "tasks_failed"),
               cli_json_int(node, "reputation"), cli_json_num(node, "check_rate"), checks, seen);
    }
}

static const char *const STATS_SYNOPSIS = "stats [--json]";
static const char *const STATS_SUMMARY =
    "Shows the master's counters: seed_upload_bytes is the job-input payload the master has uploaded to slaves.";

static void print_stats(const json_t *stats)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)stats, key, value) {
        if (json_is_integer(value))
            printf("%-24s %lld\n", key, (long long)json_integer_value(value));
        else if (json_is_number(value))
            printf("%-24s %g\n", key, json_number_value(value));
    }
}

int cli_cmd_stats(cli_ctx_t *ctx, int argc, char **argv)
{
    return list_command(ctx, argc, argv, STATS_SYNOPSIS, STATS_SUMMARY, "/api/v1/stats", "stats", print_stats);
}

int cli_cmd_nodes(cli_ctx_t *ctx, int argc, char **argv)
{
    return list_command(ctx, argc, argv, NODES_SYNOPSIS, NODES_SUMMARY, "/api/v1/nodes", "nodes", print_nodes);
}

int cli_cmd_lift(cli_ctx_t *ctx, int argc, char **argv)
{
    bool json = false;
    char *pos[1];
    int npos;
    cli_http_t *http = NULL;
    int ready = cli_http_command(ctx, argc, argv, LIFT_SYNOPSIS, LIFT_SUMMARY, pos, 1, 1, &npos, "node", &json, &http);
    if (ready != 0)
        return ready > 0 ? 0 : -1;
    if (!pos[0][0]) {
        cli_http_free(&http);
        return cli_fail(CLI_EXIT_USAGE, "which node? (usage: %s %s)", CLI_PROG, LIFT_SYNOPSIS);
    }
    json_t *nodes = get_list(http, "/api/v1/nodes", "nodes");
    const char *id = NULL;
    int matches = 0;
    size_t i;
    const json_t *node;
    json_array_foreach(nodes, i, node) {
        const char *nid = cli_json_str(node, "id", ""), *name = cli_json_str(node, "name", "");
        if (strncmp(nid, pos[0], strlen(pos[0])) == 0 || strcmp(name, pos[0]) == 0) {
            id = nid;
            matches++;
        }
    }
    int ret = 0;
    if (!nodes)
        ret = -1;
    else if (matches != 1)
        ret = cli_fail(CLI_EXIT_UNKNOWN, "node '%s': %s", pos[0],
                       matches ? "more than one node matches; give more of its id" : "no such node");
    else {
        char path[CLI_JOBS_PATH_MAX + 80];
        snprintf(path, sizeof path, "/api/v1/nodes/%s/lift", id);
        cli_reply_t reply;
        ret = cli_http_json(http, "POST", path, NULL, &reply);
        if (ret < 0)
            cli_fail_reply(&reply, "no such node", "node %.12s", id);
        else if (json)
            cli_print_json(reply.json);
        else
            printf("node %.*s: quarantine lifted\n", CLI_NODES_ID_SHOWN, id);
        json_decref(reply.json);
    }
    json_decref(nodes);
    cli_http_free(&http);
    return ret;
}
