/* fuzz_jobreq: libFuzzer target for the job submission body (JSON from the HTTP API: the common fields, the manifest and
   every job type's own fields) and the request's text fields. */
#include "master/ts_jobreq.h"
#include "lib/ts_request.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_job_request_t req;
    if (ts_jobreq_parse((const char *)data, size, &req) == 0)
        ts_job_request_free(&req);
    int a, b;
    long long w, h;
    char text[64];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    for (size_t i = 0; i < n; i++)
        text[i] = (char)data[i];
    text[n] = '\0';
    ts_request_frames_parse(text, &a, &b);
    ts_request_grid_parse(text, &a, &b);
    ts_request_input_name_check(text);
    if (ts_request_size_parse(text, &w, &h) == 0)
        ts_request_size_check(w, h);
    return 0;
}
