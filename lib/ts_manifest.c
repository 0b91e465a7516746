/* ts_manifest: reading a project's manifest (a stranger's bytes on a slave) and checking a project root. */
#include "lib/ts_manifest.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ts_manifest_root_check(const char *root)
{
    if (root[0] != '/')
        return ts_error_set("project root '%.60s' is not an absolute path", root);
    for (const char *p = root; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return ts_error_set("project root '%.60s' contains a control character", root);
    if (strcmp(root, "/") == 0)
        return 0;
    for (const char *part = root + 1;;) {
        size_t n = strcspn(part, "/");
        if (n == 0 || (n == 1 && part[0] == '.') || (n == 2 && part[0] == '.' && part[1] == '.'))
            return ts_error_set("project root '%s' is not a normal path (an empty, '.' or '..' part)", root);
        if (!part[n])
            return 0;
        part += n + 1;
    }
}

void ts_manifest_free(ts_manifest_t *m)
{
    free(m->files);
    memset(m, 0, sizeof *m);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every name once, and the scene among them. */
static int names_check(ts_manifest_t *m)
{
    const char **names = malloc((size_t)m->count * sizeof *names);
    if (!names)
        return ts_error_set("out of memory");
    for (int i = 0; i < m->count; i++)
        names[i] = m->files[i].name;
    const char *scene = m->scene;
    int rc = ts_request_names_distinct(names, (size_t)m->count) < 0 ? ts_error_prefix("manifest") : 0;
    if (rc == 0 && !bsearch(&scene, names, (size_t)m->count, sizeof *names, name_cmp))
        rc = ts_error_set("manifest: the scene '%s' is not among the files", m->scene);
    free(names);
    return rc;
}

static int parse_file(json_t *e, size_t i, ts_manifest_file_t *f)
{
    if (!json_is_object(e))
        return ts_error_set("manifest: file %zu is not an object", i + 1);
    json_t *size = json_object_get(e, "size");
    if (ts_request_json_string(e, "name", NULL, f->name, sizeof f->name) < 0 || ts_request_input_name_check(f->name) < 0 ||
        ts_request_json_string(e, "hash", NULL, f->hash, sizeof f->hash) < 0)
        return ts_error_prefix("manifest: file %zu", i + 1);
    if (!ts_hash_valid(f->hash))
        return ts_error_set("manifest: %s: '%s' is not a content hash", f->name, f->hash);
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return ts_error_set("manifest: %s: 'size' must be a whole number of bytes", f->name);
    f->size = json_integer_value(size);
    return 0;
}

int ts_manifest_parse(const char *text, size_t len, ts_manifest_t *m)
{
    memset(m, 0, sizeof *m);
    if (len > TS_MANIFEST_BYTES_MAX)
        return ts_error_set("manifest: %zu bytes, more than %d", len, TS_MANIFEST_BYTES_MAX);
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return ts_error_set("manifest: not JSON (line %d: %s)", jerr.line, jerr.text);
    json_t *files = json_object_get(o, "files"), *allow = json_object_get(o, "allow_missing");
    int rc = 0;
    if (!json_is_object(o) || json_integer_value(json_object_get(o, "version")) != TS_MANIFEST_VERSION)
        rc = ts_error_set("manifest: not a version %d manifest object", TS_MANIFEST_VERSION);
    else if (ts_request_json_string(o, "root", NULL, m->root, sizeof m->root) < 0 || ts_manifest_root_check(m->root) < 0 ||
             ts_request_json_string(o, "scene", NULL, m->scene, sizeof m->scene) < 0)
        rc = ts_error_prefix("manifest");
    else if (allow && !json_is_boolean(allow))
        rc = ts_error_set("manifest: 'allow_missing' must be true or false");
    else if (!json_is_array(files) || json_array_size(files) == 0 || json_array_size(files) > TS_REQUEST_INPUTS_MAX)
        rc = ts_error_set("manifest: 'files' must list 1 to %d files", TS_REQUEST_INPUTS_MAX);
    else if (!(m->files = calloc(json_array_size(files), sizeof *m->files)))
        rc = ts_error_set("out of memory");
    m->allow_missing = json_is_true(allow);
    size_t i;
    json_t *e;
    if (rc == 0)
        json_array_foreach(files, i, e) {
            if ((rc = parse_file(e, i, &m->files[i])) < 0)
                break;
            m->count = (int)i + 1;
        }
    if (rc == 0)
        rc = names_check(m);
    json_decref(o);
    if (rc < 0)
        ts_manifest_free(m);
    return rc;
}

/* ---- self-test ---- */

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"

static int parse_text(const char *text, ts_manifest_t *m)
{
    return ts_manifest_parse(text, strlen(text), m);
}

int ts_manifest_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    ts_manifest_t m;
    const char *good = "{\"version\":1,\"root\":\"/home/ann/proj\",\"scene\":\"shot.blend\",\"allow_missing\":false,"
                       "\"files\":[{\"name\":\"shot.blend\",\"hash\":\"" H1 "\",\"size\":10},"
                       "{\"name\":\"_outside/srv/wood.png\",\"hash\":\"" H2 "\",\"size\":0}]}";
    TS_TEST_CHECK(parse_text(good, &m) == 0 && m.count == 2 && strcmp(m.root, "/home/ann/proj") == 0 &&
                  strcmp(m.files[1].name, "_outside/srv/wood.png") == 0 && m.files[0].size == 10 && !m.allow_missing,
                  "a good manifest: %s", ts_error());
    ts_manifest_free(&m);
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"{\"version\":1,\"root\":\"/p\",\"scene\":\"a\",\"files\":[{\"name\":\"../../etc/passwd\",\"hash\":\"" H1
         "\",\"size\":1}]}", "'..'"},
        {"{\"version\":1,\"root\":\"/p\",\"scene\":\"a\",\"files\":[{\"name\":\"/etc/passwd\",\"hash\":\"" H1
         "\",\"size\":1}]}", "relative"},
        {"{\"version\":1,\"root\":\"/p\",\"scene\":\"a\",\"files\":[{\"name\":\"a\",\"hash\":\"" H1 "\",\"size\":1},"
         "{\"name\":\"a\",\"hash\":\"" H2 "\",\"size\":1}]}", "listed twice"},
        {"{\"version\":1,\"root\":\"/p\",\"scene\":\"b\",\"files\":[{\"name\":\"a\",\"hash\":\"" H1 "\",\"size\":1}]}",
         "not among"},
        {"{\"version\":1,\"root\":\"p/q\",\"scene\":\"a\",\"files\":[{\"name\":\"a\",\"hash\":\"" H1 "\",\"size\":1}]}",
         "absolute"},
        {"{\"version\":1,\"root\":\"/p/../q\",\"scene\":\"a\",\"files\":[{\"name\":\"a\",\"hash\":\"" H1
         "\",\"size\":1}]}", "normal"},
        {"{\"version\":1,\"root\":\"/p\",\"scene\":\"a\",\"files\":[{\"name\":\"a\",\"hash\":\"xyz\",\"size\":1}]}",
         "content hash"},
        {"{\"version\":1,\"root\":\"/p\",\"scene\":\"a\",\"files\":[{\"name\":\"a\",\"hash\":\"" H1 "\",\"size\":-1}]}",
         "size"},
        {"{\"version\":2,\"root\":\"/p\",\"scene\":\"a\",\"files\":[]}", "version 1"},
        {"{\"version\":1,\"root\":\"/p\",\"scene\":\"a\",\"files\":[]}", "1 to"},
        {"[1,2", "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse_text(bad[i].text, &m);
        TS_TEST_CHECK(rc < 0 && strstr(ts_error(), bad[i].says) && m.files == NULL, "bad manifest %zu: rc %d, '%s'",
                      i, rc, ts_error());
    }
    TS_TEST_CHECK(ts_manifest_root_check("/") == 0 && ts_manifest_root_check("/a/b") == 0 &&
                  ts_manifest_root_check("/a/b/") < 0 && ts_manifest_root_check("/a//b") < 0,
                  "root checks at the edges");
    return failures ? -1 : 0;
}
