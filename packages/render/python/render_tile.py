"""Renders one tile of one frame with Cycles on the CPU; run by src/renderTile.ts.

    blender -b SCENE -Y --factory-startup -noaudio --python-exit-code 1 -t THREADS \
        --python render_tile.py -- '{"frame": 1, "width": 64, ...}'

Every setting that changes pixels is fixed here rather than taken from the scene, so that
devices rendering the same tile produce the same image within RENDER_TOLERANCE:
- a fixed seed, not animated: the noise pattern is part of the image replicas compare;
- no adaptive sampling, no time limit: both stop at a point that depends on timing or on
  neighbouring pixels, so tiles and whole frames would differ;
- no dithering: its noise is drawn afresh on every run;
- no denoising and no compositing: both filter across pixels, so a tile's edge would depend on
  pixels outside it;
- a border render cropped to the tile, whose bounds (in pixels, rows counted from the bottom as
  Blender does) are given by the caller and turned into border fractions that truncate back to
  exactly those pixels.
"""

import json
import sys

import bpy

request = json.loads(sys.argv[sys.argv.index("--") + 1])

# A file Blender cannot read leaves its default scene loaded: render nothing rather than that.
if bpy.path.abspath(bpy.data.filepath) != request["scene"]:
    raise RuntimeError("the scene did not load: " + request["scene"])
scene = bpy.context.scene
render = scene.render
cycles = scene.cycles

render.engine = "CYCLES"
cycles.device = "CPU"
cycles.samples = request["samples"]
cycles.seed = request["seed"]
cycles.use_animated_seed = False
cycles.use_adaptive_sampling = False
cycles.use_denoising = False
cycles.time_limit = 0.0

render.resolution_x = request["width"]
render.resolution_y = request["height"]
render.resolution_percentage = 100
render.use_compositing = False
render.use_sequencer = False
render.use_multiview = False
# Dithering adds fresh random noise when the float image is quantised to 8 bits.
render.dither_intensity = 0.0


def fraction(pixel, size):
    # Blender truncates border * size to whole pixels; half a pixel in keeps float rounding
    # from moving an edge, and the far edge of the frame is exactly 1.
    return 1.0 if pixel >= size else (pixel + 0.5) / size


x0, x1 = request["x0"], request["x1"]
y0, y1 = request["y0"], request["y1"]
whole = x0 == 0 and y0 == 0 and x1 == request["width"] and y1 == request["height"]
render.use_border = not whole
render.use_crop_to_border = not whole
if not whole:
    render.border_min_x = fraction(x0, request["width"])
    render.border_max_x = fraction(x1, request["width"])
    render.border_min_y = fraction(y0, request["height"])
    render.border_max_y = fraction(y1, request["height"])

settings = render.image_settings
settings.file_format = "PNG"
settings.color_mode = "RGBA"
settings.color_depth = "8"
settings.compression = 15
render.use_file_extension = False
render.filepath = request["output"]

scene.frame_set(request["frame"])
bpy.ops.render.render(write_still=True)
