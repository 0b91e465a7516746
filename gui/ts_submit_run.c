/* ts_submit_run: a submit runs the installed CLI as a subprocess with the app's credentials (see ts_submit_run.h). */
#include "gui/ts_submit_run.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "lib/ts_request.h"
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#define CLI_NAME "tessera"

char *ts_submit_find_cli(void)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    if (self) {
        g_autofree char *dir = g_path_get_dirname(self);
        char *beside = g_build_filename(dir, CLI_NAME, NULL);
        if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
            return beside;
        g_free(beside);
    }
    return g_find_program_in_path(CLI_NAME);
}

char **ts_submit_argv(const char *cli, const TsSubmitRequest *req)
{
    GStrvBuilder *b = g_strv_builder_new();
    g_strv_builder_add_many(b, cli, "submit", "render", req->scene, "--frames", req->frames, "--tiles", req->tiles,
                            "--format", req->format && req->format[0] ? req->format : "scene", NULL);
    if (req->name && req->name[0])
        g_strv_builder_add_many(b, "--name", req->name, NULL);
    g_autofree char *priority = g_strdup_printf("%d", req->priority);
    if (req->priority != 0)
        g_strv_builder_add_many(b, "--priority", priority, NULL);
    if (req->budget && req->budget[0])
        g_strv_builder_add_many(b, "--budget", req->budget, NULL);
    g_strv_builder_add(b, "--json");
    char **argv = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return argv;
}

gboolean ts_submit_check(const TsSubmitRequest *req, GError **error)
{
    int a, b;
    if (!req->scene || !req->scene[0]) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "choose a scene (.blend) first");
        return FALSE;
    }
    if (access(req->scene, R_OK) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "scene %s: %s", req->scene, g_strerror(errno));
        return FALSE;
    }
    if (ts_request_frames_parse(req->frames ? req->frames : "", &a, &b) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "frames: %s (write A-B or N)", ts_error());
        return FALSE;
    }
    if (ts_request_grid_parse(req->tiles ? req->tiles : "", &a, &b) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "tile grid: %s (write CxR, such as 4x4)",
                    ts_error());
        return FALSE;
    }
    int64_t units = 0;
    if (req->budget && req->budget[0] && (ts_amount_parse(req->budget, &units) < 0 || units <= 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "budget '%s': a token amount above 0, such as 12.5",
                    req->budget);
        return FALSE;
    }
    if (req->priority < -TS_REQUEST_PRIORITY_MAX || req->priority > TS_REQUEST_PRIORITY_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "priority: from %d to %d",
                    -TS_REQUEST_PRIORITY_MAX, TS_REQUEST_PRIORITY_MAX);
        return FALSE;
    }
    return TRUE;
}

/* One run: three things to wait for (stderr read to its end, stdout read whole, the process's exit). */
typedef struct {
    GSubprocess *proc;
    GDataInputStream *err;
    GOutputStream *out;          /* stdout, in memory */
    void (*line)(const char *text, gpointer ud);
    gpointer line_ud;
    char *last_line;             /* the CLI's last words, for an error */
    int pending;
    gulong cancel_id;
} run_t;

static void run_free(gpointer p)
{
    run_t *r = p;
    g_clear_object(&r->proc);
    g_clear_object(&r->err);
    g_clear_object(&r->out);
    g_free(r->last_line);
    g_free(r);
}

static const char *exit_meaning(int code)
{
    switch (code) {
    case 2: return "the request or the scene was refused";
    case 4: return "the master cannot be reached";
    case 6: return "not allowed: the token is wrong or revoked";
    default: return "the submit failed";
    }
}

/* The three parts are done: the job's id from the CLI's JSON, or what went wrong. */
static void run_finish(GTask *task)
{
    run_t *r = g_task_get_task_data(task);
    if (g_task_return_error_if_cancelled(task))
        return;
    int code = g_subprocess_get_if_exited(r->proc) ? g_subprocess_get_exit_status(r->proc) : -1;
    if (code != 0) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s (exit %d)%s%s", exit_meaning(code), code,
                                r->last_line ? ": " : "", r->last_line ? r->last_line : "");
        return;
    }
    const char *text = g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(r->out));
    gsize len = g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(r->out));
    json_t *job = json_loadb(text ? text : "", len, 0, NULL);
    gint64 id = json_integer_value(json_object_get(job, "id"));
    json_decref(job);
    if (id <= 0)
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the CLI printed no job id");
    else
        g_task_return_int(task, id);
}

static void part_done(GTask *task)
{
    run_t *r = g_task_get_task_data(task);
    if (--r->pending == 0) {
        run_finish(task);
        g_object_unref(task);
    }
}

static void on_line(GObject *source, GAsyncResult *result, gpointer ud)
{
    GTask *task = ud;
    run_t *r = g_task_get_task_data(task);
    gsize len;
    g_autofree char *text = g_data_input_stream_read_line_finish_utf8(r->err, result, &len, NULL);
    if (!text) {
        part_done(task);
        return;
    }
    g_free(r->last_line);
    r->last_line = g_strdup(g_strchomp(text));
    if (r->line && text[0])
        r->line(text, r->line_ud);
    g_data_input_stream_read_line_async(r->err, G_PRIORITY_DEFAULT, NULL, on_line, task);
}

static void on_stdout(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_output_stream_splice_finish(G_OUTPUT_STREAM(source), result, NULL);
    part_done(ud);
}

static void on_exited(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
    part_done(ud);
}

static void on_cancel(GCancellable *cancellable, gpointer ud)
{
    run_t *r = ud;
    if (r->proc)
        g_subprocess_force_exit(r->proc);
}

void ts_submit_run_async(const TsConfig *cfg, const TsSubmitRequest *req, void (*line)(const char *text, gpointer ud),
                         GCancellable *cancellable, GAsyncReadyCallback cb, gpointer ud)
{
    GTask *task = g_task_new(NULL, cancellable, cb, ud);
    g_task_set_return_on_cancel(task, FALSE);
    g_autofree char *cli = ts_submit_find_cli();
    if (!cli) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                "the tessera CLI is not installed beside the app or on the PATH");
        g_object_unref(task);
        return;
    }
    run_t *r = g_new0(run_t, 1);
    r->line = line;
    r->line_ud = ud;
    g_task_set_task_data(task, r, run_free);
    g_autoptr(GSubprocessLauncher) l =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_setenv(l, "TESSERA_MASTER", cfg->master, TRUE);
    g_subprocess_launcher_setenv(l, "TESSERA_TOKEN", cfg->token, TRUE);
    if (cfg->ca_file && cfg->ca_file[0])
        g_subprocess_launcher_setenv(l, "TESSERA_CA_FILE", cfg->ca_file, TRUE);
    else
        g_subprocess_launcher_unsetenv(l, "TESSERA_CA_FILE");
    g_auto(GStrv) argv = ts_submit_argv(cli, req);
    GError *error = NULL;
    r->proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv, &error);
    if (!r->proc) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    r->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(r->proc));
    r->out = g_memory_output_stream_new_resizable();
    r->pending = 3;
    if (cancellable)
        r->cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(on_cancel), r, NULL);
    g_data_input_stream_read_line_async(r->err, G_PRIORITY_DEFAULT, NULL, on_line, task);
    g_output_stream_splice_async(r->out, g_subprocess_get_stdout_pipe(r->proc),
                                 G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                 G_PRIORITY_DEFAULT, NULL, on_stdout, task);
    g_subprocess_wait_async(r->proc, NULL, on_exited, task);
}

gint64 ts_submit_run_finish(GAsyncResult *result, GError **error)
{
    GTask *task = G_TASK(result);
    run_t *r = g_task_get_task_data(task);
    if (r && r->cancel_id) {
        g_cancellable_disconnect(g_task_get_cancellable(task), r->cancel_id);
        r->cancel_id = 0;
    }
    return g_task_propagate_int(task, error);
}
