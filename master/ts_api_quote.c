/* ts_api_quote: POST /api/v1/quote: a render's price and ETA before it is submitted (see ts_api_quote.h). */
#include "master/ts_api_quote.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "master/ts_jobreq.h"
#include "master/ts_store_quote.h"
#include "splitter/ts_tileplan.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_OK 200
#define HTTP_BAD 400
#define HTTP_ERROR 500
#define BUDGET_TEXT_MAX 32

typedef struct {
    const char *name;
    int min, max;
    size_t offset;
} int_field_t;

static const int_field_t FIELDS[] = {
    {"frames", 1, TS_QUOTE_FRAMES_MAX, offsetof(ts_quote_request_t, frames)},
    {"tiles_x", 1, TS_TILEPLAN_MAX, offsetof(ts_quote_request_t, tiles_x)},
    {"tiles_y", 1, TS_TILEPLAN_MAX, offsetof(ts_quote_request_t, tiles_y)},
    {"width", 1, TS_TILEPLAN_MAX_SIZE, offsetof(ts_quote_request_t, width)},
    {"height", 1, TS_TILEPLAN_MAX_SIZE, offsetof(ts_quote_request_t, height)},
    {"samples", 0, TS_QUOTE_SAMPLES_MAX, offsetof(ts_quote_request_t, samples)},
};

int ts_quote_parse(const char *body, size_t len, ts_quote_request_t *q)
{
    memset(q, 0, sizeof *q);
    json_error_t jerr;
    json_t *o = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return ts_error_set("the body must be a JSON object {frames, tiles_x, tiles_y, width, height, samples}");
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof FIELDS / sizeof *FIELDS; i++) {
        const json_t *v = json_object_get(o, FIELDS[i].name);
        if (!json_is_integer(v) || json_integer_value(v) < FIELDS[i].min || json_integer_value(v) > FIELDS[i].max)
            rc = ts_error_set("field '%s' must be a whole number from %d to %d", FIELDS[i].name, FIELDS[i].min,
                              FIELDS[i].max);
        else
            *(int *)((char *)q + FIELDS[i].offset) = (int)json_integer_value(v);
    }
    const json_t *b = json_object_get(o, "budget");
    char text[BUDGET_TEXT_MAX];
    if (rc == 0 && b && !json_is_null(b)) {
        if (json_is_string(b) && json_string_length(b) < sizeof text)
            snprintf(text, sizeof text, "%s", json_string_value(b));
        else if (json_is_integer(b))
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(b));
        else
            rc = ts_error_set("field 'budget' must be a token amount such as \"12.5\"");
        if (rc == 0 && ts_amount_parse(text, &q->budget) < 0)
            rc = ts_error_prefix("field 'budget'");
        else if (rc == 0 && q->budget <= 0)
            rc = ts_error_set("field 'budget' must be above 0");
    }
    json_decref(o);
    return rc;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted values: the smallest value with at least p of them at or below it. */
static double percentile(const double *sorted, size_t count, double p)
{
    size_t rank = (size_t)ceil(p * (double)count);
    return sorted[rank > 0 ? rank - 1 : 0];
}

void ts_quote_estimate(double *rates, size_t count, double tile_units, int64_t tiles, int slots, ts_quote_eta_t *eta)
{
    memset(eta, 0, sizeof *eta);
    eta->tiles_timed = count;
    eta->slots = (int64_t)slots < tiles ? slots : (int)tiles;
    if (count == 0 || eta->slots <= 0)
        return;
    qsort(rates, count, sizeof *rates, by_value);
    eta->known = true;
    eta->seconds = tile_units * percentile(rates, count, 0.5) / eta->slots;
    eta->high = tile_units * percentile(rates, count, 0.9) / eta->slots;
}

/* The plan's units (a tile's rendered pixels x samples, a finish's pixels) and pieces, as ts_store_job_plan counts
   them, with the tiles' units alone in *tile_units. -1 when the grid does not fit the frame or the work overflows. */
static int plan_units(const ts_quote_request_t *q, int margin, __int128 *units, __int128 *tile_units, int64_t *pieces)
{
    ts_tile_t *tiles = NULL;
    int count = 0;
    if (ts_tileplan_make(q->width, q->height, q->tiles_x, q->tiles_y, margin, &tiles, &count) < 0)
        return -1;
    __int128 frame = 0, samples = q->samples > 0 ? q->samples : 1;
    for (int t = 0; t < count; t++)
        frame += (__int128)ts_rect_width(tiles[t].render) * ts_rect_height(tiles[t].render) * samples;
    free(tiles);
    *tile_units = frame * q->frames;
    *units = (frame + (__int128)q->width * q->height) * q->frames;
    *pieces = (int64_t)q->frames * (count + 1);
    if (*units > INT64_MAX)
        return ts_error_set("the job's work (%d frames of %dx%d at %d samples) is too large to price", q->frames,
                            q->width, q->height, q->samples);
    return 0;
}

static json_t *error_answer(unsigned code, unsigned *status)
{
    *status = code;
    return json_pack("{s:s}", "error", ts_error());
}

json_t *ts_api_quote(ts_master_t *master, const char *body, size_t len, unsigned *status)
{
    ts_quote_request_t q;
    if (ts_quote_parse(body, len, &q) < 0)
        return error_answer(HTTP_BAD, status);
    const ts_master_options_t *o = ts_master_options(master);
    __int128 units = 0, tile_units = 0;
    int64_t pieces = 0, min_price = 0, budget = q.budget;
    /* a margin the probe chooses (-1) is not known before the scene is read: the tiles are priced without it */
    if (plan_units(&q, o->tile_margin > 0 ? (int)o->tile_margin : 0, &units, &tile_units, &pieces) < 0)
        return error_answer(HTTP_BAD, status);
    if (ts_amount_parse(o->min_task_price, &min_price) < 0 ||
        (budget == 0 && ts_amount_parse(TS_JOBREQ_DEFAULT_BUDGET, &budget) < 0))
        return error_answer(HTTP_ERROR, status);
    if (min_price > 0 && pieces > INT64_MAX / min_price) {
        ts_error_set("the job's %lld pieces are too many to price", (long long)pieces);
        return error_answer(HTTP_BAD, status);
    }
    double rates[TS_QUOTE_TILES_MAX];
    size_t count = 0;
    int slots = 0;
    if (ts_store_quote_pace(ts_master_store(master), rates, TS_QUOTE_TILES_MAX, &count, &slots) < 0)
        return error_answer(HTTP_ERROR, status);
    ts_quote_eta_t eta;
    ts_quote_estimate(rates, count, (double)tile_units, pieces - q.frames, slots, &eta);
    char price[BUDGET_TEXT_MAX], locks[BUDGET_TEXT_MAX], each[BUDGET_TEXT_MAX];
    int64_t minimum = pieces * min_price;
    ts_amount_format(minimum, price, sizeof price);
    ts_amount_format(budget, locks, sizeof locks);
    ts_amount_format(min_price, each, sizeof each);
    json_t *e = eta.known ? json_pack("{s:f,s:f,s:I,s:i}", "seconds", eta.seconds, "high", eta.high, "tiles_timed",
                                      (json_int_t)eta.tiles_timed, "slots", eta.slots)
                          : json_string("unknown");
    *status = HTTP_OK;
    return json_pack("{s:s,s:s,s:s,s:b,s:I,s:I,s:o}", "price", price, "locks", locks, "min_task_price", each, "enough",
                     budget >= minimum, "pieces", (json_int_t)pieces, "units", (json_int_t)units, "eta", e);
}
