/* fuzz_quote: libFuzzer target for a quote's JSON body (POST /api/v1/quote, master/ts_api_quote.c). */
#include "master/ts_api_quote.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_quote_request_t q;
    ts_quote_parse((const char *)data, size, &q);
    return 0;
}
