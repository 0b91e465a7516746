/* ts_hours: work windows in local minutes of the day. The state (open or closed) can change only at a window's start
   or end, so the next change is the nearest such boundary at which the state differs from now's. */
#include "lib/ts_hours.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *text, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ts_error_set("--hours '%.80s'%s: %s", text, strlen(text) > 80 ? "..." : "", what);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One time, [p, e) with spaces around it: H:MM or HH:MM, 00:00..24:00. */
static int parse_time(const char *text, const char *p, const char *e, int *minutes)
{
    while (p < e && is_space(*p))
        p++;
    while (e > p && is_space(e[-1]))
        e--;
    size_t n = (size_t)(e - p);
    size_t h_digits = n >= 2 && p[1] == ':' ? 1 : 2;
    if (n != h_digits + 3 || p[h_digits] != ':' || !is_digit(p[0]) || !is_digit(p[h_digits - 1]) ||
        !is_digit(p[h_digits + 1]) || !is_digit(p[h_digits + 2]))
        return fail(text, "'%.*s' is not a time HH:MM", (int)(n > 20 ? 20 : n), p);
    int hour = h_digits == 1 ? p[0] - '0' : (p[0] - '0') * 10 + (p[1] - '0');
    int minute = (p[h_digits + 1] - '0') * 10 + (p[h_digits + 2] - '0');
    if (hour > 24)
        return fail(text, "hour %d is out of 0..24", hour);
    if (minute > 59)
        return fail(text, "minute %d is out of 0..59", minute);
    if (hour == 24 && minute > 0)
        return fail(text, "24:%02d is past the end of the day", minute);
    *minutes = hour * 60 + minute;
    return 0;
}

int ts_hours_parse(const char *text, ts_hours_t *out)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return 0;
    const char *p = text;
    for (int i = 0;; i++) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *q = p;
        while (q < end && is_space(*q))
            q++;
        if (q == end && i == 0 && !comma)
            return fail(text, "no window given (leave the option out to work at all hours)");
        if (q == end)
            return fail(text, "window %d is missing (two commas, or one at an end)", i + 1);
        if (i == TS_HOURS_MAX)
            return fail(text, "more than %d windows", TS_HOURS_MAX);
        const char *dash = memchr(p, '-', (size_t)(end - p));
        if (!dash)
            return fail(text, "window %d has no '-' (expected HH:MM-HH:MM)", i + 1);
        int start, stop;
        if (parse_time(text, p, dash, &start) < 0 || parse_time(text, dash + 1, end, &stop) < 0)
            return -1;
        if (start == TS_HOURS_DAY)
            return fail(text, "window %d starts at 24:00 (write 00:00)", i + 1);
        if (start == stop)
            return fail(text, "window %d is empty: it ends where it starts", i + 1);
        out->w[i].start_min = start;
        out->w[i].end_min = stop;
        out->count = i + 1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int day_minute(int m)
{
    return ((m % TS_HOURS_DAY) + TS_HOURS_DAY) % TS_HOURS_DAY;
}

bool ts_hours_open(const ts_hours_t *h, int minute_of_day)
{
    if (h->count == 0)
        return true;
    int m = day_minute(minute_of_day);
    for (int i = 0; i < h->count; i++) {
        int s = h->w[i].start_min, e = h->w[i].end_min;
        if (s < e ? (m >= s && m < e) : (m >= s || m < e))
            return true;
    }
    return false;
}

int ts_hours_next_change(const ts_hours_t *h, int minute_of_day)
{
    int m = day_minute(minute_of_day);
    bool now = ts_hours_open(h, m);
    int best = -1;
    for (int i = 0; i < h->count; i++)
        for (int k = 0; k < 2; k++) {
            int b = k == 0 ? h->w[i].start_min : h->w[i].end_min;
            int d = day_minute(b - m);
            if (d != 0 && (best < 0 || d < best) && ts_hours_open(h, b) != now)
                best = d;
        }
    return best;
}

bool ts_hours_open_at(const ts_hours_t *h, time_t t, time_t *change_at)
{
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        if (change_at)
            *change_at = (time_t)-1;
        return true;
    }
    int m = tm.tm_hour * 60 + tm.tm_min;
    if (change_at) {
        int d = ts_hours_next_change(h, m);
        *change_at = (time_t)-1;
        if (d > 0) {
            struct tm at = tm;
            at.tm_sec = 0;
            at.tm_min += d;
            at.tm_isdst = -1;
            time_t c = mktime(&at);
            if (c == (time_t)-1 || c <= t) /* a wall-clock time that the clock skips or repeats */
                c = t - tm.tm_sec + (time_t)d * 60;
            *change_at = c > t ? c : t + 1;
        }
    }
    return ts_hours_open(h, m);
}

static int hm(int hour, int minute)
{
    return hour * 60 + minute;
}

int ts_hours_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    ts_hours_t h;

    TS_TEST_CHECK(ts_hours_parse(NULL, &h) == 0 && h.count == 0, "NULL: no windows");
    TS_TEST_CHECK(ts_hours_open(&h, 0) && ts_hours_open(&h, 1439) && ts_hours_next_change(&h, 600) == -1,
                  "no windows: always open");

    /* An overnight window: start inclusive, end exclusive, wrapping past midnight. */
    TS_TEST_CHECK(ts_hours_parse("22:00-09:00", &h) == 0 && h.count == 1, "overnight: %s", ts_error());
    TS_TEST_CHECK(ts_hours_open(&h, hm(22, 0)) && ts_hours_open(&h, hm(23, 59)) && ts_hours_open(&h, 0) &&
                      ts_hours_open(&h, hm(8, 59)),
                  "overnight: open from 22:00 to 08:59");
    TS_TEST_CHECK(!ts_hours_open(&h, hm(9, 0)) && !ts_hours_open(&h, hm(21, 59)) && !ts_hours_open(&h, hm(12, 0)),
                  "overnight: closed from 09:00 to 21:59");
    TS_TEST_CHECK(ts_hours_next_change(&h, hm(21, 59)) == 1, "opens in 1 minute");
    TS_TEST_CHECK(ts_hours_next_change(&h, hm(22, 0)) == 11 * 60, "22:00 closes in 11 h, got %d",
                  ts_hours_next_change(&h, hm(22, 0)));
    TS_TEST_CHECK(ts_hours_next_change(&h, hm(9, 0)) == 13 * 60, "09:00 opens in 13 h");
    TS_TEST_CHECK(ts_hours_next_change(&h, 0) == 9 * 60, "midnight closes in 9 h");

    /* Several windows, spaces around them; the state flips at each boundary. */
    TS_TEST_CHECK(ts_hours_parse(" 22:00-09:00 , 12:00 - 13:00,\t7:30-8:00 ", &h) == 0 && h.count == 3,
                  "three windows: %s", ts_error());
    TS_TEST_CHECK(h.w[2].start_min == hm(7, 30) && h.w[2].end_min == hm(8, 0), "one-digit hours");
    TS_TEST_CHECK(ts_hours_open(&h, hm(12, 0)) && ts_hours_open(&h, hm(12, 59)) && !ts_hours_open(&h, hm(13, 0)) &&
                      !ts_hours_open(&h, hm(11, 59)),
                  "lunch window");
    TS_TEST_CHECK(ts_hours_next_change(&h, hm(10, 0)) == 120 && ts_hours_next_change(&h, hm(12, 30)) == 30 &&
                      ts_hours_next_change(&h, hm(13, 0)) == 9 * 60,
                  "changes around lunch");
    TS_TEST_CHECK(ts_hours_next_change(&h, hm(7, 45)) == 75, "07:30-08:00 inside the overnight window changes nothing");

    /* The whole day, and windows that cover it together: never a change. */
    TS_TEST_CHECK(ts_hours_parse("00:00-24:00", &h) == 0 && h.count == 1 && h.w[0].end_min == TS_HOURS_DAY,
                  "whole day: %s", ts_error());
    TS_TEST_CHECK(ts_hours_open(&h, 0) && ts_hours_open(&h, 1439) && ts_hours_next_change(&h, 5) == -1, "whole day");
    TS_TEST_CHECK(ts_hours_parse("22:00-09:00,09:00-22:00", &h) == 0 && ts_hours_next_change(&h, hm(9, 0)) == -1,
                  "two halves: never a change");
    TS_TEST_CHECK(ts_hours_parse("18:00-24:00", &h) == 0 && ts_hours_open(&h, 1439) && !ts_hours_open(&h, 0) &&
                      ts_hours_next_change(&h, hm(23, 0)) == 60,
                  "ends at midnight");
    TS_TEST_CHECK(ts_hours_parse("18:00-00:00", &h) == 0 && ts_hours_open(&h, 1439) && !ts_hours_open(&h, 0),
                  "00:00 as an end is midnight too");
    TS_TEST_CHECK(ts_hours_parse("1:00-2:00,2:00-3:00,3:00-4:00,4:00-5:00,5:00-6:00,6:00-7:00,7:00-8:00,8:00-9:00", &h) ==
                          0 &&
                      h.count == 8 && ts_hours_next_change(&h, hm(1, 0)) == 8 * 60,
                  "8 windows, adjacent ones merge: %s", ts_error());

    /* Malformed input, each refused with the text and what is wrong. */
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"", "no window given"},
        {"9-17", "'9' is not a time"},
        {"09:00", "has no '-'"},
        {"09:60-10:00", "minute 60 is out of 0..59"},
        {"25:00-09:00", "hour 25 is out of 0..24"},
        {"24:30-09:00", "24:30 is past the end"},
        {"24:00-09:00", "starts at 24:00"},
        {"10:00-10:00", "window 1 is empty"},
        {"00:00-00:00", "window 1 is empty"},
        {"09:00-10:00,", "window 2 is missing"},
        {",09:00-10:00", "window 1 is missing"},
        {"09:00-10:00,,11:00-12:00", "window 2 is missing"},
        {"09:00-10:00-11:00", "'10:00-11:00' is not a time"},
        {"9:0-10:00", "'9:0' is not a time"},
        {"009:00-10:00", "'009:00' is not a time"},
        {"09:00-1 0:00", "is not a time"},
        {"0a:00-10:00", "is not a time"},
        {"-10:00", "'' is not a time"},
        {"1:00-2:00,2:00-3:00,3:00-4:00,4:00-5:00,5:00-6:00,6:00-7:00,7:00-8:00,8:00-9:00,9:00-9:30", "more than 8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ts_hours_parse(bad[i].text, &h);
        char prefix[120];
        snprintf(prefix, sizeof prefix, "--hours '%.80s'", bad[i].text);
        TS_TEST_CHECK(rc < 0 && strstr(ts_error(), bad[i].says) && strncmp(ts_error(), prefix, strlen(prefix)) == 0,
                      "'%s' refused saying '%s', got rc %d: %s", bad[i].text, bad[i].says, rc, ts_error());
    }

    /* Local time: the answer matches the minute of the day, and the change lands on the boundary (mid-month days,
       away from any DST shift, so the wall clock and the real one agree). */
    TS_TEST_CHECK(ts_hours_parse("22:00-09:00,12:00-13:00", &h) == 0, "parse: %s", ts_error());
    static const int days[][3] = {{2024, 1, 15}, {2024, 7, 15}};
    for (size_t d = 0; d < 2; d++)
        for (int m = 0; m < TS_HOURS_DAY; m += 97) {
            struct tm tm = {.tm_year = days[d][0] - 1900, .tm_mon = days[d][1] - 1, .tm_mday = days[d][2],
                            .tm_hour = m / 60, .tm_min = m % 60, .tm_sec = 17, .tm_isdst = -1};
            time_t t = mktime(&tm), at;
            bool open = ts_hours_open_at(&h, t, &at);
            int expect = ts_hours_next_change(&h, m);
            TS_TEST_CHECK(open == ts_hours_open(&h, m), "open at minute %d", m);
            TS_TEST_CHECK(at == t - 17 + (time_t)expect * 60, "change at minute %d: %lld, not %lld", m,
                          (long long)(at - t), (long long)expect * 60 - 17);
            TS_TEST_CHECK(ts_hours_open_at(&h, at, NULL) != open && ts_hours_open_at(&h, at - 1, NULL) == open,
                          "the state flips exactly at the change (minute %d)", m);
        }
    ts_hours_parse(NULL, &h);
    time_t at = 0;
    TS_TEST_CHECK(ts_hours_open_at(&h, time(NULL), &at) && at == (time_t)-1, "no windows: open, no change");
    return failures;
}
