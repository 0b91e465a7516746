/* cli_queue: a studio's queue from the CLI: the queue options every submit takes (--name, --after,
   --on-parent-failure, --paused), `tessera priority`, and `tessera submit --file` (many jobs with dependencies).
   DESIGN: a job file is checked whole first (names, types, references, cycles, input files); then every job is
   submitted paused, in dependency order, each by this program's own `submit` (the same options, uploads and checks as
   by hand); if one is refused, the ones already made are cancelled and nothing has run; else all are resumed. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_JOBS_MAX 1000     /* jobs in one job file */
#define FILE_MAX (4 << 20)     /* bytes of a job file */
#define ARGS_MAX 96            /* arguments of one job's submit */
#define CHILD_OUT_MAX (1 << 20)

int cli_add_queue(json_t *request, const cli_queue_opts_t *q)
{
    if (q->name) {
        if (!q->name[0] || strlen(q->name) > 64)
            return cli_fail(CLI_EXIT_USAGE, "--name '%s': 1 to 64 characters", q->name);
        json_object_set_new(request, "name", json_string(q->name));
    }
    if (q->after) {
        json_t *ids = json_array();
        const char *p = q->after;
        while (*p) {
            char *end;
            errno = 0;
            long long id = strtoll(p, &end, 10);
            if (end == p || id <= 0 || errno || (*end && *end != ',')) {
                json_decref(ids);
                return cli_fail(CLI_EXIT_USAGE, "--after '%s': job ids separated by commas, e.g. 12,13", q->after);
            }
            json_array_append_new(ids, json_integer(id));
            p = *end ? end + 1 : end;
        }
        json_object_set_new(request, "after", ids);
    }
    if (q->on_failure) {
        if (strcmp(q->on_failure, "hold") && strcmp(q->on_failure, "fail"))
            return cli_fail(CLI_EXIT_USAGE, "--on-parent-failure '%s': hold or fail", q->on_failure);
        json_object_set_new(request, "on_parent_failure", json_string(q->on_failure));
    }
    if (q->paused)
        json_object_set_new(request, "paused", json_true());
    if (q->pool) {
        if (ts_request_tag_check(q->pool) < 0)
            return cli_fail(CLI_EXIT_USAGE, "--pool: %s", ts_error());
        json_object_set_new(request, "pool", json_string(q->pool));
    }
    if (q->max_nodes > 0)
        json_object_set_new(request, "max_nodes", json_integer(q->max_nodes));
    if (q->notify_url) /* the master checks it (http or https, a host) and names the field */
        json_object_set_new(request, "notify_url", json_string(q->notify_url));
    return 0;
}

static const char *const PRIORITY_SYNOPSIS = "priority JOB N [--json]";
static const char *const PRIORITY_SUMMARY = "Sets a job's priority (-1000..1000; higher runs first).";

int cli_cmd_priority(cli_ctx_t *ctx, int argc, char **argv)
{
    bool json = false;
    char *pos[2];
    int npos;
    cli_http_t *http = NULL;
    int ready = cli_http_command(ctx, argc, argv, PRIORITY_SYNOPSIS, PRIORITY_SUMMARY, pos, 2, 2, &npos,
                                 "job and priority", &json, &http);
    if (ready != 0)
        return ready > 0 ? 0 : -1;
    long id;
    char *end;
    long prio = strtol(pos[1], &end, 10);
    int ret = 0;
    if (cli_parse_job_id(pos[0], &id) < 0)
        ret = cli_keep(CLI_EXIT_USAGE);
    else if (*end || end == pos[1] || ts_request_priority_check(prio) < 0)
        ret = cli_fail(CLI_EXIT_USAGE, "priority '%s': a whole number within -%d..%d", pos[1], TS_REQUEST_PRIORITY_MAX,
                       TS_REQUEST_PRIORITY_MAX);
    if (ret == 0) {
        char path[64];
        snprintf(path, sizeof path, "/api/v1/jobs/%ld/priority", id);
        json_t *body = json_pack("{s:i}", "priority", (int)prio);
        cli_reply_t reply;
        ret = cli_http_json(http, "POST", path, body, &reply);
        json_decref(body);
        if (ret < 0)
            cli_fail_reply(&reply, "no such job", "job %ld", id);
        else if (json)
            cli_print_json(reply.json);
        else
            printf("job %ld: priority %ld\n", id, prio);
        json_decref(reply.json);
    }
    cli_http_free(&http);
    return ret;
}

/* ---- job files ---- */

/* The submit option a job file's field stands for: its name with '_' read as '-' ("notify_url" is --notify-url, as in
   the API's requests). */
static void option_of(const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "--%s", key);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = '-';
}

typedef struct {
    const char *name;
    json_t *entry;
    long id;        /* once submitted */
    int state;      /* topological sort: 0 new, 1 visiting, 2 done */
} fjob_t;

typedef struct {
    fjob_t *jobs;
    int n;
    int *order;     /* dependency order */
    int norder;
    char dir[PATH_MAX]; /* the file's folder: input paths are relative to it */
} jobfile_t;

static int find(const jobfile_t *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->jobs[i].name, name) == 0)
            return i;
    return -1;
}

static int visit(jobfile_t *f, int i)
{
    fjob_t *j = &f->jobs[i];
    if (j->state == 2)
        return 0;
    if (j->state == 1)
        return cli_fail(CLI_EXIT_USAGE, "job '%s': its \"after\" references form a cycle", j->name);
    j->state = 1;
    size_t k;
    json_t *ref;
    json_array_foreach(json_object_get(j->entry, "after"), k, ref)
        if (json_is_string(ref) && visit(f, find(f, json_string_value(ref))) < 0)
            return -1;
    j->state = 2;
    f->order[f->norder++] = i;
    return 0;
}

/* An input path of the file, relative to the file's folder unless absolute. */
static void input_path(const jobfile_t *f, const char *p, char *out, size_t cap)
{
    if (p[0] == '/')
        snprintf(out, cap, "%s", p);
    else
        snprintf(out, cap, "%s/%s", f->dir, p);
}

/* Checks one entry as far as the file alone can tell; -1 (exit 2) naming the entry and the field. */
static int check_entry(jobfile_t *f, int i)
{
    json_t *e = f->jobs[i].entry;
    const char *name = f->jobs[i].name;
    const char *type = json_string_value(json_object_get(e, "type"));
    if (!type || (strcmp(type, "render") && strcmp(type, "transcode") && strcmp(type, "contactsheet")))
        return cli_fail(CLI_EXIT_USAGE, "job '%s': field 'type' must be render, transcode or contactsheet", name);
    const char *field = strcmp(type, "render") == 0 ? "scene" : strcmp(type, "transcode") == 0 ? "input" : "inputs";
    json_t *in = json_object_get(e, field);
    json_t *list = json_is_array(in) ? in : json_array();
    if (!json_is_array(in)) {
        if (!json_is_string(in))
            return cli_fail(CLI_EXIT_USAGE, "job '%s': field '%s' is required (a path, relative to the file's "
                            "folder)", name, field);
        json_array_append(list, in);
    }
    size_t k;
    json_t *p;
    int rc = 0;
    json_array_foreach(list, k, p) {
        char path[PATH_MAX];
        if (!json_is_string(p)) {
            rc = cli_fail(CLI_EXIT_USAGE, "job '%s': field '%s': entry %zu is not a path", name, field, k + 1);
            break;
        }
        input_path(f, json_string_value(p), path, sizeof path);
        if (access(path, R_OK) != 0) {
            rc = cli_fail(CLI_EXIT_USAGE, "job '%s': field '%s': %s: %s", name, field, path, strerror(errno));
            break;
        }
    }
    if (!json_is_array(in))
        json_decref(list);
    if (rc < 0)
        return rc;
    json_t *after = json_object_get(e, "after");
    if (after && !json_is_array(after))
        return cli_fail(CLI_EXIT_USAGE, "job '%s': field 'after' must be a list of job names or ids", name);
    json_array_foreach(after, k, p) {
        if (json_is_string(p) && find(f, json_string_value(p)) < 0)
            return cli_fail(CLI_EXIT_USAGE, "job '%s': field 'after': no job named '%s' in the file", name,
                            json_string_value(p));
        if (!json_is_string(p) && !(json_is_integer(p) && json_integer_value(p) > 0))
            return cli_fail(CLI_EXIT_USAGE, "job '%s': field 'after': entry %zu is neither a name nor a job id",
                            name, k + 1);
    }
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v) {
        if (!strcmp(key, "name") || !strcmp(key, "type") || !strcmp(key, "after") || !strcmp(key, field))
            continue;
        if (!(json_is_string(v) || json_is_integer(v) || json_is_real(v) || json_is_boolean(v)))
            return cli_fail(CLI_EXIT_USAGE, "job '%s': field '%s' must be a text, a number or true/false (as the "
                            "submit option --%s takes)", name, key, key);
        if (strlen(key) > 40 || strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(key))
            return cli_fail(CLI_EXIT_USAGE, "job '%s': field '%s' is not an option name", name, key);
        static const char *const NOT_IN_FILE[] = {"wait", "out", "timeout", "json", "dry-run", "file", "master",
                                                  "token", "ca-file", "paused", "help"};
        char option[48];
        option_of(key, option, sizeof option);
        for (size_t d = 0; d < sizeof NOT_IN_FILE / sizeof NOT_IN_FILE[0]; d++)
            if (strcmp(option + 2, NOT_IN_FILE[d]) == 0)
                return cli_fail(CLI_EXIT_USAGE, "job '%s': field '%s' does not belong in a job file (wait for the jobs "
                                "with `tessera wait`)", name, key);
    }
    return 0;
}

/* Runs this program's own `submit` for one entry (paused, its parents' ids), its stdout into out; the child's exit
   status, or -1. */
static int run_submit(const cli_ctx_t *ctx, jobfile_t *f, int i, char *out, size_t cap, char *err, size_t err_cap)
{
    json_t *e = f->jobs[i].entry;
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *field = strcmp(type, "render") == 0 ? "scene" : strcmp(type, "transcode") == 0 ? "input" : "inputs";
    char *args[ARGS_MAX + 8];
    char store[ARGS_MAX][PATH_MAX];
    int n = 0, s = 0;
    args[n++] = "tessera";
    args[n++] = "submit";
    args[n++] = (char *)type;
    json_t *in = json_object_get(e, field);
    size_t k;
    json_t *v;
    if (json_is_array(in)) {
        json_array_foreach(in, k, v)
            if (s < ARGS_MAX - 16) {
                input_path(f, json_string_value(v), store[s], sizeof store[s]);
                args[n++] = store[s++];
            }
    } else {
        input_path(f, json_string_value(in), store[s], sizeof store[s]);
        args[n++] = store[s++];
    }
    const char *key;
    json_object_foreach(e, key, v) {
        if (!strcmp(key, "name") || !strcmp(key, "type") || !strcmp(key, "after") || !strcmp(key, field) ||
            s >= ARGS_MAX - 8 || n >= ARGS_MAX)
            continue;
        if (json_is_false(v))
            continue;
        option_of(key, store[s], sizeof store[s]);
        for (char *c = store[s]; *c; c++) /* "max_nodes" or "max-nodes": the option's name either way */
            *c = *c == '_' ? '-' : *c;
        args[n++] = store[s++];
        if (json_is_true(v))
            continue;
        if (json_is_string(v))
            snprintf(store[s], sizeof store[s], "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(store[s], sizeof store[s], "%lld", (long long)json_integer_value(v));
        else
            snprintf(store[s], sizeof store[s], "%.17g", json_real_value(v));
        args[n++] = store[s++];
    }
    char after[ARGS_MAX * 12] = "";
    json_array_foreach(json_object_get(e, "after"), k, v) {
        long id = json_is_string(v) ? f->jobs[find(f, json_string_value(v))].id : (long)json_integer_value(v);
        snprintf(after + strlen(after), sizeof after - strlen(after), "%s%ld", after[0] ? "," : "", id);
    }
    args[n++] = "--name";
    args[n++] = (char *)f->jobs[i].name;
    if (after[0]) {
        args[n++] = "--after";
        args[n++] = after;
    }
    args[n++] = "--paused";
    args[n++] = "--json";
    args[n] = NULL;
    int po[2], pe[2];
    if (pipe(po) != 0 || pipe(pe) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        /* the connection as this run has it: the token and CA through the environment, never on a command line */
        setenv(CLI_MASTER_ENV, ctx->master, 1);
        const char *token = ctx->token ? ctx->token : ctx->token_before;
        const char *ca = ctx->ca_file ? ctx->ca_file : ctx->ca_file_before;
        if (token)
            setenv(CLI_TOKEN_ENV, token, 1);
        if (ca)
            setenv(CLI_CA_ENV, ca, 1);
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    size_t got = 0, egot = 0;
    ssize_t r;
    /* small outputs: read stdout then stderr (a child blocked on a full stderr pipe would stall: stderr is capped) */
    while (got < cap - 1 && (r = read(po[0], out + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    while (egot < err_cap - 1 && (r = read(pe[0], err + egot, err_cap - 1 - egot)) > 0)
        egot += (size_t)r;
    out[got] = '\0';
    err[egot] = '\0';
    close(po[0]);
    close(pe[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Cancels (undo) or resumes (go) every job of the file submitted so far. */
static int finish_all(const cli_ctx_t *ctx, jobfile_t *f, const char *action)
{
    cli_http_t *http = cli_http_new(ctx);
    if (!http)
        return -1;
    int rc = 0;
    for (int i = 0; i < f->n; i++) {
        if (f->jobs[i].id <= 0)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/api/v1/jobs/%ld/%s", f->jobs[i].id, action);
        cli_reply_t reply;
        if (cli_http_json(http, "POST", path, NULL, &reply) < 0) {
            fprintf(stderr, "%s: job '%s' (%ld): %s: %s\n", CLI_PROG, f->jobs[i].name, f->jobs[i].id, action,
                    reply.error);
            rc = -1;
        }
        json_decref(reply.json);
    }
    cli_http_free(&http);
    return rc;
}

static const char *const FILE_SYNOPSIS = "submit --file JOBS.json [--json]";
static const char *const FILE_SUMMARY =
    "Submits every job of a job file: {\"jobs\": [{\"name\": \"top\", \"type\": \"render\", \"scene\": \"s.blend\",\n"
    "\"frames\": \"1-2\", \"tiles\": \"2x1\"}, {\"name\": \"sink\", \"type\": \"render\", \"scene\": \"s.blend\",\n"
    "\"frames\": \"1\", \"after\": [\"top\"]}]}. Each job has a name, a type and its input (render: \"scene\",\n"
    "transcode: \"input\", contactsheet: \"inputs\"; paths relative to the file's folder); other fields are the\n"
    "submit options of its type by name (true for a flag). \"after\" names jobs of the file or ids of existing jobs:\n"
    "a job starts when they are done. The whole file is checked first, and if any job is refused none runs.\n"
    "Shot lists: {\"vars\": {\"shot\": [\"sh010\", \"sh020\"]}, \"jobs\": [{\"name\": \"{shot}\", \"scene\":\n"
    "\"{shot}.blend\", ..., \"each\": \"shot\"}]}: an entry with \"each\" is one job per value, {shot} in its\n"
    "strings (names, paths, \"after\") replaced by it.";

int cli_submit_file(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *path = NULL, *master = NULL;
    bool json = false;
    ts_opt_t table[] = {
        {"file", TS_OPT_STRING, NULL, 1, 0, &path, "the job file (JSON)"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print {\"jobs\": [{\"name\", \"id\"}]} instead of a table"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    char *pos[1];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, 0, &npos, FILE_SYNOPSIS, FILE_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    cli_ctx_override(ctx, master);
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return cli_fail(CLI_EXIT_USAGE, "%s: line %d, column %d: %s", path, jerr.line, jerr.column, jerr.text);
    json_t *listed = json_object_get(doc, "jobs");
    if (!json_is_array(listed) || json_array_size(listed) == 0 || json_array_size(listed) > FILE_JOBS_MAX) {
        json_decref(doc);
        return cli_fail(CLI_EXIT_USAGE, "%s: must be {\"jobs\": [...]} with 1 to %d jobs", path, FILE_JOBS_MAX);
    }
    json_t *jobs = cli_jobfile_expand(doc, FILE_JOBS_MAX); /* a shot list's entries, one job per shot */
    json_decref(doc);
    if (!jobs)
        return cli_fail(CLI_EXIT_USAGE, "%s: %s", path, ts_error());
    jobfile_t f = {.n = (int)json_array_size(jobs)};
    f.jobs = calloc((size_t)f.n, sizeof *f.jobs);
    f.order = calloc((size_t)f.n, sizeof *f.order);
    char real[PATH_MAX];
    snprintf(f.dir, sizeof f.dir, "%s", realpath(path, real) ? real : path);
    char *slash = strrchr(f.dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(f.dir, sizeof f.dir, ".");
    int ret = f.jobs && f.order ? 0 : cli_fail(CLI_EXIT_USAGE, "out of memory");
    for (int i = 0; ret == 0 && i < f.n; i++) {
        json_t *e = json_array_get(jobs, (size_t)i);
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!json_is_object(e))
            ret = cli_fail(CLI_EXIT_USAGE, "%s: job %d is not an object", path, i + 1);
        else if (!name || !name[0] || strlen(name) > 64)
            ret = cli_fail(CLI_EXIT_USAGE, "%s: job %d: field 'name' (1 to 64 characters) is required", path, i + 1);
        else {
            for (int k = 0; k < i && ret == 0; k++)
                if (strcmp(f.jobs[k].name, name) == 0)
                    ret = cli_fail(CLI_EXIT_USAGE, "%s: job %d: the name '%s' is taken by job %d of the file", path,
                                   i + 1, name, k + 1);
            f.jobs[i] = (fjob_t){.name = name, .entry = e};
        }
    }
    for (int i = 0; ret == 0 && i < f.n; i++)
        ret = check_entry(&f, i);
    for (int i = 0; ret == 0 && i < f.n; i++)
        ret = visit(&f, i);
    /* submit paused, parents first; on a refusal cancel what was made */
    for (int k = 0; ret == 0 && k < f.norder; k++) {
        int i = f.order[k];
        char out[4096], err[4096];
        int rc = run_submit(ctx, &f, i, out, sizeof out, err, sizeof err);
        json_t *job = rc == 0 ? json_loads(out, 0, NULL) : NULL;
        f.jobs[i].id = job ? (long)json_integer_value(json_object_get(job, "id")) : 0;
        json_decref(job);
        if (f.jobs[i].id <= 0) {
            char *nl = strrchr(err, '\n');
            while (nl && nl > err && nl[1] == '\0') { /* the child's last line, without its program name */
                *nl = '\0';
                nl = strrchr(err, '\n');
            }
            const char *msg = nl ? nl + 1 : err;
            if (strncmp(msg, CLI_PROG ": ", strlen(CLI_PROG) + 2) == 0)
                msg += strlen(CLI_PROG) + 2;
            ret = cli_fail(rc > 0 && rc < 128 ? rc : CLI_EXIT_MASTER, "job '%s': %s%s", f.jobs[i].name,
                           msg[0] ? msg : "refused", " (nothing of the file was queued)");
        }
    }
    if (ret < 0) {
        int code = cli_exit_code();
        char msg[CLI_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", ts_error());
        finish_all(ctx, &f, "cancel");
        cli_fail(code, "%s", msg);
    } else if (finish_all(ctx, &f, "resume") < 0) {
        ret = cli_fail(CLI_EXIT_MASTER, "%s: some jobs could not be resumed (see above); they wait paused", path);
    }
    if (ret == 0) {
        json_t *list = json_array();
        for (int k = 0; k < f.norder; k++)
            json_array_append_new(list, json_pack("{s:s,s:I}", "name", f.jobs[f.order[k]].name, "id",
                                                  (json_int_t)f.jobs[f.order[k]].id));
        if (json) {
            json_t *o = json_pack("{s:o}", "jobs", list);
            cli_print_json(o);
            json_decref(o);
        } else {
            size_t k;
            json_t *j;
            json_array_foreach(list, k, j)
                printf("%-8lld %s\n", (long long)json_integer_value(json_object_get(j, "id")),
                       json_string_value(json_object_get(j, "name")));
            json_decref(list);
        }
    }
    free(f.jobs);
    free(f.order);
    json_decref(jobs);
    return ret;
}
