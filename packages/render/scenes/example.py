"""Builds scenes/example.blend, the small scene that render jobs use in examples and tests.

Run once from the package folder (the .blend is committed; rerun only to change the scene):

    blender -b --factory-startup -noaudio --python scenes/example.py -- scenes/example.blend

A ground plane, three objects with distinct materials, a sun and an area light, and a camera.
Frames 1-8 differ: the cube turns, the sphere rises and the camera moves a little, so a tile
of one frame cannot pass for the same tile of another.
"""

import math
import os
import sys

import bpy

output = os.path.abspath(sys.argv[sys.argv.index("--") + 1])

bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.samples = 16
scene.render.resolution_x = 320
scene.render.resolution_y = 240
scene.frame_start = 1
scene.frame_end = 8


def material(name, color, roughness=0.5, metallic=0.0):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    return mat


def place(obj, mat):
    obj.data.materials.append(mat)
    return obj


bpy.ops.mesh.primitive_plane_add(size=12, location=(0, 0, 0))
place(bpy.context.object, material("Ground", (0.55, 0.55, 0.5), roughness=0.8))

bpy.ops.mesh.primitive_cube_add(size=1.4, location=(-1.6, 0, 0.7))
cube = place(bpy.context.object, material("Red", (0.8, 0.1, 0.08), roughness=0.35))
cube.rotation_euler = (0, 0, 0)
cube.keyframe_insert("rotation_euler", frame=1)
cube.rotation_euler = (0, 0, math.radians(90))
cube.keyframe_insert("rotation_euler", frame=8)

bpy.ops.mesh.primitive_uv_sphere_add(radius=0.7, location=(0.4, -0.6, 0.7), segments=32, ring_count=16)
sphere = place(bpy.context.object, material("Chrome", (0.9, 0.9, 0.95), roughness=0.15, metallic=1.0))
bpy.ops.object.shade_smooth()
sphere.keyframe_insert("location", frame=1)
sphere.location = (0.4, -0.6, 1.6)
sphere.keyframe_insert("location", frame=8)

bpy.ops.mesh.primitive_cone_add(radius1=0.6, depth=1.5, location=(1.8, 0.8, 0.75))
place(bpy.context.object, material("Blue", (0.1, 0.25, 0.8), roughness=0.5))

bpy.ops.object.light_add(type="SUN", location=(4, -4, 8))
sun = bpy.context.object
sun.data.energy = 3.0
sun.rotation_euler = (math.radians(40), math.radians(15), math.radians(30))

bpy.ops.object.light_add(type="AREA", location=(-3, -3, 4))
area = bpy.context.object
area.data.energy = 300.0
area.data.size = 2.0
area.rotation_euler = (math.radians(45), 0, math.radians(-45))

bpy.ops.object.camera_add(location=(0, -7.5, 3.2))
camera = bpy.context.object
camera.rotation_euler = (math.radians(72), 0, 0)
camera.keyframe_insert("location", frame=1)
camera.location = (1.2, -7.2, 3.4)
camera.keyframe_insert("location", frame=8)
scene.camera = camera

world = bpy.data.worlds.new("World")
world.use_nodes = True
world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.05, 0.07, 0.1, 1.0)
scene.world = world

bpy.ops.wm.save_as_mainfile(filepath=output, compress=True)
