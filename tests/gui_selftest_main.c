/* ts_gui_selftest: the app's self-tests (the gui folder's models and settings; no display needed), all or by name. */
#include "gui/ts_config.h"
#include "gui/ts_eta.h"
#include "gui/ts_filmstrip_model.h"
#include "gui/ts_job_list.h"
#include "gui/ts_mosaic_model.h"
#include "gui/ts_node_list.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(gboolean verbose);
} s_tests[] = {
    {"config", ts_config_test},
    {"eta", ts_eta_test},
    {"filmstrip", ts_filmstrip_model_test},
    {"joblist", ts_job_list_test},
    {"mosaic", ts_mosaic_model_test},
    {"nodelist", ts_node_list_test},
};

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    gboolean verbose = FALSE;
    int chosen_any = 0;
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], "-v") == 0)
            verbose = TRUE;
        else
            chosen_any = 1;
    for (size_t i = 0; i < G_N_ELEMENTS(s_tests); i++) {
        int chosen = !chosen_any;
        for (int a = 1; a < argc; a++)
            chosen = chosen || strcmp(argv[a], s_tests[i].name) == 0;
        if (!chosen)
            continue;
        int rc = s_tests[i].fn(verbose);
        printf("%s gui/%s\n", rc == 0 ? "PASS" : rc == TS_TEST_SKIPPED ? "SKIP" : "FAIL", s_tests[i].name);
        if (rc == 0)
            passed++;
        else if (rc == TS_TEST_SKIPPED)
            skipped++;
        else
            failed++;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
