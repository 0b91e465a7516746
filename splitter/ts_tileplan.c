/* ts_tileplan: grid tile plans over a frame (own rectangles that partition it, render rectangles with margin). */
#include "splitter/ts_tileplan.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_TILEPLAN_GRID_SEP 'x'

/* Edge i of n over a length: floor(i * length / n), in 64 bits (i * length may exceed an int). */
static int edge(int i, int length, int n)
{
    return (int)((int64_t)i * length / n);
}

/* a - m and a + m clamped to [lo, hi] without overflowing for any margin m >= 0. */
static int grow_down(int a, int m, int lo)
{
    return a - lo > m ? a - m : lo;
}

static int grow_up(int a, int m, int hi)
{
    return hi - a > m ? a + m : hi;
}

int ts_tileplan_make(int width, int height, int cols, int rows, int margin, ts_tile_t **tiles, int *count)
{
    assert(tiles && count);
    *tiles = NULL;
    *count = 0;
    if (cols < 1 || cols > TS_TILEPLAN_MAX)
        return ts_error_set("tile grid %dx%d: columns must be 1..%d", cols, rows, TS_TILEPLAN_MAX);
    if (rows < 1 || rows > TS_TILEPLAN_MAX)
        return ts_error_set("tile grid %dx%d: rows must be 1..%d", cols, rows, TS_TILEPLAN_MAX);
    if (width < 1 || width > TS_TILEPLAN_MAX_SIZE)
        return ts_error_set("tile grid %dx%d on a %dx%d frame: width must be 1..%d", cols, rows, width, height,
                            TS_TILEPLAN_MAX_SIZE);
    if (height < 1 || height > TS_TILEPLAN_MAX_SIZE)
        return ts_error_set("tile grid %dx%d on a %dx%d frame: height must be 1..%d", cols, rows, width, height,
                            TS_TILEPLAN_MAX_SIZE);
    if (cols > width)
        return ts_error_set("tile grid %dx%d on a %dx%d frame: %d columns in %d pixels across would make tiles "
                            "narrower than 1 pixel", cols, rows, width, height, cols, width);
    if (rows > height)
        return ts_error_set("tile grid %dx%d on a %dx%d frame: %d rows in %d pixels down would make tiles "
                            "shorter than 1 pixel", cols, rows, width, height, rows, height);
    if (margin < 0)
        return ts_error_set("tile grid %dx%d: margin %d must be >= 0", cols, rows, margin);

    int n = cols * rows;
    ts_tile_t *t = calloc((size_t)n, sizeof *t);
    if (!t)
        return ts_error_set("tile grid %dx%d: out of memory", cols, rows);
    for (int row = 0; row < rows; row++) {
        for (int col = 0; col < cols; col++) {
            ts_tile_t *tile = &t[row * cols + col];
            tile->index = row * cols + col;
            tile->col = col;
            tile->row = row;
            tile->own = (ts_rect_t){ edge(col, width, cols), edge(row, height, rows),
                                     edge(col + 1, width, cols), edge(row + 1, height, rows) };
            tile->render = (ts_rect_t){ grow_down(tile->own.x0, margin, 0), grow_down(tile->own.y0, margin, 0),
                                        grow_up(tile->own.x1, margin, width),
                                        grow_up(tile->own.y1, margin, height) };
        }
    }
    *tiles = t;
    *count = n;
    return 0;
}

/* Reads a run of decimal digits at *p into *value (saturating above TS_TILEPLAN_MAX); false when none. */
static bool parse_count(const char **p, int *value)
{
    const char *s = *p;
    int v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v <= TS_TILEPLAN_MAX)
            v = v * 10 + (*s - '0');
        s++;
    }
    if (s == *p)
        return false;
    *value = v;
    *p = s;
    return true;
}

int ts_tileplan_parse_grid(const char *text, int *cols, int *rows)
{
    assert(text && cols && rows);
    const char *p = text;
    int c, r;
    if (!parse_count(&p, &c) || *p++ != TS_TILEPLAN_GRID_SEP || !parse_count(&p, &r) || *p != '\0')
        return ts_error_set("tile grid \"%s\": expected COLSxROWS with whole numbers, e.g. \"4x4\"", text);
    if (c < 1 || c > TS_TILEPLAN_MAX)
        return ts_error_set("tile grid \"%s\": columns must be 1..%d", text, TS_TILEPLAN_MAX);
    if (r < 1 || r > TS_TILEPLAN_MAX)
        return ts_error_set("tile grid \"%s\": rows must be 1..%d", text, TS_TILEPLAN_MAX);
    *cols = c;
    *rows = r;
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Self-test.                                                                                           */

#define TEST_SMALL_MAX 24     /* every frame size and grid up to this, checked pixel by pixel */
#define TEST_MEDIUM_MAX 300   /* every width (and height) up to this, checked with chosen grids */
#define TEST_PAINT_LIMIT (1L << 26) /* largest frame whose pixels are painted one by one */

/* Column (or row) holding pixel x when n tiles split `length` with floor edges. Derived independently of
   edge(): x >= floor(c*L/n) <=> (x+1)*n > c*L and x < floor((c+1)*L/n) <=> (x+1)*n <= (c+1)*L. */
static int expected_slot(int x, int length, int n)
{
    return (int)(((int64_t)(x + 1) * n - 1) / length);
}

/* Checks one plan by properties: structure, per-axis partition, even sizes, margins. When paint is true
   also paints every pixel of the frame and checks it is covered once, by the tile the formula predicts. */
static int check_plan(int w, int h, int c, int r, int m, bool paint)
{
    int failures = 0;
    ts_tile_t *t = NULL;
    int n = -1;
    int rc = ts_tileplan_make(w, h, c, r, m, &t, &n);
    TS_TEST_CHECK(rc == 0, "%dx%d grid %dx%d margin %d: %s", w, h, c, r, m, ts_error());
    if (rc != 0)
        return failures;
    TS_TEST_CHECK(n == c * r, "%dx%d grid %dx%d: count %d", w, h, c, r, n);
    int min_w = w / c, max_w = (w + c - 1) / c, min_h = h / r, max_h = (h + r - 1) / r;
    long area = 0;
    for (int i = 0; i < n; i++) {
        ts_tile_t *k = &t[i];
        ts_rect_t o = k->own, R = k->render;
        TS_TEST_CHECK(k->index == i && k->col >= 0 && k->col < c && k->row >= 0 && k->row < r &&
                          k->row * c + k->col == i, "%dx%d grid %dx%d: tile %d numbered %d (%d,%d)", w, h, c, r, i,
                      k->index, k->col, k->row);
        TS_TEST_CHECK(ts_rect_width(o) >= min_w && ts_rect_width(o) <= max_w && ts_rect_height(o) >= min_h &&
                          ts_rect_height(o) <= max_h && ts_rect_width(o) >= 1 && ts_rect_height(o) >= 1,
                      "%dx%d grid %dx%d: tile %d own %d,%d-%d,%d uneven or empty", w, h, c, r, i, o.x0, o.y0, o.x1,
                      o.y1);
        /* Neighbours share edges; the outer tiles touch the frame border. */
        TS_TEST_CHECK(k->col == 0 ? o.x0 == 0 : o.x0 == t[i - 1].own.x1, "%dx%d grid %dx%d: tile %d left edge %d", w, h,
                      c, r, i, o.x0);
        TS_TEST_CHECK(k->col == c - 1 ? o.x1 == w : 1, "%dx%d grid %dx%d: tile %d right edge %d", w, h, c, r, i, o.x1);
        TS_TEST_CHECK(k->row == 0 ? o.y0 == 0 : o.y0 == t[i - c].own.y1, "%dx%d grid %dx%d: tile %d bottom edge %d", w,
                      h, c, r, i, o.y0);
        TS_TEST_CHECK(k->row == r - 1 ? o.y1 == h : 1, "%dx%d grid %dx%d: tile %d top edge %d", w, h, c, r, i, o.y1);
        /* Same column, same x range; same row, same y range. */
        TS_TEST_CHECK(o.x0 == t[k->col].own.x0 && o.x1 == t[k->col].own.x1 && o.y0 == t[k->row * c].own.y0 &&
                          o.y1 == t[k->row * c].own.y1, "%dx%d grid %dx%d: tile %d not aligned to its row/column", w, h,
                      c, r, i);
        /* Render rectangle: contains own, inside the frame, grown by exactly min(margin, room) per side. */
        ts_rect_t frame = { 0, 0, w, h };
        TS_TEST_CHECK(ts_rect_contains(R, o) && ts_rect_contains(frame, R), "%dx%d grid %dx%d m %d: tile %d render "
                      "%d,%d-%d,%d", w, h, c, r, m, i, R.x0, R.y0, R.x1, R.y1);
        TS_TEST_CHECK(
            (long)o.x0 - R.x0 == (o.x0 < m ? o.x0 : m) && (long)R.x1 - o.x1 == (w - o.x1 < m ? w - o.x1 : m) &&
                (long)o.y0 - R.y0 == (o.y0 < m ? o.y0 : m) && (long)R.y1 - o.y1 == (h - o.y1 < m ? h - o.y1 : m),
            "%dx%d grid %dx%d m %d: tile %d own %d,%d-%d,%d render %d,%d-%d,%d", w, h, c, r, m, i, o.x0, o.y0, o.x1,
            o.y1, R.x0, R.y0, R.x1, R.y1);
        if (m == 0)
            TS_TEST_CHECK(memcmp(&R, &o, sizeof R) == 0, "margin 0: render differs from own");
        area += (long)ts_rect_width(o) * ts_rect_height(o);
    }
    TS_TEST_CHECK(area == (long)w * h, "%dx%d grid %dx%d: tiles cover %ld pixels", w, h, c, r, area);
    /* Every pixel once, by the predicted tile. */
    if (paint && (long)w * h <= TEST_PAINT_LIMIT) {
        unsigned char *seen = calloc((size_t)w * h, 1);
        int *col_of = malloc((size_t)w * sizeof *col_of);
        TS_TEST_CHECK(seen && col_of, "out of memory");
        for (int x = 0; col_of && x < w; x++)
            col_of[x] = expected_slot(x, w, c);
        for (int i = 0; seen && i < n; i++) {
            ts_rect_t o = t[i].own;
            for (int y = o.y0; y < o.y1; y++)
                for (int x = o.x0; x < o.x1; x++)
                    if (seen[(size_t)y * w + x] < UCHAR_MAX)
                        seen[(size_t)y * w + x]++;
        }
        for (int y = 0; seen && col_of && y < h; y++) {
            int row = expected_slot(y, h, r);
            for (int x = 0; x < w; x++) {
                if (seen[(size_t)y * w + x] != 1) {
                    TS_TEST_CHECK(0, "%dx%d grid %dx%d: pixel %d,%d covered %d times", w, h, c, r, x, y,
                                  seen[(size_t)y * w + x]);
                    y = h;
                    break;
                }
                ts_rect_t o = t[row * c + col_of[x]].own;
                if (!(x >= o.x0 && x < o.x1 && y >= o.y0 && y < o.y1)) {
                    TS_TEST_CHECK(0, "%dx%d grid %dx%d: pixel %d,%d not in predicted tile", w, h, c, r, x, y);
                    y = h;
                    break;
                }
            }
        }
        free(col_of);
        free(seen);
    }
    free(t);
    return failures;
}

/* Expects ts_tileplan_make to fail with a message holding `needle`. */
static int check_make_fails(int w, int h, int c, int r, int m, const char *needle)
{
    int failures = 0;
    ts_tile_t *t = (ts_tile_t *)&t; /* not NULL: must be reset */
    int n = -1;
    int rc = ts_tileplan_make(w, h, c, r, m, &t, &n);
    TS_TEST_CHECK(rc == -1 && t == NULL && n == 0, "%dx%d grid %dx%d margin %d: accepted", w, h, c, r, m);
    TS_TEST_CHECK(strstr(ts_error(), needle) != NULL, "%dx%d grid %dx%d margin %d: message \"%s\" lacks \"%s\"", w, h,
                  c, r, m, ts_error(), needle);
    if (rc == 0)
        free(t);
    return failures;
}

static int check_parse(const char *text, int want_c, int want_r)
{
    int failures = 0;
    int c = -1, r = -1;
    int rc = ts_tileplan_parse_grid(text, &c, &r);
    if (want_c > 0) {
        TS_TEST_CHECK(rc == 0 && c == want_c && r == want_r, "parse \"%s\": rc %d %dx%d (%s)", text, rc, c, r,
                      ts_error());
    } else {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", text);
        TS_TEST_CHECK(rc == -1 && c == -1 && r == -1, "parse \"%s\": accepted as %dx%d", text, c, r);
        TS_TEST_CHECK(strstr(ts_error(), quoted) != NULL, "parse \"%s\": message \"%s\" does not quote it", text,
                      ts_error());
    }
    return failures;
}

int ts_tileplan_test(bool verbose)
{
    int failures = 0;
    long plans = 0;

    /* Every small frame with every grid that fits, several margins. */
    for (int w = 1; w <= TEST_SMALL_MAX; w++)
        for (int h = 1; h <= TEST_SMALL_MAX; h++)
            for (int c = 1; c <= w; c++)
                for (int r = 1; r <= h; r++, plans++)
                    failures += check_plan(w, h, c, r, (w + h + c + r) % 4, true);

    /* Every width and height up to TEST_MEDIUM_MAX against every column count (structure only), and
       painted with a spread of grids on a few cross sizes. */
    static const int cross[] = { 1, 2, 3, 64, 255, 299 };
    static const int grids[] = { 1, 2, 3, 7, 8, 13, 31, 33, 63, 64 };
    int ncross = (int)(sizeof cross / sizeof cross[0]), ngrids = (int)(sizeof grids / sizeof grids[0]);
    for (int w = 1; w <= TEST_MEDIUM_MAX; w++) {
        for (int c = 1; c <= TS_TILEPLAN_MAX && c <= w; c++, plans += 2) {
            failures += check_plan(w, 1, c, 1, c % 5, false);
            failures += check_plan(1, w, 1, c, c % 5, false);
        }
        for (int i = 0; i < ncross; i++)
            for (int g = 0; g < ngrids; g++)
                for (int g2 = 0; g2 < ngrids; g2 += 3)
                    if (grids[g] <= w && grids[g2] <= cross[i]) {
                        failures += check_plan(w, cross[i], grids[g], grids[g2], g % 3 * 7, (w + g) % 7 == 0);
                        plans++;
                    }
    }

    /* Large frames, and the extremes of the size range. */
    failures += check_plan(7680, 4320, 64, 64, 16, true);
    failures += check_plan(7680, 4320, 7, 3, 5, false);
    failures += check_plan(7680, 4320, 1, 1, 0, false);
    failures += check_plan(1920, 1080, 4, 4, 32, true);
    failures += check_plan(4097, 2161, 63, 17, 100000, true);
    failures +=
        check_plan(TS_TILEPLAN_MAX_SIZE, TS_TILEPLAN_MAX_SIZE, TS_TILEPLAN_MAX, TS_TILEPLAN_MAX, INT_MAX, false);
    failures += check_plan(TS_TILEPLAN_MAX_SIZE, 1, TS_TILEPLAN_MAX, 1, 3, true);
    failures += check_plan(TS_TILEPLAN_MAX, TS_TILEPLAN_MAX, TS_TILEPLAN_MAX, TS_TILEPLAN_MAX, 1, true);
    plans += 8;

    /* A known case, worked by hand: 10 pixels in 3 columns -> 0-3, 3-6, 6-10; 5 rows in 2 -> 0-2, 2-5. */
    ts_tile_t *t = NULL;
    int n = 0;
    if (ts_tileplan_make(10, 5, 3, 2, 1, &t, &n) == 0 && n == 6) {
        TS_TEST_CHECK(t[0].own.x1 == 3 && t[1].own.x1 == 6 && t[2].own.x1 == 10 && t[0].own.y1 == 2 && t[3].own.y1 == 5,
                      "10x5 in 3x2: edges");
        TS_TEST_CHECK(t[4].render.x0 == 2 && t[4].render.x1 == 7 && t[4].render.y0 == 1 && t[4].render.y1 == 5,
                      "10x5 in 3x2 margin 1: tile 4 render %d,%d-%d,%d", t[4].render.x0, t[4].render.y0, t[4].render.x1,
                      t[4].render.y1);
    } else {
        TS_TEST_CHECK(0, "10x5 in 3x2: %s", ts_error());
    }
    free(t);

    /* Refusals. */
    failures += check_make_fails(100, 100, 0, 0, 0, "tile grid 0x0: columns must be 1..64");
    failures += check_make_fails(100, 100, 65, 1, 0, "columns must be 1..64");
    failures += check_make_fails(100, 100, 1, 65, 0, "rows must be 1..64");
    failures += check_make_fails(100, 100, 4, 0, 0, "tile grid 4x0: rows");
    failures += check_make_fails(100, 100, -1, 4, 0, "columns");
    failures += check_make_fails(0, 100, 1, 1, 0, "width must be 1..65536");
    failures += check_make_fails(65537, 100, 1, 1, 0, "width");
    failures += check_make_fails(100, -5, 1, 1, 0, "height must be");
    failures += check_make_fails(100, 65537, 1, 1, 0, "height");
    failures += check_make_fails(5, 100, 6, 1, 0, "narrower than 1 pixel");
    failures += check_make_fails(100, 3, 1, 4, 0, "shorter than 1 pixel");
    failures += check_make_fails(100, 100, 2, 2, -1, "margin -1");

    /* Parsing. */
    failures += check_parse("4x4", 4, 4);
    failures += check_parse("1x1", 1, 1);
    failures += check_parse("64x1", 64, 1);
    failures += check_parse("3x64", 3, 64);
    failures += check_parse("007x02", 7, 2);
    static const char *bad[] = { "0x0", "1000x1000", "4x", "x4", "4x4x4", "-1x2", "4 x 4", "", "4X4", "4*4",
                                 "65x1", "1x65", "4x0", "+4x4", "4x4 ", " 4x4", "4", "x", "99999999999999999999x1",
                                 "1x99999999999999999999", "4.0x4", "0x4" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        failures += check_parse(bad[i], 0, 0);

    if (failures) {
        fprintf(stderr, "ts_tileplan: %d check(s) failed\n", failures);
        return -1;
    }
    if (verbose)
        printf("ts_tileplan: ok (%ld plans)\n", plans);
    return 0;
}
