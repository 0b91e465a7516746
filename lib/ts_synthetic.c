/* ts_synthetic: what a synthetic task (a benchmark job's piece, TASK_SYNTHETIC) outputs: the same bytes on every node. */
#include "lib/ts_synthetic.h"
#include "tests/ts_test.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define DOMAIN "tessera-synthetic"

void ts_synthetic_piece_output(uint64_t job, int64_t piece, uint8_t out[TS_SYNTHETIC_OUTPUT_BYTES])
{
    uint8_t msg[sizeof DOMAIN + 16];
    memcpy(msg, DOMAIN, sizeof DOMAIN); /* with its NUL */
    for (int i = 0; i < 8; i++) {
        msg[sizeof DOMAIN + i] = (uint8_t)(job >> (56 - 8 * i));
        msg[sizeof DOMAIN + 8 + i] = (uint8_t)((uint64_t)piece >> (56 - 8 * i));
    }
    crypto_generichash(out, TS_SYNTHETIC_OUTPUT_BYTES, msg, sizeof msg, NULL, 0);
}

int ts_synthetic_test(bool verbose)
{
    int failures = 0;
    uint8_t a[TS_SYNTHETIC_OUTPUT_BYTES], b[TS_SYNTHETIC_OUTPUT_BYTES], c[TS_SYNTHETIC_OUTPUT_BYTES];
    ts_synthetic_piece_output(7, 3, a);
    ts_synthetic_piece_output(7, 3, b);
    ts_synthetic_piece_output(7, 4, c);
    TS_TEST_CHECK(memcmp(a, b, sizeof a) == 0, "the same task gives the same bytes");
    TS_TEST_CHECK(memcmp(a, c, sizeof a) != 0, "another piece gives other bytes");
    ts_synthetic_piece_output(3, 7, c);
    TS_TEST_CHECK(memcmp(a, c, sizeof a) != 0, "job and piece are not interchangeable");
    if (verbose)
        printf("  synthetic: outputs differ by job and piece, equal for the same task\n");
    return failures ? -1 : 0;
}
