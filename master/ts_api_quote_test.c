/* ts_api_quote_test: the quote's parsing (each refusal names its field) and its estimate's maths. */
#include "master/ts_api_quote.h"
#include "lib/ts_error.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOOD "\"frames\":2,\"tiles_x\":4,\"tiles_y\":3,\"width\":128,\"height\":96,\"samples\":16"

static int failures;

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "quote: FAIL %s\n", what);
        failures++;
    }
}

static void refused(const char *body, const char *field)
{
    ts_quote_request_t q;
    char what[256];
    snprintf(what, sizeof what, "%s refused naming %s (got: %s)", body, field, ts_error());
    check(ts_quote_parse(body, strlen(body), &q) < 0 && strstr(ts_error(), field) != NULL, what);
}

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1, fabs(b));
}

static void parsing(void)
{
    ts_quote_request_t q;
    check(ts_quote_parse("{" GOOD "}", strlen("{" GOOD "}"), &q) == 0 && q.frames == 2 && q.tiles_x == 4 &&
              q.tiles_y == 3 && q.width == 128 && q.height == 96 && q.samples == 16 && q.budget == 0,
          "a good body");
    const char *budget = "{" GOOD ",\"budget\":\"12.5\"}";
    check(ts_quote_parse(budget, strlen(budget), &q) == 0 && q.budget == 12500000, "a budget as text");
    refused("[]", "JSON object");
    refused("{", "JSON object");
    refused("{\"tiles_x\":4,\"tiles_y\":3,\"width\":128,\"height\":96,\"samples\":16}", "'frames'");
    refused("{\"frames\":0,\"tiles_x\":4,\"tiles_y\":3,\"width\":128,\"height\":96,\"samples\":16}", "'frames'");
    refused("{\"frames\":1,\"tiles_x\":\"4\",\"tiles_y\":3,\"width\":128,\"height\":96,\"samples\":16}", "'tiles_x'");
    refused("{\"frames\":1,\"tiles_x\":4,\"tiles_y\":65,\"width\":128,\"height\":96,\"samples\":16}", "'tiles_y'");
    refused("{\"frames\":1,\"tiles_x\":4,\"tiles_y\":3,\"width\":-1,\"height\":96,\"samples\":16}", "'width'");
    refused("{\"frames\":1,\"tiles_x\":4,\"tiles_y\":3,\"width\":128,\"height\":1.5,\"samples\":16}", "'height'");
    refused("{\"frames\":1,\"tiles_x\":4,\"tiles_y\":3,\"width\":128,\"height\":96,\"samples\":99999999999}",
            "'samples'");
    refused("{" GOOD ",\"budget\":\"ten\"}", "'budget'");
    refused("{" GOOD ",\"budget\":\"0\"}", "'budget'");
    refused("{" GOOD ",\"budget\":[1]}", "'budget'");
    refused("{" GOOD ",\"frames\":3}", "JSON object"); /* a field given twice */
}

static void estimate(void)
{
    ts_quote_eta_t eta;
    double none[1] = {0};
    ts_quote_estimate(none, 0, 100, 10, 4, &eta);
    check(!eta.known, "no history: unknown");
    double one[1] = {0.5};
    ts_quote_estimate(one, 1, 100, 10, 0, &eta);
    check(!eta.known, "no node online: unknown");
    /* ten rates 1..10 shuffled: the median by nearest rank is the 5th smallest, the 90th percentile the 9th */
    double rates[10] = {4, 1, 3, 2, 5, 6, 10, 8, 9, 7};
    ts_quote_estimate(rates, 10, 100, 50, 4, &eta);
    check(eta.known && eta.slots == 4 && eta.tiles_timed == 10, "ten tiles timed, four nodes");
    check(near(eta.seconds, 100.0 * 5 / 4) && near(eta.high, 100.0 * 9 / 4), "median and p90 over the nodes");
    double two[2] = {2, 1};
    ts_quote_estimate(two, 2, 30, 3, 8, &eta);
    check(eta.slots == 3 && near(eta.seconds, 30.0 * 1 / 3) && near(eta.high, 30.0 * 2 / 3),
          "no more nodes than the job's tiles");
    /* any history: the high end is never below the median's estimate, and both scale with the work */
    srand(7);
    for (int round = 0; round < 100; round++) {
        double r[37], copy[37];
        size_t n = 1 + (size_t)(rand() % 37);
        for (size_t i = 0; i < n; i++)
            r[i] = copy[i] = (double)(rand() % 1000 + 1) / 1e6;
        ts_quote_eta_t a, b;
        ts_quote_estimate(r, n, 1000, 64, 3, &a);
        ts_quote_estimate(copy, n, 2000, 64, 3, &b);
        check(a.known && a.high >= a.seconds && near(b.seconds, 2 * a.seconds) && near(b.high, 2 * a.high),
              "p90 at or above the median; linear in the work");
    }
}

int ts_api_quote_test(bool verbose)
{
    failures = 0;
    parsing();
    estimate();
    if (verbose && failures == 0)
        printf("quote: parsing and estimates ok\n");
    return failures == 0 ? 0 : -1;
}
