/* ts_account: account names (the ledger's requester names) and the account requests' JSON bodies (jansson). */
#include "lib/ts_account.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

int ts_account_name_check(const char *what, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > TS_ACCOUNT_NAME_MAX)
        return ts_error_set("%s '%.80s': must be 1 to %d characters", what, name, TS_ACCOUNT_NAME_MAX);
    for (const char *p = name; *p; p++)
        if (!(*p == '-' || *p == '_' || *p == '.' || *p == '@' || (*p >= '0' && *p <= '9') ||
              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return ts_error_set("%s '%s': only letters, digits and - _ . @ are allowed", what, name);
    return 0;
}

static json_t *load_object(const char *body, size_t len)
{
    json_error_t err;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(o)) {
        json_decref(o);
        ts_error_set("the body must be a JSON object%s%s", o ? "" : ": ", o ? "" : err.text);
        return NULL;
    }
    return o;
}

static bool reserved(const char *name)
{
    static const char *const RESERVED[] = TS_ACCOUNT_RESERVED;
    for (size_t i = 0; i < sizeof RESERVED / sizeof RESERVED[0]; i++)
        if (strcmp(name, RESERVED[i]) == 0)
            return true;
    return false;
}

int ts_account_parse_add(const char *body, size_t len, char name[TS_ACCOUNT_NAME_CAP])
{
    json_t *o = load_object(body, len);
    if (!o)
        return -1;
    const char *n = json_string_value(json_object_get(o, "name"));
    int rc = 0;
    if (!n)
        rc = ts_error_set("field 'name': an account name (a string) is required");
    else if (strlen(n) != json_string_length(json_object_get(o, "name")))
        rc = ts_error_set("field 'name': must not hold a NUL character");
    else if (ts_account_name_check("field 'name'", n) < 0)
        rc = -1;
    else if (reserved(n))
        rc = ts_error_set("field 'name': '%s' is reserved (default pays for the operator's own jobs; farm, mint, "
                          "master and operator name the farm's own accounts)", n);
    else
        snprintf(name, TS_ACCOUNT_NAME_CAP, "%s", n);
    json_decref(o);
    return rc;
}

int ts_account_parse_credit(const char *body, size_t len, int64_t *units, char ref[TS_ACCOUNT_REF_CAP])
{
    json_t *o = load_object(body, len);
    if (!o)
        return -1;
    json_t *a = json_object_get(o, "amount");
    char text[40];
    int rc = 0;
    if (json_is_integer(a))
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(a));
    else if (json_is_string(a) && json_string_length(a) < sizeof text)
        snprintf(text, sizeof text, "%s", json_string_value(a));
    else
        rc = ts_error_set("field 'amount': a token amount such as \"12.5\" is required");
    if (rc == 0 && ts_amount_parse(text, units) < 0)
        rc = ts_error_prefix("field 'amount'");
    else if (rc == 0 && *units <= 0)
        rc = ts_error_set("field 'amount': must be above 0");
    json_t *r = json_object_get(o, "ref");
    const char *rs = json_string_value(r);
    ref[0] = '\0';
    if (rc == 0 && r && (!rs || !rs[0] || strlen(rs) >= TS_ACCOUNT_REF_CAP || strspn(rs, "0123456789abcdefghijklmnopqrstuvwxyz"
                                                                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.") != strlen(rs)))
        rc = ts_error_set("field 'ref': 1 to %d letters, digits and - _ . (a key that makes a retried credit count once)",
                          TS_ACCOUNT_REF_CAP - 1);
    else if (rc == 0 && rs)
        snprintf(ref, TS_ACCOUNT_REF_CAP, "%s", rs);
    json_decref(o);
    return rc;
}

int ts_account_parse_share(const char *body, size_t len, double *weight, int *max_running)
{
    json_t *o = load_object(body, len);
    if (!o)
        return -1;
    json_t *w = json_object_get(o, "weight"), *m = json_object_get(o, "max_running");
    int rc = 0;
    *weight = 0;
    *max_running = -1;
    if (!w && !m)
        rc = ts_error_set("give 'weight' (a share of node time) or 'max_running' (tasks at once), or both");
    else if (w && (!json_is_number(w) || !(json_number_value(w) > 0) || json_number_value(w) > TS_ACCOUNT_WEIGHT_MAX))
        rc = ts_error_set("field 'weight': a number above 0 and at most %.0f is required", TS_ACCOUNT_WEIGHT_MAX);
    else if (m && (!json_is_integer(m) || json_integer_value(m) < 0 || json_integer_value(m) > TS_ACCOUNT_MAX_RUNNING))
        rc = ts_error_set("field 'max_running': a whole number within 0..%d is required (0: any number)",
                          TS_ACCOUNT_MAX_RUNNING);
    if (rc == 0 && w)
        *weight = json_number_value(w);
    if (rc == 0 && m)
        *max_running = (int)json_integer_value(m);
    json_decref(o);
    return rc;
}

int ts_account_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    char name[TS_ACCOUNT_NAME_CAP], ref[TS_ACCOUNT_REF_CAP];
    int64_t units = 0;
    TS_TEST_CHECK(ts_account_name_check("a", "ann.smith@studio_1-x") == 0, "a good name");
    TS_TEST_CHECK(ts_account_name_check("a", "") < 0 && ts_account_name_check("a", "a b") < 0 &&
                      ts_account_name_check("a", "a/b") < 0,
                  "empty, space and slash are refused");
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    TS_TEST_CHECK(ts_account_name_check("a", long_name) < 0, "65 characters are too many");
    long_name[64] = '\0';
    TS_TEST_CHECK(ts_account_name_check("a", long_name) == 0, "64 are fine");
    const char *add = "{\"name\":\"ann\"}";
    TS_TEST_CHECK(ts_account_parse_add(add, strlen(add), name) == 0 && strcmp(name, "ann") == 0, "add: %s", ts_error());
    static const char *const bad_add[] = {"", "[]", "{}", "{\"name\":1}", "{\"name\":\"default\"}", "{\"name\":\"farm\"}",
                                          "{\"name\":\"master\"}",
                                          "{\"name\":\"a\\u0000b\"}", "{\"name\":\"a\",\"name\":\"b\"}",
                                          "{\"name\":\"../x\"}"};
    for (size_t i = 0; i < sizeof bad_add / sizeof bad_add[0]; i++)
        TS_TEST_CHECK(ts_account_parse_add(bad_add[i], strlen(bad_add[i]), name) < 0, "add refuses %s", bad_add[i]);
    const char *credit = "{\"amount\":\"12.5\"}";
    TS_TEST_CHECK(ts_account_parse_credit(credit, strlen(credit), &units, ref) == 0 && units == 12500000 && !ref[0],
                  "credit 12.5");
    credit = "{\"amount\":3,\"ref\":\"run-7.a\"}";
    TS_TEST_CHECK(ts_account_parse_credit(credit, strlen(credit), &units, ref) == 0 && units == 3000000 &&
                      strcmp(ref, "run-7.a") == 0,
                  "credit 3 with a ref");
    static const char *const bad_credit[] = {"{}", "{\"amount\":\"-1\"}", "{\"amount\":0}", "{\"amount\":\"1.0000001\"}",
                                             "{\"amount\":\"x\"}", "{\"amount\":1.5}",
                                             "{\"amount\":\"99999999999999999999999\"}", "{\"amount\":1,\"ref\":\"\"}",
                                             "{\"amount\":1,\"ref\":\"a b\"}", "{\"amount\":1,\"ref\":7}"};
    for (size_t i = 0; i < sizeof bad_credit / sizeof bad_credit[0]; i++)
        TS_TEST_CHECK(ts_account_parse_credit(bad_credit[i], strlen(bad_credit[i]), &units, ref) < 0, "credit refuses %s",
                      bad_credit[i]);
    double weight;
    int max_running;
    const char *share = "{\"weight\":2.5}";
    TS_TEST_CHECK(ts_account_parse_share(share, strlen(share), &weight, &max_running) == 0 && weight == 2.5 &&
                      max_running == -1,
                  "share: a weight alone");
    share = "{\"max_running\":4}";
    TS_TEST_CHECK(ts_account_parse_share(share, strlen(share), &weight, &max_running) == 0 && weight == 0 &&
                      max_running == 4,
                  "share: a limit alone");
    static const char *const bad_share[] = {"{}", "{\"weight\":0}", "{\"weight\":-1}", "{\"weight\":\"2\"}",
                                            "{\"weight\":1e9}", "{\"max_running\":-1}", "{\"max_running\":1.5}",
                                            "{\"max_running\":9999999}", "[1]"};
    for (size_t i = 0; i < sizeof bad_share / sizeof bad_share[0]; i++)
        TS_TEST_CHECK(ts_account_parse_share(bad_share[i], strlen(bad_share[i]), &weight, &max_running) < 0,
                      "share refuses %s", bad_share[i]);
    return failures;
}
