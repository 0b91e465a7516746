/* fuzz_tile: libFuzzer target for the tile images slaves return: the verifier's decode and planned-size checks
   (ts_check_result) over arbitrary bytes in a file, and, for a file that passes them, the comparison rules
   against a valid tile (ts_check_agree); the same bytes as a finished frame in PNG or EXR: whatever the bytes, a
   check ends in a verdict, never a crash. */
#include "splitter/ts_image.h"
#include "verifier/ts_check.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SIDE 8 /* the planned tile is SIDE x SIDE RGBA, as the seed in tests/test_fuzz.sh */

static const char *reference(void)
{
    static char path[] = "/tmp/tessera-fuzz-tile-ref.XXXXXX.exr";
    static int made;
    if (!made) {
        int fd = mkstemps(path, 4);
        if (fd < 0)
            abort();
        close(fd);
        float px[SIDE * SIDE * 4];
        for (int i = 0; i < SIDE * SIDE * 4; i++)
            px[i] = (float)(i % 7) * 0.125f;
        if (ts_image_write(path, SIDE, SIDE, 4, px) < 0)
            abort();
        made = 1;
    }
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/tessera-fuzz-tile.XXXXXX.exr";
    int fd = mkstemps(path, 4);
    if (fd < 0)
        abort();
    if (write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    ts_result_facts_t got = {.kind = TS_KIND_TILE, .path = path, .size = (long long)size, .dclass = "a",
                             .width = SIDE, .height = SIDE, .format = "exr"};
    ts_result_facts_t ref = got;
    ref.path = reference();
    char why[512];
    int valid = ts_check_result(&got, why, sizeof why);
    if (valid < -1 || valid > 1)
        abort();
    if (valid == 1) {
        /* a valid tile agrees with itself by every rule, and a verdict against another is 0 or 1 */
        if (ts_check_agree(&got, &got, false, why, sizeof why) != 1 || ts_check_agree(&got, &got, true, why, sizeof why) != 1)
            abort();
        int exact = ts_check_agree(&got, &ref, false, why, sizeof why);
        int noisy = ts_check_agree(&got, &ref, true, why, sizeof why);
        ref.dclass = "b";
        int cross = ts_check_agree(&got, &ref, false, why, sizeof why);
        if (exact < 0 || noisy < 0 || cross < 0 || (exact && !noisy))
            abort(); /* the noise rule never refuses what the exact rule accepts */
    }
    /* the same bytes as a finished frame in PNG and in the scene's EXR: a verdict, never a crash */
    ts_result_facts_t frame = got;
    frame.kind = TS_KIND_FINISH;
    frame.format = (size & 1) ? "png" : "exr";
    valid = ts_check_result(&frame, why, sizeof why);
    if (valid < -1 || valid > 1)
        abort();
    unlink(path);
    return 0;
}
