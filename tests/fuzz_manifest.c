/* fuzz_manifest: libFuzzer target for a project's manifest as a slave reads it (a blob from the master: the root, the
   scene and every file's name, hash and size) and for project roots. */
#include "lib/ts_manifest.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_manifest_t m;
    if (ts_manifest_parse((const char *)data, size, &m) == 0)
        ts_manifest_free(&m);
    char text[TS_MANIFEST_ROOT_CAP];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    ts_manifest_root_check(text);
    return 0;
}
