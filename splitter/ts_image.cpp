/* ts_image: image file facts and pixel comparison with OpenImageIO, behind a C interface. */
#include "splitter/ts_image.h"
extern "C" {
#include "lib/ts_error.h" /* a C header without extern "C" guards of its own */
}
#include "splitter/ts_exrhead.h"
#include "splitter/ts_pnghead.h"
#include "tests/ts_test.h"

#include <OpenImageIO/imageio.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using OIIO::ImageInput;
using OIIO::ImageOutput;
using OIIO::ImageSpec;
using OIIO::TypeDesc;

#define TS_IMAGE_CHUNK_ROWS 64     /* scanlines compared per read, to bound memory on large frames */
#define TS_IMAGE_EXR_HEAD (1 << 20) /* an OpenEXR file's headers must fit in its first MiB */
#define TS_IMAGE_READ_MAX (256ull << 20) /* float bytes one read may need: TS_IMAGE_CHUNK_ROWS rows, or a tile */

struct ts_image_reader {
    std::unique_ptr<ImageInput> in;
    std::string path;
    std::vector<float> scratch; /* whole tile rows, for tiled files */
};

/* The OpenEXR gate: a file that starts like an OpenEXR file is read by an EXR library only when every header
   attribute lies within the file (ts_exrhead), as OpenEXR allocates whatever an attribute claims. 0, or -1 with
   why. Every EXR this project reads (tiles and frames from slaves, artists' images) comes through here. */
static int exr_gate(const char *path)
{
    std::unique_ptr<FILE, int (*)(FILE *)> f(std::fopen(path, "rb"), std::fclose);
    if (!f)
        return 0; /* the reader reports it */
    unsigned char magic[4];
    if (std::fread(magic, 1, sizeof magic, f.get()) != sizeof magic || !ts_exrhead_magic(magic, sizeof magic))
        return 0;
    if (std::fseek(f.get(), 0, SEEK_END) != 0)
        return ts_error_set("image %s: cannot find its size: %s", path, std::strerror(errno));
    const long long size = std::ftell(f.get());
    std::vector<unsigned char> head((size_t)std::min<long long>(std::max(size, 0LL), TS_IMAGE_EXR_HEAD));
    std::rewind(f.get());
    if (std::fread(head.data(), 1, head.size(), f.get()) != head.size())
        return ts_error_set("image %s: read error", path);
    char why[256];
    if (ts_exrhead_check(head.data(), head.size(), size, why, sizeof why) != 0)
        return ts_error_set("image %s: not a sound OpenEXR file: %s", path, why);
    return 0;
}

/* The PNG gate: libpng reads a whole ancillary chunk into memory and inflates compressed ones without a bound, so a
   stranger's PNG passes ts_pnghead first. 0, or -1 with why. */
static int png_gate(const char *path)
{
    std::unique_ptr<FILE, int (*)(FILE *)> f(std::fopen(path, "rb"), std::fclose);
    if (!f)
        return 0; /* the reader reports it */
    char why[256];
    if (ts_pnghead_check(f.get(), why, sizeof why) != 0)
        return ts_error_set("image %s: not a sound PNG file: %s", path, why);
    return 0;
}

static ts_image_reader_t *reader_new(const char *path, const char *format)
{
    if (exr_gate(path) != 0 || png_gate(path) != 0)
        return nullptr;
    std::unique_ptr<ImageInput> in;
    if (format) {
        /* the format's own reader, found by its extension, and no fallback to any other */
        in = ImageInput::create(format);
        ImageSpec opened;
        if (!in) {
            ts_error_set("image %s: no reader for format '%s': %s", path, format, OIIO::geterror().c_str());
            return nullptr;
        }
        if (!in->open(path, opened)) {
            ts_error_set("image %s: cannot read as %s: %s", path, format, in->geterror().c_str());
            return nullptr;
        }
    } else if (!(in = ImageInput::open(path))) {
        ts_error_set("image %s: cannot read: %s", path, OIIO::geterror().c_str());
        return nullptr;
    }
    const ImageSpec &spec = in->spec();
    if (spec.deep || spec.depth != 1) {
        ts_error_set("image %s: %s images are not supported", path, spec.deep ? "deep" : "volume");
        return nullptr;
    }
    if (spec.width < 1 || spec.height < 1 || spec.nchannels < 1) {
        ts_error_set("image %s: empty (%dx%d, %d channels)", path, spec.width, spec.height, spec.nchannels);
        return nullptr;
    }
    /* memory bounds from the header alone, before any pixel is read: a small file may claim a million channels or
       one tile of the whole image, which the readers would allocate */
    const unsigned long long value = sizeof(float) * (unsigned long long)spec.nchannels,
                             row = value * (unsigned long long)spec.width;
    if (row > TS_IMAGE_READ_MAX / TS_IMAGE_CHUNK_ROWS) {
        ts_error_set("image %s: rows of %d pixels x %d channels are too large to read (%llu bytes a row, at most %llu)",
                     path, spec.width, spec.nchannels, row, TS_IMAGE_READ_MAX / TS_IMAGE_CHUNK_ROWS);
        return nullptr;
    }
    if (spec.tile_width > 0 && spec.tile_height > 0) {
        const unsigned long long tile = value * (unsigned long long)spec.tile_width * (unsigned long long)spec.tile_height,
                                 tile_row = row * (unsigned long long)std::min(spec.tile_height, spec.height);
        if (std::max(tile, tile_row) > TS_IMAGE_READ_MAX) {
            ts_error_set("image %s: tiles of %dx%d pixels x %d channels are too large to read (%llu bytes, at most %llu)",
                         path, spec.tile_width, spec.tile_height, spec.nchannels, std::max(tile, tile_row),
                         TS_IMAGE_READ_MAX);
            return nullptr;
        }
    }
    auto self = std::make_unique<ts_image_reader>();
    self->in = std::move(in);
    self->path = path;
    return self.release();
}

extern "C" ts_image_reader_t *ts_image_reader_new(const char *path)
{
    return ts_image_reader_open_as(path, nullptr);
}

extern "C" ts_image_reader_t *ts_image_reader_open_as(const char *path, const char *format)
{
    assert(path);
    try {
        return reader_new(path, format);
    } catch (const std::exception &e) {
        ts_error_set("image %s: %s", path, e.what());
    } catch (...) {
        ts_error_set("image %s: unexpected exception", path);
    }
    return nullptr;
}

extern "C" void ts_image_reader_destroy(ts_image_reader_t **self_p)
{
    assert(self_p);
    delete *self_p; /* ImageInput closes in its destructor, which does not throw */
    *self_p = nullptr;
}

extern "C" void ts_image_reader_size(const ts_image_reader_t *self, int *width, int *height, int *channels)
{
    assert(self && width && height && channels);
    const ImageSpec &spec = self->in->spec();
    *width = spec.width;
    *height = spec.height;
    *channels = spec.nchannels;
}

extern "C" const char *ts_image_reader_channel(const ts_image_reader_t *self, int channel)
{
    assert(self && channel >= 0 && channel < self->in->spec().nchannels);
    const ImageSpec &spec = self->in->spec();
    return (size_t)channel < spec.channelnames.size() ? spec.channelnames[channel].c_str() : "";
}

/* Scanline files read the rows directly. Tiled files must be read along tile boundaries (OIIO 2.4's
   read_scanlines crashes with SIGFPE on tiled OpenEXR), so whole tile rows go through `scratch`. */
static int reader_rows(ts_image_reader_t *self, int y0, int y1, float *pixels)
{
    const ImageSpec &spec = self->in->spec();
    const size_t row_values = (size_t)spec.width * spec.nchannels;
    if (spec.tile_width <= 0 || spec.tile_height <= 0) {
        if (!self->in->read_scanlines(0, 0, spec.y + y0, spec.y + y1, spec.z, 0, spec.nchannels, TypeDesc::FLOAT,
                                      pixels))
            return ts_error_set("image %s: reading rows %d..%d: %s", self->path.c_str(), y0, y1 - 1,
                                self->in->geterror().c_str());
        return 0;
    }
    const int th = spec.tile_height;
    const int t0 = y0 / th * th, t1 = (y1 + th - 1) / th * th < spec.height ? (y1 + th - 1) / th * th : spec.height;
    self->scratch.resize((size_t)(t1 - t0) * row_values);
    if (!self->in->read_tiles(0, 0, spec.x, spec.x + spec.width, spec.y + t0, spec.y + t1, spec.z, spec.z + 1, 0,
                              spec.nchannels, TypeDesc::FLOAT, self->scratch.data()))
        return ts_error_set("image %s: reading rows %d..%d: %s", self->path.c_str(), y0, y1 - 1,
                            self->in->geterror().c_str());
    std::memcpy(pixels, self->scratch.data() + (size_t)(y0 - t0) * row_values,
                (size_t)(y1 - y0) * row_values * sizeof(float));
    return 0;
}

extern "C" int ts_image_reader_rows(ts_image_reader_t *self, int y0, int y1, float *pixels)
{
    assert(self && pixels && 0 <= y0 && y0 < y1 && y1 <= self->in->spec().height);
    try {
        return reader_rows(self, y0, y1, pixels);
    } catch (const std::exception &e) {
        return ts_error_set("image %s: %s", self->path.c_str(), e.what());
    } catch (...) {
        return ts_error_set("image %s: unexpected exception", self->path.c_str());
    }
}

/* Owns the two readers of a comparison. */
struct reader_pair {
    ts_image_reader_t *a = nullptr, *b = nullptr;
    ~reader_pair()
    {
        ts_image_reader_destroy(&a);
        ts_image_reader_destroy(&b);
    }
};

/* Compares b with the window of a at (ox, oy) of b's size (0, 0 and equal sizes: the whole images). */
static int compare(const char *a, const char *b, const char *format, int ox, int oy, bool window, double threshold,
                   ts_pixdiff_t *diff)
{
    if (!(threshold >= 0.0))
        return ts_error_set("comparing %s and %s: threshold %g must be a number >= 0", a, b, threshold);
    reader_pair r;
    if (!(r.a = reader_new(a, format)) || !(r.b = reader_new(b, format)))
        return -1;
    int wa, ha, ca, wb, hb, cb;
    ts_image_reader_size(r.a, &wa, &ha, &ca);
    ts_image_reader_size(r.b, &wb, &hb, &cb);
    if (!window && (wa != wb || ha != hb))
        return ts_error_set("comparing %s and %s: sizes differ (%dx%d vs %dx%d)", a, b, wa, ha, wb, hb);
    if (window && (ox < 0 || oy < 0 || ox > wa - wb || oy > ha - hb))
        return ts_error_set("comparing %s and %s: a %dx%d window at %d,%d does not fit in %dx%d", a, b, wb, hb, ox, oy,
                            wa, ha);
    if (ca != cb)
        return ts_error_set("comparing %s and %s: channel counts differ (%d vs %d)", a, b, ca, cb);
    const int w = wb, h = hb, nch = ca;
    std::vector<float> ba((size_t)wa * nch * TS_IMAGE_CHUNK_ROWS), bb((size_t)w * nch * TS_IMAGE_CHUNK_ROWS);
    ts_pixdiff_init(diff, w, h, nch, threshold);
    for (int y0 = 0; y0 < h; y0 += TS_IMAGE_CHUNK_ROWS) {
        int y1 = y0 + TS_IMAGE_CHUNK_ROWS < h ? y0 + TS_IMAGE_CHUNK_ROWS : h;
        if (reader_rows(r.a, oy + y0, oy + y1, ba.data()) != 0 || reader_rows(r.b, y0, y1, bb.data()) != 0)
            return -1;
        for (int y = 0; y < y1 - y0; y++)
            ts_pixdiff_add(diff, ba.data() + ((size_t)y * wa + ox) * nch, bb.data() + (size_t)y * w * nch, (size_t)w);
    }
    return 0;
}

extern "C" int ts_image_compare(const char *a, const char *b, double threshold, ts_pixdiff_t *diff)
{
    return ts_image_compare_as(a, b, nullptr, threshold, diff);
}

extern "C" int ts_image_compare_as(const char *a, const char *b, const char *format, double threshold,
                                   ts_pixdiff_t *diff)
{
    assert(a && b && diff);
    try {
        return compare(a, b, format, 0, 0, false, threshold, diff);
    } catch (const std::exception &e) {
        return ts_error_set("comparing %s and %s: %s", a, b, e.what());
    } catch (...) {
        return ts_error_set("comparing %s and %s: unexpected exception", a, b);
    }
}

extern "C" int ts_image_compare_window(const char *a, const char *b, const char *format, int ox, int oy,
                                       double threshold, ts_pixdiff_t *diff)
{
    assert(a && b && diff);
    try {
        return compare(a, b, format, ox, oy, true, threshold, diff);
    } catch (const std::exception &e) {
        return ts_error_set("comparing %s and %s: %s", a, b, e.what());
    } catch (...) {
        return ts_error_set("comparing %s and %s: unexpected exception", a, b);
    }
}

extern "C" int ts_image_write(const char *path, int width, int height, int channels, const float *pixels)
{
    assert(path && pixels && width > 0 && height > 0 && channels > 0);
    try {
        auto out = ImageOutput::create(path);
        if (!out)
            return ts_error_set("image %s: %s", path, OIIO::geterror().c_str());
        ImageSpec spec(width, height, channels, TypeDesc::FLOAT);
        if (!out->open(path, spec) || !out->write_image(TypeDesc::FLOAT, pixels) || !out->close())
            return ts_error_set("image %s: %s", path, out->geterror().c_str());
        return 0;
    } catch (const std::exception &e) {
        return ts_error_set("image %s: %s", path, e.what());
    }
}

extern "C" int ts_image_info(const char *path, int *width, int *height, int *channels)
{
    return ts_image_info_as(path, nullptr, width, height, channels);
}

extern "C" int ts_image_info_as(const char *path, const char *format, int *width, int *height, int *channels)
{
    assert(path && width && height && channels);
    ts_image_reader_t *r = ts_image_reader_open_as(path, format);
    if (!r)
        return -1;
    ts_image_reader_size(r, width, height, channels);
    ts_image_reader_destroy(&r);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Self-test.                                                                                           */

#define TEST_TILE_SIZE 16 /* tile size of the tiled EXR variant */

/* Writes top-down float pixels to path in the format its extension names, stored as `format`. */
static bool write_test_image(const std::string &path, int w, int h, int nch, const std::vector<float> &px,
                             TypeDesc format = TypeDesc::FLOAT, bool tiled = false, int origin_x = 0,
                             int origin_y = 0)
{
    auto out = ImageOutput::create(path);
    if (!out) {
        std::fprintf(stderr, "ts_image: cannot create %s: %s\n", path.c_str(), OIIO::geterror().c_str());
        return false;
    }
    ImageSpec spec(w, h, nch, format);
    spec.x = origin_x;
    spec.y = origin_y;
    if (tiled)
        spec.tile_width = spec.tile_height = TEST_TILE_SIZE;
    if (!out->open(path, spec) || !out->write_image(TypeDesc::FLOAT, px.data()) || !out->close()) {
        std::fprintf(stderr, "ts_image: writing %s: %s\n", path.c_str(), out->geterror().c_str());
        return false;
    }
    return true;
}

static std::vector<float> ramp(int w, int h, int nch)
{
    std::vector<float> px((size_t)w * h * nch);
    for (size_t i = 0; i < px.size(); i++)
        px[i] = (float)(i % 1000) * 0.25f - 17.0f; /* exact in float and in 1/4 steps */
    return px;
}

static int test_images(const std::string &dir)
{
    int failures = 0;
    const int w = 7, h = 300, nch = 4; /* h spans several TS_IMAGE_CHUNK_ROWS chunks */
    std::vector<float> a = ramp(w, h, nch);
    std::string pa = dir + "/a.exr", pb = dir + "/b.exr", pt = dir + "/tiled.exr", po = dir + "/origin.exr";
    if (!write_test_image(pa, w, h, nch, a) || !write_test_image(pt, w, h, nch, a, TypeDesc::FLOAT, true) ||
        !write_test_image(po, w, h, nch, a, TypeDesc::FLOAT, false, 10, -3)) {
        failures++;
        return failures;
    }
    int iw = 0, ih = 0, ic = 0;
    TS_TEST_CHECK(ts_image_info(pa.c_str(), &iw, &ih, &ic) == 0 && iw == w && ih == h && ic == nch,
                  "info %s: %d %d %d %s", pa.c_str(), iw, ih, ic, ts_error());

    /* Row ranges, aligned or not to the 16-row tiles, read back as written, from both layouts. */
    static const int ranges[][2] = { { 0, 1 }, { 5, 37 }, { 16, 32 }, { 17, 18 }, { 290, 300 }, { 0, 300 } };
    for (const std::string &path : { pa, pt, po }) {
        ts_image_reader_t *r = ts_image_reader_new(path.c_str());
        TS_TEST_CHECK(r != nullptr, "reader %s: %s", path.c_str(), ts_error());
        if (!r)
            continue;
        TS_TEST_CHECK(std::strcmp(ts_image_reader_channel(r, 0), "R") == 0 &&
                          std::strcmp(ts_image_reader_channel(r, 3), "A") == 0,
                      "%s: channels %s..%s", path.c_str(), ts_image_reader_channel(r, 0),
                      ts_image_reader_channel(r, 3));
        for (const auto &range : ranges) {
            std::vector<float> got((size_t)(range[1] - range[0]) * w * nch);
            TS_TEST_CHECK(
                ts_image_reader_rows(r, range[0], range[1], got.data()) == 0 &&
                    std::memcmp(got.data(), a.data() + (size_t)range[0] * w * nch, got.size() * sizeof(float)) == 0,
                "%s rows %d..%d differ from what was written (%s)", path.c_str(), range[0], range[1], ts_error());
        }
        ts_image_reader_destroy(&r);
        TS_TEST_CHECK(r == nullptr, "destroy did not clear the pointer");
    }

    ts_pixdiff_t d;
    for (const std::string &same : { pa, pt, po }) {
        std::memset(&d, 0xff, sizeof d);
        TS_TEST_CHECK(ts_image_compare(pa.c_str(), same.c_str(), 0.0, &d) == 0 && d.width == w && d.height == h &&
                          d.channels == nch && d.pixels_over == 0 && d.max_abs_diff == 0.0,
                      "%s vs %s: over %ld max %g (%s)", pa.c_str(), same.c_str(), d.pixels_over, d.max_abs_diff,
                      ts_error());
    }

    /* A window: a part of a cut from the ramp matches there and only there; it must fit. */
    {
        const int ox = 2, oy = 140, ww = 4, wh = 33; /* crosses a 16-row chunk and the tiled file's tiles */
        std::vector<float> part((size_t)ww * wh * nch);
        for (int y = 0; y < wh; y++)
            std::memcpy(part.data() + (size_t)y * ww * nch, a.data() + ((size_t)(oy + y) * w + ox) * nch,
                        (size_t)ww * nch * sizeof(float));
        std::string pw = dir + "/window.exr";
        if (write_test_image(pw, ww, wh, nch, part)) {
            for (const std::string &whole : { pa, pt, po })
                TS_TEST_CHECK(ts_image_compare_window(whole.c_str(), pw.c_str(), "exr", ox, oy, 0.0, &d) == 0 &&
                                  d.width == ww && d.height == wh && d.pixels_over == 0 && d.max_abs_diff == 0.0,
                              "window of %s: over %ld (%s)", whole.c_str(), d.pixels_over, ts_error());
            TS_TEST_CHECK(ts_image_compare_window(pa.c_str(), pw.c_str(), "exr", ox + 1, oy, 0.0, &d) == 0 &&
                              d.pixels_over > 0,
                          "a window one column off matches");
            TS_TEST_CHECK(ts_image_compare_window(pa.c_str(), pw.c_str(), "exr", w - ww + 1, oy, 0.0, &d) == -1 &&
                              std::strstr(ts_error(), "does not fit"),
                          "a window past the right edge: %s", ts_error());
            TS_TEST_CHECK(ts_image_compare_window(pa.c_str(), pw.c_str(), "exr", ox, -1, 0.0, &d) == -1,
                          "a window above the top");
            TS_TEST_CHECK(ts_image_compare_window(pa.c_str(), pw.c_str(), "exr", 0, h - wh, 0.0, &d) == 0,
                          "a window at the bottom edge: %s", ts_error());
        } else
            failures++;
    }

    /* Known perturbations, exact in binary: 0.5 and -0.25 exceed 0.125, 0.125 itself does not. */
    const double threshold = 0.125;
    std::vector<float> b = a;
    b[((size_t)0 * w + 0) * nch + 0] += 0.5f;
    b[((size_t)150 * w + 3) * nch + 3] -= 0.25f;
    b[((size_t)299 * w + 6) * nch + 1] += 0.125f; /* last pixel row: the final partial chunk */
    b[((size_t)299 * w + 6) * nch + 2] += 0.0625f;
    if (write_test_image(pb, w, h, nch, b)) {
        TS_TEST_CHECK(ts_image_compare(pa.c_str(), pb.c_str(), threshold, &d) == 0 && d.pixels_over == 2 &&
                          d.max_abs_diff == 0.5,
                      "perturbed: over %ld max %g", d.pixels_over, d.max_abs_diff);
        TS_TEST_CHECK(ts_image_compare(pb.c_str(), pt.c_str(), 0.0, &d) == 0 && d.pixels_over == 3 &&
                          d.max_abs_diff == 0.5,
                      "perturbed vs tiled, threshold 0: over %ld max %g", d.pixels_over, d.max_abs_diff);
        TS_TEST_CHECK(ts_image_compare(pa.c_str(), pb.c_str(), 1.0, &d) == 0 && d.pixels_over == 0,
                      "threshold 1: over %ld", d.pixels_over);
    } else {
        failures++;
    }

    /* NaN and infinity rules. */
    std::vector<float> n1 = a, n2 = a;
    n1[0] = n2[0] = NAN;
    n1[1] = n2[1] = INFINITY;
    n1[nch] = n2[nch] = -INFINITY; /* pixel 1; NaN and +inf are in pixel 0 */
    std::string pn1 = dir + "/n1.exr", pn2 = dir + "/n2.exr";
    if (write_test_image(pn1, w, h, nch, n1) && write_test_image(pn2, w, h, nch, n2)) {
        TS_TEST_CHECK(ts_image_compare(pn1.c_str(), pn2.c_str(), 0.0, &d) == 0 && d.pixels_over == 0 &&
                          d.max_abs_diff == 0,
                      "same NaN/inf: over %ld max %g", d.pixels_over, d.max_abs_diff);
        TS_TEST_CHECK(ts_image_compare(pn1.c_str(), pa.c_str(), 1e9, &d) == 0 && d.pixels_over == 2 &&
                          std::isinf(d.max_abs_diff),
                      "NaN/inf vs numbers: over %ld max %g", d.pixels_over, d.max_abs_diff);
    } else {
        failures++;
    }

    /* Another format: 8-bit PNG values k decode as k/255. */
    const int pw = 5, ph = 3, pch = 3;
    std::vector<float> p8((size_t)pw * ph * pch);
    for (size_t i = 0; i < p8.size(); i++)
        p8[i] = (float)((i * 37) % 256) / 255.0f;
    std::string pp = dir + "/p.png", pe = dir + "/p.exr";
    if (write_test_image(pp, pw, ph, pch, p8, TypeDesc::UINT8) && write_test_image(pe, pw, ph, pch, p8)) {
        TS_TEST_CHECK(ts_image_info(pp.c_str(), &iw, &ih, &ic) == 0 && iw == pw && ih == ph && ic == pch,
                      "info %s: %d %d %d %s", pp.c_str(), iw, ih, ic, ts_error());
        TS_TEST_CHECK(ts_image_compare(pp.c_str(), pe.c_str(), 1e-6, &d) == 0 && d.pixels_over == 0 &&
                          d.max_abs_diff < 1e-6,
                      "png vs exr: over %ld max %g (%s)", d.pixels_over, d.max_abs_diff, ts_error());
        /* Refusals: size and channels differ. */
        TS_TEST_CHECK(ts_image_compare(pa.c_str(), pp.c_str(), 0.0, &d) == -1 &&
                          std::strstr(ts_error(), "sizes differ") && std::strstr(ts_error(), pa.c_str()) &&
                          std::strstr(ts_error(), pp.c_str()),
                      "size mismatch: %s", ts_error());
    } else {
        failures++;
    }
    std::string p3 = dir + "/rgb.exr";
    if (write_test_image(p3, w, h, 3, ramp(w, h, 3)))
        TS_TEST_CHECK(ts_image_compare(pa.c_str(), p3.c_str(), 0.0, &d) == -1 &&
                          std::strstr(ts_error(), "channel counts") && std::strstr(ts_error(), "4 vs 3"),
                      "channel mismatch: %s", ts_error());
    else
        failures++;

    std::string missing = dir + "/missing.exr";
    TS_TEST_CHECK(ts_image_compare(pa.c_str(), missing.c_str(), 0.0, &d) == -1 &&
                      std::strstr(ts_error(), missing.c_str()),
                  "missing file: %s", ts_error());
    TS_TEST_CHECK(ts_image_info(missing.c_str(), &iw, &ih, &ic) == -1 && std::strstr(ts_error(), missing.c_str()),
                  "info on missing file: %s", ts_error());
    std::string junk = dir + "/junk.exr";
    if (FILE *f = std::fopen(junk.c_str(), "wb")) {
        std::fputs("not an image", f);
        std::fclose(f);
    }
    TS_TEST_CHECK(ts_image_info(junk.c_str(), &iw, &ih, &ic) == -1 && std::strstr(ts_error(), junk.c_str()),
                  "info on junk: %s", ts_error());
    /* the OpenEXR gate: a 27-byte file whose one header attribute claims 2 GB is refused before OpenEXR allocates
       it, whichever way it is opened */
    {
        std::string big = dir + "/claims.exr";
        const unsigned char bytes[] = {0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0, 'o', 'w', 'n', 'e', 'r', 0, 's', 't',
                                       'r', 'i', 'n', 'g', 0, 0x00, 0x00, 0x00, 0x80, 'x', 0};
        if (FILE *f = std::fopen(big.c_str(), "wb")) {
            std::fwrite(bytes, 1, sizeof bytes, f);
            std::fclose(f);
        }
        for (const char *format : {"openexr", "exr", (const char *)nullptr})
            TS_TEST_CHECK(ts_image_info_as(big.c_str(), format, &iw, &ih, &ic) == -1 &&
                              std::strstr(ts_error(), "not a sound OpenEXR file") &&
                              std::strstr(ts_error(), "'owner' claims 2147483648 bytes"),
                          "EXR claiming 2 GB as %s: %s", format ? format : "any", ts_error());
    }
    /* a tiled file whose tiles claim 8192x8192 pixels is refused from its header, before a tile is read */
    {
        std::string tiled = dir + "/bigtiles.exr";
        std::vector<char> bytes;
        if (write_test_image(tiled, w, h, nch, a, TypeDesc::FLOAT, true)) {
            std::ifstream in(tiled, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        const char tag[] = "tiles\0tiledesc"; /* name, type, then a 4-byte size, then x and y sizes (uint32 LE) */
        auto at = std::search(bytes.begin(), bytes.end(), tag, tag + sizeof tag);
        TS_TEST_CHECK(at != bytes.end(), "no tile description in %s", tiled.c_str());
        if (at != bytes.end()) {
            const size_t off = (size_t)(at - bytes.begin()) + sizeof tag + 4;
            for (size_t k = 0; k < 8; k++)
                bytes[off + k] = (char)(k % 4 == 1 ? 0x20 : 0); /* 8192 = 0x2000, twice */
            std::ofstream(tiled, std::ios::binary).write(bytes.data(), (std::streamsize)bytes.size());
            TS_TEST_CHECK(ts_image_info_as(tiled.c_str(), "openexr", &iw, &ih, &ic) == -1 &&
                              std::strstr(ts_error(), "tiles of 8192x8192 pixels"),
                          "8192x8192 tiles: %s", ts_error());
        }
    }
    /* read as one format only: a PNG is no EXR, an unknown format is named */
    {
        int fw = 0, fh = 0, fc = 0;
        std::string png = dir + "/as.png";
        std::vector<float> px(4 * 3 * 3, 0.5f);
        TS_TEST_CHECK(ts_image_write(png.c_str(), 4, 3, 3, px.data()) == 0, "write %s: %s", png.c_str(), ts_error());
        TS_TEST_CHECK(ts_image_info_as(png.c_str(), "png", &fw, &fh, &fc) == 0 && fw == 4 && fh == 3 && fc == 3,
                      "png as png: %s", ts_error());
        TS_TEST_CHECK(ts_image_info_as(png.c_str(), "exr", &fw, &fh, &fc) == -1 && std::strstr(ts_error(), "as exr"),
                      "png as exr accepted: %s", ts_error());
        TS_TEST_CHECK(ts_image_info_as(png.c_str(), "nosuchformat", &fw, &fh, &fc) == -1 &&
                          std::strstr(ts_error(), "nosuchformat"),
                      "unknown format: %s", ts_error());
        TS_TEST_CHECK(ts_image_compare_as(png.c_str(), png.c_str(), "png", 0.0, &d) == 0 && d.pixels_differ == 0,
                      "compare as png: %s", ts_error());
        for (const char *ext : {"jpg", "tif", "exr"}) { /* formats named by their extension, as Blender's */
            std::string f = dir + "/as." + ext;
            TS_TEST_CHECK(ts_image_write(f.c_str(), 4, 3, 3, px.data()) == 0 &&
                              ts_image_info_as(f.c_str(), ext, &fw, &fh, &fc) == 0 && fw == 4 && fh == 3,
                          "%s as %s: %s", f.c_str(), ext, ts_error());
        }
    }
    TS_TEST_CHECK(ts_image_compare(pa.c_str(), pa.c_str(), -1.0, &d) == -1 && std::strstr(ts_error(), "threshold"),
                  "negative threshold: %s", ts_error());
    TS_TEST_CHECK(ts_image_compare(pa.c_str(), pa.c_str(), NAN, &d) == -1, "NaN threshold accepted");
    return failures;
}

extern "C" int ts_image_test(bool verbose)
{
    int failures = 0;
    try {
        std::string base = (std::filesystem::temp_directory_path() / "ts_image_test.XXXXXX").string();
        std::vector<char> templ(base.begin(), base.end());
        templ.push_back('\0');
        if (!mkdtemp(templ.data())) {
            std::fprintf(stderr, "ts_image: cannot make a temporary folder %s\n", base.c_str());
            return -1;
        }
        std::string dir = templ.data();
        failures += test_images(dir);
        std::filesystem::remove_all(dir);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ts_image: exception: %s\n", e.what());
        return -1;
    } catch (...) {
        std::fprintf(stderr, "ts_image: unexpected exception\n");
        return -1;
    }
    if (failures) {
        std::fprintf(stderr, "ts_image: %d check(s) failed\n", failures);
        return -1;
    }
    if (verbose)
        std::printf("ts_image: ok\n");
    return 0;
}
