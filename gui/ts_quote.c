/* ts_quote: the submit form's quote, asked off the main thread and put in words (see ts_quote.h). */
#include "gui/ts_quote.h"
#include "gui/ts_eta.h"
#include "gui/ts_http.h"
#include <jansson.h>

typedef struct {
    TsConfig *cfg;
    json_t *body;
} quote_job_t;

static void job_free(gpointer p)
{
    quote_job_t *j = p;
    ts_config_free(j->cfg);
    json_decref(j->body);
    g_free(j);
}

static void ask(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    quote_job_t *j = data;
    GError *error = NULL;
    json_t *answer = ts_http_post_json(j->cfg, "/api/v1/quote", j->body, cancellable, &error);
    if (answer)
        g_task_return_pointer(task, answer, (GDestroyNotify)json_decref);
    else
        g_task_return_error(task, error);
}

void ts_quote_async(const TsConfig *cfg, const TsQuoteRequest *req, GCancellable *cancellable, GAsyncReadyCallback cb,
                    gpointer ud)
{
    quote_job_t *j = g_new0(quote_job_t, 1);
    j->cfg = ts_config_copy(cfg);
    j->body = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "frames", req->frames, "tiles_x", req->tiles_x, "tiles_y",
                        req->tiles_y, "width", req->width, "height", req->height, "samples", req->samples);
    if (req->budget && req->budget[0])
        json_object_set_new(j->body, "budget", json_string(req->budget));
    GTask *task = g_task_new(NULL, cancellable, cb, ud);
    g_task_set_task_data(task, j, job_free);
    g_task_run_in_thread(task, ask);
    g_object_unref(task);
}

void *ts_quote_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

char *ts_quote_text(const void *answer)
{
    const json_t *a = answer, *eta = json_object_get(a, "eta");
    const char *price = json_string_value(json_object_get(a, "price")), *locks = json_string_value(json_object_get(a, "locks"));
    g_autofree char *when = NULL;
    if (json_is_object(eta)) {
        g_autofree char *low = ts_eta_text(json_number_value(json_object_get(eta, "seconds")));
        g_autofree char *high = ts_eta_text(json_number_value(json_object_get(eta, "high")));
        when = g_strdup_printf("ETA %s to %s (the farm's last %lld tiles, %lld nodes)", low, high,
                               (long long)json_integer_value(json_object_get(eta, "tiles_timed")),
                               (long long)json_integer_value(json_object_get(eta, "slots")));
    } else {
        when = g_strdup("ETA unknown (no tiles rendered on the farm yet, or no node online)");
    }
    return g_strdup_printf("Price: at least %s tokens (%lld pieces); your budget locks %s%s. %s", price ? price : "?",
                           (long long)json_integer_value(json_object_get(a, "pieces")), locks ? locks : "?",
                           json_is_false(json_object_get(a, "enough")) ? ", which is below the price" : "", when);
}
