/* ts_synthetic: what a synthetic task (a benchmark job's piece, TASK_SYNTHETIC) outputs: the same bytes on every node. */
#ifndef TS_SYNTHETIC_H
#define TS_SYNTHETIC_H

#include <stdbool.h>
#include <stdint.h>

#define TS_SYNTHETIC_OUTPUT_BYTES 32

/* The output of a synthetic job's piece: BLAKE2b-256 of "tessera-synthetic\0" || job (8 bytes BE) || piece (8 bytes
   BE), where job is the Assign's job_id and piece its start_pts (the piece's index in the job; every piece of a
   pieces job is in frame 0). Deterministic, so a spot check compares two nodes' outputs byte for byte. */
void ts_synthetic_piece_output(uint64_t job, int64_t piece, uint8_t out[TS_SYNTHETIC_OUTPUT_BYTES]);

int ts_synthetic_test(bool verbose);

#endif
