/* ts_conf: config files as option arguments. Each line's setting becomes one "--key=value" string in a growing
   buffer; each value is checked by ts_opts_parse on a one-row copy of its table row (pointing at a scratch target),
   so a bad value fails here with its file and line; at the end the strings and the pointers to them, then to the
   command line's arguments, are laid out in one block the caller frees. */
#include "lib/ts_conf.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "tests/ts_test.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX_BYTES (1 << 20)

typedef struct {
    char *data;
    size_t len, cap;
    int count; /* strings (each NUL-terminated) in data */
} strbuf_t;

static int put(strbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return ts_error_set("out of memory");
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool in_list(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static const ts_opt_t *find(const ts_opt_t *table, const char *key, size_t len, int *row)
{
    for (int i = 0; table[i].name; i++)
        if (strlen(table[i].name) == len && memcmp(table[i].name, key, len) == 0) {
            *row = i;
            return &table[i];
        }
    return NULL;
}

/* The value after '=' ([p, e), leading spaces skipped) appended to b unquoted and unescaped. */
static int put_value(strbuf_t *b, const char *p, const char *e, const char *key, const char *where)
{
    if (p < e && *p == '"') {
        for (p++; p < e && *p != '"'; p++) {
            char c = *p;
            if (c == '\\') {
                if (++p == e)
                    break;
                const char *esc = strchr("\\\"ntr", *p);
                if (!esc || !*p)
                    return ts_error_set("%s: unknown escape '\\%c' in the value of key '%s' (known: \\\\ \\\" \\n \\t \\r)",
                                        where, *p, key);
                c = "\\\"\n\t\r"[esc - "\\\"ntr"];
            }
            if (put(b, &c, 1) < 0)
                return -1;
        }
        if (p == e)
            return ts_error_set("%s: the value of key '%s' has no closing quote", where, key);
        for (p++; p < e && is_space(*p); p++)
            ;
        if (p < e && *p != '#')
            return ts_error_set("%s: text after the closing quote of key '%s' (quote the whole value)", where, key);
        return 0;
    }
    const char *end = p;
    while (end < e && !(*end == '#' && end > p && is_space(end[-1])))
        end++;
    while (end > p && is_space(end[-1]))
        end--;
    if (end == p || *p == '#')
        return ts_error_set("%s: key '%s' has no value (write \"\" for empty text)", where, key);
    return put(b, p, (size_t)(end - p));
}

/* Checks the value ts_opts would set (type, bounds) without touching the caller's targets. */
static int check_value(const ts_opt_t *o, char *arg, const char *where)
{
    union {
        char *s;
        long l;
        double d;
        bool f;
    } scratch;
    ts_opt_t one[2] = {*o, TS_OPT_END};
    one[0].def = NULL;
    one[0].target = &scratch;
    char *argv[1] = {arg};
    if (ts_opts_parse(one, 1, argv, NULL, 0, NULL) < 0)
        return ts_error_prefix("%s", where);
    return 0;
}

/* One line [p, e) (no '\n'), its setting appended to b. lines[row]: the line that set each row, 0 for none. */
static int parse_line(strbuf_t *b, const char *p, const char *e, const char *name, int line, const ts_opt_t *table,
                      const char *const *cli_only, int *lines)
{
    char where[300];
    snprintf(where, sizeof where, "%.256s:%d", name, line);
    if (memchr(p, '\0', (size_t)(e - p)))
        return ts_error_set("%s: a NUL byte (not a text file?)", where);
    while (p < e && is_space(*p))
        p++;
    if (p == e || *p == '#')
        return 0;
    const char *eq = memchr(p, '=', (size_t)(e - p));
    const char *key_end = eq ? eq : e;
    while (key_end > p && is_space(key_end[-1]))
        key_end--;
    int key_len = (int)(key_end - p);
    if (!eq)
        return ts_error_set("%s: expected 'key = value', found '%.*s'", where, key_len > 60 ? 60 : key_len, p);
    if (key_len == 0)
        return ts_error_set("%s: no key before '='", where);
    for (const char *k = p; k < key_end; k++)
        if (!(*k == '-' || *k == '_' || (*k >= '0' && *k <= '9') || (*k >= 'a' && *k <= 'z') ||
              (*k >= 'A' && *k <= 'Z')))
            return ts_error_set("%s: '%.*s' is not a key (letters, digits, - and _)", where,
                                key_len > 60 ? 60 : key_len, p);
    int row;
    const ts_opt_t *o = find(table, p, (size_t)key_len, &row);
    if (!o || in_list(cli_only, o->name)) {
        if (o)
            return ts_error_set("%s: key '%s' is for the command line only", where, o->name);
        char dashed[64];
        int n = key_len < (int)sizeof dashed ? key_len : (int)sizeof dashed - 1;
        for (int i = 0; i < n; i++)
            dashed[i] = p[i] == '_' ? '-' : p[i];
        if (memchr(p, '_', (size_t)key_len) && n == key_len && find(table, dashed, (size_t)n, &row))
            return ts_error_set("%s: unknown key '%.*s' (did you mean '%.*s'?)", where, key_len, p, n, dashed);
        return ts_error_set("%s: unknown key '%.*s'", where, key_len > 60 ? 60 : key_len, p);
    }
    if (lines[row])
        return ts_error_set("%s: key '%s' is repeated (first on line %d)", where, o->name, lines[row]);
    lines[row] = line;
    size_t start = b->len;
    const char *v = eq + 1;
    while (v < e && is_space(*v))
        v++;
    if (put(b, "--", 2) < 0 || put(b, o->name, strlen(o->name)) < 0 || put(b, "=", 1) < 0 ||
        put_value(b, v, e, o->name, where) < 0 || put(b, "", 1) < 0)
        return -1;
    char *arg = b->data + start;
    const char *value = arg + 3 + strlen(o->name);
    if (strlen(arg) != b->len - start - 1)
        return ts_error_set("%s: the value of key '%s' holds a NUL byte", where, o->name);
    if (o->type == TS_OPT_FLAG && strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
        return ts_error_set("%s: key '%s' is a flag: its value must be true or false, not '%.60s'", where, o->name,
                            value);
    if (check_value(o, arg, where) < 0)
        return -1;
    b->count++;
    return 0;
}

int ts_conf_parse_text(const char *text, size_t len, const char *name, const ts_opt_t *table,
                       const char *const *cli_only, int argc, char **argv, char ***args)
{
    *args = NULL;
    int rows = 0;
    while (table[rows].name)
        rows++;
    int *lines = calloc((size_t)rows + 1, sizeof *lines);
    strbuf_t b = {0};
    if (!lines)
        return ts_error_set("out of memory");
    int rc = 0, line = 1;
    for (const char *p = text, *end = text + len; rc == 0 && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        rc = parse_line(&b, p, e, name, line, table, cli_only, lines);
        p = nl ? nl + 1 : end;
    }
    free(lines);
    char **block = NULL; /* at most one setting per table row, so the sizes cannot overflow */
    if (rc == 0) {
        size_t ptrs = ((size_t)b.count + (size_t)argc + 1) * sizeof(char *);
        block = malloc(ptrs + b.len + 1);
        if (!block)
            rc = ts_error_set("%s: out of memory", name);
    }
    if (rc < 0) {
        free(b.data);
        return -1;
    }
    char *s = (char *)block + ((size_t)b.count + (size_t)argc + 1) * sizeof(char *);
    if (b.len)
        memcpy(s, b.data, b.len);
    for (int i = 0; i < b.count; i++) {
        block[i] = s;
        s += strlen(s) + 1;
    }
    for (int i = 0; i < argc; i++)
        block[b.count + i] = argv[i];
    block[b.count + argc] = NULL;
    free(b.data);
    *args = block;
    return b.count + argc;
}

int ts_conf_load(const char *path, bool optional, const ts_opt_t *table, const char *const *cli_only, int argc,
                 char **argv, char ***args)
{
    struct stat st;
    if (optional && stat(path, &st) != 0 && errno == ENOENT)
        return ts_conf_parse_text("", 0, path, table, cli_only, argc, argv, args);
    uint8_t *data;
    size_t len;
    *args = NULL;
    if (ts_file_read(path, CONF_MAX_BYTES, 1, &data, &len) < 0)
        return ts_error_prefix("config file");
    int n = ts_conf_parse_text((const char *)data, len, path, table, cli_only, argc, argv, args);
    free(data);
    return n;
}

static bool needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (; *s; s++)
        if (is_space(*s) || *s == '#' || *s == '"' || *s == '\\' || *s == '\n')
            return true;
    return false;
}

static void print_text(FILE *out, const char *s)
{
    if (!needs_quotes(s)) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        const char *esc = strchr("\\\"\n\t\r", *s);
        if (esc) {
            fputc('\\', out);
            fputc("\\\"ntr"[esc - "\\\"\n\t\r"], out);
        } else {
            fputc(*s, out);
        }
    }
    fputc('"', out);
}

void ts_conf_print(FILE *out, const ts_opt_t *table, const char *const *cli_only)
{
    fputs("# One `key = value` a line; \"...\" keeps spaces; a flag is true or false; the command line wins.\n", out);
    for (const ts_opt_t *o = table; o->name; o++) {
        if (in_list(cli_only, o->name))
            continue;
        fputs("\n# ", out);
        for (const char *h = o->help ? o->help : ""; *h; h++) /* one comment line, whatever the help holds */
            fputc(*h == '\n' ? ' ' : *h, out);
        fputc('\n', out);
        switch (o->type) {
        case TS_OPT_STRING: {
            const char *s = *(const char **)o->target;
            if (!s) {
                fprintf(out, "# %s =\n", o->name);
                continue;
            }
            fprintf(out, "%s = ", o->name);
            print_text(out, s);
            break;
        }
        case TS_OPT_INT:
            fprintf(out, "%s = %ld", o->name, *(long *)o->target);
            break;
        case TS_OPT_DOUBLE: {
            double v = *(double *)o->target;
            char text[40];
            snprintf(text, sizeof text, "%.15g", v); /* the shortest of the two that reads back exactly */
            if (strtod(text, NULL) != v)
                snprintf(text, sizeof text, "%.17g", v);
            fprintf(out, "%s = %s", o->name, text);
            break;
        }
        case TS_OPT_FLAG:
            fprintf(out, "%s = %s", o->name, *(bool *)o->target ? "true" : "false");
            break;
        }
        fputc('\n', out);
    }
}

/* ---- self-test ---- */

typedef struct {
    const char *name, *path, *tricky, *empty, *unset;
    long slots, big;
    double share, tiny;
    bool no_torrent, verbose, version;
} test_opts_t;

static void test_table(ts_opt_t table[12], test_opts_t *v)
{
    const ts_opt_t t[12] = {
        {"name", TS_OPT_STRING, NULL, 0, -1, &v->name, "node name"},
        {"path", TS_OPT_STRING, "/usr/bin/blender", 0, -1, &v->path, "a path with a default"},
        {"tricky", TS_OPT_STRING, NULL, 0, -1, &v->tricky, "text that needs quoting"},
        {"empty", TS_OPT_STRING, NULL, 0, -1, &v->empty, "empty text"},
        {"unset", TS_OPT_STRING, NULL, 0, -1, &v->unset, "never set"},
        {"slots", TS_OPT_INT, "2", 1, 16, &v->slots, "tasks at once"},
        {"big", TS_OPT_INT, "0", 0, -1, &v->big, "a number without bounds"},
        {"share", TS_OPT_DOUBLE, "0", 0, 1, &v->share, "a share"},
        {"tiny", TS_OPT_DOUBLE, "0", 1, 0, &v->tiny, "a double without bounds"},
        {"no-torrent", TS_OPT_FLAG, NULL, 0, -1, &v->no_torrent, "a flag\nwith two help lines"},
        {"verbose", TS_OPT_FLAG, NULL, 0, -1, &v->verbose, "a flag left off"},
        {"version", TS_OPT_FLAG, NULL, 0, -1, &v->version, "command line only"},
    };
    memcpy(table, t, sizeof t);
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Parses text as a config file then the opts; -1 with ts_error(). *args freed by the caller. */
static int load_text(const char *text, const ts_opt_t *table, int argc, char **argv, char ***args)
{
    static const char *const cli_only[] = {"version", NULL};
    int n = ts_conf_parse_text(text, strlen(text), "t.conf", table, cli_only, argc, argv, args);
    if (n < 0)
        return -1;
    return ts_opts_parse(table, n, *args, NULL, 0, NULL) < 0 ? -1 : 0;
}

int ts_conf_test(bool verbose)
{
    int failures = 0;
    static const char *const cli_only[] = {"version", NULL};
    ts_opt_t table[13];
    test_opts_t v, w;
    test_table(table, &v);
    table[12] = (ts_opt_t)TS_OPT_END;
    ts_opt_t table_w[13];
    test_table(table_w, &w);
    table_w[12] = (ts_opt_t)TS_OPT_END;

    /* Round trip: values set from a command line, printed, read back as a file into other targets. */
    char *cmd[] = {"--name=node 1", "--tricky= a \"b\" \\c #d\n\te\r ", "--empty=", "--slots=7", "--big=-123456789",
                   "--share=0.1", "--tiny=-1e-300", "--no-torrent", "--version"};
    int ncmd = (int)(sizeof cmd / sizeof cmd[0]);
    TS_TEST_CHECK(ts_opts_parse(table, ncmd, cmd, NULL, 0, NULL) == 0, "command line: %s", ts_error());
    char *printed = NULL;
    size_t printed_len = 0;
    FILE *mem = open_memstream(&printed, &printed_len);
    ts_conf_print(mem, table, cli_only);
    fclose(mem);
    if (verbose)
        fputs(printed, stderr);
    char **args = NULL;
    TS_TEST_CHECK(load_text(printed, table_w, 0, NULL, &args) == 0, "read back: %s", ts_error());
    TS_TEST_CHECK(same_text(w.name, v.name) && same_text(w.path, v.path) && same_text(w.tricky, v.tricky) &&
                      same_text(w.empty, "") && w.unset == NULL,
                  "texts read back: '%s' '%s' '%s'", w.name ? w.name : "(null)", w.path ? w.path : "(null)",
                  w.tricky ? w.tricky : "(null)");
    TS_TEST_CHECK(w.slots == 7 && w.big == -123456789 && w.share == 0.1 && w.tiny == -1e-300, "numbers read back");
    TS_TEST_CHECK(w.no_torrent && !w.verbose && !w.version, "flags read back");
    TS_TEST_CHECK(strstr(printed, "\n# unset =\n") && strstr(printed, "share = 0.1\n") &&
                      strstr(printed, "name = \"node 1\"\n") && !strstr(printed, "version"),
                  "printed:\n%s", printed);
    free(args);
    free(printed);

    /* Comments, blank lines, CRLF, quotes; the command line wins over the file. */
    char *wins[] = {"--slots=5"};
    TS_TEST_CHECK(load_text("# c\n\n  slots = 4  # four\r\nname = \"a # b\" # c\r\n path=p#q \nverbose = false\n"
                            "no-torrent=true",
                            table_w, 1, wins, &args) == 0,
                  "commented file: %s", ts_error());
    TS_TEST_CHECK(w.slots == 5 && same_text(w.name, "a # b") && same_text(w.path, "p#q") && !w.verbose &&
                      w.no_torrent,
                  "file then command line: slots %ld, name '%s', path '%s'", w.slots, w.name ? w.name : "(null)",
                  w.path ? w.path : "(null)");
    free(args);
    TS_TEST_CHECK(load_text("", table_w, 0, NULL, &args) == 0 && w.slots == 2 && same_text(w.path, "/usr/bin/blender"),
                  "an empty file keeps the defaults");
    free(args);

    /* Refusals: each names the file, the line and the key or what is wrong. */
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"slots = 3\n\nidle_afer = 5\n", "t.conf:3: unknown key 'idle_afer'"},
        {"no_torrent = true\n", "t.conf:1: unknown key 'no_torrent' (did you mean 'no-torrent'?)"},
        {"slots = 3\n# x\nslots = 4\n", "t.conf:3: key 'slots' is repeated (first on line 1)"},
        {"slots 3\n", "t.conf:1: expected 'key = value', found 'slots 3'"},
        {" = 3\n", "t.conf:1: no key before '='"},
        {"my key = 3\n", "t.conf:1: 'my key' is not a key"},
        {"no-torrent = yes\n", "t.conf:1: key 'no-torrent' is a flag: its value must be true or false, not 'yes'"},
        {"no-torrent =\n", "t.conf:1: key 'no-torrent' has no value"},
        {"slots = 99\n", "t.conf:1: option --slots: 99 is out of range 1..16"},
        {"share = lots\n", "t.conf:1: option --share: 'lots' is not a number"},
        {"slots = 4 four\n", "t.conf:1: option --slots: '4 four' is not a whole number"},
        {"name = \"node 1\n", "t.conf:1: the value of key 'name' has no closing quote"},
        {"name = \"node\" 1\n", "t.conf:1: text after the closing quote of key 'name'"},
        {"name = \"a\\qb\"\n", "t.conf:1: unknown escape '\\q' in the value of key 'name'"},
        {"name = \"a\\", "t.conf:1: the value of key 'name' has no closing quote"},
        {"name =   # none\n", "t.conf:1: key 'name' has no value (write \"\" for empty text)"},
        {"version = true\n", "t.conf:1: key 'version' is for the command line only"},
        {"help = true\n", "t.conf:1: unknown key 'help'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        args = NULL;
        int n = ts_conf_parse_text(bad[i].text, strlen(bad[i].text), "t.conf", table_w, cli_only, 0, NULL, &args);
        TS_TEST_CHECK(n < 0 && args == NULL && strncmp(ts_error(), bad[i].says, strlen(bad[i].says)) == 0,
                      "'%s' refused with '%s', got %d: %s", bad[i].text, bad[i].says, n, ts_error());
    }
    const char nul[] = "slots = 3\nname = a\0b\n";
    TS_TEST_CHECK(ts_conf_parse_text(nul, sizeof nul - 1, "t.conf", table_w, cli_only, 0, NULL, &args) < 0 &&
                      strstr(ts_error(), "t.conf:2: a NUL byte"),
                  "NUL byte: %s", ts_error());

    /* Files: a missing one is an error naming it unless optional; a real one loads. */
    const char *missing = "/nonexistent-tessera/slave.conf";
    TS_TEST_CHECK(ts_conf_load(missing, false, table_w, cli_only, 0, NULL, &args) < 0 &&
                      strstr(ts_error(), missing) && strstr(ts_error(), "No such file"),
                  "missing file: %s", ts_error());
    TS_TEST_CHECK(ts_conf_load(missing, true, table_w, cli_only, 1, wins, &args) == 1 && args[0] == wins[0] &&
                      args[1] == NULL,
                  "an optional missing file: the command line alone");
    free(args);
    char path[] = "/tmp/ts_conf_test_XXXXXX";
    int fd = mkstemp(path);
    TS_TEST_CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
    if (fd >= 0) {
        const char *text = "slots = 9\nname = \"from a file\"\n";
        TS_TEST_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write");
        close(fd);
        int n = ts_conf_load(path, false, table_w, cli_only, 1, wins, &args);
        TS_TEST_CHECK(n == 3 && ts_opts_parse(table_w, n, args, NULL, 0, NULL) == 0 && w.slots == 5 &&
                          same_text(w.name, "from a file"),
                      "file: %s", ts_error());
        free(args);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs("slots = 0\n", f);
            fclose(f);
        }
        TS_TEST_CHECK(ts_conf_load(path, true, table_w, cli_only, 0, NULL, &args) < 0 && strstr(ts_error(), path) &&
                          strstr(ts_error(), ":1: option --slots"),
                      "a bad file names its path and line: %s", ts_error());
        unlink(path);
    }
    return failures;
}
