/* cli: shared declarations of the tessera command-line client (exit codes, commands, parsers, helpers). */
#ifndef TS_CLI_H
#define TS_CLI_H

#include "lib/ts_opts.h"
#include "lib/ts_request.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include "lib/ts_version.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_VERSION TS_VERSION
#define CLI_PROG "tessera"
#define CLI_DEFAULT_MASTER "http://127.0.0.1:8080"
#define CLI_MASTER_ENV "TESSERA_MASTER"
#define CLI_TOKEN_ENV "TESSERA_TOKEN"
#define CLI_CA_ENV "TESSERA_CA_FILE"
#define CLI_TOKEN_FILE "tessera/token" /* under $XDG_CONFIG_HOME, else ~/.config */

/* Exit codes scripts rely on (listed in `tessera --help`). */
enum {
    CLI_EXIT_OK = 0,      /* success */
    CLI_EXIT_JOB = 1,     /* the job failed or was cancelled */
    CLI_EXIT_USAGE = 2,   /* bad option/value, or the master rejected the input (HTTP 400/409) */
    CLI_EXIT_UNKNOWN = 3, /* unknown job (HTTP 404) */
    CLI_EXIT_MASTER = 4,  /* master unreachable, HTTP 5xx, or an answer that is not the expected JSON */
    CLI_EXIT_TIMEOUT = 5, /* --timeout expired */
    CLI_EXIT_AUTH = 6     /* no token or a wrong one (HTTP 401), a token without the right (403), too many wrong (429) */
};

#define CLI_CRF_UNSET (-1) /* --crf's value when it is not given */
#define CLI_CRF_UNSET_TEXT "-1"
#define CLI_URL_MAX 2048
#define CLI_MSG_MAX 1024

/* Where the master URL came from, so messages can name it; the --token and --ca-file given (before or after the
   command), which cli_http_new weighs against the environment and the token file. */
typedef struct {
    const char *master;
    const char *source;   /* "--master", "$TESSERA_MASTER" or "default" */
    const char *token;    /* --token after the command, or NULL */
    const char *ca_file;  /* --ca-file after the command, or NULL */
    const char *token_before, *ca_file_before; /* the same given before the command */
} cli_ctx_t;

/* The connection options every option table carries, so they may also follow the command: --master into
   *master_target, --token and --ca-file into ctx. */
#define CLI_OPTS_CONN(master_target, ctx)                                                                   \
    {"master", TS_OPT_STRING, NULL, 1, 0, (master_target),                                                  \
     "master URL (else $" CLI_MASTER_ENV ", else " CLI_DEFAULT_MASTER ")"},                                 \
    {"token", TS_OPT_STRING, NULL, 1, 0, &(ctx)->token,                                                     \
     "API token (else $" CLI_TOKEN_ENV ", else the file ~/.config/" CLI_TOKEN_FILE "; those two stay out of ps "  \
     "and shell history)"},                    \
    {"ca-file", TS_OPT_STRING, NULL, 1, 0, &(ctx)->ca_file,                                                 \
     "PEM certificate(s) to trust for an https master (else $" CLI_CA_ENV ", else the system's)"}

/* Commands: argv holds the arguments after the command name. 0, or -1 with ts_error() and
   cli_exit_code() set. */
int cli_cmd_submit(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_wait(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_status(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_cancel(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_jobs(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_nodes(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_lift(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_stats(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_wallet(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_escrow(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_account(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_share(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_inspect(cli_ctx_t *ctx, int argc, char **argv);
/* Adds "budget" (checked as a token amount) and "requester" to a job request when given. */
int cli_add_payment(json_t *request, const char *budget, const char *requester);

/* A studio's queue options every submit takes (cli_queue.c). */
typedef struct {
    const char *name;       /* --name */
    const char *after;      /* --after JOB[,JOB] */
    const char *on_failure; /* --on-parent-failure hold|fail */
    bool paused;            /* --paused */
    const char *pool;       /* --pool TAG */
    long max_nodes;         /* --max-nodes N (0: any) */
    const char *notify_url; /* --notify-url URL: a webhook for the job's events */
} cli_queue_opts_t;
#define CLI_OPTS_QUEUE(q)                                                                                      \
    {"name", TS_OPT_STRING, NULL, 1, 0, &(q)->name, "a name for the job (tessera jobs --name finds it)"},     \
    {"after", TS_OPT_STRING, NULL, 1, 0, &(q)->after,                                                          \
     "start only when these jobs are done: JOB[,JOB] (ids)"},                                                  \
    {"on-parent-failure", TS_OPT_STRING, NULL, 1, 0, &(q)->on_failure,                                         \
     "when a job it waits for fails or is cancelled: hold (default: it waits, saying why) or fail"},           \
    {"paused", TS_OPT_FLAG, NULL, 1, 0, &(q)->paused, "submit it paused: nothing starts until `tessera resume`"}, \
    {"pool", TS_OPT_STRING, NULL, 1, 0, &(q)->pool, "run only on nodes with this tag (tessera-slave --tag)"},     \
    {"max-nodes", TS_OPT_INT, "0", 0, TS_REQUEST_MAX_NODES, &(q)->max_nodes,                                     \
     "at most this many nodes work on it at once (0: any number)"},                                            \
    {"notify-url", TS_OPT_STRING, NULL, 1, 0, &(q)->notify_url,                                                  \
     "POST each of the job's events (JSON, in order, retried until taken) to this http(s) URL"}
/* Adds "name", "after", "on_parent_failure" and "paused" to a job request when given; -1 (exit 2) naming the
   option. */
int cli_add_queue(json_t *request, const cli_queue_opts_t *q);
/* `tessera submit --file FILE`: many jobs, with dependencies by name; nothing is queued if any is refused. */
int cli_submit_file(cli_ctx_t *ctx, int argc, char **argv);
/* A job file's "jobs" with its shot lists expanded (cli_jobvars.c): an entry with "each": VAR is one job per value
   of "vars"[VAR], "{VAR}" in its strings replaced; at most max jobs. A new array, or NULL with ts_error(). */
json_t *cli_jobfile_expand(const json_t *doc, size_t max);
int cli_jobvars_test(bool verbose);
int cli_cmd_pause(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_resume(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_priority(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_requeue(cli_ctx_t *ctx, int argc, char **argv);

/* `tessera jobs --watch` (cli_watch.c): the master's job and task events, one line each. */
typedef struct cli_http cli_http_t;
typedef struct {
    bool json;                                   /* each event's JSON, one a line */
    long after;                                  /* start after this event id; -1: with the next event */
    bool (*keep)(const json_t *event, void *ud); /* the events to print; NULL: all */
    void *ud;
} cli_watch_opts_t;
/* Follows the events until Ctrl-C or SIGTERM (0), reconnecting after a lost connection from the last event id seen;
   -1 when the master cannot be reached at first or refuses the stream (a 4xx). */
int cli_watch(cli_http_t *http, const cli_watch_opts_t *o);

/* Waiting for a job (cli_wait.c), shared by `wait` and `submit --wait`. */
typedef struct cli_http cli_http_t;
typedef struct {
    const char *out; /* download the outputs here when done; NULL: do not */
    double timeout;  /* seconds; 0: forever */
    bool json;       /* print the final job JSON on stdout (instead of the written paths) */
    const json_t *extra; /* with json: fields added to it (submit's uploaded_bytes, reused_bytes); may be NULL */
} cli_wait_opts_t;
#define CLI_WAIT_TIMEOUT_MAX 31536000.0 /* a year */
int cli_wait_job(cli_http_t *http, long id, const cli_wait_opts_t *opts);

/* Submitting (cli_submit.c; a job type's options in cli_<type>.c). */
int cli_cmd_submit_transcode(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_submit_contactsheet(cli_ctx_t *ctx, int argc, char **argv);
int cli_cmd_submit_synthetic(cli_ctx_t *ctx, int argc, char **argv);
/* Encoder options into settings, the rest at their defaults: vcodec is the value of the option named
   vcodec_option ("vcodec", or "encode" for a render); crf CLI_CRF_UNSET, preset and container NULL when not
   given. -1 (exit 2) with the option named. */
int cli_encode_fill(ts_request_encode_t *e, const char *vcodec_option, const char *vcodec, long crf,
                    const char *preset, const char *container);
/* ts_request_encode_check with the options named; -1 (exit 2). The master checks the same way. */
int cli_encode_check(ts_request_encode_t *e);
/* Uploads the inputs and posts the request (taken over): with field, request[field] is the one input's hash; without,
   request["inputs"] is the manifest of them all. Prints the job id, or with wait waits for the job. */
int cli_submit_and_wait(cli_ctx_t *ctx, const char *master, const char *const *inputs, int count, const char *field,
                        json_t *request, bool wait, const cli_wait_opts_t *opts);

/* A scene's project (cli_project.c; hashing and uploading in cli_project_upload.c): every file the scene needs, as the artist's Blender finds them (tessera-deps.py
   beside the tessera program), named under one root folder, hashed, and uploaded content-addressed.
   DESIGN: the root starts as the scene's folder and widens until no relative reference crosses it: for every
   reference stored relative to its holder (a "//tex/marble.png" in a .blend), when one of holder and file is
   inside the root and the other is not, the root becomes the deepest folder holding both; repeated until nothing
   changes. So relative paths resolve on a slave as on the artist's disk. A file's name in the job is its path
   under the root, or "_outside" + its absolute path ("_outside/srv/shared/wood.png"); one path is one file. */
typedef struct cli_project cli_project_t;
/* One reference from OUT.json: strings owned by the project. */
typedef struct {
    const char *path;   /* absolute, normal */
    const char *holder; /* absolute, normal: the .blend that references it */
    const char *ref;    /* as stored in the holder, e.g. "//tex/marble.png" */
    const char *kind;   /* image, library, cachefile, ... */
    bool relative;      /* stored relative to the holder ("//...") */
    bool exists;        /* Blender found a file there */
} cli_project_ref_t;
#define CLI_PROJECT_PATH_MAX 4096 /* longest path taken from Blender's list */
/* Runs Blender (blender: a path, or a name found on PATH) on the scene with tessera-deps.py and reads the list it
   writes: the root and every file's name are computed. NULL with cli_fail (exit 2) naming what went wrong; Blender's
   last lines are shown on stderr when it fails. */
cli_project_t *cli_project_discover(const char *scene, const char *blender);
/* The artist's Blender: given (a path or a name on PATH) when not NULL, else $CLI_BLENDER_ENV, else CLI_BLENDER. */
#define CLI_BLENDER_ENV "TESSERA_BLENDER"
#define CLI_BLENDER "blender"
const char *cli_artist_blender(const char *given);
/* Opens an input for reading (cli_submit.c): a non-empty regular file, else NULL, said with the path and why. */
FILE *cli_open_input(const char *path, int64_t *size);
/* Reads a list as tessera-deps.py writes it (outside input: every field checked); source names it in messages. */
cli_project_t *cli_project_parse(const char *text, size_t len, const char *source);
void cli_project_destroy(cli_project_t **self_p);
/* The version of the Blender that listed the files ("3.4.1"), and its major.minor ("3.4") into series. */
const char *cli_project_blender(const cli_project_t *self);
void cli_project_series(const cli_project_t *self, char *series, size_t cap);
/* The scene's facts as tessera-deps.py read them ({"frame_start", "frame_end", "width", "height", "samples", "engine",
   "file_format", "ext"}, unchecked: NULL when absent), and every reference Blender listed (count of them). */
const json_t *cli_project_facts(const cli_project_t *self);
const cli_project_ref_t *cli_project_refs(const cli_project_t *self, size_t *count);
/* Hashes every file. A file Blender did not find, or that is not a readable regular file, is missing: each is
   listed on stderr with the .blend that needs it; then -1 (exit 2) unless allow_missing (they are left out). */
int cli_project_hash(cli_project_t *self, bool allow_missing);
/* After hashing, before anything is sent: lists on stderr each file taken from outside the project folder (at most
   20 by name), and refuses (-1, exit 2), listing them, the files whose name in the job has a hidden part (a part
   starting with '.': for a file outside the folder, a part of its absolute path) unless allow_hidden. */
int cli_project_check_taken(const cli_project_t *self, bool allow_hidden);
/* Asks the master which contents it lacks and uploads those, each once (max_send_speed bytes/s, 0: no limit), with a
   progress line on a terminal and a summary line on stderr. *uploaded and *reused get the bytes sent and kept. */
int cli_project_upload(cli_project_t *self, cli_http_t *http, int64_t max_send_speed, int64_t *uploaded,
                       int64_t *reused);
/* Adds "scene", "scene_name", "inputs" (by name), "project_root" and "missing" (when any) to a render request. */
int cli_project_request(const cli_project_t *self, json_t *request);
/* The pure parts: is path root or under it ("/" holds everything)? The root of a main .blend and its references, into
   root (cap bytes). A file's name under root (TS_REQUEST_INPUT_NAME_CAP bytes); -1 naming the file when it cannot be
   a name in a job. */
bool cli_project_inside(const char *root, const char *path);
int cli_project_root(const char *main, const cli_project_ref_t *refs, size_t count, char *root, size_t cap);
int cli_project_name(const char *root, const char *path, char *name, size_t cap);
int ts_cli_project_test(bool verbose);

/* Local parsers (cli_parse.c); each returns 0, or -1 with ts_error() naming the input. --frames and --tiles
   follow the request's rules (lib/ts_request.h), the ones the master checks with. */
int cli_parse_frames(const char *text, int *start, int *end);
/* A list of frames and ranges, "3,5-7" (each entry as --frames takes it), appended to frames (a JSON array) in
   order, at most CLI_FRAME_LIST_MAX frames. */
#define CLI_FRAME_LIST_MAX 100000
int cli_parse_frame_list(const char *text, json_t *frames);
int cli_parse_tiles(const char *text, int *cols, int *rows);
int cli_parse_job_id(const char *text, long *id);
/* Normalizes a master URL: adds "http://" when no scheme is given, refuses other schemes and an
   empty host, drops trailing slashes. Messages do not quote the text (it may hold credentials). */
int cli_master_url(const char *text, char *out, size_t cap);
/* base + path with exactly one '/' between them; malloc'd, NULL when out of memory. */
char *cli_url_join(const char *base, const char *path);
/* The URL without any "user:password@" part, for messages. */
void cli_url_redact(const char *url, char *out, size_t cap);
/* True when an output name from the master is a plain file name safe to create in --out. */
bool cli_output_name_ok(const char *name, const char **why);
/* The file name part of a path. */
const char *cli_basename(const char *path);

int ts_cli_test(bool verbose);

/* Errors with an exit code (cli_util.c): set ts_error() and the exit code; return -1. */
int cli_fail(int exit_code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keeps the current ts_error() message and sets the exit code; returns -1. */
int cli_keep(int exit_code);
int cli_exit_code(void);
/* Command usage: the synopsis line, a summary and the option table, to out. */
void cli_usage(FILE *out, const char *synopsis, const char *summary, const ts_opt_t *table);
/* Parses a command's options; 1 when --help was printed (the command then returns 0), 0 when
   parsed, -1 on a usage error. npos receives the count of positionals. */
int cli_parse_opts(const ts_opt_t *table, int argc, char **argv, char **pos, int max_pos, int *npos,
                   const char *synopsis, const char *summary);
/* Applies a per-command --master over the context (when given). */
void cli_ctx_override(cli_ctx_t *ctx, const char *master);

#endif
