/* cli_submit: `tessera submit TYPE`: the table of job types, `submit render` (finds the scene's files, uploads what the
   master lacks, creates the job), and the upload-and-post every type shares. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "lib/ts_error.h"
#include "lib/ts_request.h"
#include "splitter/ts_tileplan.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLI_SUBMIT_POSITIONALS 2 /* TYPE SCENE */
#define CLI_SUBMIT_TEXT_MAX 64
#define CLI_SUBMIT_PATH_MAX 128
#define CLI_SUBMIT_LABEL_MAX 256
#define CLI_SUBMIT_SERIES_MAX 32
#define CLI_SUBMIT_RATE_MAX 1e12 /* bytes per second */

static const char *const SUBMIT_SYNOPSIS =
    "submit render SCENE.blend --frames A-B|N [--tiles CxR] [--format scene|exr|png] [--priority N]\n"
    "       [--device cpu|gpu] [--blender VERSION|PATH] [--no-denoise] [--allow-missing]\n"
    "       [--allow-hidden] [--scene-only] [--chunk N] [--out-pattern NAME_####] [--json]\n"
    "       [--encode VCODEC [--crf N] [--preset P] [--container mp4|mkv]]\n"
    "       [--upload-limit RATE] [--wait [--out DIR] [--timeout SECONDS]] [--dry-run]\n"
    "       (submit transcode --help for videos)";
static const char *const SUBMIT_SUMMARY =
    "Uploads SCENE.blend and every file it needs (textures, libraries, caches: your Blender lists them,\n"
    "laid out as in its project folder; only what the master lacks is sent) and queues a render of its\n"
    "frames, each split into CxR tiles. A missing file refuses the submit, naming it, unless\n"
    "--allow-missing. Files from outside the project folder are listed; a hidden one (a path part\n"
    "starting with '.') refuses the submit unless --allow-hidden. Prints the job id (or the job as\n"
    "JSON with --json, with uploaded_bytes and reused_bytes) once nothing more is read from your\n"
    "disk; with --wait it then behaves as\n"
    "`tessera wait JOB --out DIR`. With --encode the rendered (PNG) frames are then encoded into\n"
    "video.<container> at the scene's frame rate, in the same job. --dry-run finds and hashes the files\n"
    "and prints the request that would be sent, without a master. --scene-only sends the .blend alone\n"
    "(its files packed into it, or none; no Blender needed here): the farm refuses it if files are missing.";

/* A Blender version prefix: digits separated by single dots ("3", "3.6", "4.1.1"). */
static int check_blender(const char *text)
{
    bool ok = isdigit((unsigned char)text[0]);
    for (const char *p = text; ok && *p; p++)
        ok = isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]));
    return ok ? 0 : cli_fail(CLI_EXIT_USAGE, "--blender '%s': expected a version such as 3.6 or 4.1.1", text);
}

/* --blender: digits and dots are the version the farm's Blender must have; anything else is the artist's Blender. */
static bool blender_is_version(const char *text)
{
    return text[strspn(text, "0123456789.")] == '\0';
}

/* --upload-limit: bytes per second, with K, M or G for thousands, millions, billions ("1.5M"). */
static int parse_rate(const char *text, int64_t *rate)
{
    char *end = NULL;
    errno = 0;
    double v = isdigit((unsigned char)text[0]) ? strtod(text, &end) : -1;
    static const char units[] = "KMG";
    const char *unit = end && *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (unit && end[1] == '\0') {
        for (const char *u = units; u <= unit; u++)
            v *= 1000;
        end++;
    }
    if (v < 1 || !end || *end || errno || v > CLI_SUBMIT_RATE_MAX)
        return cli_fail(CLI_EXIT_USAGE, "--upload-limit '%s': expected bytes per second such as 500K or 2M", text);
    *rate = (int64_t)v;
    return 0;
}

FILE *cli_open_input(const char *path, int64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_fail(CLI_EXIT_USAGE, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *problem = NULL;
    if (fstat(fileno(f), &st) < 0)
        problem = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        problem = strerror(EISDIR);
    else if (!S_ISREG(st.st_mode))
        problem = "not a regular file";
    else if (st.st_size == 0)
        problem = "the file is empty";
    if (problem) {
        cli_fail(CLI_EXIT_USAGE, "%s: %s", path, problem);
        fclose(f);
        return NULL;
    }
    *size = (int64_t)st.st_size;
    return f;
}

/* Posts the job; *job_out gets the master's job, with an id. */
static int cli_post_job(cli_http_t *http, const json_t *request, const char *what, json_t **job_out)
{
    cli_reply_t reply;
    if (cli_http_json(http, "POST", "/api/v1/jobs", request, &reply) < 0)
        return cli_fail_reply(&reply, NULL, "%s: submit", what);
    long id = cli_json_int(reply.json, "id");
    if (!json_is_integer(json_object_get(reply.json, "id")) || id < 1) {
        json_decref(reply.json);
        return cli_fail(CLI_EXIT_MASTER, "%s: the master's answer has no job id", what);
    }
    *job_out = reply.json;
    return 0;
}

/* Prints the job (its id, or the JSON) or, with wait, waits for it. */
static int cli_report_job(cli_http_t *http, const json_t *job, bool wait, const cli_wait_opts_t *opts)
{
    long id = cli_json_int(job, "id");
    if (!wait) {
        if (opts->json)
            cli_print_json(job);
        else
            printf("%ld\n", id);
        return 0;
    }
    fprintf(stderr, "job %ld: submitted\n", id);
    return cli_wait_job(http, id, opts);
}

/* --out and --timeout go with --wait; --out names something. */
static int cli_wait_opts_check(bool wait, const cli_wait_opts_t *opts)
{
    if (opts->out && !*opts->out)
        return cli_fail(CLI_EXIT_USAGE, "--out '': the name is empty");
    if (!wait && (opts->out || opts->timeout > 0))
        return cli_fail(CLI_EXIT_USAGE, "submit: --%s only applies with --wait", opts->out ? "out" : "timeout");
    return 0;
}

/* Uploads one input under its hash (skipped by the master's store when it holds it already); fills hash. */
static int cli_upload(cli_http_t *http, const char *input, char hash[TS_HASH_HEX])
{
    int64_t size = 0;
    FILE *f = cli_open_input(input, &size);
    if (!f)
        return -1;
    int rc = ts_hash_file(input, hash) < 0 ? cli_keep(CLI_EXIT_USAGE) : 0;
    char path[CLI_SUBMIT_PATH_MAX], label[CLI_SUBMIT_LABEL_MAX];
    snprintf(path, sizeof path, "/api/v1/blobs/%s", hash);
    snprintf(label, sizeof label, "uploading %s", cli_basename(input));
    cli_reply_t reply;
    if (rc == 0 && cli_http_put_file(http, path, f, size, isatty(STDERR_FILENO) ? label : NULL, &reply) < 0)
        rc = cli_fail_reply(&reply, NULL, "%s: upload", input);
    else if (rc == 0)
        json_decref(reply.json);
    fclose(f);
    return rc;
}

/* Uploads the inputs; with field, request[field] is the one input's hash, else request["inputs"] lists them all
   ({"name": its file name, "hash"}). Then posts the job; *job_out gets the master's job. */
static int cli_upload_and_post(cli_http_t *http, const char *const *inputs, int count, const char *field,
                               json_t *request, json_t **job_out)
{
    json_t *manifest = field ? NULL : json_array();
    for (int i = 0; i < count; i++) {
        char hash[TS_HASH_HEX];
        if (cli_upload(http, inputs[i], hash) < 0) {
            json_decref(manifest);
            return -1;
        }
        if (field)
            json_object_set_new(request, field, json_string(hash));
        else
            json_array_append_new(manifest, json_pack("{s:s,s:s}", "name", cli_basename(inputs[i]), "hash", hash));
    }
    if (manifest && count > 0)
        json_object_set_new(request, "inputs", manifest);
    else
        json_decref(manifest); /* a job without inputs (synthetic) sends no manifest */
    return cli_post_job(http, request, count == 1 ? inputs[0] : "the job", job_out);
}

/* A render of a project: its files found by the artist's Blender, uploaded, and the job posted (request taken over). */
static int cli_submit_project(cli_ctx_t *ctx, const char *master, const char *scene, const char *blender,
                              bool allow_missing, bool allow_hidden, bool dry_run, int64_t upload_limit, json_t *request, bool wait,
                              const cli_wait_opts_t *opts)
{
    int64_t size = 0, uploaded = 0, reused = 0;
    FILE *f = cli_open_input(scene, &size); /* named plainly before Blender is started on it */
    if (!f) {
        json_decref(request);
        return -1;
    }
    fclose(f);
    const char *exe = cli_artist_blender(blender && !blender_is_version(blender) ? blender : NULL);
    cli_project_t *project = cli_project_discover(scene, exe);
    if (project && blender && !blender_is_version(blender)) { /* the farm renders with the artist's series */
        char series[CLI_SUBMIT_SERIES_MAX];
        cli_project_series(project, series, sizeof series);
        json_object_set_new(request, "blender", json_string(series));
    }
    int ret = project ? cli_project_hash(project, allow_missing) : -1;
    if (ret == 0)
        ret = cli_project_check_taken(project, allow_hidden);
    if (ret == 0 && dry_run) { /* what would be sent, and nothing sent */
        ret = cli_project_request(project, request);
        if (ret == 0)
            cli_print_json(request);
        cli_project_destroy(&project);
        json_decref(request);
        return ret;
    }
    cli_http_t *http = NULL;
    if (ret == 0) {
        cli_ctx_override(ctx, master);
        http = cli_http_new(ctx);
        ret = http ? cli_project_upload(project, http, upload_limit, &uploaded, &reused) : -1;
    }
    if (ret == 0)
        ret = cli_project_request(project, request);
    cli_project_destroy(&project);
    json_t *job = NULL;
    if (ret == 0)
        ret = cli_post_job(http, request, scene, &job);
    json_decref(request);
    if (ret == 0) {
        json_t *extra = json_pack("{s:I,s:I}", "uploaded_bytes", (json_int_t)uploaded, "reused_bytes", (json_int_t)reused);
        json_object_update(job, extra);
        cli_wait_opts_t with = *opts;
        with.extra = extra; /* --wait --json prints the final job with them too */
        ret = cli_report_job(http, job, wait, &with);
        json_decref(extra);
    }
    json_decref(job);
    cli_http_free(&http);
    return ret;
}

int cli_submit_render(cli_ctx_t *ctx, int argc, char **argv);

/* The job types `submit` knows, each one file (cli_<type>.c) and one line here; the master's table is
   master/ts_jobtypes.c. */
static const struct {
    const char *type;
    int (*submit)(cli_ctx_t *ctx, int argc, char **argv);
} SUBMITTERS[] = {
    {"render", cli_submit_render},
    {"transcode", cli_cmd_submit_transcode},
    {"contactsheet", cli_cmd_submit_contactsheet},
    {"synthetic", cli_cmd_submit_synthetic},
};

int cli_cmd_submit(cli_ctx_t *ctx, int argc, char **argv)
{
    size_t n = sizeof SUBMITTERS / sizeof SUBMITTERS[0];
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--file") == 0 || strncmp(argv[i], "--file=", 7) == 0)
            return cli_submit_file(ctx, argc, argv); /* many jobs from a job file */
    for (int i = 0; i < argc; i++) /* the job type is the first word that is not an option */
        if (argv[i][0] != '-') {
            for (size_t t = 0; t < n; t++)
                if (strcmp(argv[i], SUBMITTERS[t].type) == 0)
                    return SUBMITTERS[t].submit(ctx, argc, argv);
            char types[128] = "";
            for (size_t t = 0; t < n; t++)
                snprintf(types + strlen(types), sizeof types - strlen(types), "%s%s", t ? ", " : "",
                         SUBMITTERS[t].type);
            return cli_fail(CLI_EXIT_USAGE, "submit: unknown job type '%s' (types: %s)", argv[i], types);
        }
    return cli_submit_render(ctx, argc, argv); /* no type: render's usage */
}

int cli_submit_render(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *frames_text = NULL, *tiles_text = NULL, *format = NULL, *device = NULL, *blender = NULL;
    const char *out = NULL, *master = NULL;
    long priority = 0;
    double timeout = 0;
    bool no_denoise = false, wait = false, json = false, allow_missing = false, allow_hidden = false;
    bool scene_only = false;
    bool dry_run = false;
    const char *upload_limit_text = NULL;
    int64_t upload_limit = 0;
    const char *encode = NULL, *preset = NULL, *container = NULL;
    const char *budget = NULL, *requester = NULL;
    cli_queue_opts_t queue = {0};
    long crf = CLI_CRF_UNSET, chunk = 1;
    const char *out_pattern = NULL;
    ts_opt_t table[] = {
        {"frames", TS_OPT_STRING, NULL, 1, 0, &frames_text, "frames to render: A-B (inclusive) or N; required"},
        {"chunk", TS_OPT_INT, "1", 1, TS_REQUEST_CHUNK_MAX, &chunk,
         "without tiles: frames a node renders in a row per assignment (its Blender stays loaded)"},
        {"out-pattern", TS_OPT_STRING, NULL, 1, 0, &out_pattern,
         "output file names, Blender's way: shot_#### is shot_0001.png... (default frame_####)"},
        {"tiles", TS_OPT_STRING, "1x1", 1, 0, &tiles_text,
         "split each frame into C columns x R rows, 1.." TS_REQUEST_TEXT(TS_TILEPLAN_MAX) " each"},
        {"format", TS_OPT_STRING, "scene", 1, 0, &format, "output format: scene (the scene's own), exr or png"},
        {"priority", TS_OPT_INT, "0", -TS_REQUEST_PRIORITY_MAX, TS_REQUEST_PRIORITY_MAX, &priority, "higher runs first"},
        {"budget", TS_OPT_STRING, NULL, 1, 0, &budget, "tokens locked for the job, e.g. 12.5 (default: the master's, 10)"},
        {"requester", TS_OPT_STRING, NULL, 1, 0, &requester, "the account that pays (default: the master's, \"default\")"},
        CLI_OPTS_QUEUE(&queue),
        {"device", TS_OPT_STRING, "cpu", 1, 0, &device, "device class every tile renders on: cpu or gpu"},
        {"blender", TS_OPT_STRING, NULL, 1, 0, &blender,
         "a version prefix (3.6) the farm's Blender must have, or your Blender's path: it lists the scene's files "
         "and the farm renders with its major.minor (default: any; $" CLI_BLENDER_ENV " or "
         CLI_BLENDER " lists)"},
        {"allow-missing", TS_OPT_FLAG, NULL, 1, 0, &allow_missing,
         "submit even when files the scene needs are missing (they are left out, and the job records them)"},
        {"allow-hidden", TS_OPT_FLAG, NULL, 1, 0, &allow_hidden,
         "send files whose path has a hidden part (.ssh/, .config/...) that the scene names; without it they refuse "
         "the submit"},
        {"scene-only", TS_OPT_FLAG, NULL, 1, 0, &scene_only,
         "send the .blend alone, without looking for its files (a self-contained or packed scene; no Blender here)"},
        {"upload-limit", TS_OPT_STRING, NULL, 1, 0, &upload_limit_text,
         "send at most RATE bytes per second, e.g. 500K or 2M (K, M, G: thousands, millions, billions)"},
        {"no-denoise", TS_OPT_FLAG, NULL, 1, 0, &no_denoise, "render with denoising off instead of failing"},
        {"wait", TS_OPT_FLAG, NULL, 1, 0, &wait, "then wait for the job, as `tessera wait`"},
        {"out", TS_OPT_STRING, NULL, 1, 0, &out, "with --wait: download the output frames into DIR"},
        {"timeout", TS_OPT_DOUBLE, "0", 0, CLI_WAIT_TIMEOUT_MAX, &timeout,
         "with --wait: give up after SECONDS (exit 5); 0 waits forever"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print the job as JSON instead of its id"},
        {"dry-run", TS_OPT_FLAG, NULL, 1, 0, &dry_run, "find and hash the scene's files, print the request; send nothing"},
        {"encode", TS_OPT_STRING, NULL, 1, 0, &encode, "then encode the frames into a video with this encoder (libx264, ...)"},
        {"crf", TS_OPT_INT, CLI_CRF_UNSET_TEXT, 1, 0, &crf,
         "with --encode: constant rate factor, within the encoder's range (" CLI_CRF_UNSET_TEXT ": the encoder's usual)"},
        {"preset", TS_OPT_STRING, NULL, 1, 0, &preset,
         "with --encode: encoder preset (default " TS_REQUEST_PRESET_DEFAULT " for x264, x265 and vp9)"},
        {"container", TS_OPT_STRING, NULL, 1, 0, &container, "with --encode: mp4 (default) or mkv"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    char *pos[CLI_SUBMIT_POSITIONALS];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, CLI_SUBMIT_POSITIONALS, &npos, SUBMIT_SYNOPSIS,
                                SUBMIT_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    if (npos != CLI_SUBMIT_POSITIONALS)
        return cli_fail(CLI_EXIT_USAGE, "submit: which scene? (usage: %s submit render SCENE.blend --frames A-B)",
                        CLI_PROG);
    const char *scene = pos[1];
    if (!frames_text)
        return cli_fail(CLI_EXIT_USAGE, "submit: --frames is required (e.g. --frames 1-10)");
    int start, end, cols, rows;
    if (cli_parse_frames(frames_text, &start, &end) < 0 || cli_parse_tiles(tiles_text, &cols, &rows) < 0)
        return cli_keep(CLI_EXIT_USAGE);
    if (ts_request_format_check(format) < 0) {
        ts_error_prefix("--format");
        return cli_keep(CLI_EXIT_USAGE);
    }
    if (ts_request_device_check(device) < 0) {
        ts_error_prefix("--device");
        return cli_keep(CLI_EXIT_USAGE);
    }
    if (blender && blender_is_version(blender) && check_blender(blender) < 0)
        return -1;
    if (chunk > 1 && cols * rows != 1)
        return cli_fail(CLI_EXIT_USAGE, "--chunk %ld: frames are grouped into chunks only without tiles (not --tiles "
                        "%dx%d)", chunk, cols, rows);
    if (out_pattern && ts_request_out_pattern_check(out_pattern) < 0) {
        ts_error_prefix("--out-pattern");
        return cli_keep(CLI_EXIT_USAGE);
    }
    if (upload_limit_text && parse_rate(upload_limit_text, &upload_limit) < 0)
        return -1;

    char frames[CLI_SUBMIT_TEXT_MAX], tiles[CLI_SUBMIT_TEXT_MAX];
    if (start == end)
        snprintf(frames, sizeof frames, "%d", start);
    else
        snprintf(frames, sizeof frames, "%d-%d", start, end);
    snprintf(tiles, sizeof tiles, "%dx%d", cols, rows);
    json_t *request = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:b}", "type", "render", "scene_name",
                                cli_basename(scene), "frames", frames, "tiles", tiles, "format", format,
                                "priority", (json_int_t)priority, "device", device, "no_denoise", no_denoise);
    if (request && (cli_add_payment(request, budget, requester) < 0 || cli_add_queue(request, &queue) < 0)) {
        json_decref(request);
        return -1;
    }
    if (!request)
        return cli_fail(CLI_EXIT_USAGE, "%s: cannot build the request (is the file name valid UTF-8?)", scene);
    if (blender && blender_is_version(blender))
        json_object_set_new(request, "blender", json_string(blender));
    if (chunk > 1)
        json_object_set_new(request, "chunk", json_integer(chunk));
    if (out_pattern)
        json_object_set_new(request, "out_pattern", json_string(out_pattern));
    if (allow_missing) /* said, not inferred from a "missing" list: also when nothing turns out missing */
        json_object_set_new(request, "allow_missing", json_true());
    if (!encode && (crf != CLI_CRF_UNSET || preset || container)) {
        json_decref(request);
        return cli_fail(CLI_EXIT_USAGE, "submit: --crf, --preset and --container need --encode");
    }
    ts_request_encode_t settings;
    if (encode && (cli_encode_fill(&settings, "encode", encode, crf, preset, container) < 0 ||
                   cli_encode_check(&settings) < 0)) {
        json_decref(request);
        return -1;
    }
    if (encode) {
        json_t *e = json_pack("{s:s}", "vcodec", encode);
        if (crf != CLI_CRF_UNSET)
            json_object_set_new(e, "crf", json_integer(crf));
        if (preset)
            json_object_set_new(e, "preset", json_string(preset));
        if (container)
            json_object_set_new(e, "container", json_string(container));
        json_object_set_new(request, "encode", e);
    }

    cli_wait_opts_t opts = {.out = out, .timeout = timeout, .json = json};
    if (cli_wait_opts_check(wait, &opts) < 0) {
        json_decref(request);
        return -1;
    }
    if (scene_only && (allow_missing || allow_hidden || dry_run || upload_limit_text)) {
        json_decref(request);
        return cli_fail(CLI_EXIT_USAGE, "submit: --scene-only sends the .blend alone: --allow-missing, --allow-hidden, "
                        "--dry-run and --upload-limit do not apply");
    }
    if (scene_only) /* the scene alone, as a headless submit host without Blender sends it */
        return cli_submit_and_wait(ctx, master, &scene, 1, "scene", request, wait, &opts);
    return cli_submit_project(ctx, master, scene, blender, allow_missing, allow_hidden, dry_run, upload_limit, request,
                              wait, &opts);
}

/* Uploads the inputs, posts the request (taking it over) and prints the job id, or waits for the job. */
int cli_submit_and_wait(cli_ctx_t *ctx, const char *master, const char *const *inputs, int count, const char *field,
                        json_t *request, bool wait, const cli_wait_opts_t *opts)
{
    if (cli_wait_opts_check(wait, opts) < 0) {
        json_decref(request);
        return -1;
    }
    for (int i = 0; i < count; i++) { /* every input is readable before anything is uploaded */
        int64_t size = 0;
        FILE *f = cli_open_input(inputs[i], &size);
        if (!f) {
            json_decref(request);
            return -1;
        }
        fclose(f);
    }
    cli_ctx_override(ctx, master);
    cli_http_t *http = cli_http_new(ctx);
    json_t *job = NULL;
    int ret = http ? cli_upload_and_post(http, inputs, count, field, request, &job) : -1;
    json_decref(request);
    if (ret == 0)
        ret = cli_report_job(http, job, wait, opts);
    json_decref(job);
    cli_http_free(&http);
    return ret;
}
