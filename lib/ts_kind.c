/* ts_kind: the table of task kinds (the wire enum's values) with their rank, checks and what they complete. */
#include "lib/ts_kind.h"
#include "tests/ts_test.h"
#include <stddef.h>
#include <string.h>

#define RANK_STEP 10 /* room between ranks for kinds added later */

static const ts_kind_t KINDS[] = {
    {TS_KIND_PROBE, "probe", 1 * RANK_STEP, false, TS_KIND_ENDS_NOTHING, TS_KIND_RESULT_NONE, false, false},
    {TS_KIND_TILE, "tile", 2 * RANK_STEP, true, TS_KIND_ENDS_PIECE, TS_KIND_RESULT_TILE, false, false},
    {TS_KIND_FINISH, "finish", 3 * RANK_STEP, true, TS_KIND_ENDS_FRAME, TS_KIND_RESULT_FRAME, false, false},
    {TS_KIND_SEGMENT, "segment", 4 * RANK_STEP, true, TS_KIND_ENDS_PIECE, TS_KIND_RESULT_VIDEO, true, false},
    {TS_KIND_THUMB, "thumb", 5 * RANK_STEP, true, TS_KIND_ENDS_PIECE, TS_KIND_RESULT_FRAME, true, false},
    {TS_KIND_SYNTHETIC, "synthetic", 6 * RANK_STEP, true, TS_KIND_ENDS_PIECE, TS_KIND_RESULT_BYTES, true, true},
};

const ts_kind_t *ts_kind_get(int kind)
{
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (KINDS[i].kind == kind)
            return &KINDS[i];
    return NULL;
}

const char *ts_kind_name(int kind)
{
    const ts_kind_t *k = ts_kind_get(kind);
    return k ? k->name : "unknown";
}

int ts_kind_count(void)
{
    return (int)(sizeof KINDS / sizeof KINDS[0]);
}

const ts_kind_t *ts_kind_at(int i)
{
    return i >= 0 && i < ts_kind_count() ? &KINDS[i] : NULL;
}

int ts_kind_test(bool verbose)
{
    int failures = 0;
    /* every wire kind but TASK_UNKNOWN has exactly one row, with a distinct name and rank */
    for (size_t v = 0; v < tessera__task_kind__descriptor.n_values; v++) {
        int kind = tessera__task_kind__descriptor.values[v].value;
        int rows = 0;
        for (int i = 0; i < ts_kind_count(); i++)
            rows += ts_kind_at(i)->kind == kind;
        TS_TEST_CHECK(rows == (kind == TESSERA__TASK_KIND__TASK_UNKNOWN ? 0 : 1), "kind %d has %d rows", kind, rows);
    }
    for (int i = 0; i < ts_kind_count(); i++)
        for (int j = i + 1; j < ts_kind_count(); j++)
            TS_TEST_CHECK(strcmp(ts_kind_at(i)->name, ts_kind_at(j)->name) != 0 &&
                              ts_kind_at(i)->rank != ts_kind_at(j)->rank,
                          "rows %d and %d share a name or rank", i, j);
    TS_TEST_CHECK(ts_kind_get(TESSERA__TASK_KIND__TASK_UNKNOWN) == NULL && ts_kind_get(99) == NULL &&
                      strcmp(ts_kind_name(99), "unknown") == 0,
                  "unknown kinds");
    /* a frame's finish goes out before more tiles, so finished frames reach the user early */
    TS_TEST_CHECK(ts_kind_get(TS_KIND_FINISH)->rank > ts_kind_get(TS_KIND_TILE)->rank, "finish before tiles");
    TS_TEST_CHECK(!ts_kind_get(TS_KIND_PROBE)->checked && ts_kind_get(TS_KIND_TILE)->checked, "probes are not checked");
    if (verbose)
        printf("  kind: %d kinds, one row per wire value\n", ts_kind_count());
    return failures ? -1 : 0;
}
