/* fuzz_auth: libFuzzer target for what a caller sends the master's account checks: the Authorization header (a
   Bearer token) and the bodies of the account requests (POST accounts {"name"}, .../credit {"amount"},
   PUT shares/{requester} {"weight", "max_running"}). */
#include "lib/ts_account.h"
#include "lib/ts_token.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* a header value is a C string to libmicrohttpd */
    const char *token;
    size_t len;
    ts_token_key_t key;
    if (ts_token_from_header(text, &token, &len) == 0 && ts_token_parse(token, len, &key) == 0 &&
        strlen(key.id) != TS_TOKEN_ID_HEX)
        abort();
    ts_token_parse(text, size, &key);
    char name[TS_ACCOUNT_NAME_CAP], ref[TS_ACCOUNT_REF_CAP];
    int64_t units;
    if (ts_account_parse_add((const char *)data, size, name) == 0 && ts_account_name_check("name", name) != 0)
        abort();
    if (ts_account_parse_credit((const char *)data, size, &units, ref) == 0 && (units <= 0 || strlen(ref) >= TS_ACCOUNT_REF_CAP))
        abort();
    double weight;
    int max_running;
    if (ts_account_parse_share((const char *)data, size, &weight, &max_running) == 0 &&
        (weight < 0 || weight > TS_ACCOUNT_WEIGHT_MAX || max_running < -1 || max_running > TS_ACCOUNT_MAX_RUNNING ||
         (weight == 0 && max_running == -1)))
        abort();
    ts_account_name_check("account", text);
    free(text);
    return 0;
}
