/* ts_scene_probe: `tessera inspect --json` run off the main thread, its answer read as outside input. */
#include "gui/ts_scene_probe.h"
#include "gui/ts_submit_run.h"
#include <jansson.h>

#define FACT_MAX 1000000000 /* as the CLI bounds them */

void ts_scene_facts_free(TsSceneFacts *facts)
{
    if (!facts)
        return;
    g_free(facts->engine);
    g_free(facts->file_format);
    g_free(facts->ext);
    if (facts->files)
        g_ptr_array_unref(facts->files);
    g_free(facts);
}

static gboolean whole(const json_t *o, const char *key, int *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < -FACT_MAX || json_integer_value(v) > FACT_MAX)
        return FALSE;
    *out = (int)json_integer_value(v);
    return TRUE;
}

TsSceneFacts *ts_scene_facts_parse(const char *text, gsize len, GError **error)
{
    json_t *doc = json_loadb(text, len, 0, NULL), *f = json_object_get(doc, "facts"),
           *files = json_object_get(doc, "files");
    g_autoptr(TsSceneFacts) facts = g_new0(TsSceneFacts, 1);
    facts->files = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = json_is_object(f) && json_is_array(files) && whole(f, "frame_start", &facts->frame_start) &&
                  whole(f, "frame_end", &facts->frame_end) && whole(f, "width", &facts->width) &&
                  whole(f, "height", &facts->height) && whole(f, "samples", &facts->samples);
    size_t i;
    json_t *e;
    json_array_foreach(ok ? files : NULL, i, e) {
        const char *path = json_string_value(json_object_get(e, "path"));
        if (!path) {
            ok = FALSE;
            break;
        }
        gboolean found = json_is_true(json_object_get(e, "exists"));
        facts->missing += !found;
        g_ptr_array_add(facts->files, found ? g_strdup(path) : g_strdup_printf("MISSING: %s", path));
    }
    if (ok) {
        facts->engine = g_strdup(json_string_value(json_object_get(f, "engine")) ?: "?");
        facts->file_format = g_strdup(json_string_value(json_object_get(f, "file_format")) ?: "?");
        facts->ext = g_strdup(json_string_value(json_object_get(f, "ext")) ?: "");
    }
    json_decref(doc);
    if (!ok) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "tessera inspect gave no scene facts as JSON");
        return NULL;
    }
    return g_steal_pointer(&facts);
}

static void communicated(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_autoptr(GTask) task = ud;
    GSubprocess *proc = G_SUBPROCESS(source);
    g_autoptr(GBytes) out = NULL, err = NULL;
    GError *error = NULL;
    if (!g_subprocess_communicate_finish(proc, result, &out, &err, &error)) {
        g_task_return_error(task, error);
        return;
    }
    if (!g_subprocess_get_successful(proc)) {
        gsize n = 0;
        const char *text = err ? g_bytes_get_data(err, &n) : NULL;
        g_autofree char *all = g_strstrip(g_strndup(text ? text : "", n));
        const char *last = strrchr(all, '\n');
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", last ? last + 1 : all[0] ? all
                                                                                 : "tessera inspect failed");
        return;
    }
    gsize n = 0;
    const char *text = out ? g_bytes_get_data(out, &n) : "";
    TsSceneFacts *facts = ts_scene_facts_parse(text, n, &error);
    if (facts)
        g_task_return_pointer(task, facts, (GDestroyNotify)ts_scene_facts_free);
    else
        g_task_return_error(task, error);
}

void ts_scene_probe_async(const char *scene, GCancellable *cancellable, GAsyncReadyCallback cb, gpointer ud)
{
    GTask *task = g_task_new(NULL, cancellable, cb, ud);
    g_autofree char *cli = ts_submit_find_cli();
    GError *error = NULL;
    GSubprocess *proc = cli ? g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                               cli, "inspect", scene, "--json", NULL)
                            : NULL;
    if (!cli)
        g_set_error(&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "the tessera command is neither beside the app nor on "
                                                              "the PATH");
    if (!proc) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    g_subprocess_communicate_async(proc, NULL, cancellable, communicated, task);
    g_object_unref(proc);
}

TsSceneFacts *ts_scene_probe_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}
