/* fuzz_segcheck: libFuzzer target for the encoded segments slaves return: the verifier's strict decode and
   frame/timestamp facts (ts_segcheck_output) over arbitrary bytes in a file. */
#include "verifier/ts_segcheck.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/tessera-fuzz-segcheck.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    if (write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    ts_segcheck_facts_t f;
    if (ts_segcheck_output(path, 1, 90000, &f) == 0 && (f.frames <= 0 || !f.pts))
        abort(); /* success promises at least one frame with its timestamp */
    ts_segcheck_facts_free(&f);
    unlink(path);
    return 0;
}
