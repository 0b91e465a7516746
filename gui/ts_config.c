/* ts_config: the app's sign-in settings, from the environment or ~/.config/tessera/gui.json (see ts_config.h). */
#include "gui/ts_config.h"
#include <gio/gio.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>

#define ENV_MASTER "TESSERA_MASTER" /* the CLI's names (cli/cli.h) */
#define ENV_TOKEN "TESSERA_TOKEN"
#define ENV_CA "TESSERA_CA_FILE"
#define FILE_MAX (64 << 10)

char *ts_config_path(void)
{
    /* as the CLI finds its token file: $XDG_CONFIG_HOME, else ~/.config (read each time, never cached) */
    const char *xdg = g_getenv("XDG_CONFIG_HOME");
    if (xdg && xdg[0])
        return g_build_filename(xdg, TS_CONFIG_FILE, NULL);
    return g_build_filename(g_get_home_dir(), ".config", TS_CONFIG_FILE, NULL);
}

char *ts_config_normalise_master(const char *text, GError **error)
{
    g_autofree char *t = g_strstrip(g_strdup(text ? text : ""));
    if (!t[0]) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "the master's address is empty");
        return NULL;
    }
    char *url = strstr(t, "://") ? g_strdup(t) : g_strconcat("http://", t, NULL);
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
    if (!uri || !g_uri_get_host(uri) || !g_uri_get_host(uri)[0] ||
        (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "'%s' is not the master's address (http://HOST:PORT or https://HOST:PORT)", t);
        g_free(url);
        return NULL;
    }
    return url;
}

/* name from the environment when set and not empty. */
static const char *env(const char *name)
{
    const char *v = g_getenv(name);
    return v && v[0] ? v : NULL;
}

static void set(char **field, const char *value)
{
    if (!*field && value && value[0])
        *field = g_strdup(value);
}

gboolean ts_config_load(TsConfig *cfg, GError **error)
{
    memset(cfg, 0, sizeof *cfg);
    const char *m = env(ENV_MASTER);
    if (m)
        cfg->master = ts_config_normalise_master(m, NULL);
    set(&cfg->token, env(ENV_TOKEN));
    set(&cfg->ca_file, env(ENV_CA));
    cfg->from_env = cfg->master && cfg->token;
    g_autofree char *path = ts_config_path(), *text = NULL;
    gsize len = 0;
    g_autoptr(GError) read_error = NULL;
    if (!g_file_get_contents(path, &text, &len, &read_error)) {
        if (!g_error_matches(read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            g_propagate_error(error, g_steal_pointer(&read_error));
            return FALSE;
        }
        return cfg->master && cfg->token;
    }
    json_error_t je;
    json_t *o = len <= FILE_MAX ? json_loadb(text, len, 0, &je) : NULL;
    if (!json_is_object(o)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not the app's settings (a JSON object): %s", path,
                    o || len > FILE_MAX ? "too large or not an object" : je.text);
        json_decref(o);
        return FALSE;
    }
    const char *fm = json_string_value(json_object_get(o, "master"));
    if (!cfg->master && fm)
        cfg->master = ts_config_normalise_master(fm, NULL);
    set(&cfg->token, json_string_value(json_object_get(o, "token")));
    set(&cfg->ca_file, json_string_value(json_object_get(o, "ca_file")));
    json_decref(o);
    return cfg->master && cfg->token;
}

gboolean ts_config_save(const TsConfig *cfg, GError **error)
{
    g_autofree char *path = ts_config_path(), *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir, g_strerror(errno));
        return FALSE;
    }
    json_t *o = json_pack("{s:s,s:s}", "master", cfg->master ? cfg->master : "", "token", cfg->token ? cfg->token : "");
    if (cfg->ca_file && cfg->ca_file[0])
        json_object_set_new(o, "ca_file", json_string(cfg->ca_file));
    char *text = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    /* written beside it and renamed, created 0600: the token is never readable by others, not even for a moment */
    gboolean ok = text && g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
    free(text);
    return ok && g_chmod(path, 0600) == 0;
}

TsConfig *ts_config_copy(const TsConfig *cfg)
{
    TsConfig *c = g_new0(TsConfig, 1);
    c->master = g_strdup(cfg->master);
    c->token = g_strdup(cfg->token);
    c->ca_file = g_strdup(cfg->ca_file);
    c->from_env = cfg->from_env;
    return c;
}

void ts_config_clear(TsConfig *cfg)
{
    if (cfg->token)
        memset(cfg->token, 0, strlen(cfg->token));
    g_clear_pointer(&cfg->master, g_free);
    g_clear_pointer(&cfg->token, g_free);
    g_clear_pointer(&cfg->ca_file, g_free);
}

void ts_config_free(TsConfig *cfg)
{
    if (cfg) {
        ts_config_clear(cfg);
        g_free(cfg);
    }
}
