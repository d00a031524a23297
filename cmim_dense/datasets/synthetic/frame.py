"""One frame of the synthetic twin, from scene layout to sensor output.

Frame ``i`` depends only on ``(seed, i)`` and the frame size: every random
draw comes from ``np.random.default_rng([seed, i])``, in a fixed order
(layout, camera, room colours, image noise, raw depth, border).
"""
from typing import Dict

import numpy as np

from .appearance import paint_albedo, paint_border, shade
from .geometry import (accelerometer, border_mask, camera_rays, cast_rays,
                       kinect_depth, sample_camera)
from .labels import paint_labels
from .scene_layout import SCENE_TYPES, Scene, furnish


def render_synthetic_frame(index: int,
                           height: int = 480,
                           width: int = 640,
                           seed: int = 0) -> Dict[str, object]:
    """Render frame ``index`` of the synthetic set.

    Args:
        index (int): Frame index (0-based).
        height (int): Frame height. Defaults to 480.
        width (int): Frame width. Defaults to 640.
        seed (int): Seed of the set. Defaults to 0.

    Returns:
        dict: ``image`` (H x W x 3 uint8 RGB), ``depth`` and ``raw_depth``
        (H x W float32 metres, raw 0 = hole), ``label`` (H x W uint16 raw
        NYU ids), ``instance`` (H x W uint8), ``scene``, ``scene_type``
        (str) and ``accel`` (4 floats: roll, yaw, pitch, tilt in degrees).
    """
    if height < 8 or width < 8:
        raise ValueError(f'frames must be at least 8x8, got {height}x{width}')
    rng = np.random.default_rng([seed, index])
    scene_type = SCENE_TYPES[rng.integers(len(SCENE_TYPES))]
    room = (-rng.uniform(1.5, 3.0), rng.uniform(1.5,
                                                3.0), -rng.uniform(0.3, 1.0),
            rng.uniform(3.5, 6.5), rng.uniform(2.4, 3.0))
    scene = Scene(rng, room)
    xl, xr, zn, zf, room_h = room
    furnish(scene, scene_type)

    (yaw, pitch, roll), cam_to_world, origin = sample_camera(rng, room)
    intrinsics, dirs = camera_rays(height, width, cam_to_world)
    depth, normal, owner, wall_index = cast_rays(room, scene.boxes, origin,
                                                 dirs, cam_to_world,
                                                 intrinsics)
    points = origin + dirs * depth[..., None]
    label, instance = paint_labels(owner, wall_index, scene.boxes)
    albedo = paint_albedo(rng, owner, points, scene.boxes)
    light = np.array([0.5 * (xl + xr), room_h - 0.2, 0.5 * (zn + zf)],
                     np.float32)
    image = shade(rng, albedo, points, normal, light)
    depth, raw = kinect_depth(rng, depth, label)

    edge = border_mask(height, width)
    paint_border(rng, image, edge)
    label[edge] = 0
    instance[edge] = 0
    raw[edge] = 0.0
    return dict(
        image=np.clip(image, 0, 255).round().astype(np.uint8),
        depth=depth,
        raw_depth=raw,
        label=label,
        instance=instance,
        scene=f'{scene_type}_{index + 1:04d}',
        scene_type=scene_type,
        accel=accelerometer(cam_to_world, yaw, pitch, roll))
