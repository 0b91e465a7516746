/* ts_config: where the app signs in: the master's URL, the token and a CA file, from the environment as the CLI takes
   them (TESSERA_MASTER, TESSERA_TOKEN, TESSERA_CA_FILE) or from the app's own file, ~/.config/tessera/gui.json
   (mode 0600, written by the first-run dialog). Plain data: no display needed. */
#ifndef TS_CONFIG_H
#define TS_CONFIG_H

#include <glib.h>

typedef struct {
    char *master;    /* "http://host:port" without a trailing slash */
    char *token;     /* "tsk_..." */
    char *ca_file;   /* NULL: the system's CAs */
    gboolean from_env; /* master and token both came from the environment: nothing to ask */
} TsConfig;

#define TS_CONFIG_FILE "tessera/gui.json" /* below the user's config folder */

/* The settings: each from the environment when set there, else from the file. TRUE when a master and a token are
   known; FALSE with *error set when the file exists but cannot be read (what is known is kept in cfg either way). */
gboolean ts_config_load(TsConfig *cfg, GError **error);
/* Writes master, token and CA file to the file with mode 0600 (its folder 0700); FALSE with *error. */
gboolean ts_config_save(const TsConfig *cfg, GError **error);
/* The file's path (g_free it). */
char *ts_config_path(void);
/* "host:port" or "http(s)://host:port/" as "http(s)://host:port"; NULL with *error when it is not a URL. */
char *ts_config_normalise_master(const char *text, GError **error);
TsConfig *ts_config_copy(const TsConfig *cfg);
void ts_config_clear(TsConfig *cfg);
void ts_config_free(TsConfig *cfg);

int ts_config_test(gboolean verbose);

#endif
