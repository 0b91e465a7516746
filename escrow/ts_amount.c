/* ts_amount: token amounts as text ("12.5") and as integers of the token's smallest unit (escrow/escrow.h). */
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int ts_amount_parse(const char *text, int64_t *units)
{
    const char *p = text;
    int64_t whole = 0, frac = 0;
    int digits = 0, decimals = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (whole > (INT64_MAX / TS_TOKEN_UNIT - 9) / 10)
            return ts_error_set("amount '%s': too large", text);
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, decimals++) {
            if (decimals == TS_TOKEN_DECIMALS)
                return ts_error_set("amount '%s': more than %d decimals", text, TS_TOKEN_DECIMALS);
            frac = frac * 10 + (*p - '0');
            digits++;
        }
    }
    if (*p || digits == 0)
        return ts_error_set("amount '%s': not a non-negative number of tokens (e.g. 12.5)", text);
    for (; decimals < TS_TOKEN_DECIMALS; decimals++)
        frac *= 10;
    *units = whole * TS_TOKEN_UNIT + frac;
    return 0;
}

void ts_amount_format(int64_t units, char *out, size_t cap)
{
    const char *sign = units < 0 ? "-" : "";
    uint64_t u = units < 0 ? (uint64_t)(-(units + 1)) + 1 : (uint64_t)units;
    uint64_t whole = u / TS_TOKEN_UNIT, frac = u % TS_TOKEN_UNIT;
    if (frac == 0) {
        snprintf(out, cap, "%s%" PRIu64, sign, whole);
        return;
    }
    char f[16];
    snprintf(f, sizeof f, "%0*" PRIu64, TS_TOKEN_DECIMALS, frac);
    for (size_t n = strlen(f); n > 0 && f[n - 1] == '0'; n--)
        f[n - 1] = '\0';
    snprintf(out, cap, "%s%" PRIu64 ".%s", sign, whole, f);
}
