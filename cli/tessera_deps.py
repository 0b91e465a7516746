# tessera dependency discovery: lists the external files a .blend needs (run inside the artist's own Blender).
"""
Run by the CLI (installed as build/bin/tessera-deps.py):

  blender -b --factory-startup -noaudio -Y --python-exit-code 3 /abs/shot.blend \
          --python tessera-deps.py -- OUT.json

Writes OUT.json (atomically) and exits 0; on an internal failure exits non-zero with a message
on stderr. OUT.json:

  {"blender": "3.4.1", "main": "/abs/shot.blend",
   "scene": {"frame_start": N, "frame_end": N, "width": N, "height": N, "samples": N,
             "engine": "CYCLES", "file_format": "PNG", "ext": "png"},
   "files": [{"path": ABS, "holder": ABS_BLEND, "ref": RAW, "relative": BOOL, "kind": KIND,
              "exists": BOOL}, ...]}

path: os.path.normpath of the resolved absolute path (symlinks are not resolved). holder: the
.blend whose datablock stores the path (the main file or a library). ref: the path as stored.
Each path is listed once. Sequences (image / movie clip / volume / cache file), UDIM sets and
cache folders are expanded to the files that exist (one listing of each folder); a pattern or
cache folder with nothing on disk gives one entry with "exists": false.

Blender 3.4 facts this relies on:
- After loading, every relative Library.filepath is relative to the MAIN file, also for libraries
  linked indirectly through other libraries (readfile's fix_relpaths_library rebases them;
  Library.parent only records which library pulled it in). So bpy.path.abspath(lib.filepath)
  is the library's absolute path, and bpy.path.abspath(p, library=id.library) resolves a linked
  datablock's "//" path against its own library's folder. For an indirect library the "ref"
  written here is made relative to its parent library again (what that file stores on disk), so
  that ref resolved against holder's folder is always path.
- Disk point caches live in "<dir of blend>/blendcache_<blend file name minus its last 6
  characters ('.blend')>/" next to the main file, or next to the library for linked owners when
  use_library_path is on; files are "<name>_<frame %06d>_<index %02d>.bphys" where <name> is the
  cache's name or, when empty, the owner ID's name (without its 2-letter code) as %02X hex per
  byte; with use_external the folder is the cache's filepath and the name the cache's name.
"""
import json
import os
import re
import sys
import traceback

import bpy


def _norm(p):
    return os.path.normpath(p)


class Deps(object):
    def __init__(self):
        if not bpy.data.filepath:
            raise RuntimeError("no .blend file is loaded")
        self.main = _norm(bpy.data.filepath)
        self.files = []
        self.seen = set()      # listed paths
        self.covered = set()   # every path accounted for (listed, patterns, folders, ignored)
        self.dirs = {}         # folder -> {name: is_file} (one scandir per folder)

    # ---- paths
    def lib_path(self, lib):
        """A Library's absolute path: Blender 3.4 keeps every library path relative to the main
        file (see the module doc), so no walk up Library.parent is needed."""
        return _norm(bpy.path.abspath(lib.filepath))

    def holder(self, id_):
        lib = getattr(id_, "library", None)
        return self.lib_path(lib) if lib is not None else self.main

    def resolve(self, ref, id_):
        """Absolute normalized path of ref as stored in id_ ('//' = the holder's folder)."""
        if ref.startswith("//"):
            return _norm(os.path.join(os.path.dirname(self.holder(id_)), ref[2:]))
        # neither: Blender opens it as is (relative to its working folder); taken as relative to the main
        # file's folder, as when the artist runs Blender in the project folder (the farm does the same)
        return _norm(os.path.join(os.path.dirname(self.main), ref))

    def listing(self, folder):
        """{name: is_file} of a folder (None when unreadable), one scandir per folder."""
        if folder not in self.dirs:
            d = {}
            try:
                with os.scandir(folder) as it:
                    for e in it:
                        try:
                            d[e.name] = e.is_file()
                        except OSError:
                            d[e.name] = False
            except OSError:
                d = None
            self.dirs[folder] = d
        return self.dirs[folder]

    def isfile(self, path):
        d = self.listing(os.path.dirname(path))
        return bool(d and d.get(os.path.basename(path)))

    # ---- output
    def add(self, path, id_, ref, kind, exists=None):
        self.covered.add(path)
        if path in self.seen:
            return
        self.seen.add(path)
        self.files.append({
            "path": path,
            "holder": self.holder(id_) if id_ is not None else self.main,
            "ref": ref,
            "relative": ref.startswith("//"),
            "kind": kind,
            "exists": os.path.isfile(path) if exists is None else bool(exists),
        })

    def add_ref(self, id_, ref, kind):
        """A single file."""
        if ref:
            self.add(self.resolve(ref, id_), id_, ref, kind)

    def add_matches(self, id_, ref, kind, folder, regex, missing, extra=()):
        """Every existing file in folder whose name matches regex (in frame order), plus extra
        paths (listed even when missing); when that is nothing at all: missing, not existing."""
        self.covered.add(missing)
        rx = re.compile(regex)
        found = []
        for name, is_file in (self.listing(folder) or {}).items():
            m = rx.match(name) if is_file else None
            if m:
                found.append((tuple(int(g) for g in m.groups() if g and g.lstrip("-").isdigit()), name))
        found.sort()
        for _, name in found:
            self.add(os.path.join(folder, name), id_, ref, kind, True)
        for p in extra:
            self.add(p, id_, ref, kind, self.isfile(p))
        if not found and not extra:
            self.add(missing, id_, ref, kind, False)

    def add_sequence(self, id_, ref, kind):
        """A numbered file sequence: the last run of digits before the extension is the frame."""
        if not ref:
            return
        path = self.resolve(ref, id_)
        base = os.path.basename(path)
        dot = base.rfind(".")
        stem, ext = (base[:dot], base[dot:]) if dot > 0 else (base, "")
        m = re.match(r"^(.*?)(\d+)(\D*)$", stem)
        if not m:
            self.add(path, id_, ref, kind)
            return
        head, digits, tail = m.group(1), m.group(2), m.group(3) + ext
        n = len(digits)
        # n digits (zero padded), or more digits for frames that outgrow the padding
        num = r"(\d{%d}|[1-9]\d{%d,})" % (n, n)
        self.add_matches(id_, ref, kind, os.path.dirname(path), "^" + re.escape(head) + num + re.escape(tail) + "$",
                         path)

    def add_udim(self, image):
        ref = image.filepath
        path = self.resolve(ref, image)
        base = os.path.basename(path)
        tiles = [t.number for t in image.tiles]
        if "<UDIM>" in base or "<UVTILE>" in base:
            token = "<UDIM>" if "<UDIM>" in base else "<UVTILE>"
            head, tail = base.split(token, 1)
            rx = r"(\d{4})" if token == "<UDIM>" else r"u(\d+)_v(\d+)"

            def tile_name(n):
                if token == "<UDIM>":
                    return "%d" % n
                return "u%d_v%d" % ((n - 1001) % 10 + 1, (n - 1001) // 10 + 1)
        else:  # old style: the tile number is the last 4-digit group ("paint.1001.png")
            m = re.match(r"^(.*\D|)(1\d{3})(\D.*|)$", base)
            if not m:
                self.add(path, image, ref, "image")
                return
            head, tail, rx = m.group(1), m.group(3), r"(\d{4})"

            def tile_name(n):
                return "%d" % n
        folder = os.path.dirname(path)
        extra = [os.path.join(folder, head + tile_name(n) + tail) for n in tiles]
        self.add_matches(image, ref, "image", folder, "^" + re.escape(head) + rx + re.escape(tail) + "$", path, extra)

    def add_folder(self, id_, ref, kind, folder, required=True):
        """Every regular file under folder (recursively); a missing folder: one missing entry
        when the cache is required (baked), nothing otherwise."""
        self.covered.add(folder)
        if not os.path.isdir(folder):
            if required:
                self.add(folder, id_, ref, kind, False)
            return
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                p = os.path.join(root, name)
                if os.path.isfile(p):
                    self.add(_norm(p), id_, ref, kind, True)

    # ---- point caches
    def add_point_cache(self, owner, pc):
        for c in pc.point_caches:
            if not (c.use_disk_cache or c.use_external):
                continue
            lib = owner.library
            blend = self.lib_path(lib) if (lib is not None and c.use_library_path) else self.main
            if c.use_external:
                ref = c.filepath
                if not ref:
                    continue
                folder = _norm(os.path.join(os.path.dirname(blend), ref[2:])) if ref.startswith("//") else _norm(ref)
                names = [c.name]
            else:
                fname = os.path.basename(blend)
                stem = fname[:-6] if len(fname) > 6 else fname
                folder = os.path.join(os.path.dirname(blend), "blendcache_" + stem)
                ref = "//blendcache_%s/" % stem
                if c.name:
                    names = [c.name]
                else:
                    raw = owner.name.encode("utf-8")
                    # char is signed on most platforms: bytes >= 0x80 print as FFFFFFxx there
                    names = ["".join("%02X" % b for b in raw),
                             "".join(("FFFFFF%02X" if b >= 0x80 else "%02X") % b for b in raw)]
            self.covered.add(folder)
            idx = r"(?:_(\d+))?" if c.index < 0 else r"_(%02d)" % c.index
            rx = "^(?:%s)_(-?\\d+)%s\\.bphys$" % ("|".join(re.escape(n) for n in set(names)), idx)
            listing = self.listing(folder)
            if listing is None or not any(re.match(rx, n) for n in listing):
                if c.is_baked:  # baked but gone; an unbaked cache is simply simulated again
                    self.add(folder, owner, ref, "pointcache", False)
                continue
            self.add_matches(owner, ref, "pointcache", folder, rx, folder)

    # ---- the datablocks
    def scan(self):
        d = bpy.data
        for lib in d.libraries:
            if lib.packed_file is not None:
                continue
            p = self.lib_path(lib)
            if p == self.main:  # a cycle back to the main file: Blender uses the main file's own data
                self.covered.add(p)
                continue
            # An indirect library's path is stored in its parent library's file; Blender shows it
            # rebased onto the main file, so give it back relative to the parent (what that file
            # stores): ref resolved against holder's folder is always path.
            holder = self.lib_path(lib.parent) if lib.parent is not None else self.main
            ref = lib.filepath
            if ref.startswith("//") and holder != self.main:
                ref = "//" + os.path.relpath(p, os.path.dirname(holder))
            self.covered.add(p)
            if p not in self.seen:
                self.seen.add(p)
                self.files.append({"path": p, "holder": holder, "ref": ref, "relative": ref.startswith("//"),
                                   "kind": "library", "exists": os.path.isfile(p)})

        for im in d.images:
            if im.packed_file is not None or len(im.packed_files) or not im.filepath:
                continue
            if im.source == "TILED":
                self.add_udim(im)
            elif im.source == "SEQUENCE":
                self.add_sequence(im, im.filepath, "image")
            elif im.source in ("FILE", "MOVIE"):
                self.add_ref(im, im.filepath, "image")

        for cf in d.cache_files:
            if cf.is_sequence:
                self.add_sequence(cf, cf.filepath, "cachefile")
            else:
                self.add_ref(cf, cf.filepath, "cachefile")
            for layer in getattr(cf, "layers", ()):
                self.add_ref(cf, layer.filepath, "cachefile")

        for v in d.volumes:
            if v.packed_file is None:
                (self.add_sequence if v.is_sequence else self.add_ref)(v, v.filepath, "volume")

        for s in d.sounds:
            if s.packed_file is None:
                self.add_ref(s, s.filepath, "sound")

        for f in d.fonts:
            if f.packed_file is None and f.filepath and f.filepath != "<builtin>":
                self.add_ref(f, f.filepath, "font")

        for mc in d.movieclips:
            (self.add_sequence if mc.source == "SEQUENCE" else self.add_ref)(mc, mc.filepath, "movieclip")

        for ob in d.objects:
            for psys in ob.particle_systems:
                self.add_point_cache(ob, psys.point_cache)
            for md in ob.modifiers:
                t = md.type
                if t in ("CLOTH", "SOFT_BODY"):
                    self.add_point_cache(ob, md.point_cache)
                elif t == "DYNAMIC_PAINT" and md.canvas_settings is not None:
                    for surf in md.canvas_settings.canvas_surfaces:
                        self.add_point_cache(ob, surf.point_cache)
                elif t == "FLUID" and md.fluid_type == "DOMAIN" and md.domain_settings is not None:
                    ds = md.domain_settings
                    if ds.cache_directory:
                        self.add_folder(ob, ds.cache_directory, "fluid", self.resolve(ds.cache_directory, ob),
                                        required=ds.has_cache_baked_any)
                elif t == "OCEAN" and md.filepath:
                    self.add_folder(ob, md.filepath, "ocean", self.resolve(md.filepath, ob), required=md.is_cached)
                elif t == "MESH_CACHE":
                    self.add_ref(ob, md.filepath, "meshcache")
        for sc in d.scenes:
            rbw = sc.rigidbody_world
            if rbw is not None and rbw.point_cache is not None:
                self.add_point_cache(sc, rbw.point_cache)
            if sc.sequence_editor is not None:
                for strip in sc.sequence_editor.sequences_all:
                    if strip.type == "IMAGE":
                        for el in strip.elements:
                            self.add_ref(sc, os.path.join(strip.directory, el.filename), "strip")
                    elif strip.type == "MOVIE":
                        self.add_ref(sc, strip.filepath, "strip")

        # nodes reading files themselves (IES lights, OSL scripts)
        for id_, tree in self.node_trees():
            for node in tree.nodes:
                if node.bl_idname in ("ShaderNodeTexIES", "ShaderNodeScript") and node.mode == "EXTERNAL":
                    self.add_ref(id_, node.filepath, "ies" if node.bl_idname == "ShaderNodeTexIES" else "script")

        # never needed to render (scripts do not run on the farm): known, not listed
        for t in d.texts:
            if t.filepath and not t.is_in_memory:
                self.covered.add(self.resolve(t.filepath, t))

        self.cross_check()

    @staticmethod
    def node_trees():
        d = bpy.data
        for coll in (d.materials, d.worlds, d.lights, d.textures, d.linestyles, d.scenes):
            for id_ in coll:
                tree = getattr(id_, "node_tree", None)
                if tree is not None:
                    yield id_, tree
        for tree in d.node_groups:
            yield tree, tree

    def cross_check(self):
        """Anything Blender's own path walker knows that the scan above did not cover."""
        # packed=False leaves packed data out (in 3.4 it is packed=True that adds them, whatever
        # the docstring says)
        absl = bpy.utils.blend_paths(absolute=True, packed=False, local=False)
        rel = bpy.utils.blend_paths(absolute=False, packed=False, local=False)
        if len(rel) != len(absl):
            rel = absl
        for a, r in zip(absl, rel):
            if not a:
                continue
            # a path neither absolute nor "//" stays as stored: resolve it as the scan does
            p = _norm(a) if os.path.isabs(a) else self.resolve(a, None)
            if p in self.covered or p == self.main:
                continue
            self.covered.add(p)
            self.seen.add(p)
            self.files.append({"path": p, "holder": self.main, "ref": r, "relative": r.startswith("//"),
                               "kind": "other", "exists": os.path.exists(p)})


def scene_facts(scene):
    """What the artists' app shows of the scene (`tessera inspect`): sizes as the slaves' probe computes them
    (slave/blender_worker.py's describe: resolution times its percentage; samples 0 for an engine without them)."""
    r = scene.render
    cyc = getattr(scene, "cycles", None)
    return {"frame_start": scene.frame_start, "frame_end": scene.frame_end,
            "width": (r.resolution_x * r.resolution_percentage) // 100,
            "height": (r.resolution_y * r.resolution_percentage) // 100,
            "samples": int(cyc.samples) if r.engine == "CYCLES" and cyc is not None else 0,
            "engine": r.engine, "file_format": r.image_settings.file_format,
            "ext": r.file_extension.lstrip(".")}


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    if len(argv) != 1:
        raise RuntimeError("usage: blender -b FILE.blend --python tessera-deps.py -- OUT.json")
    out = argv[0]
    deps = Deps()
    deps.scan()
    # version_string is "4.2.0 Alpha" on alpha and beta builds: the numbers alone
    doc = {"blender": "%d.%d.%d" % tuple(bpy.app.version[:3]), "main": deps.main,
           "scene": scene_facts(bpy.context.scene), "files": deps.files}
    tmp = "%s.tmp-%d" % (out, os.getpid())
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        sys.stderr.write("tessera-deps: %s\n" % e)
        traceback.print_exc()
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(1)
