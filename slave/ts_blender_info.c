/* ts_blender_info: the Blender probe's cached answer, keyed by the executable and worker script (path, size, mtime). */
#include "slave/ts_blender_info.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "tests/ts_test.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INFO_MAX (64 * 1024) /* a cache file larger than this is not ours */

/* exe as execvp would find it: itself when it names a path, else the first executable regular file of that name
   on PATH (the C library's default path when PATH is unset); symlinks resolved into out (PATH_MAX bytes). */
int ts_blender_info_resolve(const char *exe, char *out)
{
    if (!exe || !exe[0])
        return ts_error_set("no Blender executable named");
    if (strchr(exe, '/')) {
        if (!realpath(exe, out))
            return ts_error_set("%s: %s", exe, strerror(errno));
        return 0;
    }
    char fallback[PATH_MAX] = "/bin:/usr/bin";
    const char *env = getenv("PATH");
    if (!env && confstr(_CS_PATH, fallback, sizeof fallback) == 0)
        snprintf(fallback, sizeof fallback, "/bin:/usr/bin");
    const char *p = env ? env : fallback;
    char cand[PATH_MAX];
    for (;;) {
        const char *end = strchrnul(p, ':');
        int n = (int)(end - p);
        /* an empty PATH element is the current directory */
        snprintf(cand, sizeof cand, "%.*s%s%s", n, n ? p : ".", "/", exe);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0 && realpath(cand, out))
            return 0;
        if (!*end)
            break;
        p = end + 1;
    }
    return ts_error_set("%s: not found on PATH", exe);
}

static json_int_t mtime_ns(const struct stat *st)
{
    return (json_int_t)st->st_mtim.tv_sec * 1000000000 + (json_int_t)st->st_mtim.tv_nsec;
}

json_t *ts_blender_info_key(const char *exe, const char *script)
{
    char path[PATH_MAX];
    struct stat se, ss;
    if (ts_blender_info_resolve(exe, path) < 0)
        return NULL;
    if (stat(path, &se) != 0) {
        ts_error_set("%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!script || stat(script, &ss) != 0) {
        ts_error_set("%s: %s", script ? script : "(no worker script)", script ? strerror(errno) : "not named");
        return NULL;
    }
    json_t *key = json_pack("{s:s,s:I,s:I,s:I,s:I}", "exe", path, "exe_size", (json_int_t)se.st_size,
                            "exe_mtime_ns", mtime_ns(&se), "script_size", (json_int_t)ss.st_size,
                            "script_mtime_ns", mtime_ns(&ss));
    if (!key)
        ts_error_set("out of memory");
    return key;
}

/* The reply's version and devices as a new info object; NULL unless the version is a non-empty string and the
   devices an array of strings. */
static json_t *info_of(const json_t *reply)
{
    const json_t *version = json_object_get(reply, "blender"), *devices = json_object_get(reply, "devices");
    if (!json_is_string(version) || !json_string_length(version) || !json_is_array(devices))
        return NULL;
    size_t i;
    const json_t *d;
    json_array_foreach(devices, i, d) {
        if (!json_is_string(d))
            return NULL;
    }
    return json_pack("{s:O,s:O}", "blender", version, "devices", devices);
}

json_t *ts_blender_info_load(const char *path, const json_t *key)
{
    uint8_t *data;
    size_t len;
    if (ts_file_read(path, INFO_MAX, 0, &data, &len) < 0)
        return NULL;
    json_error_t err;
    json_t *doc = json_loadb((const char *)data, len, 0, &err);
    free(data);
    if (!doc) {
        ts_error_set("%s: not JSON (%s)", path, err.text);
        return NULL;
    }
    json_t *info = NULL;
    if (!json_equal(json_object_get(doc, "key"), (json_t *)key))
        ts_error_set("%s: stale (Blender or the worker script changed)", path);
    else if (!(info = info_of(doc)))
        ts_error_set("%s: no Blender version and devices", path);
    json_decref(doc);
    return info;
}

int ts_blender_info_save(const char *path, const json_t *key, const json_t *reply)
{
    json_t *doc = info_of(reply);
    if (!doc)
        return ts_error_set("%s: the reply has no Blender version and devices", path);
    json_object_set(doc, "key", (json_t *)key);
    char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(1));
    json_decref(doc);
    if (!text)
        return ts_error_set("%s: out of memory", path);
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps leaves room for its NUL: end the file with a line break instead */
    int rc = ts_file_write_atomic(path, text, n + 1);
    free(text);
    return rc;
}

/* Writes a small file with the given content and mtime (seconds), for the self-test. */
static void put(const char *path, const char *content, time_t mtime)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    struct timespec t[2] = {{mtime, 0}, {mtime, 0}};
    utimensat(AT_FDCWD, path, t, 0);
}

int ts_blender_info_test(bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/ts-blender-info-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "blender_info: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char exe[PATH_MAX], link[PATH_MAX], script[PATH_MAX], cache[PATH_MAX], resolved[PATH_MAX];
    snprintf(exe, sizeof exe, "%s/blender-real", dir);
    snprintf(link, sizeof link, "%s/blender", dir);
    snprintf(script, sizeof script, "%s/worker.py", dir);
    snprintf(cache, sizeof cache, "%s/%s", dir, TS_BLENDER_INFO_FILE);
    put(exe, "#!/bin/sh\n", 1000000000);
    chmod(exe, 0755);
    TS_TEST_CHECK(symlink("blender-real", link) == 0, "symlink: %s", strerror(errno));
    put(script, "print('worker')\n", 1000000000);
    json_t *reply = json_pack("{s:b,s:s,s:[s,s]}", "ok", 1, "blender", "3.4.1", "devices", "CPU", "CUDA");

    /* the key names the resolved executable, found on PATH like execvp does */
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    char path_env[PATH_MAX + 32];
    snprintf(path_env, sizeof path_env, "/nonexistent-dir::%s", dir);
    setenv("PATH", path_env, 1);
    json_t *key = ts_blender_info_key("blender", script);
    json_t *by_path = ts_blender_info_key(link, script);
    json_t *missing = ts_blender_info_key("no-such-blender-here", script);
    if (old_path)
        setenv("PATH", old_path, 1);
    else
        unsetenv("PATH");
    free(old_path);
    TS_TEST_CHECK(key && realpath(exe, resolved) &&
                      strcmp(json_string_value(json_object_get(key, "exe")), resolved) == 0,
                  "key of blender on PATH: %s", key ? json_dumps(key, JSON_COMPACT) : ts_error());
    TS_TEST_CHECK(json_equal(key, by_path), "the key by PATH and by path differ");
    TS_TEST_CHECK(!missing && strstr(ts_error(), "not found on PATH"), "a missing executable has a key: %s",
                  ts_error());
    TS_TEST_CHECK(!ts_blender_info_key(link, "/nonexistent/worker.py"), "a missing worker script has a key");
    json_decref(by_path);
    json_decref(missing);

    /* missing, then stored and read back (only the version and devices) */
    TS_TEST_CHECK(!ts_blender_info_load(cache, key), "a missing cache loads");
    TS_TEST_CHECK(ts_blender_info_save(cache, key, reply) == 0, "save: %s", ts_error());
    json_t *got = ts_blender_info_load(cache, key);
    TS_TEST_CHECK(got && strcmp(json_string_value(json_object_get(got, "blender")), "3.4.1") == 0 &&
                      json_equal(json_object_get(got, "devices"), json_object_get(reply, "devices")) &&
                      !json_object_get(got, "ok"),
                  "read back: %s", got ? json_dumps(got, JSON_COMPACT) : ts_error());
    json_decref(got);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", cache);
    TS_TEST_CHECK(access(tmp, F_OK) != 0, "a temporary file was left");

    /* stale: an upgraded Blender (mtime, size) or worker script */
    static const struct {
        const char *what, *content;
        time_t mtime;
        bool is_script;
    } changes[] = {
        {"Blender's mtime", "#!/bin/sh\n", 1000000001, false},
        {"Blender's size", "#!/bin/sh\n\n", 1000000000, false},
        {"the worker's mtime", "print('worker')\n", 1000000001, true},
        {"the worker's size", "print('worker 2')\n", 1000000000, true},
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        put(changes[i].is_script ? script : exe, changes[i].content, changes[i].mtime);
        json_t *k2 = ts_blender_info_key(link, script);
        json_t *stale = ts_blender_info_load(cache, k2);
        TS_TEST_CHECK(k2 && !stale && strstr(ts_error(), "stale"), "a change of %s is not seen: %s", changes[i].what,
                      ts_error());
        json_decref(stale);
        json_decref(k2);
        if (changes[i].is_script)
            put(script, "print('worker')\n", 1000000000);
        else
            put(exe, "#!/bin/sh\n", 1000000000);
    }
    json_t *k3 = ts_blender_info_key(link, script);
    TS_TEST_CHECK(json_equal(k3, key), "the key did not come back with the original files");
    json_decref(k3);

    /* malformed files: never an error, just nothing */
    static const char *const bad[] = {
        "\x01\xff\xfe garbage",
        "",
        "[1,2,3]",
        "{\"key\": 1, \"blender\": \"3.4.1\", \"devices\": [\"CPU\"]}",
        "{\"blender\": \"3.4.1\", \"devices\": [\"CPU\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put(cache, bad[i], 1000000000);
        json_t *g = ts_blender_info_load(cache, key);
        TS_TEST_CHECK(!g, "malformed cache %zu loads", i);
        json_decref(g);
    }
    /* right key, broken info */
    static const char *const fields[] = {
        "{\"blender\": \"\", \"devices\": [\"CPU\"]}",
        "{\"blender\": \"3.4.1\"}",
        "{\"blender\": 3, \"devices\": []}",
        "{\"blender\": \"3.4.1\", \"devices\": [1]}",
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *doc = json_loads(fields[i], 0, NULL);
        json_object_set(doc, "key", key);
        char *text = json_dumps(doc, 0);
        put(cache, text, 1000000000);
        json_t *g = ts_blender_info_load(cache, key);
        TS_TEST_CHECK(!g && strstr(ts_error(), "no Blender version"), "broken info %zu loads: %s", i, ts_error());
        TS_TEST_CHECK(ts_blender_info_save(cache, key, doc) < 0, "broken info %zu is saved", i);
        json_decref(g);
        free(text);
        json_decref(doc);
    }
    /* a directory where the file should be: not readable, not writable, no crash */
    unlink(cache);
    mkdir(cache, 0700);
    TS_TEST_CHECK(!ts_blender_info_load(cache, key), "a directory loads");
    TS_TEST_CHECK(ts_blender_info_save(cache, key, reply) < 0, "saved over a directory");
    rmdir(cache);
    if (verbose)
        printf("blender_info: key %s\n", json_string_value(json_object_get(key, "exe")));

    json_decref(key);
    json_decref(reply);
    ts_file_remove_dir(dir);
    return failures ? 1 : 0;
}
