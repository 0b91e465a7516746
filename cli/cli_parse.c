/* cli_parse: local parsers of the CLI (frames, tiles, job ids, master URLs, output names) and their self-test. */
#include "cli/cli.h"
#include "lib/ts_error.h"
#include "lib/ts_request.h"
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define CLI_NAME_MAX 255 /* longest file name most file systems accept */

/* A whole number made only of digits (no sign, no blanks), at most max. */
static bool parse_digits(const char *s, size_t len, long max, long *out)
{
    if (len == 0)
        return false;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        int d = s[i] - '0';
        if (v > (LONG_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

int cli_parse_frames(const char *text, int *start, int *end)
{
    return ts_request_frames_parse(text, start, end) < 0 ? ts_error_prefix("--frames") : 0;
}

int cli_parse_frame_list(const char *text, json_t *frames)
{
    long total = 0;
    for (const char *p = text;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char entry[32];
        int a, b;
        snprintf(entry, sizeof entry, "%.*s", (int)(len < sizeof entry ? len : sizeof entry - 1), p);
        if (len >= sizeof entry || ts_request_frames_parse(entry, &a, &b) < 0)
            return ts_error_set("--frames '%s': entry '%.*s' is not N or A-B (frames 0..%d, separated by commas)", text,
                                (int)len, p, TS_REQUEST_FRAME_MAX);
        total += (long)b - a + 1;
        if (total > CLI_FRAME_LIST_MAX)
            return ts_error_set("--frames '%s': more than %d frames at once", text, CLI_FRAME_LIST_MAX);
        for (int f = a; f <= b; f++)
            json_array_append_new(frames, json_integer(f));
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int cli_parse_tiles(const char *text, int *cols, int *rows)
{
    return ts_request_grid_parse(text, cols, rows) < 0 ? ts_error_prefix("--tiles") : 0;
}

int cli_parse_job_id(const char *text, long *id)
{
    long v;
    if (!parse_digits(text, strlen(text), LONG_MAX, &v) || v < 1)
        return ts_error_set("job '%s': not a job id (job ids are positive whole numbers)", text);
    *id = v;
    return 0;
}

int cli_master_url(const char *text, char *out, size_t cap)
{
    static const char *const schemes[] = {"http://", "https://"};
    const char *sep = strstr(text, "://");
    const char *host = text;
    int n;
    if (sep) {
        bool known = false;
        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
            if (strncmp(text, schemes[i], strlen(schemes[i])) == 0)
                known = true;
        if (!known)
            return ts_error_set("the master URL must start with http:// or https://");
        host = sep + strlen("://");
        n = snprintf(out, cap, "%s", text);
    } else {
        n = snprintf(out, cap, "%s%s", schemes[0], text);
    }
    if (*host == '\0' || *host == '/' || strpbrk(text, " \t\r\n"))
        return ts_error_set("not a master URL (e.g. %s)", CLI_DEFAULT_MASTER);
    if (n < 0 || (size_t)n >= cap)
        return ts_error_set("the master URL is too long");
    size_t len = strlen(out);
    size_t min_len = strlen(out) - strlen(host) + 1; /* keep at least one host character */
    while (len > min_len && out[len - 1] == '/')
        out[--len] = '\0';
    return 0;
}

char *cli_url_join(const char *base, const char *path)
{
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    while (*path == '/')
        path++;
    size_t plen = strlen(path);
    char *url = malloc(blen + 1 + plen + 1);
    if (!url)
        return NULL;
    memcpy(url, base, blen);
    url[blen] = '/';
    memcpy(url + blen + 1, path, plen + 1);
    return url;
}

void cli_url_redact(const char *url, char *out, size_t cap)
{
    const char *sep = strstr(url, "://");
    const char *host = sep ? sep + strlen("://") : url;
    size_t host_len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', host_len);
    if (!at) {
        snprintf(out, cap, "%s", url);
        return;
    }
    snprintf(out, cap, "%.*s%s", (int)(host - url), url, at + 1);
}

bool cli_output_name_ok(const char *name, const char **why)
{
    const char *reason = NULL;
    if (!name || !*name)
        reason = "empty name";
    else if (strchr(name, '/'))
        reason = "contains '/'";
    else if (name[0] == '.')
        reason = "starts with '.'";
    else if (strlen(name) > CLI_NAME_MAX)
        reason = "too long";
    else
        for (const char *p = name; *p; p++)
            if ((unsigned char)*p < ' ' || *p == '\\' || *p == 0x7f) {
                reason = "contains a control character or '\\'";
                break;
            }
    if (why)
        *why = reason;
    return reason == NULL;
}

const char *cli_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- self-test ---- */

static int s_failures;

static void check(bool ok, const char *what, bool verbose)
{
    if (!ok) {
        s_failures++;
        fprintf(stderr, "ts_cli_test: FAILED: %s (last error: %s)\n", what, ts_error());
    } else if (verbose) {
        printf("ts_cli_test: ok: %s\n", what);
    }
}

static bool frames_are(const char *text, int a, int b)
{
    int s = -1, e = -1;
    return cli_parse_frames(text, &s, &e) == 0 && s == a && e == b;
}

static bool frames_bad(const char *text, const char *message_part)
{
    int s = -1, e = -1;
    return cli_parse_frames(text, &s, &e) == -1 && s == -1 && strstr(ts_error(), message_part) != NULL;
}

/* A frame list parses into exactly want (count frames), or is refused with message_part. */
static bool frame_list_is(const char *text, const int *want, size_t count, const char *message_part)
{
    json_t *got = json_array();
    int rc = cli_parse_frame_list(text, got);
    bool ok = message_part ? rc == -1 && strstr(ts_error(), message_part) != NULL
                           : rc == 0 && json_array_size(got) == count;
    for (size_t i = 0; ok && !message_part && i < count; i++)
        ok = json_integer_value(json_array_get(got, i)) == want[i];
    json_decref(got);
    return ok;
}

static bool tiles_are(const char *text, int c, int r)
{
    int cc = 0, rr = 0;
    return cli_parse_tiles(text, &cc, &rr) == 0 && cc == c && rr == r;
}

static bool tiles_bad(const char *text, const char *message)
{
    int cc = 0, rr = 0;
    return cli_parse_tiles(text, &cc, &rr) == -1 && strstr(ts_error(), message) != NULL;
}

static bool id_is(const char *text, long want)
{
    long id = 0;
    return cli_parse_job_id(text, &id) == 0 && id == want;
}

static bool id_bad(const char *text)
{
    long id = 0;
    return cli_parse_job_id(text, &id) == -1 && strstr(ts_error(), text) != NULL && id == 0;
}

static bool url_is(const char *text, const char *want)
{
    char out[CLI_URL_MAX];
    return cli_master_url(text, out, sizeof out) == 0 && strcmp(out, want) == 0;
}

static bool url_bad(const char *text)
{
    char out[CLI_URL_MAX];
    return cli_master_url(text, out, sizeof out) == -1;
}

static bool join_is(const char *base, const char *path, const char *want)
{
    char *url = cli_url_join(base, path);
    bool ok = url && strcmp(url, want) == 0;
    free(url);
    return ok;
}

static bool redact_is(const char *url, const char *want)
{
    char out[CLI_URL_MAX];
    cli_url_redact(url, out, sizeof out);
    return strcmp(out, want) == 0;
}

int ts_cli_test(bool verbose)
{
    s_failures = 0;
    check(frames_are("1-10", 1, 10), "frames 1-10", verbose);
    check(frames_are("7", 7, 7), "frames 7", verbose);
    check(frames_are("0-0", 0, 0), "frames 0-0", verbose);
    check(frames_are("1048574", TS_REQUEST_FRAME_MAX, TS_REQUEST_FRAME_MAX), "frames at the maximum", verbose);
    check(frames_bad("1048575", "--frames: '1048575': frame numbers must be 0..1048574"), "frames above the maximum refused",
          verbose);
    check(frames_bad("10-1", "--frames: '10-1': the first frame 10 is after"), "frames 10-1 refused", verbose);
    check(frames_bad("", "expected A-B or N"), "frames empty refused", verbose);
    check(frames_bad("1-", "expected A-B or N"), "frames 1- refused", verbose);
    check(frames_bad("-5", "expected A-B or N"), "frames -5 refused", verbose);
    check(frames_bad("1-2-3", "expected A-B or N"), "frames 1-2-3 refused", verbose);
    check(frames_bad("a-b", "'a-b'"), "frames a-b refused", verbose);
    check(frames_bad(" 1", "expected"), "frames with a blank refused", verbose);
    check(frames_bad("1-99999999999999999999999", "0..1048574"), "frames overflow refused", verbose);

    check(frame_list_is("3,5-7", (const int[]){3, 5, 6, 7}, 4, NULL), "frame list 3,5-7", verbose);
    check(frame_list_is("9", (const int[]){9}, 1, NULL), "frame list of one", verbose);
    check(frame_list_is("3,,5", NULL, 0, "--frames '3,,5': entry '' is not N or A-B"), "an empty entry refused",
          verbose);
    check(frame_list_is("3,", NULL, 0, "entry ''"), "a trailing comma refused", verbose);
    check(frame_list_is("1,7-5", NULL, 0, "entry '7-5'"), "a backwards range refused", verbose);
    check(frame_list_is("0-200000", NULL, 0, "more than 100000 frames"), "too many frames refused", verbose);
    check(tiles_are("4x4", 4, 4), "tiles 4x4", verbose);
    check(tiles_are("1x64", 1, 64), "tiles 1x64", verbose);
    /* an upper-case X was the CLI's own: the master and the tile planner never took it */
    check(tiles_bad("3X2", "--tiles: tile grid \"3X2\": expected COLSxROWS"), "tiles 3X2 refused", verbose);
    check(tiles_bad("0x0", "--tiles: tile grid \"0x0\": columns must be 1..64"), "tiles 0x0 refused", verbose);
    check(tiles_bad("4x65", "--tiles: tile grid \"4x65\": rows must be 1..64"), "tiles 4x65 refused", verbose);
    check(tiles_bad("65x1", "columns must be 1..64"), "tiles 65x1 refused", verbose);
    check(tiles_bad("4", "expected COLSxROWS"), "tiles 4 refused", verbose);
    check(tiles_bad("x4", "expected COLSxROWS"), "tiles x4 refused", verbose);
    check(tiles_bad("4x", "expected COLSxROWS"), "tiles 4x refused", verbose);
    check(tiles_bad("-1x4", "expected COLSxROWS"), "tiles -1x4 refused", verbose);
    check(tiles_bad("4x4x4", "expected COLSxROWS"), "tiles 4x4x4 refused", verbose);

    check(id_is("42", 42), "job id 42", verbose);
    check(id_is("007", 7), "job id 007", verbose);
    check(id_bad("0") && id_bad("-3") && id_bad("abc") && id_bad("") && id_bad("4 2") && id_bad("+4") &&
              id_bad("99999999999999999999999"),
          "bad job ids refused", verbose);

    check(url_is("http://127.0.0.1:8080", "http://127.0.0.1:8080"), "url kept", verbose);
    check(url_is("https://farm.example/tessera//", "https://farm.example/tessera"), "url trailing slashes",
          verbose);
    check(url_is("farm:8080", "http://farm:8080"), "url without scheme", verbose);
    check(url_bad("ftp://farm") && url_bad("http://") && url_bad("") && url_bad("http:///x") &&
              url_bad("http://a b"),
          "bad urls refused", verbose);
    check(join_is("http://h:1", "/api/v1/jobs", "http://h:1/api/v1/jobs"), "join", verbose);
    check(join_is("http://h:1/", "/api/v1/jobs", "http://h:1/api/v1/jobs"), "join base slash", verbose);
    check(join_is("http://h:1/p", "api", "http://h:1/p/api"), "join prefix", verbose);
    check(redact_is("http://user:secret@h:1/p", "http://h:1/p"), "redact credentials", verbose);
    check(redact_is("http://h:1/p@x", "http://h:1/p@x"), "redact keeps an @ in the path", verbose);
    check(redact_is("h:1", "h:1"), "redact plain", verbose);

    const char *why = NULL;
    check(cli_output_name_ok("frame_0001.png", &why) && why == NULL, "output name ok", verbose);
    check(!cli_output_name_ok("../etc/passwd", &why) && why != NULL, "output name ../ refused", verbose);
    check(!cli_output_name_ok("a/b.png", NULL), "output name with / refused", verbose);
    check(!cli_output_name_ok(".hidden", NULL) && !cli_output_name_ok("..", NULL), "dot names refused",
          verbose);
    check(!cli_output_name_ok("", NULL) && !cli_output_name_ok(NULL, NULL), "empty name refused", verbose);
    check(!cli_output_name_ok("a\nb", NULL), "control characters refused", verbose);
    check(strcmp(cli_basename("/x/y/shot.blend"), "shot.blend") == 0 &&
              strcmp(cli_basename("shot.blend"), "shot.blend") == 0,
          "basename", verbose);

    if (s_failures)
        fprintf(stderr, "ts_cli_test: %d check(s) failed\n", s_failures);
    else if (verbose)
        printf("ts_cli_test: all ok\n");
    return s_failures ? -1 : 0;
}
