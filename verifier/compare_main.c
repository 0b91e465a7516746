/* tessera-compare: compares two renders of the same frame by the verifier's rules, whole or tile by tile. */
#include "lib/ts_error.h"
#include "lib/ts_opts.h"
#include "splitter/ts_image.h"
#include "splitter/ts_tileplan.h"
#include "verifier/ts_agree.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_AGREE 0
#define EXIT_DISAGREE 1
#define EXIT_USAGE 2

typedef struct {
    const char *rule;
    const char *grid;
} options_t;

static int rule_of(const char *name, ts_agree_rule_t *rule)
{
    static const struct {
        const char *name;
        ts_agree_rule_t rule;
    } rules[] = {{"exact", TS_AGREE_EXACT}, {"noise", TS_AGREE_RENDER_NOISE}, {"cross", TS_AGREE_CROSS_CLASS}};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(name, rules[i].name) == 0) {
            *rule = rules[i].rule;
            return 0;
        }
    return ts_error_set("--rule: '%s' is not one of exact, noise, cross", name);
}

/* Reads a whole image as float rows from the top. */
static float *read_all(const char *path, int *w, int *h, int *c)
{
    ts_image_reader_t *r = ts_image_reader_new(path);
    if (!r)
        return NULL;
    ts_image_reader_size(r, w, h, c);
    float *px = malloc((size_t)*w * *h * *c * sizeof *px);
    if (!px || ts_image_reader_rows(r, 0, *h, px) < 0) {
        if (!px)
            ts_error_set("%s: out of memory", path);
        free(px);
        px = NULL;
    }
    ts_image_reader_destroy(&r);
    return px;
}

static json_t *tile_json(const ts_tile_t *t, const ts_pixdiff_t *d, int agree, const char *detail)
{
    json_t *over = json_object();
    for (int k = 0; k < TS_PIXDIFF_LEVELS; k++) {
        char key[16];
        snprintf(key, sizeof key, "%g", ts_pixdiff_level(k));
        json_object_set_new(over, key, json_integer(d->over[k]));
    }
    return json_pack("{s:i,s:[i,i,i,i],s:I,s:I,s:I,s:o,s:f,s:f,s:b,s:s}", "tile", t->index, "rect", t->own.x0,
                     t->own.y0, t->own.x1, t->own.y1, "pixels", (json_int_t)d->pixels, "differ",
                     (json_int_t)d->pixels_differ, "over_threshold", (json_int_t)d->pixels_over, "over", over,
                     "max_abs", d->max_abs_diff, "max_scaled", d->max_scaled_diff, "agree", agree, "detail", detail);
}

int main(int argc, char **argv)
{
    options_t o = {0};
    bool help = false;
    const ts_opt_t table[] = {
        {"rule", TS_OPT_STRING, "exact", 0, 0, &o.rule, "exact | noise | cross (verifier/ts_agree.h)"},
        {"grid", TS_OPT_STRING, "1x1", 0, 0, &o.grid, "compare tile by tile, CxR as the farm cuts frames"},
        TS_OPT_END,
    };
    char *files[2];
    int n = ts_opts_parse(table, argc - 1, argv + 1, files, 2, &help);
    if (help || n != 2) {
        FILE *out = help ? stdout : stderr;
        if (n < 0)
            fprintf(stderr, "tessera-compare: %s\n", ts_error());
        fprintf(out, "usage: tessera-compare A B [options]: one JSON line per tile, exit 0 all agree, 1 some "
                     "disagree, 2 error\n");
        ts_opts_usage(out, table);
        return help ? 0 : EXIT_USAGE;
    }
    ts_agree_rule_t rule = TS_AGREE_EXACT;
    int cols, rows, wa, ha, ca, wb, hb, cb;
    if (rule_of(o.rule, &rule) < 0 || ts_tileplan_parse_grid(o.grid, &cols, &rows) < 0) {
        fprintf(stderr, "tessera-compare: %s\n", ts_error());
        return EXIT_USAGE;
    }
    float *a = read_all(files[0], &wa, &ha, &ca), *b = a ? read_all(files[1], &wb, &hb, &cb) : NULL;
    if (a && b && (wa != wb || ha != hb || ca != cb))
        ts_error_set("%s is %dx%d with %d channels, %s %dx%d with %d", files[0], wa, ha, ca, files[1], wb, hb, cb);
    ts_tile_t *tiles = NULL;
    int count = 0;
    if (!a || !b || wa != wb || ha != hb || ca != cb || ts_tileplan_make(wa, ha, cols, rows, 0, &tiles, &count) < 0) {
        fprintf(stderr, "tessera-compare: %s\n", ts_error());
        free(a);
        free(b);
        return EXIT_USAGE;
    }
    int disagree = 0;
    for (int i = 0; i < count; i++) {
        const ts_rect_t *r = &tiles[i].own;
        ts_pixdiff_t d;
        ts_pixdiff_init(&d, ts_rect_width(*r), ts_rect_height(*r), ca, ts_agree_threshold(rule));
        for (int y = r->y0; y < r->y1; y++) {
            size_t row = (size_t)(ha - 1 - y) * wa; /* the plan counts rows from the bottom, the reader from the top */
            ts_pixdiff_add(&d, a + (row + r->x0) * ca, b + (row + r->x0) * ca, (size_t)ts_rect_width(*r));
        }
        char detail[256];
        int agree = ts_agree_images(rule, &d, detail, sizeof detail);
        disagree += !agree;
        json_t *j = tile_json(&tiles[i], &d, agree, detail);
        char *line = json_dumps(j, JSON_COMPACT);
        puts(line ? line : "{}");
        free(line);
        json_decref(j);
    }
    free(tiles);
    free(a);
    free(b);
    return disagree ? EXIT_DISAGREE : EXIT_AGREE;
}
