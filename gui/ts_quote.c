/* ts_quote: the submit form's quote, asked off the main thread and put in words (see ts_quote.h). */
#include "gui/ts_quote.h"
#include "gui/ts_eta.h"
#include <jansson.h>

void *ts_quote_body(const TsQuoteRequest *req)
{
    json_t *body = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "frames", req->frames, "tiles_x", req->tiles_x, "tiles_y",
                             req->tiles_y, "width", req->width, "height", req->height, "samples", req->samples);
    if (body && req->budget && req->budget[0])
        json_object_set_new(body, "budget", json_string(req->budget));
    return body;
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
