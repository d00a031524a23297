"""A synthetic twin of the NYUD-v2 labeled set, rendered procedurally.

Each frame is an indoor scene: a room box (floor, walls, ceiling) with
furniture made of boxes (beds, chairs, tables, cabinets, sofas, shelves
with books, ...) and thin planes on the walls and floor (windows, pictures,
doors, blinds, floor mats, ...), seen by a Kinect-like pinhole camera
(``fx = 518.86 * W / 640``) at a random height, yaw, pitch and roll. Depth
is ray cast (vectorised numpy, screen-space culled). Appearance follows the
geometry: per-class colours with per-object jitter, procedural textures in
3-D surface coordinates, Lambertian shading from a ceiling light, sensor
noise. ``rawDepths`` has Kinect-like disparity quantisation, noise and holes
(occlusion shadows, specular surfaces, dropouts, the invalid border);
``depths`` is the clean (in-painted) depth. Labels are NYU *raw* class ids
(:data:`SYNTHETIC_RAW_IDS`) that the real 894 -> 40 mapping sends to the
intended classes; 0 (unlabeled) on the image border and on clutter.

:func:`generate_synthetic_nyudv2` writes ``nyu_depth_v2_labeled.mat`` in the
exact official HDF5 layout and a v5 ``splits.mat``, so the real loader runs
on it. Frame ``i`` depends only on ``(seed, i)`` and the frame size.
"""
import json
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Tuple

import h5py
import numpy as np

from .nyudv2_mat_file import close_nyudv2_mat_files
from .nyudv2_mat_writer import NYUDv2MatWriter
from .nyudv2_splits import save_nyudv2_splits

# NYU raw class id (1-based index into ``names``) of every class rendered;
# the test suite checks them against the real classMapping40.mat.
SYNTHETIC_RAW_IDS: Dict[str, int] = {
    'wall': 21,
    'floor': 11,
    'cabinet': 3,
    'bed': 157,
    'chair': 5,
    'sofa': 83,
    'table': 19,
    'door': 28,
    'window': 59,
    'bookshelf': 88,
    'picture': 64,
    'counter': 7,
    'blinds': 80,
    'desk': 36,
    'curtain': 89,
    'dresser': 169,
    'pillow': 119,
    'mirror': 122,
    'floor mat': 143,
    'ceiling': 4,
    'books': 85,
    'refridgerator': 17,
    'television': 172,
    'towel': 135,
    'shower curtain': 123,
    'box': 26,
    'whiteboard': 45,
    'night stand': 158,
    'toilet': 124,
    'sink': 24,
    'lamp': 144,
    'bathtub': 136,
    'air vent': 25,  # -> otherstructure
    'garbage bin': 12,  # -> otherfurniture
    'bottle': 2,  # -> otherprop
}

# Kinect RGB intrinsics of the NYU toolbox at 640 x 480.
FX, FY, CX, CY = 518.8579, 519.4696, 325.5824, 253.7362
LABELED_FILE = 'nyu_depth_v2_labeled.mat'
SPLITS_FILE = 'splits.mat'
TRAIN_FRACTION = 795 / 1449
SCENE_TYPES = ('bedroom', 'living_room', 'office', 'kitchen', 'bathroom',
               'dining_room')

# base RGB albedo (0..1) and texture kind per class
_LOOKS: Dict[str, Tuple[Tuple[float, float, float], str]] = {
    'wall': ((0.80, 0.78, 0.72), 'paint'),
    'floor': ((0.55, 0.38, 0.22), 'wood'),
    'ceiling': ((0.92, 0.92, 0.90), 'paint'),
    'cabinet': ((0.60, 0.45, 0.30), 'wood'),
    'bed': ((0.75, 0.75, 0.85), 'fabric'),
    'chair': ((0.35, 0.25, 0.18), 'wood'),
    'sofa': ((0.45, 0.30, 0.30), 'fabric'),
    'table': ((0.50, 0.35, 0.20), 'wood'),
    'door': ((0.65, 0.50, 0.35), 'wood'),
    'window': ((0.70, 0.85, 0.95), 'glass'),
    'bookshelf': ((0.45, 0.32, 0.20), 'wood'),
    'picture': ((0.60, 0.40, 0.50), 'stripes'),
    'counter': ((0.75, 0.75, 0.72), 'paint'),
    'blinds': ((0.90, 0.88, 0.80), 'slats'),
    'desk': ((0.55, 0.40, 0.25), 'wood'),
    'curtain': ((0.55, 0.20, 0.25), 'fabric'),
    'dresser': ((0.50, 0.33, 0.22), 'wood'),
    'pillow': ((0.90, 0.90, 0.95), 'fabric'),
    'mirror': ((0.80, 0.85, 0.88), 'glass'),
    'floor mat': ((0.30, 0.40, 0.55), 'fabric'),
    'books': ((0.50, 0.30, 0.30), 'stripes'),
    'refridgerator': ((0.90, 0.90, 0.92), 'paint'),
    'television': ((0.08, 0.08, 0.10), 'glass'),
    'towel': ((0.85, 0.80, 0.60), 'fabric'),
    'shower curtain': ((0.75, 0.85, 0.90), 'fabric'),
    'box': ((0.70, 0.55, 0.35), 'paint'),
    'whiteboard': ((0.96, 0.96, 0.96), 'paint'),
    'night stand': ((0.48, 0.32, 0.22), 'wood'),
    'toilet': ((0.95, 0.95, 0.95), 'paint'),
    'sink': ((0.92, 0.92, 0.94), 'paint'),
    'lamp': ((0.95, 0.85, 0.60), 'paint'),
    'bathtub': ((0.93, 0.93, 0.95), 'paint'),
    'air vent': ((0.70, 0.70, 0.70), 'slats'),
    'garbage bin': ((0.25, 0.35, 0.30), 'paint'),
    'bottle': ((0.20, 0.50, 0.25), 'glass'),
    None: ((0.50, 0.50, 0.50), 'paint'),
}
_HOLEY = ('window', 'mirror', 'television', 'bottle')


class Box(NamedTuple):
    """One rendered box: centre, half sizes, yaw, class and look.

    Attributes:
        center (np.ndarray): (3,) world centre (X right, Y up, Z forward).
        half (np.ndarray): (3,) half sizes along the box's own axes.
        yaw (float): Rotation about Y, radians.
        name (str | None): Class name (None = unlabeled clutter).
        instance (int): Instance id among boxes of that class.
        color (np.ndarray): (3,) RGB albedo 0..1.
        texture (str): Texture kind.
        phase (float): Texture phase.
    """
    center: np.ndarray
    half: np.ndarray
    yaw: float
    name: Optional[str]
    instance: int
    color: np.ndarray
    texture: str
    phase: float


class _Scene:
    """Collects the boxes of one room (helpers place them).

    Args:
        rng (np.random.Generator): The frame's generator.
        room (tuple): ``(xl, xr, zn, zf, height)`` of the room box.
    """

    def __init__(self, rng: np.random.Generator, room: tuple) -> None:
        self.rng = rng
        self.xl, self.xr, self.zn, self.zf, self.height = room
        self.boxes: List[Box] = []
        self._count: Dict[Optional[str], int] = {}

    def instance(self, name: Optional[str]) -> int:
        """Next instance id of class ``name``.

        Args:
            name (str | None): Class name.

        Returns:
            int: 1, 2, ... per class (0 for unlabeled).
        """
        if name is None:
            return 0
        self._count[name] = self._count.get(name, 0) + 1
        return self._count[name]

    def add(self,
            name: Optional[str],
            center: tuple,
            half: tuple,
            yaw: float = 0.0,
            instance: Optional[int] = None,
            color: Optional[np.ndarray] = None) -> int:
        """Add one box.

        Args:
            name (str | None): Class name, None for unlabeled clutter.
            center (tuple): World centre.
            half (tuple): Half sizes.
            yaw (float): Rotation about Y. Defaults to 0.
            instance (int, optional): Share an instance with earlier parts.
            color (np.ndarray, optional): Albedo; jittered class colour if
                None.

        Returns:
            int: The instance id used.
        """
        base, texture = _LOOKS[name]
        if color is None:
            jitter = self.rng.uniform(-0.12, 0.12, 3)
            color = np.clip(np.asarray(base) + jitter, 0.03, 1.0)
            if name is None:
                color = self.rng.uniform(0.1, 0.9, 3)
        if instance is None:
            instance = self.instance(name)
        self.boxes.append(
            Box(
                np.asarray(center, np.float32),
                np.maximum(np.asarray(half, np.float32), 1e-3), float(yaw),
                name, instance, np.asarray(color, np.float32), texture,
                float(self.rng.uniform(0, 2 * np.pi))))
        return instance

    def wall_span(self, wall: str) -> Tuple[float, float]:
        """Extent of a wall's horizontal coordinate in front of the camera.

        Args:
            wall (str): ``'back'``, ``'left'`` or ``'right'``.

        Returns:
            tuple[float, float]: Low and high coordinate (X for the back
            wall, Z for side walls).
        """
        if wall == 'back':
            return self.xl, self.xr
        return max(self.zn, 0.0) + 1.0, self.zf

    def against(self,
                name: Optional[str],
                wall: str,
                width: float,
                depth: float,
                height: float,
                y0: float = 0.0,
                where: Optional[float] = None,
                gap: float = 0.01,
                instance: Optional[int] = None) -> Tuple[float, int]:
        """Add a box standing against a wall (``depth`` = off the wall).

        Args:
            name (str | None): Class name.
            wall (str): ``'back'``, ``'left'`` or ``'right'``.
            width (float): Size along the wall.
            depth (float): Size away from the wall.
            height (float): Vertical size.
            y0 (float): Bottom height. Defaults to 0 (floor).
            where (float, optional): Centre along the wall; random if None.
            gap (float): Distance from the wall. Defaults to 0.01.
            instance (int, optional): Instance to share.

        Returns:
            tuple[float, int]: The centre along the wall and the instance.
        """
        low, high = self.wall_span(wall)
        width = min(width, 0.9 * (high - low))
        if where is None:
            where = self.rng.uniform(low + width / 2, high - width / 2)
        y = y0 + height / 2
        if wall == 'back':
            center = (where, y, self.zf - gap - depth / 2)
            half = (width / 2, height / 2, depth / 2)
        elif wall == 'left':
            center = (self.xl + gap + depth / 2, y, where)
            half = (depth / 2, height / 2, width / 2)
        else:
            center = (self.xr - gap - depth / 2, y, where)
            half = (depth / 2, height / 2, width / 2)
        return where, self.add(name, center, half, instance=instance)

    def table(self, name: str, x: float, z: float, width: float, depth: float,
              height: float, yaw: float) -> None:
        """A table or desk: a top slab on four legs.

        Args:
            name (str): ``'table'`` or ``'desk'``.
            x (float): Centre X.
            z (float): Centre Z.
            width (float): Size along the rotated X.
            depth (float): Size along the rotated Z.
            height (float): Top height.
            yaw (float): Rotation about Y.
        """
        inst = self.add(name, (x, height - 0.02, z),
                        (width / 2, 0.02, depth / 2), yaw)
        cos, sin = np.cos(yaw), np.sin(yaw)
        for sx in (-1, 1):
            for sz in (-1, 1):
                lx, lz = sx * (width / 2 - 0.05), sz * (depth / 2 - 0.05)
                self.add(
                    name, (x + cos * lx + sin * lz,
                           (height - 0.04) / 2, z - sin * lx + cos * lz),
                    (0.025, (height - 0.04) / 2, 0.025),
                    yaw,
                    instance=inst,
                    color=self.boxes[-1].color)

    def chair(self, x: float, z: float, yaw: float) -> None:
        """A chair: seat, back and a leg block.

        Args:
            x (float): Centre X.
            z (float): Centre Z.
            yaw (float): Rotation about Y (back towards +Z at 0).
        """
        inst = self.add('chair', (x, 0.45, z), (0.22, 0.025, 0.22), yaw)
        color = self.boxes[-1].color
        cos, sin = np.cos(yaw), np.sin(yaw)
        self.add(
            'chair', (x + sin * 0.2, 0.7, z + cos * 0.2), (0.22, 0.22, 0.02),
            yaw,
            instance=inst,
            color=color)
        for sx in (-1, 1):
            for sz in (-1, 1):
                lx, lz = sx * 0.19, sz * 0.19
                self.add(
                    'chair',
                    (x + cos * lx + sin * lz, 0.22, z - sin * lx + cos * lz),
                    (0.02, 0.22, 0.02),
                    yaw,
                    instance=inst,
                    color=color)

    def on_wall(self,
                name: str,
                wall: str,
                width: float,
                height: float,
                y: float,
                protrude: float,
                where: Optional[float] = None) -> float:
        """A thin plane on a wall (window, picture, door, ...).

        Args:
            name (str): Class name.
            wall (str): ``'back'``, ``'left'`` or ``'right'``.
            width (float): Size along the wall.
            height (float): Vertical size.
            y (float): Centre height.
            protrude (float): Thickness off the wall.
            where (float, optional): Centre along the wall; random if None.

        Returns:
            float: The centre along the wall.
        """
        where, _ = self.against(
            name,
            wall,
            width,
            protrude,
            height,
            y0=y - height / 2,
            where=where,
            gap=0.0)
        return where


def _furnish(scene: _Scene, scene_type: str) -> None:
    """Place the furniture and wall planes of one scene type.

    Args:
        scene (_Scene): The room to fill.
        scene_type (str): One of :data:`SCENE_TYPES`.
    """
    rng = scene.rng
    walls = ['back', 'left', 'right']
    rng.shuffle(walls)
    mid_x = 0.5 * (scene.xl + scene.xr)
    mid_z = 0.5 * (max(scene.zn, 0.0) + 1.5 + scene.zf)
    # windows and a door on the walls
    where = scene.on_wall('window', walls[0], rng.uniform(0.8, 1.6),
                          rng.uniform(0.9, 1.4), rng.uniform(1.3, 1.7), 0.02)
    if rng.random() < 0.5:
        scene.on_wall('blinds', walls[0], 1.0, 0.5, 2.0, 0.05, where=where)
    else:
        high = scene.wall_span(walls[0])[1]
        side = where + 0.9 if where + 1.2 < high else where - 0.9
        scene.on_wall('curtain', walls[0], 0.35, 2.0, 1.15, 0.1, where=side)
    if rng.random() < 0.7:
        scene.on_wall('door', walls[2], 0.9, 2.05, 1.025, 0.04)
    for _ in range(rng.integers(0, 3)):
        scene.on_wall('picture', walls[1], rng.uniform(0.3, 0.9),
                      rng.uniform(0.3, 0.7), rng.uniform(1.4, 1.9), 0.03)
    if rng.random() < 0.4:
        scene.add('air vent', (mid_x, scene.height - 0.01, mid_z),
                  (0.3, 0.01, 0.2))
    if scene_type == 'bedroom':
        where, _ = scene.against('bed', walls[1], rng.uniform(1.4, 1.9), 2.0,
                                 0.5)
        for off in (-0.35, 0.35):
            scene.against(
                'pillow',
                walls[1],
                0.55,
                0.35,
                0.15,
                y0=0.5,
                where=where + off,
                gap=0.05)
        scene.against(
            'night stand', walls[1], 0.45, 0.4, 0.55, where=where + 1.3)
        scene.against(
            'lamp',
            walls[1],
            0.3,
            0.3,
            0.35,
            y0=0.55,
            where=where + 1.3,
            gap=0.06)
        scene.against('dresser', walls[2], 1.2, 0.5, rng.uniform(0.8, 1.1))
        scene.add('floor mat', (mid_x, 0.005, mid_z), (0.8, 0.005, 0.5))
    elif scene_type == 'living_room':
        where, inst = scene.against('sofa', walls[1], 2.0, 0.9, 0.42)
        scene.against(
            'sofa',
            walls[1],
            2.0,
            0.2,
            0.45,
            y0=0.42,
            where=where,
            instance=inst)
        scene.against(
            'pillow',
            walls[1],
            0.45,
            0.15,
            0.4,
            y0=0.42,
            where=where - 0.5,
            gap=0.25)
        scene.table('table', mid_x, mid_z, 1.0, 0.6, 0.45,
                    rng.uniform(-0.3, 0.3))
        scene.against('cabinet', walls[2], 1.4, 0.45, 0.6)
        scene.against('television', walls[2], 1.0, 0.08, 0.6, y0=0.6, gap=0.2)
        scene.against('lamp', walls[0], 0.35, 0.35, 1.5)
        scene.add('floor mat', (mid_x, 0.005, mid_z), (1.2, 0.005, 0.8))
    elif scene_type == 'office':
        x, z = mid_x + rng.uniform(-0.5, 0.5), mid_z
        yaw = rng.uniform(-0.4, 0.4)
        scene.table('desk', x, z, 1.4, 0.7, 0.74, yaw)
        scene.chair(x - 0.6 * np.sin(yaw), z - 0.6 * np.cos(yaw), yaw + np.pi)
        where, _ = scene.against('bookshelf', walls[1], 1.0, 0.35, 1.9)
        for shelf in range(4):
            scene.against(
                'books',
                walls[1],
                0.8,
                0.25,
                0.3,
                y0=0.1 + shelf * 0.45,
                where=where,
                gap=0.06)
        scene.against('cabinet', walls[2], 0.6, 0.5, 1.3)
        scene.on_wall('whiteboard', walls[1 if rng.random() < 0.5 else 2], 1.5,
                      1.0, 1.5, 0.02)
        scene.against('garbage bin', walls[0], 0.3, 0.3, 0.45)
        scene.add('box', (x + 0.4, 0.8, z), (0.15, 0.06, 0.12), yaw)
    elif scene_type == 'kitchen':
        where, _ = scene.against('cabinet', walls[1], 2.4, 0.6, 0.86)
        scene.against(
            'counter', walls[1], 2.5, 0.64, 0.04, y0=0.86, where=where)
        scene.against(
            'sink',
            walls[1],
            0.6,
            0.45,
            0.1,
            y0=0.9,
            where=where + 0.5,
            gap=0.1)
        scene.against('cabinet', walls[1], 2.0, 0.35, 0.7, y0=1.5, where=where)
        scene.against('refridgerator', walls[2], 0.8, 0.7, 1.8)
        scene.table('table', mid_x, mid_z, 1.2, 0.8, 0.75,
                    rng.uniform(-0.3, 0.3))
        scene.chair(mid_x + 0.8, mid_z, -np.pi / 2)
        scene.add('bottle', (mid_x, 0.87, mid_z), (0.04, 0.12, 0.04))
    elif scene_type == 'bathroom':
        scene.against('bathtub', walls[1], 1.6, 0.75, 0.55)
        scene.on_wall('shower curtain', walls[1], 1.6, 1.8, 1.5, 0.02)
        where, _ = scene.against('cabinet', walls[2], 0.8, 0.5, 0.8)
        scene.against('sink', walls[2], 0.6, 0.45, 0.12, y0=0.8, where=where)
        scene.on_wall('mirror', walls[2], 0.7, 0.8, 1.5, 0.02, where=where)
        scene.against('toilet', walls[0], 0.4, 0.65, 0.4)
        scene.on_wall('towel', walls[0], 0.4, 0.6, 1.2, 0.05)
    else:  # dining_room
        scene.table('table', mid_x, mid_z, 1.6, 0.9, 0.75,
                    rng.uniform(-0.2, 0.2))
        for side in (-1, 1):
            scene.chair(mid_x + side * 0.5, mid_z - 0.7, np.pi)
            if rng.random() < 0.6:
                scene.chair(mid_x + side * 0.5, mid_z + 0.7, 0.0)
        scene.against('dresser', walls[2], 1.4, 0.5, 0.9)
        scene.against('lamp', walls[2], 0.3, 0.3, 0.4, y0=0.9, gap=0.1)
        scene.add('box', (mid_x, 0.8, mid_z), (0.12, 0.05, 0.12))
    # unlabeled clutter
    for _ in range(rng.integers(0, 3)):
        size = rng.uniform(0.1, 0.35, 3)
        scene.add(None, (rng.uniform(scene.xl + 0.4, scene.xr - 0.4), size[1],
                         rng.uniform(mid_z, scene.zf - 0.4)), size,
                  rng.uniform(0, np.pi))


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
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


def _box_hits(box: Box, origin: np.ndarray,
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


def _screen_rect(box: Box, origin: np.ndarray, cam_to_world: np.ndarray,
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


def _texture(kind: str, points: np.ndarray, phase: float) -> np.ndarray:
    """Procedural albedo multiplier in 3-D surface coordinates.

    Args:
        kind (str): Texture kind.
        points (np.ndarray): (P, 3) world points.
        phase (float): Per-object phase.

    Returns:
        np.ndarray: (P,) multiplier around 1.
    """
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    low = 0.06 * (
        np.sin(2.1 * x + phase) * np.sin(1.7 * y + 2 * phase) +
        np.sin(1.3 * z - phase))
    if kind == 'wood':
        grain = np.sin(23.0 * (x + z) + 3.0 * np.sin(4.0 * (x - z) + phase))
        return 0.9 + 0.12 * grain + low
    if kind == 'fabric':
        weave = np.sin(90.0 * (x + z)) * np.sin(90.0 * y + phase)
        return 0.95 + 0.06 * np.sign(weave) + low
    if kind == 'stripes':
        band = np.floor(14.0 * (x + z) + phase)
        return 0.6 + 0.8 * np.abs(np.sin(band * 12.9898)) + low
    if kind == 'slats':
        return 0.85 + 0.15 * np.sign(np.sin(60.0 * y + phase))
    if kind == 'glass':
        return 0.9 + 0.2 * np.sin(3.0 * (x - y) + phase)
    return 1.0 + low


def _smooth_noise(rng: np.random.Generator, size: Tuple[int, int],
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
    scene = _Scene(rng, room)
    xl, xr, zn, zf, room_h = room
    _furnish(scene, scene_type)

    yaw = rng.uniform(-0.35, 0.35)
    pitch = rng.uniform(-0.4, -0.05)
    roll = rng.uniform(-0.05, 0.05)
    cam_to_world = _rotation(yaw, pitch, roll).astype(np.float32)
    origin = np.array(
        [rng.uniform(xl + 0.6, xr - 0.6),
         rng.uniform(1.0, 1.6), 0.0], np.float32)
    sx, sy = width / 640.0, height / 480.0
    intrinsics = (FX * sx, FY * sy, CX * sx, CY * sy)
    fx, fy, cx, cy = intrinsics
    cols = (np.arange(width, dtype=np.float32) - cx) / fx
    rows = (cy - np.arange(height, dtype=np.float32)) / fy
    cam_dirs = np.stack(
        np.broadcast_arrays(cols[None, :], rows[:, None],
                            np.ones((1, 1), np.float32)), -1)
    dirs = cam_dirs @ cam_to_world.T  # (H, W, 3), camera z component 1

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
    # surface ids: -1 floor, -2 ceiling, -3 walls
    owner = np.where(axis == 1, np.where(comp < 0, -1, -2), -3)

    for k, box in enumerate(scene.boxes):
        rect = _screen_rect(box, origin, cam_to_world, intrinsics,
                            (height, width))
        if rect is None:
            continue
        r0, r1, c0, c1 = rect
        t_box, n_box = _box_hits(box, origin, dirs[r0:r1, c0:c1])
        closer = t_box < depth[r0:r1, c0:c1]
        depth[r0:r1, c0:c1][closer] = t_box[closer]
        normal[r0:r1, c0:c1][closer] = n_box[closer]
        owner[r0:r1, c0:c1][closer] = k

    points = origin + dirs * depth[..., None]
    label = np.zeros((height, width), np.uint16)
    instance = np.zeros((height, width), np.uint8)
    albedo = np.empty((height, width, 3), np.float32)
    wall_index = np.where(axis == 0, np.where(comp < 0, 1, 2), 3)
    surfaces = [(-1, 'floor', None), (-2, 'ceiling', None),
                (-3, 'wall', wall_index)]
    for code, name, inst in surfaces:
        mask = owner == code
        if not mask.any():
            continue
        base, kind = _LOOKS[name]
        tint = np.asarray(base) + rng.uniform(-0.08, 0.08, 3)
        tex = _texture(kind, points[mask], rng.uniform(0, 6.3))
        albedo[mask] = tint * tex[:, None]
        label[mask] = SYNTHETIC_RAW_IDS[name]
        instance[mask] = 1 if inst is None else inst[mask]
    for k, box in enumerate(scene.boxes):
        mask = owner == k
        if not mask.any():
            continue
        tex = _texture(box.texture, points[mask], box.phase)
        albedo[mask] = box.color * tex[:, None]
        label[mask] = SYNTHETIC_RAW_IDS[box.name] if box.name else 0
        instance[mask] = box.instance

    # Lambertian shading from a ceiling light plus ambient light
    light = np.array([0.5 * (xl + xr), room_h - 0.2, 0.5 * (zn + zf)],
                     np.float32)
    to_light = light - points
    dist2 = np.sum(to_light * to_light, -1)
    lambert = np.maximum(
        np.sum(normal * to_light, -1) / np.sqrt(dist2 + 1e-6), 0)
    shade = 0.35 + 0.9 * lambert / (1.0 + 0.08 * dist2)
    image = albedo * shade[..., None] * 255.0
    image += rng.normal(0.0, 3.0, image.shape).astype(np.float32)

    # Kinect-like raw depth: noise, disparity quantisation, holes
    depth = np.minimum(depth, 10.0).astype(np.float32)
    noisy = depth + rng.normal(0, 1.0, depth.shape).astype(
        np.float32) * 1.4e-3 * depth * depth
    disparity = np.round(8.0 * 43.5 / np.maximum(noisy, 0.3)) / 8.0
    raw = (43.5 / disparity).astype(np.float32)
    holes = _smooth_noise(rng, (height, width), 12) > 0.93
    step = np.abs(np.diff(depth, axis=1)) > 0.1
    shadow = np.zeros_like(holes)
    shadow[:, :-1] |= step
    for shift in range(1, max(2, width // 160) + 1):
        shadow[:, :-shift] |= step[:, shift - 1:]
    holes |= shadow
    for name in _HOLEY:
        holes |= (label == SYNTHETIC_RAW_IDS[name]) & (
            _smooth_noise(rng, (height, width), 6) > 0.3)
    raw[holes | (raw > 9.5)] = 0.0

    # the invalid border of the registered Kinect frames
    border = max(1, int(round(7 * width / 640)))
    edge = np.zeros((height, width), bool)
    edge[:border] = edge[-border:] = True
    edge[:, :border] = edge[:, -border:] = True
    image[edge] = 250.0 + rng.normal(0, 2.0, (int(edge.sum()), 3))
    label[edge] = 0
    instance[edge] = 0
    raw[edge] = 0.0

    gravity = np.linalg.inv(cam_to_world) @ np.array([0.0, -1.0, 0.0])
    accel = (np.degrees(roll), np.degrees(yaw), np.degrees(pitch),
             float(np.degrees(np.arccos(np.clip(-gravity[1], -1, 1)))))
    return dict(
        image=np.clip(image, 0, 255).round().astype(np.uint8),
        depth=depth,
        raw_depth=raw,
        label=label,
        instance=instance,
        scene=f'{scene_type}_{index + 1:04d}',
        scene_type=scene_type,
        accel=accel)


def _params(num_frames: int, height: int, width: int, seed: int,
            train_fraction: float) -> str:
    """The generation parameters as a canonical string.

    Args:
        num_frames (int): N.
        height (int): H.
        width (int): W.
        seed (int): Seed.
        train_fraction (float): Share of training frames.

    Returns:
        str: JSON, stored in the file to recognise an existing set.
    """
    return json.dumps(
        dict(
            generator='cmim_dense.synthetic_nyudv2',
            version=1,
            num_frames=num_frames,
            height=height,
            width=width,
            seed=seed,
            train_fraction=train_fraction),
        sort_keys=True)


def _existing_params(path: str) -> Optional[str]:
    """Parameters recorded in an existing synthetic set, if readable.

    Args:
        path (str): The labeled ``.mat``.

    Returns:
        str | None: The recorded JSON, None if absent or unreadable.
    """
    try:
        with h5py.File(path, 'r') as file:
            value = file.attrs.get('cmim_dense_synthetic')
    except (OSError, ValueError):
        return None
    if isinstance(value, bytes):
        value = value.decode()
    return value


def generate_synthetic_nyudv2(out_dir: str,
                              num_frames: int = 64,
                              height: int = 480,
                              width: int = 640,
                              seed: int = 0,
                              train_fraction: float = TRAIN_FRACTION,
                              overwrite: bool = False) -> Dict[str, str]:
    """Write a synthetic labeled set and its ``splits.mat`` in ``out_dir``.

    An existing set made with the same parameters is kept (so a config can
    call this at every start); one made otherwise is refused unless
    ``overwrite``. Both files are written to temporary names and renamed,
    the split file last.

    Args:
        out_dir (str): Output folder (created).
        num_frames (int): Number of frames. Defaults to 64.
        height (int): Frame height. Defaults to 480.
        width (int): Frame width. Defaults to 640.
        seed (int): Seed. Defaults to 0.
        train_fraction (float): Share of frames in ``trainNdxs`` (the rest
            in ``testNdxs``; both non-empty). Defaults to 795 / 1449.
        overwrite (bool): Replace a different existing set. Defaults to
            False.

    Returns:
        dict[str, str]: ``'labeled'`` and ``'splits'`` paths.
    """
    if num_frames < 2:
        raise ValueError(f'need at least 2 frames (one per split), got '
                         f'{num_frames}')
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f'train_fraction must be in (0, 1), got '
                         f'{train_fraction}')
    os.makedirs(out_dir, exist_ok=True)
    labeled = osp.join(out_dir, LABELED_FILE)
    splits = osp.join(out_dir, SPLITS_FILE)
    params = _params(num_frames, height, width, seed, train_fraction)
    paths = dict(labeled=labeled, splits=splits)
    if osp.exists(labeled) or osp.exists(splits):
        same = _existing_params(labeled) == params and osp.exists(splits)
        if same and not overwrite:
            return paths
        if not overwrite:
            raise FileExistsError(
                f'{out_dir} already holds a labeled set or split file '
                'that was not generated with these parameters; pass '
                'overwrite=True (--overwrite) to replace it')
    with NYUDv2MatWriter(
            labeled,
            num_frames,
            height,
            width,
            attributes={'cmim_dense_synthetic': params}) as writer:
        for index in range(num_frames):
            frame = render_synthetic_frame(index, height, width, seed)
            writer.write_frame(index, frame['image'], frame['depth'],
                               frame['raw_depth'], frame['label'],
                               frame['instance'], frame['scene'],
                               frame['scene_type'], frame['accel'])
    rng = np.random.default_rng([seed, 2**32 - 1])
    order = rng.permutation(num_frames)
    num_train = min(
        max(1, int(round(train_fraction * num_frames))), num_frames - 1)
    save_nyudv2_splits(splits, np.sort(order[:num_train]),
                       np.sort(order[num_train:]))
    close_nyudv2_mat_files()  # no reader of this process keeps the old file
    return paths
