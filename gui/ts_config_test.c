/* ts_config_test: the environment wins over the file, as the CLI's; the file is written 0600 and read back; a
   master's address is normalised; an unreadable file is an error that names it. */
#include "gui/ts_config.h"
#include "tests/ts_test.h"
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

int ts_config_test(gboolean verbose)
{
    int failures = 0;
    g_autofree char *dir = g_dir_make_tmp("ts_config_test.XXXXXX", NULL);
    g_autofree char *old_xdg = g_strdup(g_getenv("XDG_CONFIG_HOME"));
    const char *names[] = {"TESSERA_MASTER", "TESSERA_TOKEN", "TESSERA_CA_FILE"};
    char *old[3];
    for (int i = 0; i < 3; i++) {
        old[i] = g_strdup(g_getenv(names[i]));
        g_unsetenv(names[i]);
    }
    g_setenv("XDG_CONFIG_HOME", dir, TRUE);

    TsConfig cfg;
    GError *error = NULL;
    TS_TEST_CHECK(!ts_config_load(&cfg, &error) && !error && !cfg.master, "nothing known: the dialog asks");
    ts_config_clear(&cfg);

    g_autofree char *url = ts_config_normalise_master("127.0.0.1:8080/", NULL);
    TS_TEST_CHECK(g_strcmp0(url, "http://127.0.0.1:8080") == 0, "normalised: %s", url);
    g_autofree char *bad = ts_config_normalise_master("ftp://x", &error);
    TS_TEST_CHECK(!bad && error, "ftp is refused");
    g_clear_error(&error);

    TsConfig saved = {.master = "https://farm:8443", .token = "tsk_saved", .ca_file = "/etc/farm.pem"};
    TS_TEST_CHECK(ts_config_save(&saved, &error), "save: %s", error ? error->message : "");
    g_clear_error(&error);
    g_autofree char *path = ts_config_path();
    GStatBuf st;
    TS_TEST_CHECK(g_stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the file is 0600: %o", st.st_mode & 0777);
    TS_TEST_CHECK(ts_config_load(&cfg, &error) && !cfg.from_env && g_strcmp0(cfg.master, "https://farm:8443") == 0 &&
                      g_strcmp0(cfg.token, "tsk_saved") == 0 && g_strcmp0(cfg.ca_file, "/etc/farm.pem") == 0,
                  "read back");
    ts_config_clear(&cfg);

    g_setenv("TESSERA_MASTER", "http://env:1", TRUE);
    g_setenv("TESSERA_TOKEN", "tsk_env", TRUE);
    TS_TEST_CHECK(ts_config_load(&cfg, &error) && cfg.from_env && g_strcmp0(cfg.master, "http://env:1") == 0 &&
                      g_strcmp0(cfg.token, "tsk_env") == 0 && g_strcmp0(cfg.ca_file, "/etc/farm.pem") == 0,
                  "the environment wins; the CA file still comes from the file");
    ts_config_clear(&cfg);

    g_file_set_contents(path, "[1,2", -1, NULL);
    TS_TEST_CHECK(!ts_config_load(&cfg, &error) && error && strstr(error->message, path), "a bad file is named: %s",
                  error ? error->message : "");
    g_clear_error(&error);
    ts_config_clear(&cfg);

    g_unlink(path);
    g_autofree char *sub = g_path_get_dirname(path);
    g_rmdir(sub);
    g_rmdir(dir);
    for (int i = 0; i < 3; i++) {
        if (old[i])
            g_setenv(names[i], old[i], TRUE);
        else
            g_unsetenv(names[i]);
        g_free(old[i]);
    }
    if (old_xdg)
        g_setenv("XDG_CONFIG_HOME", old_xdg, TRUE);
    else
        g_unsetenv("XDG_CONFIG_HOME");
    if (verbose)
        printf("config: %s\n", path);
    return failures ? -1 : 0;
}
