# tessera persistent Blender worker: serves probe/tile/finish JSON-line requests on fds 3 (in) / 4 (out).
"""
Started by the slave (one process, many requests):

  blender -b -Y --factory-startup -noaudio --python-exit-code 1 \
          --python blender_worker.py -- --cmd-fd 3 --reply-fd 4

One JSON request per line on --cmd-fd, exactly one JSON reply per line on --reply-fd
(flushed after each). Blender's own output stays on stdout/stderr. EOF on the command
fd or {"op":"quit"} ends the process with status 0. Any failure inside a request is
answered {"ok":false,"error":...} (plus "input_error":true when the scene itself is
unusable) and the worker keeps serving. See docs/blender-notes.md for the protocol,
the tiling exactness findings and the measured costs.
"""
import json
import math
import os
import re
import struct
import sys
import time
import traceback

import bpy


class RequestError(Exception):
    """A request that cannot be served. input_error marks problems of the scene itself."""

    def __init__(self, msg, input_error=False):
        Exception.__init__(self, msg)
        self.input_error = input_error


# --------------------------------------------------------------------------- helpers

def _int(req, key, lo=None, hi=None):
    v = req.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise RequestError("%r must be an integer" % key)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise RequestError("%r out of range: %d" % (key, v))
    return v


def _path(req, key):
    v = req.get(key)
    if not isinstance(v, str) or not v:
        raise RequestError("%r must be a non-empty path string" % key)
    return os.path.abspath(v)


def effective_size(scene):
    """Pixel size exactly as Blender computes it: (size * xsch) / 100 in integers."""
    r = scene.render
    return (r.resolution_x * r.resolution_percentage) // 100, \
           (r.resolution_y * r.resolution_percentage) // 100


def _f32(x):
    """Round a Python float to IEEE float32 (what RNA stores and C multiplies with)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _truncates_to(frac, n, p):
    """Does Blender's (int)(border * winx), computed in float32, give pixel edge p?
    (The double product of two float32 values is exact, so rounding it once to float32
    gives exactly the float32 product.)"""
    return int(_f32(_f32(frac) * _f32(float(n)))) == p


def edge_to_frac(p, n):
    """Float border fraction for pixel edge p of an n pixel axis (0 <= p <= n)."""
    if p <= 0:
        return 0.0
    if p >= n:
        return 1.0
    return _f32((p + 0.5) / n)


ADAPTIVE_STEP = 16  # Cycles 3.x Integrator::get_adaptive_sampling()
MAX_SAMPLES = 1 << 24  # Cycles' own bound on scene.cycles.samples


def adaptive_tile_margin(scene):
    """Pixels of margin that make a bordered Cycles render identical to the whole frame.

    Cycles' adaptive sampling checks convergence every ADAPTIVE_STEP samples once past
    min_samples and then dilates the "not converged" flags by one pixel (3x3). A pixel
    at the edge of a border render misses its outside neighbours, so after k filter
    passes the difference can have travelled k-1 pixels inwards; only passes followed
    by more samples matter. Rendering each tile with this many extra pixels on every
    inner side (cropped by the stitcher) is therefore exact. 0 when adaptive sampling
    is off or never reaches its first filter pass. Mirrors Cycles 3.4's integrator.cpp.
    """
    cyc = getattr(scene, "cycles", None)
    if scene.render.engine != "CYCLES" or cyc is None or not cyc.use_adaptive_sampling:
        return 0
    samples = int(cyc.samples)
    if samples <= 0:
        return 0
    thr = _f32(cyc.adaptive_threshold)
    if thr == 0.0:
        thr = max(_f32(0.001), _f32(1.0 / samples))
    if thr > 0 and cyc.adaptive_min_samples == 0:
        min_samples = max(4, int(math.ceil(_f32(16.0 / _f32(thr ** 0.3)))))
    else:
        min_samples = max(4, int(cyc.adaptive_min_samples))
    # min_samples - 1: stay on the safe side of a float rounding difference with powf().
    first = max(4, min_samples - 1) + 1 | (ADAPTIVE_STEP - 1)  # first sample index that filters
    if first > samples - 1:
        return 0
    return (samples - 1 - first) // ADAPTIVE_STEP + 1  # filter passes (one too many at worst)


class Patch(object):
    """Set attributes and remember the old values so they can be restored (LIFO)."""

    def __init__(self):
        self.saved = []
        self.keys = set()

    def save(self, obj, *attrs):
        """Remember values before anything is changed (some setters change other fields)."""
        for attr in attrs:
            key = (obj.as_pointer(), attr)
            if key not in self.keys:
                self.keys.add(key)
                self.saved.append((obj, attr, getattr(obj, attr)))

    def set(self, obj, attr, value):
        self.save(obj, attr)
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)

    def restore(self):
        # Backwards first, then forwards again: some values are only valid in the right
        # order (e.g. color_depth "8" is refused while file_format is still OPEN_EXR).
        items = self.saved
        self.saved = []
        self.keys = set()
        for obj, attr, old in list(reversed(items)) + items:
            try:
                if getattr(obj, attr) != old:
                    setattr(obj, attr, old)
            except Exception:
                pass


def exr_info(path):
    """(width, height, {channel: pixel_type}) from an OpenEXR header (dataWindow)."""
    with open(path, "rb") as f:
        head = f.read(65536)
    if head[:4] != b"\x76\x2f\x31\x01":
        raise RequestError("written file is not OpenEXR: %s" % path)
    pos = 8
    dw = None
    chans = {}

    def cstr(p):
        e = head.index(b"\0", p)
        return head[p:e].decode("latin-1"), e + 1

    while True:
        name, pos = cstr(pos)
        if name == "":
            break
        typ, pos = cstr(pos)
        size = int.from_bytes(head[pos:pos + 4], "little")
        pos += 4
        val = head[pos:pos + size]
        pos += size
        if name == "dataWindow" and typ == "box2i":
            xs = [int.from_bytes(val[i:i + 4], "little", signed=True) for i in range(0, 16, 4)]
            dw = xs
        elif name == "channels" and typ == "chlist":
            q = 0
            while q < len(val) and val[q] != 0:
                e = val.index(b"\0", q)
                cname = val[q:e].decode("latin-1")
                ptype = int.from_bytes(val[e + 1:e + 5], "little")
                chans[cname] = ptype
                q = e + 1 + 16
    if dw is None:
        raise RequestError("EXR without dataWindow: %s" % path)
    return dw[2] - dw[0] + 1, dw[3] - dw[1] + 1, chans


def _tmp_name(out, ext):
    d = os.path.dirname(out) or "."
    if not os.path.isdir(d):
        raise RequestError("output directory does not exist: %s" % d)
    # No '#' and a fixed extension, so Blender writes exactly this name; renamed afterwards.
    return os.path.join(d, ".tessera-%d-%d.%s" % (os.getpid(), int(time.time() * 1e6) % 10**12, ext))


# --------------------------------------------------------------------------- external files

def _under(path, base_dir):
    """Blender's "//" paths are relative to base_dir; anything else is used as it is."""
    return os.path.normpath(os.path.join(base_dir, path[2:]) if path.startswith("//") else path)


def _frames_regex(name):
    """The files of a numbered sequence (the last digits before the extension are the frame
    number, as Blender decodes them) or of a UDIM set (<UDIM> / <UVTILE> token) named like name."""
    if "<UDIM>" in name or "<UVTILE>" in name:
        rx = re.escape(name).replace(re.escape("<UDIM>"), r"\d{4}").replace(re.escape("<UVTILE>"), r"u\d+_v\d+")
    else:
        dot = name.rfind(".")
        stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
        m = re.match(r"^(.*?)(\d+)(\D*)$", stem)
        rx = re.escape(m.group(1)) + r"\d+" + re.escape(m.group(3) + ext) if m else re.escape(name)
    return re.compile("^" + rx + "$")


def _project(req):
    """(project_root, project_dir) of a job laid out as the artist's project, or None."""
    root, pdir = req.get("project_root"), req.get("project_dir")
    if root is None and pdir is None:
        return None
    if not isinstance(root, str) or not root.startswith("/"):
        raise RequestError("'project_root' must be an absolute path string")
    pdir = _path(req, "project_dir")
    if not os.path.isdir(pdir):
        raise RequestError("project_dir is not a folder: %s" % pdir)
    return "/" + os.path.normpath(root).lstrip("/"), os.path.normpath(pdir)


class Externals(object):
    """The files outside the .blend that the loaded scene reads (the same datablocks the CLI's
    tessera-deps.py lists): moved into the job folder (project jobs) and checked on disk.

    Blender 3.4 keeps every relative Library.filepath relative to the MAIN file (also for
    libraries linked through other libraries), and a linked datablock's "//" paths relative to
    its own library's file."""

    def __init__(self, project=None):
        self.root, self.pdir = project if project else (None, None)
        self.main = os.path.normpath(bpy.data.filepath)
        self.orig = {}  # path as rewritten -> path as the .blend stored it

    def base_dir(self, id_):
        lib = None if isinstance(id_, bpy.types.Library) else id_.library
        return os.path.dirname(_under(lib.filepath, os.path.dirname(self.main)) if lib else self.main)

    def refs(self):
        """(datablock, struct, attribute, need, kind): getattr(struct, attribute) is a stored path;
        need: "file", "seq" (a frame of it), "udim" (a tile of it), "dir" (a baked cache folder)
        or "" (may be absent). struct None: attribute is the absolute folder itself."""
        d = bpy.data
        for lib in d.libraries:
            if lib.packed_file is None:
                yield lib, lib, "filepath", "file", "library"
        for im in d.images:
            if im.packed_file is None and not len(im.packed_files) and im.source in ("FILE", "SEQUENCE", "TILED", "MOVIE"):
                yield im, im, "filepath", {"SEQUENCE": "seq", "TILED": "udim"}.get(im.source, "file"), "image"
        for cf in d.cache_files:
            yield cf, cf, "filepath", "seq" if cf.is_sequence else "file", "cache file"
            for layer in cf.layers:
                yield cf, layer, "filepath", "file", "cache file layer"
        for v in d.volumes:
            if v.packed_file is None:
                yield v, v, "filepath", "seq" if v.is_sequence else "file", "volume"
        for snd in d.sounds:
            if snd.packed_file is None:
                yield snd, snd, "filepath", "file", "sound"
        for f in d.fonts:
            if f.packed_file is None and f.filepath != "<builtin>":
                yield f, f, "filepath", "file", "font"
        for mc in d.movieclips:
            yield mc, mc, "filepath", "seq" if mc.source == "SEQUENCE" else "file", "movie clip"
        caches = []
        for ob in d.objects:
            caches += [(ob, ps.point_cache) for ps in ob.particle_systems]
            for md in ob.modifiers:
                if md.type in ("CLOTH", "SOFT_BODY"):
                    caches.append((ob, md.point_cache))
                elif md.type == "DYNAMIC_PAINT" and md.canvas_settings:
                    caches += [(ob, sf.point_cache) for sf in md.canvas_settings.canvas_surfaces]
                elif md.type == "FLUID" and md.fluid_type == "DOMAIN" and md.domain_settings:
                    ds = md.domain_settings
                    yield ob, ds, "cache_directory", "dir" if ds.has_cache_baked_any else "", "fluid cache"
                elif md.type == "OCEAN":
                    yield ob, md, "filepath", "dir" if md.is_cached else "", "ocean cache"
                elif md.type == "MESH_CACHE":
                    yield ob, md, "filepath", "file", "mesh cache"
        caches += [(sc, sc.rigidbody_world.point_cache) for sc in d.scenes if sc.rigidbody_world]
        for owner, pcs in caches:
            for pc in pcs.point_caches:
                if pc.use_external:
                    yield owner, pc, "filepath", "dir" if pc.is_baked else "", "point cache"
                elif pc.use_disk_cache and pc.is_baked:  # //blendcache_<blend name>/ of its file
                    lib = owner.library if pc.use_library_path else None
                    blend = _under(lib.filepath, os.path.dirname(self.main)) if lib else self.main
                    name = os.path.basename(blend)
                    folder = os.path.join(os.path.dirname(blend), "blendcache_" + (name[:-6] if len(name) > 6 else name))
                    yield owner, None, folder, "dir", "point cache"
        for coll in (d.materials, d.worlds, d.lights, d.node_groups):
            for id_ in coll:
                tree = id_ if isinstance(id_, bpy.types.NodeTree) else id_.node_tree
                for node in (tree.nodes if tree else ()):
                    if node.bl_idname in ("ShaderNodeTexIES", "ShaderNodeScript") and node.mode == "EXTERNAL":
                        yield id_, node, "filepath", "file", "IES light" if node.type == "TEX_IES" else "script"

    def target(self, id_, path):
        """Where path (as stored in id_) is laid out in the job folder, None if it resolves there
        already. The job folder mirrors project_root; other files are under _outside/<abs path>."""
        base = self.base_dir(id_)
        natural = _under(path, base)
        artist = path
        if path.startswith("//"):  # resolve against the holder's place on the artist's machine
            rel = os.path.relpath(base, self.pdir)
            if rel == ".." or rel.startswith("../"):
                return None  # a holder outside the job folder: nothing to translate
            if rel == "_outside" or rel.startswith("_outside/"):
                abase = "/" + rel[len("_outside"):].lstrip("/")
            else:
                abase = os.path.normpath(os.path.join(self.root, rel))
            artist = _under(path, abase)
        elif not os.path.isabs(path):  # Blender opens it relative to its working folder: taken as the
            # artist's main .blend folder (as tessera-deps.py does), i.e. the scene's place under project_root
            rel = os.path.relpath(os.path.dirname(self.main), self.pdir)
            abase = os.path.normpath(os.path.join(self.root, rel)) if not (rel == ".." or rel.startswith("../")) \
                else os.path.dirname(self.main)
            artist = os.path.join(abase, path)
        artist = os.path.normpath(artist)
        r = self.root.rstrip("/")
        if artist == self.root or artist.startswith(r + "/"):
            new = os.path.normpath(os.path.join(self.pdir, artist[len(r):].lstrip("/")))
        else:
            new = self.pdir + "/_outside" + artist
        if new == natural:
            return None
        return new + "/" if path.endswith("/") else new

    def move(self, id_, obj, attr):
        path = getattr(obj, attr)
        if not path or path in self.orig:
            return False
        new = self.target(id_, path)
        if new is None:
            return False
        setattr(obj, attr, new)
        self.orig[new] = path
        return True

    def remap(self):
        """Point every path into the job folder. Libraries first: each reload brings fresh linked
        data (and maybe libraries nested in it), whose paths are remapped afterwards."""
        for _ in range(1000):
            moved = [lib for lib in bpy.data.libraries
                     if lib.packed_file is None and self.move(lib, lib, "filepath")]
            for lib in moved:
                if os.path.isfile(_under(lib.filepath, os.path.dirname(self.main))):
                    try:
                        lib.reload()
                    except RuntimeError as e:  # unreadable: the missing-file check names it
                        sys.stderr.write("blender_worker: cannot reload library %s: %s\n" % (lib.filepath, e))
            if not moved:
                break
        for id_, obj, attr, need, kind in self.refs():
            if obj is not None and not isinstance(id_, bpy.types.Library):
                self.move(id_, obj, attr)

    def missing(self):
        """Descriptions of the needed files that are not on disk."""
        out, seen, dirs = [], set(), {}
        for id_, obj, attr, need, kind in self.refs():
            if not need:
                continue
            stored = attr if obj is None else getattr(obj, attr)
            if not stored:
                continue
            path = stored if obj is None else _under(stored, self.base_dir(id_))
            if path in seen or (kind == "library" and path == self.main):
                continue  # a library cycle back to the main file: Blender uses the main's own data
            seen.add(path)
            if need == "file":
                ok = os.path.isfile(path)
            elif need == "dir":
                ok = os.path.isdir(path)
            else:  # a numbered sequence or a UDIM set: any frame / tile of it will do
                folder, name = os.path.split(path)
                if folder not in dirs:
                    try:
                        dirs[folder] = os.listdir(folder)
                    except OSError:
                        dirs[folder] = []
                rx = _frames_regex(name)
                ok = any(rx.match(n) for n in dirs[folder])
            if not ok:
                orig = self.orig.get(stored, stored)
                what = "%s %s'%s'" % (kind, "of " if obj is not id_ and kind != "cache file layer" else "", id_.name_full)
                out.append("%s (%s)" % (orig, what) if orig == stored else "%s (%s; looked for %s)" % (orig, what, stored))
        return out


# --------------------------------------------------------------------------- worker

class Worker(object):
    def __init__(self):
        self.key = None        # (path, mtime_ns, size, ino) of the loaded scene
        self.info = None       # probe answer computed right after loading (pristine settings)
        self.fingerprint = None
        self.loads = 0

    # ---- scene loading
    def scene(self):
        return bpy.context.scene

    def load(self, path, req=None):
        """Load the scene once (kept between requests). Project jobs (project_root and
        project_dir) get their external paths pointed into the job folder; then every external
        file the scene needs must exist unless allow_missing (no silent magenta renders)."""
        req = req or {}
        project = _project(req)
        allow_missing = req.get("allow_missing")
        allow_missing = False if allow_missing is None else allow_missing
        if not isinstance(allow_missing, bool):
            raise RequestError("'allow_missing' must be true or false")
        try:
            st = os.stat(path)
        except OSError as e:
            raise RequestError("cannot read scene: %s" % e.strerror, input_error=True)
        key = (path, st.st_mtime_ns, st.st_size, st.st_ino, project, allow_missing)
        if key == self.key:
            return self.scene()
        self.key = None
        self.info = None
        try:
            bpy.ops.wm.open_mainfile(filepath=path, load_ui=False, use_scripts=False)
        except Exception as e:
            msg = str(e).strip()
            if msg.startswith("Error: "):
                msg = msg[len("Error: "):]
            raise RequestError("cannot read scene: %s" % msg, input_error=True)
        self.loads += 1
        scene = self.scene()
        if scene is None:
            raise RequestError("cannot read scene: file has no scene", input_error=True)
        _refuse_scripts()
        ext = Externals(project)
        if project:
            ext.remap()  # in memory only: the .blend on disk is never written
        missing = ext.missing()
        if missing:
            more = len(missing) - 20
            text = ", ".join(missing[:20]) + (" and %d more" % more if more > 0 else "")
            if not allow_missing:
                raise RequestError("missing files: " + text, input_error=True)
            sys.stderr.write("blender_worker: rendering without (allowed) missing files: %s\n" % text)
        self.info = self.describe(scene)
        # Keep the engine (BVH, images) alive from tile to tile.
        scene.render.use_persistent_data = True
        self.fingerprint = self.settings_fingerprint(scene)
        self.key = key
        return scene

    @staticmethod
    def settings_fingerprint(scene):
        """Everything a request may touch; must be unchanged after each request."""
        r, im = scene.render, scene.render.image_settings
        vals = [scene.name, scene.frame_start, scene.frame_end, scene.frame_step, scene.use_nodes]
        for obj, names in (
                (r, ("engine", "resolution_x", "resolution_y", "resolution_percentage", "use_border",
                     "use_crop_to_border", "border_min_x", "border_min_y", "border_max_x",
                     "border_max_y", "use_compositing", "use_sequencer", "use_stamp", "use_multiview",
                     "filepath", "use_file_extension", "threads_mode", "threads",
                     "dither_intensity", "film_transparent")),
                (im, ("file_format", "color_mode", "color_depth", "exr_codec", "use_preview",
                      "compression", "quality")),
                (scene.view_settings, ("view_transform", "look", "exposure", "gamma")),
                (scene.display_settings, ("display_device",))):
            vals.extend(getattr(obj, n) for n in names)
        cyc = getattr(scene, "cycles", None)
        if cyc is not None:
            vals.extend((cyc.device, cyc.use_denoising, cyc.samples, cyc.use_adaptive_sampling))
        return tuple(vals)

    def check_unchanged(self):
        """Safety net: if a request left the loaded scene modified, reload it next time."""
        if self.key is None:
            return
        try:
            same = self.settings_fingerprint(self.scene()) == self.fingerprint
        except Exception:
            same = False
        if not same:
            sys.stderr.write("blender_worker: scene settings changed by a request; will reload\n")
            self.key = None

    def describe(self, scene):
        r = scene.render
        w, h = effective_size(scene)
        cyc = getattr(scene, "cycles", None)
        is_cycles = r.engine == "CYCLES" and cyc is not None
        return {
            "width": w,
            "height": h,
            "frame_start": scene.frame_start,
            "frame_end": scene.frame_end,
            "frame_step": scene.frame_step,
            "file_format": r.image_settings.file_format,
            "ext": r.file_extension.lstrip("."),
            "engine": r.engine,
            "denoise": bool(is_cycles and cyc.use_denoising),
            "adaptive": bool(is_cycles and cyc.use_adaptive_sampling),
            "samples": int(cyc.samples) if is_cycles else 0,
            "uses_compositor": self.uses_compositor(scene),
            "tile_margin": adaptive_tile_margin(scene),
            # the scene's frame rate as a fraction (fps / fps_base; fps_base 1.001 gives 29.97)
            "fps_num": int(r.fps) * 1000,
            "fps_den": int(round(r.fps_base * 1000)),
            "blender": bpy.app.version_string,
        }

    @staticmethod
    def uses_compositor(scene):
        """True when compositing would change the render (anything beyond RL -> Composite)."""
        if not (scene.use_nodes and scene.render.use_compositing and scene.node_tree):
            return False
        tree = scene.node_tree
        rl = comp = None
        for n in tree.nodes:
            if n.mute:
                continue
            if n.bl_idname == "CompositorNodeRLayers" and rl is None:
                rl = n
            elif n.bl_idname == "CompositorNodeComposite" and comp is None:
                comp = n
            elif n.bl_idname in ("CompositorNodeViewer", "NodeFrame", "NodeReroute"):
                continue
            else:
                return True
        if rl is None or comp is None:
            return True
        if rl.scene not in (None, scene) or rl.layer != scene.view_layers[0].name:
            return True
        img = comp.inputs.get("Image")
        if img is None or not img.is_linked or not comp.use_alpha:
            return True
        link = img.links[0]
        return not (link.from_node == rl and link.from_socket.identifier == "Image")

    # ---- ops
    def op_probe(self, req):
        self.load(_path(req, "scene"), req)
        out = {"ok": True}
        out.update(self.info)
        return out

    def _select_device(self, scene, patch, device, gpu_ids):
        cyc = scene.cycles
        if device == "CPU":
            patch.set(cyc, "device", "CPU")
            return
        if device != "GPU":
            raise RequestError("device must be \"CPU\" or \"GPU\", got %r" % (device,))
        prefs = bpy.context.preferences.addons["cycles"].preferences
        try:
            prefs.refresh_devices()
        except Exception:
            pass
        # exactly the GPUs the owner lends (the slave matched them by PCI address or UUID), never by order
        wanted = [i for i in (gpu_ids or "").split(",") if i]
        if not wanted:
            raise RequestError("this node lends no GPU to Cycles (tessera-slave --gpus)")
        found = {}
        for kind in ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL"):
            try:
                for d in prefs.get_devices_for_type(kind):
                    found[d.id] = d
            except Exception:
                continue
        missing = [i for i in wanted if i not in found]
        if missing:
            raise RequestError("the lent GPU(s) %s are not among Cycles' devices" % ", ".join(missing))
        chosen = found[wanted[0]].type
        prefs.compute_device_type = chosen
        for d in prefs.devices:
            d.use = d.id in wanted
        patch.set(cyc, "device", "GPU")

    def op_tile(self, req):
        scene = self.load(_path(req, "scene"), req)
        info = self.info
        if scene.render.engine != "CYCLES":
            raise RequestError("tiles need the CYCLES engine, scene uses %s" % scene.render.engine,
                               input_error=True)
        W, H = info["width"], info["height"]
        frame = _int(req, "frame")
        b = req.get("border")
        if not (isinstance(b, list) and len(b) == 4 and all(isinstance(v, int) and not isinstance(v, bool) for v in b)):
            raise RequestError("'border' must be [x0,y0,x1,y1] integers")
        x0, y0, x1, y1 = b
        if not (0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H):
            raise RequestError("border %r outside the %dx%d frame" % (b, W, H))
        out = _path(req, "out")
        threads = req.get("threads", 0)
        if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= 1024:
            raise RequestError("'threads' must be an integer 0..1024")
        no_denoise = bool(req.get("no_denoise", False))
        # "samples": render with this many samples instead of the scene's (the slave's testing-only dishonest mode,
        # --cheat-share); the scene is restored afterwards like every other patched setting.
        samples = _int(req, "samples", 1, MAX_SAMPLES) if req.get("samples") is not None else None
        if scene.cycles.use_denoising and not no_denoise:
            raise RequestError(
                "scene enables denoising, but Debian's Blender is built without OpenImageDenoise "
                "and tiles cannot be denoised independently; disable denoising in the scene or "
                "render with no_denoise", input_error=True)

        fr = [edge_to_frac(x0, W), edge_to_frac(y0, H), edge_to_frac(x1, W), edge_to_frac(y1, H)]
        patch = Patch()
        r = scene.render
        im = r.image_settings
        tmp = _tmp_name(out, "exr")
        try:
            self._select_device(scene, patch, req.get("device", "CPU"), req.get("gpu_ids"))
            if no_denoise:
                patch.set(scene.cycles, "use_denoising", False)
            if samples is not None:
                patch.set(scene.cycles, "samples", samples)
            if threads:
                patch.set(r, "threads_mode", "FIXED")
                patch.set(r, "threads", threads)
            else:
                patch.set(r, "threads_mode", "AUTO")
            patch.set(r, "use_border", True)
            patch.set(r, "use_crop_to_border", True)
            patch.set(r, "border_min_x", fr[0])
            patch.set(r, "border_max_x", fr[2])
            patch.set(r, "border_min_y", fr[1])
            patch.set(r, "border_max_y", fr[3])
            patch.set(r, "use_compositing", False)
            patch.set(r, "use_sequencer", False)
            patch.set(r, "use_stamp", False)
            patch.set(r, "use_multiview", False)
            patch.set(r, "filepath", tmp)
            patch.set(r, "use_file_extension", False)
            patch.save(im, "file_format", "color_mode", "color_depth", "exr_codec", "use_preview")
            patch.set(im, "file_format", "OPEN_EXR")
            patch.set(im, "color_mode", "RGBA")
            patch.set(im, "color_depth", "32")
            patch.set(im, "exr_codec", "ZIP")
            patch.set(im, "use_preview", False)
            # The border actually stored (float32) must truncate onto the requested edges.
            got = [(r.border_min_x, W, x0), (r.border_min_y, H, y0),
                   (r.border_max_x, W, x1), (r.border_max_y, H, y1)]
            for frac, n, p in got:
                if not _truncates_to(frac, n, p):
                    raise RequestError("internal: border fraction %r does not map to pixel %d of %d" % (frac, p, n))
            # The render pipeline evaluates its own depsgraph at this frame; no frame_set()
            # (that would also evaluate the viewport depsgraph for nothing).
            if scene.frame_current != frame:
                scene.frame_current = frame
            t0 = time.monotonic()
            res = bpy.ops.render.render(write_still=True)
            secs = time.monotonic() - t0
            if "FINISHED" not in res:
                raise RequestError("render did not finish: %r" % (res,))
            if not os.path.exists(tmp):
                raise RequestError("Blender did not write the tile")
            w, h, chans = exr_info(tmp)
            if (w, h) != (x1 - x0, y1 - y0):
                raise RequestError("tile came out %dx%d, expected %dx%d" % (w, h, x1 - x0, y1 - y0))
            if any(chans.get(c) != 2 for c in "RGBA"):
                raise RequestError("tile is not float32 RGBA: %r" % (chans,))
            os.replace(tmp, out)
        finally:
            patch.restore()
            if os.path.exists(tmp):
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        return {"ok": True, "width": w, "height": h, "seconds": round(secs, 4)}

    def op_finish(self, req):
        scene = self.load(_path(req, "scene"), req)
        info = self.info
        frame = _int(req, "frame")
        inp = _path(req, "input")
        out = _path(req, "out")
        fmt = req.get("format")
        if fmt not in (None, "png", "exr"):
            raise RequestError("'format' must be null, \"png\" or \"exr\"")
        if not os.path.isfile(inp):
            raise RequestError("input does not exist: %s" % inp)
        iw, ih, _ = exr_info(inp)
        if (iw, ih) != (info["width"], info["height"]):
            raise RequestError("input is %dx%d, the frame is %dx%d" % (iw, ih, info["width"], info["height"]))

        img = copy = None
        tmp = None
        try:
            img = bpy.data.images.load(inp, check_existing=False)
            img.name = "tessera_stitched"
            # Tiles are scene-linear, premultiplied float (what Blender wrote): pass them through.
            img.alpha_mode = "PREMUL"
            # A linked copy: settings are duplicated, objects/world are shared, nothing is rendered.
            copy = scene.copy()
            copy.name = "tessera_finish"
            # Empty the copy: the render pipeline still builds and evaluates a depsgraph for
            # the scene it "renders", and nothing in it is needed to composite an image.
            # (The copy's master collection is its own; objects and collections are shared,
            # so only links are removed.)
            for child in list(copy.collection.children):
                copy.collection.children.unlink(child)
            for ob in list(copy.collection.objects):
                copy.collection.objects.unlink(ob)
            copy.background_set = None
            copy.world = None
            if copy.sequence_editor is not None:
                copy.sequence_editor_clear()
            r = copy.render
            im = r.image_settings
            if fmt == "exr":
                im.file_format = "OPEN_EXR"
                im.color_mode = "RGBA"
                im.color_depth = "32"
                im.exr_codec = "ZIP"
            elif fmt == "png":
                if im.file_format != "PNG":
                    mode = im.color_mode if im.color_mode in ("BW", "RGB", "RGBA") else "RGBA"
                    im.file_format = "PNG"
                    im.color_mode = mode
                im.color_depth = "8"
            ext = r.file_extension.lstrip(".") or "img"
            tmp = _tmp_name(out, ext)
            r.use_border = False
            r.use_crop_to_border = False
            r.use_sequencer = False
            r.use_compositing = True
            r.use_single_layer = False
            r.filepath = tmp
            r.use_file_extension = False
            copy.use_nodes = True
            tree = copy.node_tree
            for n in list(tree.nodes):
                tree.nodes.remove(n)
            src = tree.nodes.new("CompositorNodeImage")
            src.image = img
            dst = tree.nodes.new("CompositorNodeComposite")
            dst.use_alpha = True
            tree.links.new(src.outputs["Image"], dst.inputs["Image"])
            copy.frame_current = frame
            res = bpy.ops.render.render(write_still=True, scene=copy.name)
            if "FINISHED" not in res:
                raise RequestError("finish render did not finish: %r" % (res,))
            if not os.path.exists(tmp):
                raise RequestError("Blender did not write the final frame")
            os.replace(tmp, out)
        finally:
            if copy is not None:
                try:
                    bpy.data.scenes.remove(copy)
                except Exception:
                    pass
            if img is not None:
                try:
                    bpy.data.images.remove(img)
                except Exception:
                    pass
            if tmp and os.path.exists(tmp):
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        return {"ok": True, "path": out}

    def handle(self, line):
        try:
            req = json.loads(line)
        except ValueError as e:
            return {"ok": False, "error": "bad request (not JSON): %s" % e}
        if not isinstance(req, dict):
            return {"ok": False, "error": "bad request: not a JSON object"}
        op = req.get("op")
        fn = {"info": op_info, "probe": self.op_probe, "tile": self.op_tile, "finish": self.op_finish}.get(op)
        if fn is None:
            return {"ok": False, "error": "unknown op %r" % (op,)}
        reset_peak_memory()
        try:
            try:
                rep = fn(req)
                peak = peak_memory_kb()
                if peak and isinstance(rep, dict):
                    rep["peak_rss_kb"] = peak
                return rep
            finally:
                self.check_unchanged()
        except RequestError as e:
            rep = {"ok": False, "error": str(e)}
            if e.input_error:
                rep["input_error"] = True
            return rep
        except Exception as e:
            traceback.print_exc()
            return {"ok": False, "error": "%s: %s" % (type(e).__name__, str(e).strip())}


def reset_peak_memory():
    """Starts this process's resident peak (VmHWM) afresh, so the next request's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_memory_kb():
    """This process's resident peak since the last reset, in KiB (0: unknown)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def op_info(req):
    """Blender's version, the Cycles device classes this machine offers (CPU always) and every GPU device
    Cycles has (id, name, type): the slave matches the GPUs its owner lends to them."""
    devices = ["CPU"]
    cycles = []
    try:
        prefs = bpy.context.preferences.addons["cycles"].preferences
        for kind in ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL"):
            try:
                found = prefs.get_devices_for_type(kind)
            except Exception:
                continue
            gpus = [d for d in found if d.type == kind]
            if gpus:
                devices.append(kind)
                cycles.extend({"id": d.id, "name": d.name, "type": d.type} for d in gpus)
    except Exception:
        pass
    return {"ok": True, "blender": bpy.app.version_string.split()[0], "devices": devices,
            "cycles_devices": cycles}


def _refuse_scripts():
    """Blender's -Y does not stop every script a scene can carry: Freestyle in Python-script mode runs the
    scene's style modules (text blocks or files) as Python. The farm never runs them."""
    for sc in bpy.data.scenes:
        if not sc.render.use_freestyle:
            continue
        for vl in sc.view_layers:
            fs = vl.freestyle_settings
            if vl.use_freestyle and fs.mode == "SCRIPT":
                raise RequestError("scene '%s', view layer '%s': Freestyle runs Python style modules (mode "
                                   "'Python Scripting'), which the farm never runs; use the parameter editor"
                                   % (sc.name, vl.name), input_error=True)


def _fd_arg(argv, name, default):
    if name in argv:
        i = argv.index(name)
        try:
            return int(argv[i + 1])
        except (IndexError, ValueError):
            sys.stderr.write("blender_worker: %s needs an integer\n" % name)
            sys.exit(2)
    return default


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    cmd_fd = _fd_arg(argv, "--cmd-fd", 3)
    reply_fd = _fd_arg(argv, "--reply-fd", 4)
    try:
        for fd in (cmd_fd, reply_fd):
            os.set_inheritable(fd, False)  # nothing Blender might spawn gets our pipes
        cmd = os.fdopen(cmd_fd, "rb")
        reply = os.fdopen(reply_fd, "wb")
    except OSError as e:
        sys.stderr.write("blender_worker: fds %d/%d not usable: %s\n" % (cmd_fd, reply_fd, e))
        sys.stderr.flush()
        raise SystemExit(2)
    worker = Worker()
    while True:
        raw = cmd.readline()
        if not raw:
            break  # EOF: the slave closed our command pipe
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        quit_req = False
        if '"quit"' in text:
            try:
                req = json.loads(text)
                quit_req = isinstance(req, dict) and req.get("op") == "quit"
            except ValueError:
                pass
        rep = {"ok": True} if quit_req else worker.handle(text)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            reply.write((json.dumps(rep, separators=(",", ":")) + "\n").encode("utf-8"))
            reply.flush()
        except BrokenPipeError:
            break
        if quit_req:
            break
    sys.stdout.flush()
    sys.stderr.flush()


if __name__ == "__main__":
    main()
