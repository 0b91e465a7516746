# tessera sample scene generator: builds a small deterministic Cycles .blend (run inside blender --python).
"""
Usage:
  blender -b --factory-startup -noaudio --python samples/make_scene.py -- \
      --out PATH.blend [--width 640] [--height 360] [--percent 100] [--samples 32]
      [--frames 1-3] [--format PNG|OPEN_EXR] [--autorun-marker FILE] [--denoise]
      [--adaptive-threshold T] [--adaptive-min-samples N] [--no-adaptive] [--transparent]

Everything not set here keeps Blender's factory defaults (PNG RGBA 8 bit output,
Filmic view transform, dither 1.0, adaptive sampling on, ...) because users' scenes
have them. Exits non-zero with a message on bad arguments.
"""
import argparse
import math
import os
import sys

import bpy


class ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ArgError(message)


def pad(mb):
    """Random hex in a text datablock: incompressible bytes that ride along in the .blend (nothing renders it)."""
    text = bpy.data.texts.new("tessera_padding")
    line = 4096  # characters per line
    chunk = os.urandom(mb * 1024 * 1024 // 2).hex()
    text.from_string("\n".join(chunk[i:i + line] for i in range(0, len(chunk), line)))


def parse_args(argv):
    p = _Parser(prog="make_scene.py", add_help=True)
    p.add_argument("--out", required=True, help="output .blend path")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--percent", type=int, default=100)
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--frames", default="1-3", help="START-END (or a single frame)")
    p.add_argument("--format", default="PNG", choices=["PNG", "OPEN_EXR"])
    p.add_argument("--autorun-marker", default=None,
                   help="embed a registered (auto-run) text block that writes this file")
    p.add_argument("--denoise", action="store_true", help="enable Cycles denoising")
    # Extras (not needed by the farm): make adaptive sampling actually act at low sample counts.
    p.add_argument("--adaptive-threshold", type=float, default=None)
    p.add_argument("--adaptive-min-samples", type=int, default=None)
    p.add_argument("--no-adaptive", action="store_true")
    p.add_argument("--transparent", action="store_true", help="film transparent (alpha)")
    p.add_argument("--extras", default="",
                   help="comma-separated scene features for reproducibility tests: " + ",".join(EXTRAS))
    p.add_argument("--pad-mb", type=int, default=0,
                   help="add a text datablock of this many MB of random hex (a big scene, as with textures)")
    a = p.parse_args(argv)

    if not a.out.endswith(".blend"):
        raise ArgError("--out must end in .blend")
    if not (4 <= a.width <= 65536) or not (4 <= a.height <= 65536):
        raise ArgError("--width/--height must be in 4..65536")
    if not (1 <= a.percent <= 32767):
        raise ArgError("--percent must be in 1..32767")
    if (a.width * a.percent) // 100 < 1 or (a.height * a.percent) // 100 < 1:
        raise ArgError("--percent makes the image empty")
    if not (1 <= a.samples <= 16777216):
        raise ArgError("--samples must be >= 1")
    try:
        if "-" in a.frames:
            s, e = a.frames.split("-", 1)
            a.frame_start, a.frame_end = int(s), int(e)
        else:
            a.frame_start = a.frame_end = int(a.frames)
    except ValueError:
        raise ArgError("--frames must look like 1-3 or 5, got %r" % a.frames)
    if a.frame_start < 0 or a.frame_end < a.frame_start:
        raise ArgError("--frames: need 0 <= START <= END, got %r" % a.frames)
    a.extras = [e for e in a.extras.split(",") if e]
    for e in a.extras:
        if e not in EXTRAS:
            raise ArgError("--extras: unknown feature %r (known: %s)" % (e, ", ".join(EXTRAS)))
    if a.adaptive_threshold is not None and not (0.0 <= a.adaptive_threshold <= 1.0):
        raise ArgError("--adaptive-threshold must be in 0..1")
    if a.adaptive_min_samples is not None and a.adaptive_min_samples < 0:
        raise ArgError("--adaptive-min-samples must be >= 0")
    return a


def empty_material(name):
    """A material with a node tree holding only its output node: (material, node tree, output)."""
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    nt = m.node_tree
    for n in list(nt.nodes):
        nt.nodes.remove(n)
    return m, nt, nt.nodes.new("ShaderNodeOutputMaterial")


def material(name, kind, color, **kw):
    m, nt, out = empty_material(name)
    if kind == "diffuse":
        s = nt.nodes.new("ShaderNodeBsdfDiffuse")
        s.inputs["Color"].default_value = color
    elif kind == "glossy":
        s = nt.nodes.new("ShaderNodeBsdfGlossy")
        s.inputs["Color"].default_value = color
        s.inputs["Roughness"].default_value = kw.get("roughness", 0.15)
    elif kind == "glass":
        s = nt.nodes.new("ShaderNodeBsdfGlass")
        s.inputs["Color"].default_value = color
        s.inputs["Roughness"].default_value = 0.0
        s.inputs["IOR"].default_value = 1.45
    elif kind == "emission":
        s = nt.nodes.new("ShaderNodeEmission")
        s.inputs["Color"].default_value = color
        s.inputs["Strength"].default_value = kw.get("strength", 6.0)
    elif kind == "checker":
        s = nt.nodes.new("ShaderNodeBsdfDiffuse")
        tex = nt.nodes.new("ShaderNodeTexChecker")
        tex.inputs["Scale"].default_value = 8.0
        tex.inputs["Color1"].default_value = color
        tex.inputs["Color2"].default_value = (0.08, 0.08, 0.08, 1.0)
        nt.links.new(tex.outputs["Color"], s.inputs["Color"])
    else:
        raise ValueError(kind)
    nt.links.new(s.outputs[0], out.inputs["Surface"])
    return m


def volume_material(name, density):
    m, nt, out = empty_material(name)
    v = nt.nodes.new("ShaderNodeVolumePrincipled")
    v.inputs["Density"].default_value = density
    v.inputs["Color"].default_value = (0.7, 0.8, 1.0, 1.0)
    nt.links.new(v.outputs[0], out.inputs["Volume"])
    return m


def extra_volume(scene):
    """A cube of scattering fog around the glass ball: volume stack, distance sampling."""
    add(bpy.ops.mesh.primitive_cube_add, "FogCube", volume_material("Fog", 0.35), size=3.0, location=(0.6, -0.4, 1.2))


def extra_hair(scene):
    """A sphere with 3000 particle hair strands (Cycles curves)."""
    ob = add(bpy.ops.mesh.primitive_uv_sphere_add, "HairyBall", material("Fur", "diffuse", (0.6, 0.3, 0.1, 1.0)),
             radius=0.6, location=(-2.6, -1.4, 0.6), segments=24, ring_count=12)
    ob.modifiers.new("hair", type="PARTICLE_SYSTEM")
    ps = ob.particle_systems[0].settings
    ps.type = "HAIR"
    ps.count = 3000
    ps.hair_length = 0.35
    ps.root_radius = 0.6
    ps.use_advanced_hair = True


def extra_emitters(scene):
    """A large emissive panel behind a glass slab (mesh light with caustics) and an area light."""
    add(bpy.ops.mesh.primitive_plane_add, "GlowPanel", material("Glow", "emission", (0.6, 0.8, 1.0, 1.0), strength=3.0),
        size=3.0, location=(-0.5, 4.0, 2.0), rotation=(math.radians(90.0), 0.0, 0.0))
    add(bpy.ops.mesh.primitive_cube_add, "GlassSlab", material("Slab", "glass", (0.9, 1.0, 0.9, 1.0)),
        size=1.0, location=(-0.5, 2.0, 1.2), scale=(1.4, 0.1, 1.0))
    bpy.ops.object.light_add(type="AREA", location=(-3.0, -3.0, 4.0))
    area = bpy.context.active_object
    area.data.energy = 300.0
    area.data.size = 1.5


def extra_dof(scene):
    """Depth of field and motion blur on the camera: more dimensions per sample."""
    cam = scene.camera.data
    cam.dof.use_dof = True
    cam.dof.focus_distance = 9.0
    cam.dof.aperture_fstop = 1.4
    scene.render.use_motion_blur = True


EXTRAS = {"volume": extra_volume, "hair": extra_hair, "emitters": extra_emitters, "dof": extra_dof}


def add(obj_op, name, mat, **kw):
    obj_op(**kw)
    ob = bpy.context.active_object
    ob.name = name
    ob.data.materials.append(mat)
    return ob


def build(a):
    scene = bpy.context.scene
    # Factory startup has Cube, Light, Camera: drop the cube, keep camera & light.
    for ob in list(scene.objects):
        if ob.type == "MESH":
            bpy.data.objects.remove(ob, do_unlink=True)

    r = scene.render
    r.engine = "CYCLES"
    r.resolution_x = a.width
    r.resolution_y = a.height
    r.resolution_percentage = a.percent
    r.image_settings.file_format = a.format
    if a.format == "OPEN_EXR":
        r.image_settings.color_depth = "32"
        r.image_settings.exr_codec = "ZIP"
    r.film_transparent = bool(a.transparent)
    scene.frame_start = a.frame_start
    scene.frame_end = a.frame_end
    scene.frame_current = a.frame_start

    c = scene.cycles
    c.device = "CPU"
    c.samples = a.samples
    c.seed = 0
    c.use_animated_seed = False
    c.use_denoising = bool(a.denoise)
    c.use_preview_denoising = False
    if a.no_adaptive:
        c.use_adaptive_sampling = False
    if a.adaptive_threshold is not None:
        c.adaptive_threshold = a.adaptive_threshold
    if a.adaptive_min_samples is not None:
        c.adaptive_min_samples = a.adaptive_min_samples

    # Objects.
    add(bpy.ops.mesh.primitive_plane_add, "Floor",
        material("Floor", "checker", (0.8, 0.75, 0.7, 1.0)), size=20, location=(0, 0, 0))
    ball = add(bpy.ops.mesh.primitive_uv_sphere_add, "GlossyBall",
               material("Glossy", "glossy", (0.9, 0.6, 0.3, 1.0)),
               radius=1.0, location=(-1.6, 0.3, 1.0), segments=32, ring_count=16)
    bpy.ops.object.shade_smooth()
    glass = add(bpy.ops.mesh.primitive_ico_sphere_add, "GlassBall",
                material("Glass", "glass", (1.0, 1.0, 1.0, 1.0)),
                radius=0.8, location=(0.9, -0.6, 0.8), subdivisions=3)
    bpy.ops.object.shade_smooth()
    add(bpy.ops.mesh.primitive_cube_add, "DiffuseCube",
        material("Diffuse", "diffuse", (0.2, 0.4, 0.8, 1.0)),
        size=1.2, location=(2.4, 1.6, 0.6))
    lamp = add(bpy.ops.mesh.primitive_torus_add, "EmissiveRing",
               material("Emission", "emission", (1.0, 0.5, 0.2, 1.0)),
               location=(0.0, 2.5, 1.6), major_radius=0.7, minor_radius=0.12)

    # Light (the factory point light) and world lighting.
    light = bpy.data.objects.get("Light")
    if light is None:
        bpy.ops.object.light_add(type="POINT", location=(4.0, 1.0, 6.0))
        light = bpy.context.active_object
    light.location = (4.0, -2.0, 6.0)
    light.data.energy = 800.0
    light.data.shadow_soft_size = 0.5

    world = scene.world or bpy.data.worlds.new("World")
    scene.world = world
    world.use_nodes = True
    bg = world.node_tree.nodes.get("Background")
    bg.inputs["Color"].default_value = (0.35, 0.45, 0.6, 1.0)
    bg.inputs["Strength"].default_value = 0.6

    # Camera.
    cam = scene.camera or bpy.data.objects.get("Camera")
    scene.camera = cam
    cam.location = (0.0, -9.0, 4.2)
    cam.rotation_euler = (math.radians(68.0), 0.0, 0.0)

    # A little animation so frames differ.
    f0, f1 = a.frame_start, max(a.frame_end, a.frame_start + 1)
    for ob, key0, key1 in (
        (ball, (-1.6, 0.3, 1.0), (-0.6, 0.8, 1.6)),
        (glass, (0.9, -0.6, 0.8), (0.4, -1.2, 0.8)),
    ):
        ob.location = key0
        ob.keyframe_insert("location", frame=f0)
        ob.location = key1
        ob.keyframe_insert("location", frame=f1)
    lamp.rotation_euler = (0.0, 0.0, 0.0)
    lamp.keyframe_insert("rotation_euler", frame=f0)
    lamp.rotation_euler = (math.radians(50.0), 0.0, math.radians(40.0))
    lamp.keyframe_insert("rotation_euler", frame=f1)
    scene.frame_set(a.frame_start)
    for e in a.extras:
        EXTRAS[e](scene)

    if a.autorun_marker:
        text = bpy.data.texts.new("tessera_autorun.py")
        text.write("# written by samples/make_scene.py: proves embedded scripts never run\n"
                   "with open(%r, 'w') as f:\n"
                   "    f.write('embedded script ran\\n')\n" % os.path.abspath(a.autorun_marker))
        text.use_module = True  # "Register": executed on file load when auto-run is allowed


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    try:
        a = parse_args(argv)
    except ArgError as e:
        sys.stderr.write("make_scene.py: error: %s\n" % e)
        sys.stderr.flush()
        os._exit(2)  # sys.exit inside blender --python does not always propagate
    except SystemExit as e:  # --help
        sys.stdout.flush()
        os._exit(e.code if isinstance(e.code, int) else 0)
    build(a)
    if a.pad_mb > 0:
        pad(a.pad_mb)
    out = os.path.abspath(a.out)
    d = os.path.dirname(out)
    if d and not os.path.isdir(d):
        sys.stderr.write("make_scene.py: error: directory does not exist: %s\n" % d)
        os._exit(2)
    bpy.ops.wm.save_as_mainfile(filepath=out, compress=False)
    print("make_scene.py: wrote %s (%dx%d @%d%%, %d samples, frames %d-%d, %s%s%s)" % (
        out, a.width, a.height, a.percent, a.samples, a.frame_start, a.frame_end, a.format,
        ", denoise" if a.denoise else "", ", autorun marker" if a.autorun_marker else ""))


main()
