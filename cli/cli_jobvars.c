/* cli_jobvars: a job file's shot lists: "vars" {"shot": ["sh010", "sh020"]} and entries with "each": "shot" that
   stand for one job per value, "{shot}" in their strings replaced by it. */
#include "cli/cli.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VAR_NAME_MAX 32
#define VAR_VALUES_MAX 1000

/* "a-z, 0-9, _", 1 to VAR_NAME_MAX. */
static bool var_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= VAR_NAME_MAX && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* The first "{name}" in text of a variable in vars, or NULL; its name into out. */
static const char *find_var(const json_t *vars, const char *text, char *out, size_t cap)
{
    for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p + 1, '}');
        size_t n = end ? (size_t)(end - p - 1) : 0;
        if (n == 0 || n >= cap)
            continue;
        snprintf(out, cap, "%.*s", (int)n, p + 1);
        if (json_object_get(vars, out))
            return p;
    }
    return NULL;
}

/* A copy of v with "{var}" replaced by value in every string; NULL with ts_error() when another variable of vars is
   used (the entry does not go over it). */
static json_t *substitute(const json_t *v, const json_t *vars, const char *var, const char *value)
{
    if (json_is_string(v)) {
        char out[4096] = "", name[VAR_NAME_MAX + 1];
        const char *text = json_string_value(v), *at;
        while ((at = find_var(vars, text, name, sizeof name))) {
            if (strcmp(name, var ? var : "") != 0) {
                ts_error_set("'%s' uses {%s}, but the entry does not say \"each\": \"%s\"", json_string_value(v), name,
                             name);
                return NULL;
            }
            size_t len = strlen(out);
            snprintf(out + len, sizeof out - len, "%.*s%s", (int)(at - text), text, value);
            text = at + strlen(name) + 2;
        }
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s", text);
        return json_string(out);
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            json_t *y = substitute(x, vars, var, value);
            if (!y) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, y);
        }
        return a;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x) {
            json_t *y = substitute(x, vars, var, value);
            if (!y) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, key, y);
        }
        return o;
    }
    return json_deep_copy(v);
}

static int check_vars(const json_t *vars)
{
    if (!vars)
        return 0;
    if (!json_is_object(vars))
        return ts_error_set("field 'vars' must be an object of lists of values");
    const char *name;
    json_t *values;
    json_object_foreach((json_t *)vars, name, values) {
        if (!var_name_ok(name))
            return ts_error_set("vars: '%s': a name of 1 to %d of a-z, 0-9, _", name, VAR_NAME_MAX);
        if (!json_is_array(values) || json_array_size(values) == 0 || json_array_size(values) > VAR_VALUES_MAX)
            return ts_error_set("vars: '%s' must be a list of 1 to %d values", name, VAR_VALUES_MAX);
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v) if (!json_is_string(v) || json_string_length(v) == 0 ||
                                             json_string_length(v) > 256 || strchr(json_string_value(v), '{'))
            return ts_error_set("vars: '%s': value %zu must be a string of 1 to 256 characters without '{'", name,
                                i + 1);
    }
    return 0;
}

json_t *cli_jobfile_expand(const json_t *doc, size_t max)
{
    const json_t *vars = json_object_get(doc, "vars"), *jobs = json_object_get(doc, "jobs");
    if (check_vars(vars) < 0)
        return NULL;
    json_t *out = json_array(), *none = json_object();
    if (!vars)
        vars = none;
    size_t i;
    json_t *e;
    json_array_foreach(jobs, i, e) {
        const json_t *each = json_object_get(e, "each");
        const char *var = json_string_value(each);
        const json_t *values = var ? json_object_get(vars, var) : NULL;
        if (each && (!var || !values)) {
            ts_error_set("job %zu: field 'each': %s", i + 1, var ? "no such list in 'vars'" : "the name of a list in 'vars'");
            json_decref(out);
            json_decref(none);
            return NULL;
        }
        size_t n = values ? json_array_size(values) : 1;
        for (size_t k = 0; k < n; k++) {
            json_t *copy = substitute(e, vars, var,
                                      values ? json_string_value(json_array_get(values, k)) : "");
            if (!copy || json_array_size(out) >= max) {
                if (copy)
                    ts_error_set("more than %zu jobs once 'each' is expanded", max);
                else
                    ts_error_prefix("job %zu", i + 1);
                json_decref(copy);
                json_decref(out);
                json_decref(none);
                return NULL;
            }
            json_object_del(copy, "each");
            json_array_append_new(out, copy);
        }
    }
    json_decref(none);
    return out;
}

int cli_jobvars_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    json_t *doc = json_loads("{\"vars\": {\"shot\": [\"sh010\", \"sh020\"]}, \"jobs\": ["
                             "{\"name\": \"{shot}-r\", \"scene\": \"{shot}/{shot}.blend\", \"each\": \"shot\"},"
                             "{\"name\": \"{shot}-e\", \"after\": [\"{shot}-r\"], \"frames\": \"1-{x}\", \"each\": \"shot\"},"
                             "{\"name\": \"sheet\", \"after\": [\"sh010-e\", \"sh020-e\"]}]}",
                             0, NULL);
    json_t *jobs = cli_jobfile_expand(doc, 100);
    char *text = jobs ? json_dumps(jobs, JSON_COMPACT) : NULL;
    TS_TEST_CHECK(text && strcmp(text, "[{\"name\":\"sh010-r\",\"scene\":\"sh010/sh010.blend\"},"
                                       "{\"name\":\"sh020-r\",\"scene\":\"sh020/sh020.blend\"},"
                                       "{\"name\":\"sh010-e\",\"after\":[\"sh010-r\"],\"frames\":\"1-{x}\"},"
                                       "{\"name\":\"sh020-e\",\"after\":[\"sh020-r\"],\"frames\":\"1-{x}\"},"
                                       "{\"name\":\"sheet\",\"after\":[\"sh010-e\",\"sh020-e\"]}]") == 0,
                  "expanded: %s (%s)", text ? text : "NULL", ts_error());
    free(text);
    json_decref(jobs);
    json_decref(doc);
    static const char *const bad[] = {
        "{\"vars\": {\"shot\": [\"a\"]}, \"jobs\": [{\"name\": \"{shot}\"}]}",           /* used without each */
        "{\"vars\": {\"shot\": [\"a\"]}, \"jobs\": [{\"name\": \"x\", \"each\": \"take\"}]}", /* no such list */
        "{\"vars\": {\"Shot\": [\"a\"]}, \"jobs\": [{\"name\": \"x\"}]}",                  /* a bad name */
        "{\"vars\": {\"shot\": []}, \"jobs\": [{\"name\": \"x\"}]}",                       /* no values */
        "{\"vars\": {\"shot\": [\"a\", 2]}, \"jobs\": [{\"name\": \"x\"}]}",               /* not a string */
        "{\"vars\": {\"shot\": [\"a\", \"b\", \"c\"]}, \"jobs\": [{\"name\": \"{shot}\", \"each\": \"shot\"}]}", /* > max */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc = json_loads(bad[i], 0, NULL);
        jobs = cli_jobfile_expand(doc, 2);
        TS_TEST_CHECK(doc && !jobs, "refused: %s", bad[i]);
        json_decref(jobs);
        json_decref(doc);
    }
    return failures;
}
