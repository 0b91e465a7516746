/* tessera-sheet: a contact sheet made on this machine alone, by the same code the farm's slaves and master run. */
#include "lib/ts_error.h"
#include "lib/ts_opts.h"
#include "splitter/ts_sheet.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define IMAGES_MAX 1024

int main(int argc, char **argv)
{
    const char *out = NULL, *cell = NULL;
    long columns = 0;
    bool help = false;
    const ts_opt_t table[] = {
        {"columns", TS_OPT_INT, "4", 1, 64, &columns, "cells per row"},
        {"cell", TS_OPT_STRING, "320x180", 0, 0, &cell, "WxH pixels each image is fitted into"},
        {"out", TS_OPT_STRING, NULL, 0, 0, &out, "the sheet (PNG); required"},
        TS_OPT_END,
    };
    static char *images[IMAGES_MAX];
    int n = ts_opts_parse(table, argc - 1, argv + 1, images, IMAGES_MAX, &help);
    int w = 0, h = 0;
    char tail;
    if (!help && n > 0 && out && (sscanf(cell, "%dx%d%c", &w, &h, &tail) != 2 || w < 1 || h < 1))
        n = ts_error_set("--cell '%s': expected WIDTHxHEIGHT", cell);
    if (help || n < 1 || !out) {
        FILE *o = help ? stdout : stderr;
        if (n < 0)
            fprintf(stderr, "tessera-sheet: %s\n", ts_error());
        fprintf(o, "usage: tessera-sheet IMAGE... --out SHEET.png [options]: the contact sheet `tessera submit "
                   "contactsheet` makes, made here\n");
        ts_opts_usage(o, table);
        return help ? 0 : EXIT_USAGE;
    }
    char dir[] = "/tmp/tessera-sheet.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("tessera-sheet: a temporary folder");
        return 1;
    }
    char **thumbs = calloc((size_t)n, sizeof *thumbs);
    int rc = thumbs ? 0 : ts_error_set("out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!(thumbs[i] = malloc(PATH_MAX)))
            rc = ts_error_set("out of memory");
        else
            snprintf(thumbs[i], PATH_MAX, "%s/%d.png", dir, i);
        if (rc == 0)
            rc = ts_sheet_thumb(images[i], w, h, thumbs[i]);
    }
    if (rc == 0)
        rc = ts_sheet_compose((const char *const *)thumbs, n, (int)columns, w, h, out);
    for (int i = 0; thumbs && i < n; i++) {
        if (thumbs[i])
            unlink(thumbs[i]);
        free(thumbs[i]);
    }
    free(thumbs);
    rmdir(dir);
    if (rc < 0)
        fprintf(stderr, "tessera-sheet: %s\n", ts_error());
    return rc < 0 ? 1 : 0;
}
