/* ts_simstats: tessera-slavesim's counters and assignment-latency histograms, one set per worker thread (written by
   it alone, read by the main thread at any time), summed into the --stats JSON file. */
#ifndef TS_SIMSTATS_H
#define TS_SIMSTATS_H

#include <stdatomic.h>
#include <stdint.h>

/* Latency buckets: bucket 0 holds values under 1 us, bucket i > 0 holds [G^(i-1), G^i) us with G = 1.01, so a
   percentile read from them is within 0.5% of the value (the maximum is kept exactly). The last bucket also holds
   everything above G^(BUCKETS-2) us (about 3 hours). */
#define TS_SIMSTATS_BUCKETS 2400

/* Where the free slot an Assign fills was told to the master. */
typedef enum { TS_SIMSTATS_AFTER_WELCOME = 0, TS_SIMSTATS_AFTER_RESULT, TS_SIMSTATS_SOURCES } ts_simstats_source_t;

typedef struct {
    _Atomic uint64_t count, max_us;
    _Atomic uint64_t buckets[TS_SIMSTATS_BUCKETS];
} ts_simstats_latency_t;

typedef struct {
    _Atomic uint64_t welcomed;          /* slaves registered at least once */
    _Atomic int64_t online;             /* slaves welcomed whose connection stands now */
    _Atomic uint64_t hellos, assigns, results, results_refused, cancels, reregisters;
    _Atomic uint64_t last_first_welcome_us; /* when the last slave to be welcomed for the first time was, from start */
    ts_simstats_latency_t latency[TS_SIMSTATS_SOURCES];
} ts_simstats_t;

#define ts_simstats_add(counter, n) atomic_fetch_add_explicit(&(counter), (n), memory_order_relaxed)

/* One Assign's latency: seconds since its slave's free slot was told to the master. */
void ts_simstats_latency(ts_simstats_t *self, ts_simstats_source_t source, double seconds);

/* Sums the threads' counters (stats[0..nthreads)) into one JSON object and writes it to path atomically. slaves: how
   many are simulated; elapsed_s: seconds since the start (when the first slave could connect). 0, or -1 with
   ts_error() naming the file. */
int ts_simstats_write(const char *path, ts_simstats_t *const *stats, int nthreads, long slaves, double elapsed_s);

#endif
