# tessera sample "artist project" generator: a .blend with external files of every common kind (run inside blender).
"""
Usage:
  blender -b --factory-startup -Y --python samples/make_project.py -- OUTDIR

Creates:
  OUTDIR/proj/shot.blend          the shot: Cycles, 64x48, 16 samples, frames 1-2, PNG
  OUTDIR/proj/tex/marble.png      floor texture, referenced as //tex/marble.png
  OUTDIR/shared/wood.png          texture outside the project, referenced by ABSOLUTE path
  OUTDIR/proj/lib/props.blend     linked library (//lib/props.blend): object "PropRig" instancing
                                  collection "PropSet" = local "Prop" + "Char" linked from ...
  OUTDIR/proj/lib/chars.blend     ... a nested library (//chars.blend relative to lib/), whose
                                  material reads //tex/skin.png (OUTDIR/proj/lib/tex/skin.png)
  OUTDIR/proj/seq/frame_0001.png  image sequence (//seq/frame_0001.png, frames 1-2, auto refresh)
  OUTDIR/proj/seq/frame_0002.png
  OUTDIR/proj/tex/udim/paint.<UDIM>.png  UDIM set, tiles 1001 and 1002
  OUTDIR/proj/cache/anim.pc2      baked mesh cache read by a Mesh Cache modifier (frames 1, 2 differ;
                                  this Blender has no Alembic/USD support, so no .abc)
  OUTDIR/proj/blendcache_shot/    a particle system's baked disk point cache (*.bphys)
  OUTDIR/cycle/a.blend, b.blend   library cycle: a links "B" from b, b links "A" from a

Quiet on success (Blender's own reports are silenced); exits non-zero with a message on any failure.
"""
import math
import os
import struct
import sys
import traceback
import zlib

import bpy
from mathutils import Vector


# --------------------------------------------------------------------------- textures (plain PNG writer)

def write_png(path, w, h, pixel):
    """8-bit RGB PNG; pixel(x, y) -> (r, g, b) with y = 0 the top row."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            rows.extend(pixel(x, y))

    def chunk(tag, data):
        c = tag + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(bytes(rows), 9)))
        f.write(chunk(b"IEND", b""))


N = 256


def tex_marble(x, y):   # red / white checker
    return (230, 40, 30) if ((x // 32) + (y // 32)) % 2 else (245, 245, 240)


def tex_wood(x, y):     # brown / yellow stripes
    return (120, 60, 20) if (x // 16) % 2 else (240, 200, 40)


def tex_skin(x, y):     # green dots on dark blue
    dx, dy = x % 32 - 16, y % 32 - 16
    return (40, 220, 60) if dx * dx + dy * dy < 100 else (20, 30, 110)


def tex_seq1(x, y):     # frame 1: solid blue with a white bar
    return (250, 250, 250) if 96 <= y < 160 else (20, 60, 230)


def tex_seq2(x, y):     # frame 2: orange with a black bar
    return (10, 10, 10) if 96 <= x < 160 else (250, 140, 10)


def tex_udim1(x, y):    # tile 1001: cyan
    return (20, 220, 230)


def tex_udim2(x, y):    # tile 1002: yellow diagonal stripes
    return (250, 230, 20) if ((x + y) // 24) % 2 else (60, 60, 60)


# --------------------------------------------------------------------------- helpers

def reset():
    bpy.ops.wm.read_factory_settings(use_empty=True)


def save(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    bpy.context.preferences.filepaths.save_version = 0  # no .blend1 backups
    # relative_remap: keep "//" paths right for the new location; absolute paths stay absolute.
    bpy.ops.wm.save_as_mainfile(filepath=path, check_existing=False, compress=False, relative_remap=True)


def mesh_object(name, op, location, **kw):
    op(location=location, **kw)
    ob = bpy.context.active_object
    ob.name = name
    ob.data.name = name + "Mesh"
    return ob


def flat_material(name, color):
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    m.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = color
    return m


def image_material(name, image):
    """Principled BSDF whose base colour is this image (UV mapped)."""
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    nt = m.node_tree
    bsdf = nt.nodes["Principled BSDF"]
    tex = nt.nodes.new("ShaderNodeTexImage")
    tex.image = image
    tex.interpolation = "Closest"
    nt.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    return m, tex


def load_image(path, ref):
    """Load an image file and store ref (relative '//...' or absolute) as its path."""
    img = bpy.data.images.load(path, check_existing=False)
    img.filepath = ref
    return img


def render_settings(scene, w=64, h=48):
    r = scene.render
    r.engine = "CYCLES"
    r.resolution_x, r.resolution_y, r.resolution_percentage = w, h, 100
    r.image_settings.file_format = "PNG"
    r.filepath = "//render/frame_####"
    scene.frame_start, scene.frame_end = 1, 2
    scene.frame_set(1)
    c = scene.cycles
    c.samples = 16
    c.use_adaptive_sampling = False
    c.use_denoising = False
    c.device = "CPU"
    c.seed = 0


def lights_and_camera(scene, cam_loc=(0.0, -7.0, 5.0), target=(0.0, 0.3, 0.6)):
    if scene.world is None:
        scene.world = bpy.data.worlds.new("World")
    scene.world.use_nodes = True
    bg = scene.world.node_tree.nodes["Background"]
    bg.inputs["Color"].default_value = (0.25, 0.25, 0.3, 1.0)
    sun = bpy.data.lights.new("Sun", "SUN")
    sun.energy = 3.0
    sob = bpy.data.objects.new("Sun", sun)
    sob.rotation_euler = (math.radians(40), math.radians(10), math.radians(30))
    scene.collection.objects.link(sob)
    cam = bpy.data.cameras.new("Camera")
    cob = bpy.data.objects.new("Camera", cam)
    cob.location = cam_loc
    d = [t - c for t, c in zip(target, cam_loc)]  # aim the camera's -Z at the target
    cob.rotation_euler = Vector(d).to_track_quat("-Z", "Y").to_euler()
    scene.collection.objects.link(cob)
    scene.camera = cob


def link_objects(lib_abs, names):
    """Link (not append) objects from lib_abs, stored by a path relative to the current file."""
    with bpy.data.libraries.load(lib_abs, link=True, relative=True) as (src, dst):
        missing = [n for n in names if n not in src.objects]
        if missing:
            raise RuntimeError("%s has no object(s) %s" % (lib_abs, missing))
        dst.objects = list(names)
    for ob in dst.objects:
        if ob is None:
            raise RuntimeError("linking from %s failed" % lib_abs)
    return dst.objects


# --------------------------------------------------------------------------- the files

def make_textures(out):
    write_png(os.path.join(out, "proj", "tex", "marble.png"), N, N, tex_marble)
    write_png(os.path.join(out, "shared", "wood.png"), N, N, tex_wood)
    write_png(os.path.join(out, "proj", "lib", "tex", "skin.png"), N, N, tex_skin)
    write_png(os.path.join(out, "proj", "seq", "frame_0001.png"), N, N, tex_seq1)
    write_png(os.path.join(out, "proj", "seq", "frame_0002.png"), N, N, tex_seq2)
    write_png(os.path.join(out, "proj", "tex", "udim", "paint.1001.png"), N, N, tex_udim1)
    write_png(os.path.join(out, "proj", "tex", "udim", "paint.1002.png"), N, N, tex_udim2)


def make_chars(out):
    reset()
    path = os.path.join(out, "proj", "lib", "chars.blend")
    save(path)  # so that "//" means lib/ from here on
    scene = bpy.context.scene
    img = load_image(os.path.join(out, "proj", "lib", "tex", "skin.png"), "//tex/skin.png")
    ob = mesh_object("Char", bpy.ops.mesh.primitive_cube_add, (0.0, 0.0, 0.0), size=1.0)
    ob.data.materials.append(image_material("Skin", img)[0])
    render_settings(scene)
    lights_and_camera(scene)
    save(path)


def make_props(out):
    reset()
    path = os.path.join(out, "proj", "lib", "props.blend")
    save(path)
    scene = bpy.context.scene
    (char,) = link_objects(os.path.join(out, "proj", "lib", "chars.blend"), ["Char"])
    prop = mesh_object("Prop", bpy.ops.mesh.primitive_cylinder_add, (0.0, 0.0, 0.4), radius=0.35, depth=0.8)
    prop.data.materials.append(flat_material("PropMat", (0.9, 0.5, 0.9, 1.0)))
    scene.collection.objects.unlink(prop)
    coll = bpy.data.collections.new("PropSet")
    coll.objects.link(prop)
    coll.objects.link(char)  # a linked object in a local collection
    rig = bpy.data.objects.new("PropRig", None)
    rig.instance_type = "COLLECTION"
    rig.instance_collection = coll
    rig.location = (2.2, 0.0, 0.1)  # where the shot shows it (a linked object keeps its own placement)
    scene.collection.objects.link(rig)
    render_settings(scene)
    lights_and_camera(scene)
    save(path)
    if not bpy.data.libraries or bpy.data.libraries[0].filepath != "//chars.blend":
        raise RuntimeError("props.blend: chars.blend not linked by a relative path: %r"
                           % [l.filepath for l in bpy.data.libraries])


def write_pc2(path, frames):
    """A PC2 point cache (what the Mesh Cache modifier reads): frames = [[(x, y, z), ...], ...]."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    n = len(frames[0])
    with open(path, "wb") as f:
        f.write(b"POINTCACHE2\0" + struct.pack("<iiffi", 1, n, 0.0, 1.0, len(frames)))
        for verts in frames:
            if len(verts) != n:
                raise ValueError("pc2: frames differ in vertex count")
            for co in verts:
                f.write(struct.pack("<3f", *co))


def add_mesh_cache(scene, proj):
    """A cube deformed by //cache/anim.pc2 (Mesh Cache modifier): its top grows from frame 1 to 2.
    (Debian's Blender 3.4 is built without Alembic and USD, so the baked mesh cache is a PC2 file.)"""
    ob = mesh_object("CachedBlob", bpy.ops.mesh.primitive_cube_add, (0.0, -1.2, 0.5), size=1.0)
    ob.data.materials.append(flat_material("BlobMat", (0.2, 0.9, 0.3, 1.0)))
    rest = [tuple(v.co) for v in ob.data.vertices]
    grown = [(x * 1.6, y, z + 1.5) if z > 0 else (x, y, z) for x, y, z in rest]
    write_pc2(os.path.join(proj, "cache", "anim.pc2"), [rest, grown])
    mod = ob.modifiers.new("Cache", "MESH_CACHE")
    mod.cache_format = "PC2"
    mod.filepath = "//cache/anim.pc2"
    mod.time_mode = "FRAME"
    mod.play_mode = "SCENE"
    mod.frame_start = 1.0   # scene frame 1 shows cache frame 0
    mod.frame_scale = 1.0
    mod.forward_axis = "POS_Y"
    mod.up_axis = "POS_Z"
    return ob


def add_particles(scene):
    """An emitter whose particles (small spheres) are baked to a disk point cache: //blendcache_shot/."""
    em = mesh_object("Emitter", bpy.ops.mesh.primitive_plane_add, (0.9, -2.6, 0.05), size=1.2)
    dot = mesh_object("Dot", bpy.ops.mesh.primitive_ico_sphere_add, (0.0, 0.0, -20.0), radius=0.2, subdivisions=1)
    dot.data.materials.append(flat_material("DotMat", (1.0, 0.9, 0.1, 1.0)))
    dot.hide_render = True
    em.modifiers.new("Particles", "PARTICLE_SYSTEM")
    psys = em.particle_systems[0]
    psys.seed = 7
    ps = psys.settings
    ps.count = 12
    ps.frame_start, ps.frame_end = 1, 1  # all born at frame 1, rising: frame 2 differs
    ps.lifetime = 100
    ps.normal_factor = 24.0
    ps.effector_weights.gravity = 0.0
    ps.render_type = "OBJECT"
    ps.instance_object = dot
    ps.particle_size = 1.0
    em.show_instancer_for_render = False
    pc = psys.point_cache
    pc.use_disk_cache = True
    pc.frame_start, pc.frame_end = 1, 2
    with bpy.context.temp_override(scene=scene, active_object=em, object=em, point_cache=pc):
        res = bpy.ops.ptcache.bake_all(bake=True)
    if "FINISHED" not in res or not pc.is_baked:
        raise RuntimeError("particle bake failed: %r" % (res,))
    return em


def make_shot(out):
    reset()
    proj = os.path.join(out, "proj")
    path = os.path.join(proj, "shot.blend")
    save(path)
    scene = bpy.context.scene
    render_settings(scene)
    lights_and_camera(scene)

    # floor: relative texture
    floor = mesh_object("Floor", bpy.ops.mesh.primitive_plane_add, (0.0, 0.0, 0.0), size=8.0)
    marble = load_image(os.path.join(proj, "tex", "marble.png"), "//tex/marble.png")
    floor.data.materials.append(image_material("Marble", marble)[0])

    # wood: absolute path outside the project
    wood_abs = os.path.join(out, "shared", "wood.png")
    box = mesh_object("WoodBox", bpy.ops.mesh.primitive_cube_add, (-2.2, 0.0, 0.75), size=1.5)
    wood = load_image(wood_abs, wood_abs)
    box.data.materials.append(image_material("Wood", wood)[0])

    # linked props (nested library inside)
    (rig,) = link_objects(os.path.join(proj, "lib", "props.blend"), ["PropRig"])
    scene.collection.objects.link(rig)

    # image sequence on a standing panel
    seq = load_image(os.path.join(proj, "seq", "frame_0001.png"), "//seq/frame_0001.png")
    seq.source = "SEQUENCE"
    panel = mesh_object("SeqPanel", bpy.ops.mesh.primitive_plane_add, (-1.0, 2.5, 1.6), size=2.4,
                        rotation=(math.radians(90), 0.0, 0.0))
    mat, tex = image_material("Sequence", seq)
    iu = tex.image_user
    iu.frame_start = 1
    iu.frame_offset = 0
    iu.frame_duration = 2
    iu.use_auto_refresh = True
    iu.use_cyclic = False
    panel.data.materials.append(mat)

    # UDIM set on a second panel: UVs span tiles 1001 (u 0..1) and 1002 (u 1..2)
    udim = make_udim(proj)
    upanel = mesh_object("UdimPanel", bpy.ops.mesh.primitive_plane_add, (1.6, 2.5, 1.6), size=2.4,
                         rotation=(math.radians(90), 0.0, 0.0))
    uvs = upanel.data.uv_layers.active.data
    for loop in upanel.data.loops:
        u, v = uvs[loop.index].uv
        uvs[loop.index].uv = (u * 2.0, v)
    upanel.data.materials.append(image_material("Udim", udim)[0])

    # baked caches: a PC2 mesh cache and a particle system's disk point cache
    add_mesh_cache(scene, proj)
    save(path)  # the point cache's folder is named after the saved file
    add_particles(scene)

    scene.frame_set(1)
    save(path)
    check_shot(out)


def make_udim(proj):
    first = os.path.join(proj, "tex", "udim", "paint.1001.png")
    img = bpy.data.images.load(first, check_existing=False)
    img.source = "TILED"
    if "<UDIM>" not in img.filepath:
        img.filepath = os.path.join(proj, "tex", "udim", "paint.<UDIM>.png")
    if 1002 not in [t.number for t in img.tiles]:
        img.tiles.new(tile_number=1002)
    img.filepath = "//tex/udim/paint.<UDIM>.png"
    img.reload()
    return img


def check_shot(out):
    proj = os.path.join(out, "proj")
    libs = {os.path.normpath(l.filepath): l for l in bpy.data.libraries}
    want = {"//lib/props.blend"}
    if not want <= set(libs):
        raise RuntimeError("shot.blend libraries: %r" % sorted(libs))
    # the nested library must have come along (indirectly)
    if len(bpy.data.libraries) != 2:
        raise RuntimeError("shot.blend has %d libraries, wanted 2: %r"
                           % (len(bpy.data.libraries), [l.filepath for l in bpy.data.libraries]))
    for p in bpy.utils.blend_paths(absolute=True, packed=False):
        if p and not os.path.exists(p.replace("<UDIM>", "1001")):
            raise RuntimeError("shot.blend refers to a missing file: %s" % p)
    if not os.path.isfile(os.path.join(proj, "shot.blend")):
        raise RuntimeError("shot.blend not written")


def make_cycle(out):
    """a.blend links object B from b.blend, b.blend links object A from a.blend."""
    d = os.path.join(out, "cycle")
    a_path, b_path = os.path.join(d, "a.blend"), os.path.join(d, "b.blend")

    reset()
    save(a_path)
    scene = bpy.context.scene
    ob = mesh_object("A", bpy.ops.mesh.primitive_cube_add, (-1.2, 0.0, 0.5), size=1.0)
    ob.data.materials.append(flat_material("MatA", (0.9, 0.2, 0.2, 1.0)))
    render_settings(scene)
    lights_and_camera(scene, cam_loc=(0.0, -6.0, 3.0), target=(0.0, 0.0, 0.5))
    save(a_path)

    reset()
    save(b_path)
    scene = bpy.context.scene
    ob = mesh_object("B", bpy.ops.mesh.primitive_uv_sphere_add, (1.2, 0.0, 0.5), radius=0.6)
    ob.data.materials.append(flat_material("MatB", (0.2, 0.3, 0.9, 1.0)))
    (a,) = link_objects(a_path, ["A"])
    scene.collection.objects.link(a)
    # B depends on A (its parent), so linking B into a.blend needs data from a.blend itself.
    ob.parent = a
    ob.matrix_parent_inverse = a.matrix_world.inverted()
    render_settings(scene)
    lights_and_camera(scene, cam_loc=(0.0, -6.0, 3.0), target=(0.0, 0.0, 0.5))
    save(b_path)

    bpy.ops.wm.open_mainfile(filepath=a_path, load_ui=False, use_scripts=False)
    (b,) = link_objects(b_path, ["B"])
    bpy.context.scene.collection.objects.link(b)
    save(a_path)


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    if len(argv) != 1:
        sys.stderr.write("usage: blender -b --factory-startup -Y --python make_project.py -- OUTDIR\n")
        return 2
    out = os.path.abspath(argv[0])
    os.makedirs(out, exist_ok=True)
    make_textures(out)
    make_chars(out)
    make_props(out)
    make_shot(out)
    make_cycle(out)
    return 0


if __name__ == "__main__":
    # Blender reports every save/link on stdout: keep the run quiet (errors still go to stderr).
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        rc = main()
    except Exception:
        traceback.print_exc()
        rc = 1
    sys.stdout.flush()
    os.dup2(saved_stdout, 1)
    sys.stderr.flush()
    # Leave at once: everything is saved, and Blender's exit path only adds noise (its own
    # "Not freed memory blocks" report after linking libraries).
    os._exit(rc)
