/* ts_api_quote: POST /api/v1/quote: what a render would cost and how long it would take, before it is submitted.
   DESIGN: the price is the plan's: a job's pieces are its tiles and each frame's finish, its work units a tile's
   rendered pixels times samples and a finish's pixels (as ts_store_job_plan counts them), and the least budget the
   farm takes is --min-task-price per piece (what sdb_pay_plan checks); the budget locked is the one asked for, else
   the master's default. The ETA is the farm's own recent pace: the median and 90th percentile of its last done tiles'
   seconds per work unit, times the job's tile units, over the online nodes (no more than its tiles); "unknown" with
   no history or no node. Parsing is pure and names the field it refuses (fuzzed by tests/test_farm_bad_input.sh). */
#ifndef TS_API_QUOTE_H
#define TS_API_QUOTE_H

#include "master/ts_master.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_QUOTE_FRAMES_MAX 1048575  /* frames in one job (Blender's frames are within +-1,048,574) */
#define TS_QUOTE_SAMPLES_MAX (1 << 24) /* Cycles' own bound on samples */

typedef struct {
    int frames, tiles_x, tiles_y, width, height, samples; /* samples 0: an engine without them, one pass */
    int64_t budget;                                       /* token units; 0: the master's default */
} ts_quote_request_t;

typedef struct {
    bool known;            /* false: no done tiles or no online node */
    double seconds, high;  /* at the median pace, at the 90th percentile's */
    size_t tiles_timed;    /* the done tiles the pace is from */
    int slots;             /* the nodes the job's tiles would spread over */
} ts_quote_eta_t;

/* Parses a quote's JSON body: -1 with ts_error() naming the field when it is not an object with whole numbers in range
   (frames, tiles_x, tiles_y, width, height, samples) and an optional "budget" token amount as text. */
int ts_quote_parse(const char *body, size_t len, ts_quote_request_t *q);

/* The estimate: sorts rates (seconds per unit, count of them) and fills eta for tile_units of work in tiles tiles over
   slots nodes. Pure. */
void ts_quote_estimate(double *rates, size_t count, double tile_units, int64_t tiles, int slots, ts_quote_eta_t *eta);

/* The answer to POST /quote (body, len): a JSON object, *status its HTTP status (400 with {"error"} naming the field). */
json_t *ts_api_quote(ts_master_t *master, const char *body, size_t len, unsigned *status);

int ts_api_quote_test(bool verbose);

#endif
