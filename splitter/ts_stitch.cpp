/* ts_stitch: tile images to one float32 ZIP OpenEXR frame, band by band, written atomically. */
#include "splitter/ts_stitch.h"
#include "splitter/ts_image.h"
extern "C" {
#include "lib/ts_error.h" /* a C header without extern "C" guards of its own */
}
#include "tests/ts_test.h"

#include <OpenImageIO/imageio.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#define TILE_FORMAT "exr" /* tiles are float OpenEXR files, read by that reader only */

using OIIO::ImageOutput;
using OIIO::ImageSpec;
using OIIO::TypeDesc;

#define TS_STITCH_FORMAT "openexr"
#define TS_STITCH_COMPRESSION "zip"
#define TS_STITCH_TMP_SUFFIX ".tmp"

namespace {

/* Frame rows [y0, y1) (Blender y, from the bottom) and the tiles whose own rectangles span them. */
struct band {
    int y0, y1;
    std::vector<int> tiles; /* by own.x0, left to right */
};

/* Owns a reader; closes it when it goes. */
struct reader_ptr {
    ts_image_reader_t *r = nullptr;
    reader_ptr() = default;
    reader_ptr(const reader_ptr &) = delete;
    reader_ptr &operator=(const reader_ptr &) = delete;
    reader_ptr(reader_ptr &&o) noexcept : r(o.r) { o.r = nullptr; }
    ~reader_ptr() { ts_image_reader_destroy(&r); }
};

/* Removes the temporary output, once we may have made it, unless it was renamed into place. */
struct tmp_file {
    std::string path;
    bool made = false;
    ~tmp_file()
    {
        if (made)
            std::remove(path.c_str());
    }
};

std::string rect_text(const ts_rect_t &r)
{
    char buf[96];
    std::snprintf(buf, sizeof buf, "x %d..%d, y %d..%d", r.x0, r.x1 - 1, r.y0, r.y1 - 1);
    return buf;
}

/* Checks every rectangle and that the own rectangles partition the frame; returns the bands between
   consecutive own edges, each listing the tiles spanning it, or sets the message and returns false. */
bool plan_bands(const char *out, int width, int height, const ts_tile_t *tiles, int count, std::vector<band> &bands)
{
    const ts_rect_t frame = { 0, 0, width, height };
    std::vector<int> edges = { 0, height };
    for (int i = 0; i < count; i++) {
        const ts_rect_t &o = tiles[i].own, &r = tiles[i].render;
        if (o.x0 >= o.x1 || o.y0 >= o.y1 || !ts_rect_contains(frame, o)) {
            ts_error_set("stitching %s: tile %d: own rectangle %s is empty or outside the %dx%d frame", out, i,
                         rect_text(o).c_str(), width, height);
            return false;
        }
        if (!ts_rect_contains(r, o) || !ts_rect_contains(frame, r)) {
            ts_error_set("stitching %s: tile %d: render rectangle %s must hold its own rectangle %s and lie in "
                         "the %dx%d frame", out, i, rect_text(r).c_str(), rect_text(o).c_str(), width, height);
            return false;
        }
        edges.push_back(o.y0);
        edges.push_back(o.y1);
    }
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    bands.clear();
    for (size_t e = 0; e + 1 < edges.size(); e++) {
        band b{ edges[e], edges[e + 1], {} };
        for (int i = 0; i < count; i++)
            if (tiles[i].own.y0 <= b.y0 && tiles[i].own.y1 >= b.y1) /* edges never cut a tile's own rows */
                b.tiles.push_back(i);
        std::sort(b.tiles.begin(), b.tiles.end(),
                  [tiles](int p, int q) { return tiles[p].own.x0 < tiles[q].own.x0; });
        int x = 0;
        for (size_t k = 0; k <= b.tiles.size(); k++) {
            int next = k < b.tiles.size() ? tiles[b.tiles[k]].own.x0 : width;
            if (next > x) {
                ts_error_set("stitching %s: no tile covers pixels x %d..%d, y %d..%d", out, x, next - 1, b.y0,
                             b.y1 - 1);
                return false;
            }
            if (next < x) {
                ts_error_set("stitching %s: tiles %d and %d overlap at y %d..%d", out, b.tiles[k - 1], b.tiles[k],
                             b.y0, b.y1 - 1);
                return false;
            }
            if (k < b.tiles.size())
                x = tiles[b.tiles[k]].own.x1;
        }
        bands.push_back(std::move(b));
    }
    return true;
}

/* Opens tile i's file and checks it against its render rectangle and the channel count wanted (0: any). */
bool open_tile(const char *out, const ts_tile_t *tiles, const char *const *paths, int i, int want_channels,
               reader_ptr &reader)
{
    if (!(reader.r = ts_image_reader_open_as(paths[i], TILE_FORMAT))) {
        ts_error_prefix("stitching %s: tile %d", out, i);
        return false;
    }
    int w, h, nch;
    ts_image_reader_size(reader.r, &w, &h, &nch);
    const ts_rect_t &r = tiles[i].render;
    if (w != ts_rect_width(r) || h != ts_rect_height(r)) {
        ts_error_set("stitching %s: tile %d: file %s is %dx%d pixels but its render rectangle (%s) is %dx%d", out,
                     i, paths[i], w, h, rect_text(r).c_str(), ts_rect_width(r), ts_rect_height(r));
        return false;
    }
    if (want_channels && nch != want_channels) {
        ts_error_set("stitching %s: tile %d: file %s has %d channels but tile 0 (%s) has %d", out, i, paths[i], nch,
                     paths[0], want_channels);
        return false;
    }
    return true;
}

int stitch(const char *out, int width, int height, const ts_tile_t *tiles, const char *const *paths, int count)
{
    if (width < 1 || width > TS_TILEPLAN_MAX_SIZE || height < 1 || height > TS_TILEPLAN_MAX_SIZE)
        return ts_error_set("stitching %s: frame %dx%d: width and height must be 1..%d", out, width, height,
                            TS_TILEPLAN_MAX_SIZE);
    if (count < 1)
        return ts_error_set("stitching %s: no tiles (count %d)", out, count);
    std::vector<band> bands;
    if (!plan_bands(out, width, height, tiles, count, bands))
        return -1;

    /* Every file checked before anything is written; tile 0 gives the channels. */
    int nch = 0;
    std::vector<std::string> names;
    for (int i = 0; i < count; i++) {
        reader_ptr reader;
        if (!open_tile(out, tiles, paths, i, nch, reader))
            return -1;
        if (i == 0) {
            int w, h;
            ts_image_reader_size(reader.r, &w, &h, &nch);
            for (int c = 0; c < nch; c++)
                names.push_back(ts_image_reader_channel(reader.r, c));
        }
    }

    ImageSpec spec(width, height, nch, TypeDesc::FLOAT);
    spec.channelnames = names;
    for (int c = 0; c < nch; c++)
        if (names[c] == "A" || names[c] == "a" || names[c] == "Alpha" || names[c] == "alpha")
            spec.alpha_channel = c;
    spec.attribute("compression", TS_STITCH_COMPRESSION);
    tmp_file tmp{ std::string(out) + TS_STITCH_TMP_SUFFIX }; /* declared first: goes after the output closes */
    auto output = ImageOutput::create(TS_STITCH_FORMAT);
    if (!output)
        return ts_error_set("stitching %s: no OpenEXR writer: %s", out, OIIO::geterror().c_str());
    tmp.made = true;
    if (!output->open(tmp.path, spec))
        return ts_error_set("stitching %s: cannot write %s: %s", out, tmp.path.c_str(), output->geterror().c_str());

    const size_t row_values = (size_t)width * nch;
    std::vector<float> frame_rows, tile_rows;
    /* Top of the frame first: file row 0 is Blender y = height - 1. */
    for (auto b = bands.rbegin(); b != bands.rend(); ++b) {
        std::vector<reader_ptr> readers(b->tiles.size());
        for (size_t k = 0; k < b->tiles.size(); k++)
            if (!open_tile(out, tiles, paths, b->tiles[k], nch, readers[k]))
                return -1;
        for (int top = b->y1; top > b->y0; top -= TS_STITCH_BAND_ROWS) {
            const int bottom = std::max(b->y0, top - TS_STITCH_BAND_ROWS), rows = top - bottom;
            frame_rows.assign((size_t)rows * row_values, 0.0f);
            for (size_t k = 0; k < b->tiles.size(); k++) {
                const ts_tile_t &t = tiles[b->tiles[k]];
                const int tw = ts_rect_width(t.render), ow = ts_rect_width(t.own);
                tile_rows.resize((size_t)rows * tw * nch);
                /* Blender rows [bottom, top) are file rows [render.y1 - top, render.y1 - bottom). */
                if (ts_image_reader_rows(readers[k].r, t.render.y1 - top, t.render.y1 - bottom, tile_rows.data()))
                    return ts_error_prefix("stitching %s: tile %d", out, b->tiles[k]);
                for (int j = 0; j < rows; j++)
                    std::memcpy(&frame_rows[(size_t)j * row_values + (size_t)t.own.x0 * nch],
                                &tile_rows[((size_t)j * tw + (t.own.x0 - t.render.x0)) * nch],
                                (size_t)ow * nch * sizeof(float));
            }
            if (!output->write_scanlines(height - top, height - bottom, 0, TypeDesc::FLOAT, frame_rows.data()))
                return ts_error_set("stitching %s: writing %s: %s", out, tmp.path.c_str(),
                                    output->geterror().c_str());
        }
    }
    if (!output->close())
        return ts_error_set("stitching %s: finishing %s: %s", out, tmp.path.c_str(), output->geterror().c_str());
    output.reset();
    if (std::rename(tmp.path.c_str(), out) != 0)
        return ts_error_set("stitching %s: renaming %s into place: %s", out, tmp.path.c_str(), std::strerror(errno));
    tmp.made = false;
    return 0;
}

} /* namespace */

extern "C" int ts_stitch_frame(const char *out_path, int width, int height, const ts_tile_t *tiles,
                               const char *const *tile_paths, int count)
{
    assert(out_path && (count <= 0 || (tiles && tile_paths)));
    for (int i = 0; i < count; i++)
        assert(tile_paths[i]);
    try {
        return stitch(out_path, width, height, tiles, tile_paths, count);
    } catch (const std::exception &e) {
        return ts_error_set("stitching %s: %s", out_path, e.what());
    } catch (...) {
        return ts_error_set("stitching %s: unexpected exception", out_path);
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* Self-test.                                                                                           */

namespace {

enum tile_kind { KIND_FLOAT, KIND_HALF, KIND_TILED }; /* how the test stores its tile files */
#define TEST_FILE_TILE 16                             /* tile size of KIND_TILED files */

/* The frame's true value at Blender (x, y), channel c, as raw float bits: a mix that is different for every
   pixel and channel and reaches every kind of float (NaN payloads, infinities, denormals, -0). */
uint32_t truth_bits(int x, int y, int c)
{
    uint32_t h = (uint32_t)x * 0x9E3779B1u ^ (uint32_t)y * 0x85EBCA77u ^ (uint32_t)c * 0xC2B2AE3Du;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

/* Values exact in half precision (integers below 2048), for half tiles. */
float truth_half(int x, int y, int c)
{
    return (float)((x * 7 + y * 13 + c * 3) % 2048) - 1000.0f;
}

float truth(tile_kind kind, int x, int y, int c)
{
    if (kind == KIND_HALF)
        return truth_half(x, y, c);
    uint32_t bits = truth_bits(x, y, c);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

/* What the test puts in a tile's margin: never a frame value, so a margin that leaks shows. */
#define TEST_POISON 12345.0f

bool write_tile(const std::string &path, const ts_tile_t &t, int nch, tile_kind kind, int extra_width = 0)
{
    const int w = ts_rect_width(t.render) + extra_width, h = ts_rect_height(t.render);
    std::vector<float> px((size_t)w * h * nch);
    for (int row = 0; row < h; row++) {
        for (int col = 0; col < w; col++) {
            const int x = t.render.x0 + col, y = t.render.y1 - 1 - row; /* file row 0 is the top */
            const bool own = x >= t.own.x0 && x < t.own.x1 && y >= t.own.y0 && y < t.own.y1;
            for (int c = 0; c < nch; c++)
                px[((size_t)row * w + col) * nch + c] = own ? truth(kind, x, y, c) : TEST_POISON + (float)t.index;
        }
    }
    auto out = ImageOutput::create(path);
    ImageSpec spec(w, h, nch, kind == KIND_HALF ? TypeDesc::HALF : TypeDesc::FLOAT);
    if (kind == KIND_TILED)
        spec.tile_width = spec.tile_height = TEST_FILE_TILE;
    spec.attribute("compression", TS_STITCH_COMPRESSION);
    if (!out || !out->open(path, spec) || !out->write_image(TypeDesc::FLOAT, px.data()) || !out->close()) {
        std::fprintf(stderr, "ts_stitch: writing test tile %s: %s\n", path.c_str(),
                     out ? out->geterror().c_str() : OIIO::geterror().c_str());
        return false;
    }
    return true;
}

uint32_t bits_of(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

bool exists(const std::string &path)
{
    return std::filesystem::exists(path);
}

/* Plans, writes tiles, stitches and checks every output value bit for bit against the truth. */
int check_stitch(const std::string &dir, int w, int h, int cols, int rows, int margin, int nch, tile_kind kind)
{
    int failures = 0;
    ts_tile_t *tiles = nullptr;
    int n = 0;
    if (ts_tileplan_make(w, h, cols, rows, margin, &tiles, &n) != 0) {
        TS_TEST_CHECK(0, "plan %dx%d grid %dx%d: %s", w, h, cols, rows, ts_error());
        return failures;
    }
    std::unique_ptr<ts_tile_t, decltype(&std::free)> own_tiles(tiles, &std::free);
    std::vector<std::string> names;
    std::vector<const char *> paths;
    for (int i = 0; i < n; i++) {
        names.push_back(dir + "/tile" + std::to_string(i) + ".exr");
        if (!write_tile(names.back(), tiles[i], nch, kind)) {
            failures++;
            return failures;
        }
    }
    for (auto &s : names)
        paths.push_back(s.c_str());
    const std::string out = dir + "/frame.exr";
    int rc = ts_stitch_frame(out.c_str(), w, h, tiles, paths.data(), n);
    TS_TEST_CHECK(rc == 0, "%dx%d grid %dx%d margin %d: %s", w, h, cols, rows, margin, ts_error());
    TS_TEST_CHECK(!exists(out + TS_STITCH_TMP_SUFFIX), "%s left behind", (out + TS_STITCH_TMP_SUFFIX).c_str());
    if (rc != 0)
        return failures;

    auto in = OIIO::ImageInput::open(out);
    if (!in) {
        TS_TEST_CHECK(0, "reading back %s: %s", out.c_str(), OIIO::geterror().c_str());
        return failures;
    }
    const ImageSpec &spec = in->spec();
    TS_TEST_CHECK(spec.width == w && spec.height == h && spec.nchannels == nch && spec.format == TypeDesc::FLOAT &&
                      spec.x == 0 && spec.y == 0 && spec.tile_width == 0,
                  "%s: %dx%d+%d+%d, %d channels, %s", out.c_str(), spec.width, spec.height, spec.x, spec.y,
                  spec.nchannels, spec.format.c_str());
    TS_TEST_CHECK(spec.get_string_attribute("compression") == "zip", "%s: compression %s", out.c_str(),
                  spec.get_string_attribute("compression").c_str());
    /* Channel names as the tiles have them: R, G, B(, A) when there are 3 or 4. */
    static const char *rgba[] = { "R", "G", "B", "A" };
    ts_image_reader_t *tile0 = ts_image_reader_new(paths[0]);
    for (int c = 0; tile0 && c < nch && c < spec.nchannels; c++) {
        TS_TEST_CHECK(spec.channelnames[c] == ts_image_reader_channel(tile0, c), "channel %d named %s, tile 0 has %s",
                      c, spec.channelnames[c].c_str(), ts_image_reader_channel(tile0, c));
        TS_TEST_CHECK(nch < 3 || nch > 4 || spec.channelnames[c] == rgba[c], "channel %d named %s", c,
                      spec.channelnames[c].c_str());
    }
    ts_image_reader_destroy(&tile0);
    if (spec.width != w || spec.height != h || spec.nchannels != nch)
        return failures;
    std::vector<float> px((size_t)w * h * nch);
    TS_TEST_CHECK(in->read_image(0, 0, 0, nch, TypeDesc::FLOAT, px.data()), "reading %s: %s", out.c_str(),
                  in->geterror().c_str());
    long wrong = 0;
    for (int row = 0; row < h; row++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < nch; c++) {
                float want = truth(kind, x, h - 1 - row, c), got = px[((size_t)row * w + x) * nch + c];
                if (std::memcmp(&want, &got, sizeof want) != 0 && wrong++ < 3)
                    TS_TEST_CHECK(0, "%dx%d grid %dx%d margin %d: pixel x %d y %d channel %d: %08x, want %08x", w, h,
                                  cols, rows, margin, x, h - 1 - row, c, bits_of(got), bits_of(want));
            }
    TS_TEST_CHECK(wrong == 0, "%dx%d grid %dx%d margin %d: %ld wrong values", w, h, cols, rows, margin, wrong);
    in.reset();
    for (auto &s : names)
        std::filesystem::remove(s);
    std::filesystem::remove(out);
    return failures;
}

/* A hand-checkable orientation: the top tile of a 1x2 grid is white, the bottom black; file row 0 (top)
   must come out white. */
int check_orientation(const std::string &dir)
{
    int failures = 0;
    ts_tile_t *tiles = nullptr;
    int n = 0;
    if (ts_tileplan_make(3, 4, 1, 2, 1, &tiles, &n) != 0) {
        TS_TEST_CHECK(0, "plan: %s", ts_error());
        return failures;
    }
    std::unique_ptr<ts_tile_t, decltype(&std::free)> own_tiles(tiles, &std::free);
    std::string p[2] = { dir + "/bottom.exr", dir + "/top.exr" };
    for (int i = 0; i < 2; i++) {
        /* Render rectangles are 3x3 (2 own rows + 1 margin row); fill all of it with the tile's level. */
        std::vector<float> px(3 * 3, (float)i);
        auto out = ImageOutput::create(p[i]);
        ImageSpec spec(3, 3, 1, TypeDesc::FLOAT);
        TS_TEST_CHECK(out && out->open(p[i], spec) && out->write_image(TypeDesc::FLOAT, px.data()) && out->close(),
                      "writing %s", p[i].c_str());
    }
    const char *paths[2] = { p[0].c_str(), p[1].c_str() };
    std::string out = dir + "/orient.exr";
    TS_TEST_CHECK(ts_stitch_frame(out.c_str(), 3, 4, tiles, paths, 2) == 0, "orientation: %s", ts_error());
    float px[3 * 4];
    auto in = OIIO::ImageInput::open(out);
    TS_TEST_CHECK(in && in->read_image(0, 0, 0, 1, TypeDesc::FLOAT, px), "reading %s", out.c_str());
    TS_TEST_CHECK(px[0] == 1.0f && px[3 * 2 - 1] == 1.0f && px[3 * 2] == 0.0f && px[3 * 4 - 1] == 0.0f,
                  "orientation: rows read %g %g %g %g from the top", px[0], px[3], px[6], px[9]);
    return failures;
}

/* Expects a refusal whose message holds both needles, leaving a prior output untouched. */
int check_fails(const std::string &out, int w, int h, const ts_tile_t *tiles, const char *const *paths, int n,
                const char *needle, const char *needle2)
{
    int failures = 0;
    int rc = ts_stitch_frame(out.c_str(), w, h, tiles, paths, n);
    TS_TEST_CHECK(rc == -1, "accepted (expected \"%s\")", needle);
    TS_TEST_CHECK(std::strstr(ts_error(), needle) && std::strstr(ts_error(), needle2),
                  "message \"%s\" lacks \"%s\" or \"%s\"", ts_error(), needle, needle2);
    TS_TEST_CHECK(!exists(out + TS_STITCH_TMP_SUFFIX), "%s left behind", (out + TS_STITCH_TMP_SUFFIX).c_str());
    return failures;
}

int check_errors(const std::string &dir)
{
    int failures = 0;
    const int w = 11, h = 7, margin = 2, nch = 4;
    ts_tile_t *tiles = nullptr;
    int n = 0;
    if (ts_tileplan_make(w, h, 3, 2, margin, &tiles, &n) != 0) {
        TS_TEST_CHECK(0, "plan: %s", ts_error());
        return failures;
    }
    std::unique_ptr<ts_tile_t, decltype(&std::free)> own_tiles(tiles, &std::free);
    std::vector<std::string> names;
    std::vector<const char *> paths;
    for (int i = 0; i < n; i++) {
        names.push_back(dir + "/e" + std::to_string(i) + ".exr");
        if (!write_tile(names.back(), tiles[i], nch, KIND_FLOAT)) {
            failures++;
            return failures;
        }
    }
    for (auto &s : names)
        paths.push_back(s.c_str());
    /* A previous frame that a failed stitch must leave alone. */
    const std::string out = dir + "/prior.exr";
    if (FILE *f = std::fopen(out.c_str(), "wb")) {
        std::fputs("prior", f);
        std::fclose(f);
    }

    std::string missing = dir + "/missing.exr";
    std::vector<const char *> p = paths;
    p[4] = missing.c_str();
    failures += check_fails(out, w, h, tiles, p.data(), n, missing.c_str(), "tile 4");

    std::string wide = dir + "/wide.exr";
    if (write_tile(wide, tiles[2], nch, KIND_FLOAT, 1)) {
        p = paths;
        p[2] = wide.c_str();
        failures += check_fails(out, w, h, tiles, p.data(), n, wide.c_str(), "render rectangle");
    }
    std::string rgb = dir + "/rgb.exr";
    if (write_tile(rgb, tiles[5], 3, KIND_FLOAT)) {
        p = paths;
        p[5] = rgb.c_str();
        failures += check_fails(out, w, h, tiles, p.data(), n, rgb.c_str(), "3 channels");
    }
    std::string junk = dir + "/junk.exr";
    if (FILE *f = std::fopen(junk.c_str(), "wb")) {
        std::fputs("not an image", f);
        std::fclose(f);
    }
    p = paths;
    p[1] = junk.c_str();
    failures += check_fails(out, w, h, tiles, p.data(), n, junk.c_str(), "tile 1");

    /* A tile whose header reads but whose pixels are cut off fails only while the output is being written:
       the temporary output must go, and the prior output stay. */
    std::string cut = dir + "/cut.exr";
    std::filesystem::copy_file(names[3], cut);
    std::filesystem::resize_file(cut, std::filesystem::file_size(cut) * 2 / 3);
    p = paths;
    p[3] = cut.c_str();
    failures += check_fails(out, w, h, tiles, p.data(), n, cut.c_str(), "tile 3");

    /* Tile lists that do not partition the frame. */
    std::vector<ts_tile_t> bad(tiles, tiles + n);
    failures +=
        check_fails(out, w, h, bad.data(), paths.data(), n - 1, "no tile covers", "x 7..10, y 3..6"); /* no top right */
    bad[1].own.x1 += 1;
    bad[1].render.x1 += 1;
    failures += check_fails(out, w, h, bad.data(), paths.data(), n, "overlap", "tiles 1 and 2");
    bad.assign(tiles, tiles + n);
    bad[3].own.y1 = h + 1;
    failures += check_fails(out, w, h, bad.data(), paths.data(), n, "outside the 11x7 frame", "tile 3");
    bad.assign(tiles, tiles + n);
    bad[0].render.x1 = bad[0].own.x1 - 1;
    failures += check_fails(out, w, h, bad.data(), paths.data(), n, "tile 0", "render rectangle");
    failures += check_fails(out, 0, h, tiles, paths.data(), n, "frame 0x7", "1..65536");
    failures += check_fails(out, w, h, tiles, paths.data(), 0, "no tiles", out.c_str());

    std::FILE *f = std::fopen(out.c_str(), "rb");
    char buf[16] = { 0 };
    TS_TEST_CHECK(f && std::fread(buf, 1, sizeof buf - 1, f) == 5 && std::strcmp(buf, "prior") == 0,
                  "a failed stitch changed %s", out.c_str());
    if (f)
        std::fclose(f);

    /* An output folder that does not exist names the output. */
    std::string nowhere = dir + "/no/such/folder/frame.exr";
    failures += check_fails(nowhere, w, h, tiles, paths.data(), n, nowhere.c_str(), "cannot write");

    /* And the good list still works after all that, replacing the prior file. */
    TS_TEST_CHECK(ts_stitch_frame(out.c_str(), w, h, tiles, paths.data(), n) == 0, "good list: %s", ts_error());
    int iw = 0, ih = 0, ic = 0;
    TS_TEST_CHECK(ts_image_info(out.c_str(), &iw, &ih, &ic) == 0 && iw == w && ih == h && ic == nch, "replaced %s: %s",
                  out.c_str(), ts_error());
    return failures;
}

} /* namespace */

extern "C" int ts_stitch_test(bool verbose)
{
    int failures = 0;
    try {
        std::string base = (std::filesystem::temp_directory_path() / "ts_stitch_test.XXXXXX").string();
        std::vector<char> templ(base.begin(), base.end());
        templ.push_back('\0');
        if (!mkdtemp(templ.data())) {
            std::fprintf(stderr, "ts_stitch: cannot make a temporary folder %s\n", base.c_str());
            return -1;
        }
        std::string dir = templ.data();
        failures += check_stitch(dir, 1, 1, 1, 1, 0, 4, KIND_FLOAT);
        failures += check_stitch(dir, 37, 23, 4, 3, 2, 4, KIND_FLOAT);
        failures += check_stitch(dir, 13, 11, 5, 7, 3, 4, KIND_FLOAT);
        failures += check_stitch(dir, 64, 40, 3, 2, 50, 4, KIND_FLOAT);    /* margin wider than the frame */
        failures += check_stitch(dir, 300, 5, 7, 5, 1, 3, KIND_FLOAT);     /* RGB, one-row tiles */
        failures += check_stitch(dir, 9, 601, 2, 3, 4, 4, KIND_FLOAT);     /* tiles taller than a band */
        failures += check_stitch(dir, 17, 530, 1, 1, 0, 1, KIND_FLOAT);    /* one tile, one channel, several bands */
        failures += check_stitch(dir, 41, 29, 3, 4, 5, 4, KIND_HALF);      /* half tiles as Blender writes by default */
        failures += check_stitch(dir, 53, 70, 2, 3, 6, 4, KIND_TILED);     /* tiled tile files */
        failures += check_orientation(dir);
        failures += check_errors(dir);
        std::filesystem::remove_all(dir);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ts_stitch: exception: %s\n", e.what());
        return -1;
    } catch (...) {
        std::fprintf(stderr, "ts_stitch: unexpected exception\n");
        return -1;
    }
    if (failures) {
        std::fprintf(stderr, "ts_stitch: %d check(s) failed\n", failures);
        return -1;
    }
    if (verbose)
        std::printf("ts_stitch: ok\n");
    return 0;
}
