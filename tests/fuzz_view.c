/* fuzz_view: libFuzzer target for the mosaic routes' outside input: what follows /api/v1/jobs/{id} in a request's
   path and its ?max= parameter (ts_view_parse). Input: the path, then optionally a NUL and the parameter. A route it
   takes must be one of the four with its numbers in range. */
#include "master/ts_api_view.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    size_t path_len = strlen(text);
    const char *max = path_len < size ? text + path_len + 1 : NULL;
    ts_view_request_t req;
    int rc = ts_view_parse(text, max, &req);
    if (rc == 1) {
        if (strncmp(text, "/frames", 7) != 0)
            abort();
        if (req.frame < -999999999 || req.frame > 999999999)
            abort();
        if (req.route == TS_VIEW_TILE_PNG && (req.tile < 0 || req.tile > 9999))
            abort();
        if (req.route == TS_VIEW_PREVIEW_PNG && (req.max < 1 || req.max > TS_VIEW_MAX_SIDE))
            abort();
        if (req.route != TS_VIEW_FRAMES && req.route != TS_VIEW_FRAME && req.route != TS_VIEW_TILE_PNG &&
            req.route != TS_VIEW_PREVIEW_PNG)
            abort();
    } else if (rc != 0 && rc != -1) {
        abort();
    }
    free(text);
    return 0;
}
