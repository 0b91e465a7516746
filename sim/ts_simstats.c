/* ts_simstats: tessera-slavesim's counters and assignment-latency histograms, summed into one JSON file.
   DESIGN: each worker thread owns one ts_simstats_t and is its only writer (relaxed atomics, no locks); the main thread
   sums them every second. Latencies go into log-spaced buckets (1% wide), so memory is fixed however long the run and
   a percentile costs one pass over 2,400 buckets; the maximum is exact. */
#include "sim/ts_simstats.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GROWTH 1.01
#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static int bucket_of(double us)
{
    if (us < 1.0)
        return 0;
    double i = floor(log(us) / log(GROWTH)) + 1;
    return i >= TS_SIMSTATS_BUCKETS - 1 ? TS_SIMSTATS_BUCKETS - 1 : (int)i;
}

/* A bucket's value as reported: the geometric middle of its range (0 for the bucket under 1 us). */
static double bucket_us(int i)
{
    return i == 0 ? 0.0 : pow(GROWTH, (double)i - 0.5);
}

void ts_simstats_latency(ts_simstats_t *self, ts_simstats_source_t source, double seconds)
{
    ts_simstats_latency_t *l = &self->latency[source];
    double us = seconds > 0 ? seconds * 1e6 : 0;
    uint64_t whole = (uint64_t)us;
    ts_simstats_add(l->buckets[bucket_of(us)], 1);
    if (whole > LOAD(l->max_us))
        atomic_store_explicit(&l->max_us, whole, memory_order_relaxed);
    ts_simstats_add(l->count, 1); /* last: a reader never sees a count its buckets lack */
}

/* The p-th percentile (0 < p <= 1) of count values in buckets, in ms: the value at rank ceil(p * count). */
static double percentile_ms(const uint64_t *buckets, uint64_t count, uint64_t max_us, double p)
{
    uint64_t rank = (uint64_t)ceil(p * (double)count), seen = 0;
    if (rank == 0)
        rank = 1;
    for (int i = 0; i < TS_SIMSTATS_BUCKETS; i++) {
        seen += buckets[i];
        if (seen >= rank) {
            double us = bucket_us(i);
            return (us > (double)max_us ? (double)max_us : us) / 1000.0;
        }
    }
    return (double)max_us / 1000.0;
}

/* {"count","p50","p99","max"} (ms) over the given sources of every thread; the figures are null without samples. */
static json_t *latency_json(ts_simstats_t *const *stats, int nthreads, unsigned sources)
{
    uint64_t *buckets = calloc(TS_SIMSTATS_BUCKETS, sizeof *buckets), count = 0, max_us = 0;
    if (!buckets)
        return json_null();
    for (int t = 0; t < nthreads; t++)
        for (int s = 0; s < TS_SIMSTATS_SOURCES; s++) {
            if (!(sources & (1u << s)))
                continue;
            ts_simstats_latency_t *l = &stats[t]->latency[s];
            count += LOAD(l->count); /* read before the buckets: they hold at least this many */
            uint64_t m = LOAD(l->max_us);
            max_us = m > max_us ? m : max_us;
            for (int i = 0; i < TS_SIMSTATS_BUCKETS; i++)
                buckets[i] += LOAD(l->buckets[i]);
        }
    json_t *o = json_pack("{s:I}", "count", (json_int_t)count);
    json_object_set_new(o, "p50", count ? json_real(percentile_ms(buckets, count, max_us, 0.50)) : json_null());
    json_object_set_new(o, "p99", count ? json_real(percentile_ms(buckets, count, max_us, 0.99)) : json_null());
    json_object_set_new(o, "max", count ? json_real((double)max_us / 1000.0) : json_null());
    free(buckets);
    return o;
}

int ts_simstats_write(const char *path, ts_simstats_t *const *stats, int nthreads, long slaves, double elapsed_s)
{
    uint64_t welcomed = 0, hellos = 0, assigns = 0, results = 0, refused = 0, cancels = 0, rereg = 0, last_us = 0;
    int64_t online = 0;
    for (int t = 0; t < nthreads; t++) {
        const ts_simstats_t *s = stats[t];
        welcomed += LOAD(s->welcomed);
        online += LOAD(s->online);
        hellos += LOAD(s->hellos);
        assigns += LOAD(s->assigns);
        results += LOAD(s->results);
        refused += LOAD(s->results_refused);
        cancels += LOAD(s->cancels);
        rereg += LOAD(s->reregisters);
        uint64_t l = LOAD(s->last_first_welcome_us);
        last_us = l > last_us ? l : last_us;
    }
    json_t *o = json_pack("{s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "slaves", (json_int_t)slaves, "elapsed_s",
                          elapsed_s, "welcomed", (json_int_t)welcomed, "online_now", (json_int_t)online, "hellos_sent",
                          (json_int_t)hellos, "assigns_received", (json_int_t)assigns, "results_sent",
                          (json_int_t)results, "results_refused_kind", (json_int_t)refused, "cancels", (json_int_t)cancels,
                          "reregisters", (json_int_t)rereg);
    /* seconds from the start until the last slave was welcomed for the first time; null until all were */
    json_object_set_new(o, "all_welcomed_s",
                        slaves > 0 && welcomed >= (uint64_t)slaves ? json_real((double)last_us / 1e6) : json_null());
    json_object_set_new(o, "assign_latency_ms",
                        latency_json(stats, nthreads, 1u << TS_SIMSTATS_AFTER_WELCOME | 1u << TS_SIMSTATS_AFTER_RESULT));
    json_object_set_new(o, "assign_latency_after_result_ms",
                        latency_json(stats, nthreads, 1u << TS_SIMSTATS_AFTER_RESULT));
    json_object_set_new(o, "assign_latency_after_welcome_ms",
                        latency_json(stats, nthreads, 1u << TS_SIMSTATS_AFTER_WELCOME));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!text)
        return ts_error_set("--stats %s: out of memory", path);
    int rc = ts_file_write_atomic(path, text, strlen(text));
    free(text);
    return rc < 0 ? ts_error_prefix("--stats") : 0;
}
