/* gui_main: `tessera-gui`, the artists' desktop app (GTK 4): see gui/ts_app.c. */
#include "gui/ts_app.h"
#include "lib/ts_version.h"
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--version") == 0) {
            printf("tessera-gui %s\n", TS_VERSION);
            return 0;
        }
    g_set_prgname("tessera-gui");
    g_set_application_name("tessera");
    TsApp *app = ts_app_new();
    int rc = g_application_run(G_APPLICATION(app), argc, argv);
    g_object_unref(app);
    return rc;
}
