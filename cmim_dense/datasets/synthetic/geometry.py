"""Geometry and depth of the synthetic twin: camera, ray casting, Kinect.

A Kinect-like pinhole camera (``fx = 518.86 * W / 640``) at a random height,
yaw, pitch and roll looks into the room; depth is ray cast (vectorised
numpy, screen-space culled). ``rawDepths`` gets Kinect-like disparity
quantisation, noise and holes (occlusion shadows, specular surfaces,
dropouts, the invalid border); ``depths`` is the clean (in-painted) depth.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from .labels import CEILING, FLOOR, HOLEY_CLASSES, SYNTHETIC_RAW_IDS, WALLS
from .scene_layout import Box

# Kinect RGB intrinsics of the NYU toolbox at 640 x 480.
FX, FY, CX, CY = 518.8579, 519.4696, 325.5824, 253.7362


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-world rotation (camera X right, Y up, Z forward).

    Args:
        yaw (float): About world Y, radians.
        pitch (float): About camera X (negative looks down), radians.
        roll (float): About camera Z, radians.

    Returns:
        np.ndarray: (3, 3) rotation.
    """
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_pitch = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])
    r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return r_yaw @ r_pitch @ r_roll


def box_hits(box: Box, origin: np.ndarray,
             dirs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Ray/box intersection (slab test in the box frame).

    Args:
        box (Box): The box.
        origin (np.ndarray): (3,) ray origin.
        dirs (np.ndarray): (..., 3) ray directions (unnormalised).

    Returns:
        tuple[np.ndarray, np.ndarray]: Entry distance (inf where missed)
        and the world normal of the entry face, (..., 3).
    """
    cos, sin = np.cos(box.yaw), np.sin(box.yaw)
    # world -> box frame: rotate by -yaw about Y
    rot = np.array([[cos, 0, -sin], [0, 1, 0], [sin, 0, cos]], np.float32)
    local_o = rot @ (origin - box.center)
    local_d = dirs @ rot.T
    with np.errstate(divide='ignore', invalid='ignore'):
        inv = 1.0 / local_d
        t1 = (-box.half - local_o) * inv
        t2 = (box.half - local_o) * inv
    t_lo = np.fmin(t1, t2)
    t_near = t_lo.max(-1)
    t_far = np.fmax(t1, t2).min(-1)
    hit = (t_near <= t_far) & (t_near > 1e-3)
    t_near = np.where(hit, t_near, np.inf)
    axis = t_lo.argmax(-1)
    normal = np.zeros(dirs.shape, np.float32)
    comp = np.take_along_axis(local_d, axis[..., None], -1)[..., 0]
    np.put_along_axis(normal, axis[..., None], -np.sign(comp)[..., None], -1)
    return t_near, normal @ rot  # box -> world: rot.T applied on the right


def screen_rect(box: Box, origin: np.ndarray, cam_to_world: np.ndarray,
                intrinsics: tuple,
                size: Tuple[int, int]) -> Optional[Tuple[int, int, int, int]]:
    """Pixel rectangle that contains the box's projection.

    Args:
        box (Box): The box.
        origin (np.ndarray): Camera centre.
        cam_to_world (np.ndarray): Camera rotation.
        intrinsics (tuple): ``(fx, fy, cx, cy)``.
        size (tuple[int, int]): ``(H, W)``.

    Returns:
        tuple | None: ``(r0, r1, c0, c1)``, the whole frame when the box
        reaches behind the camera, None when it is off screen.
    """
    height, width = size
    cos, sin = np.cos(box.yaw), np.sin(box.yaw)
    rot = np.array([[cos, 0, sin], [0, 1, 0], [-sin, 0, cos]])
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T
    corners = box.center + (signs * box.half) @ rot.T
    cam = (corners - origin) @ cam_to_world  # world -> camera (X, Y up, Z)
    if np.any(cam[:, 2] < 0.05):
        return 0, height, 0, width
    fx, fy, cx, cy = intrinsics
    u = fx * cam[:, 0] / cam[:, 2] + cx
    v = cy - fy * cam[:, 1] / cam[:, 2]
    c0, c1 = int(np.floor(u.min())) - 1, int(np.ceil(u.max())) + 2
    r0, r1 = int(np.floor(v.min())) - 1, int(np.ceil(v.max())) + 2
    c0, c1, r0, r1 = max(c0, 0), min(c1, width), max(r0, 0), min(r1, height)
    if c0 >= c1 or r0 >= r1:
        return None
    return r0, r1, c0, c1


def smooth_noise(rng: np.random.Generator, size: Tuple[int, int],
                 cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a coarse grid upsampled bilinearly.

    Args:
        rng (np.random.Generator): Generator.
        size (tuple[int, int]): ``(H, W)``.
        cells (int): Grid cells along the width.

    Returns:
        np.ndarray: (H, W) float32.
    """
    height, width = size
    gh = max(2, int(round(cells * height / width)) + 1)
    grid = rng.random((gh, cells + 1)).astype(np.float32)
    rows = np.linspace(0, gh - 1, height)
    cols = np.linspace(0, cells, width)
    r0 = np.minimum(rows.astype(int), gh - 2)
    c0 = np.minimum(cols.astype(int), cells - 1)
    fr = (rows - r0)[:, None]
    fc = (cols - c0)[None, :]
    top = grid[r0][:, c0] * (1 - fc) + grid[r0][:, c0 + 1] * fc
    bottom = grid[r0 + 1][:, c0] * (1 - fc) + grid[r0 + 1][:, c0 + 1] * fc
    return (top * (1 - fr) + bottom * fr).astype(np.float32)


def sample_camera(rng: np.random.Generator,
                  room: tuple) -> Tuple[tuple, np.ndarray, np.ndarray]:
    """Draw the camera pose inside the room.

    Args:
        rng (np.random.Generator): The frame's generator.
        room (tuple): ``(xl, xr, zn, zf, height)`` of the room box.

    Returns:
        tuple: ``(yaw, pitch, roll)`` in radians, the (3, 3) float32
        camera-to-world rotation and the (3,) float32 camera centre.
    """
    xl, xr = room[0], room[1]
    yaw = rng.uniform(-0.35, 0.35)
    pitch = rng.uniform(-0.4, -0.05)
    roll = rng.uniform(-0.05, 0.05)
    cam_to_world = rotation(yaw, pitch, roll).astype(np.float32)
    origin = np.array(
        [rng.uniform(xl + 0.6, xr - 0.6),
         rng.uniform(1.0, 1.6), 0.0], np.float32)
    return (yaw, pitch, roll), cam_to_world, origin


def camera_rays(height: int, width: int,
                cam_to_world: np.ndarray) -> Tuple[tuple, np.ndarray]:
    """The intrinsics at this frame size and the world ray of every pixel.

    Args:
        height (int): Frame height.
        width (int): Frame width.
        cam_to_world (np.ndarray): (3, 3) camera rotation.

    Returns:
        tuple: ``(fx, fy, cx, cy)`` and the (H, W, 3) ray directions (camera
        z component 1).
    """
    sx, sy = width / 640.0, height / 480.0
    intrinsics = (FX * sx, FY * sy, CX * sx, CY * sy)
    fx, fy, cx, cy = intrinsics
    cols = (np.arange(width, dtype=np.float32) - cx) / fx
    rows = (cy - np.arange(height, dtype=np.float32)) / fy
    cam_dirs = np.stack(
        np.broadcast_arrays(cols[None, :], rows[:, None],
                            np.ones((1, 1), np.float32)), -1)
    return intrinsics, cam_dirs @ cam_to_world.T


def cast_rays(room: tuple, boxes: Sequence[Box], origin: np.ndarray,
              dirs: np.ndarray, cam_to_world: np.ndarray,
              intrinsics: tuple) -> Tuple[np.ndarray, ...]:
    """Ray cast the room box (from inside) and the boxes in it.

    Args:
        room (tuple): ``(xl, xr, zn, zf, height)`` of the room box.
        boxes (Sequence[Box]): The scene's boxes.
        origin (np.ndarray): (3,) camera centre.
        dirs (np.ndarray): (H, W, 3) ray directions.
        cam_to_world (np.ndarray): (3, 3) camera rotation.
        intrinsics (tuple): ``(fx, fy, cx, cy)``.

    Returns:
        tuple[np.ndarray, ...]: ``depth`` (H, W) distance along the rays
        (camera z), ``normal`` (H, W, 3), ``owner`` (H, W): the box index
        hit, or :data:`~.labels.FLOOR` / ``CEILING`` / ``WALLS``, and
        ``wall_index`` (H, W): 1 left, 2 right, 3 back or front wall.
    """
    xl, xr, zn, zf, room_h = room
    height, width = dirs.shape[:2]
    # room box from inside: exit distance per axis
    low = np.array([xl, 0.0, zn], np.float32)
    high = np.array([xr, room_h, zf], np.float32)
    with np.errstate(divide='ignore', invalid='ignore'):
        bound = np.where(dirs > 0, high, low)
        t_axes = (bound - origin) / dirs
    t_axes = np.where(np.isfinite(t_axes) & (t_axes > 0), t_axes, np.inf)
    axis = t_axes.argmin(-1)
    depth = np.take_along_axis(t_axes, axis[..., None], -1)[..., 0]
    comp = np.take_along_axis(dirs, axis[..., None], -1)[..., 0]
    normal = np.zeros_like(dirs)
    np.put_along_axis(normal, axis[..., None], -np.sign(comp)[..., None], -1)
    owner = np.where(axis == 1, np.where(comp < 0, FLOOR, CEILING), WALLS)

    for k, box in enumerate(boxes):
        rect = screen_rect(box, origin, cam_to_world, intrinsics,
                           (height, width))
        if rect is None:
            continue
        r0, r1, c0, c1 = rect
        t_box, n_box = box_hits(box, origin, dirs[r0:r1, c0:c1])
        closer = t_box < depth[r0:r1, c0:c1]
        depth[r0:r1, c0:c1][closer] = t_box[closer]
        normal[r0:r1, c0:c1][closer] = n_box[closer]
        owner[r0:r1, c0:c1][closer] = k
    wall_index = np.where(axis == 0, np.where(comp < 0, 1, 2), 3)
    return depth, normal, owner, wall_index


def border_mask(height: int, width: int) -> np.ndarray:
    """The invalid border of the registered Kinect frames.

    Args:
        height (int): Frame height.
        width (int): Frame width.

    Returns:
        np.ndarray: (H, W) bool, True on the border.
    """
    border = max(1, int(round(7 * width / 640)))
    edge = np.zeros((height, width), bool)
    edge[:border] = edge[-border:] = True
    edge[:, :border] = edge[:, -border:] = True
    return edge


def kinect_depth(rng: np.random.Generator, depth: np.ndarray,
                 label: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Clean and Kinect-like raw depth (the border is not yet cleared).

    Args:
        rng (np.random.Generator): The frame's generator.
        depth (np.ndarray): (H, W) ray-cast depth.
        label (np.ndarray): (H, W) raw NYU ids (for the holey classes).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``depth`` (clipped to 10 m) and
        ``raw`` (noise, disparity quantisation, 0 = hole), float32 metres.
    """
    height, width = depth.shape

    # Kinect-like raw depth: noise, disparity quantisation, holes
    depth = np.minimum(depth, 10.0).astype(np.float32)
    noisy = depth + rng.normal(0, 1.0, depth.shape).astype(
        np.float32) * 1.4e-3 * depth * depth
    disparity = np.round(8.0 * 43.5 / np.maximum(noisy, 0.3)) / 8.0
    raw = (43.5 / disparity).astype(np.float32)
    holes = smooth_noise(rng, (height, width), 12) > 0.93
    step = np.abs(np.diff(depth, axis=1)) > 0.1
    shadow = np.zeros_like(holes)
    shadow[:, :-1] |= step
    for shift in range(1, max(2, width // 160) + 1):
        shadow[:, :-shift] |= step[:, shift - 1:]
    holes |= shadow
    for name in HOLEY_CLASSES:
        holes |= (label == SYNTHETIC_RAW_IDS[name]) & (
            smooth_noise(rng, (height, width), 6) > 0.3)
    raw[holes | (raw > 9.5)] = 0.0

    return depth, raw


def accelerometer(cam_to_world: np.ndarray, yaw: float, pitch: float,
                  roll: float) -> tuple:
    """The accelerometer record of a frame.

    Args:
        cam_to_world (np.ndarray): (3, 3) camera rotation.
        yaw (float): Radians.
        pitch (float): Radians.
        roll (float): Radians.

    Returns:
        tuple: Roll, yaw, pitch and tilt in degrees.
    """
    gravity = np.linalg.inv(cam_to_world) @ np.array([0.0, -1.0, 0.0])
    return (np.degrees(roll), np.degrees(yaw), np.degrees(pitch),
            float(np.degrees(np.arccos(np.clip(-gravity[1], -1, 1)))))
