"""Scene layout of the synthetic twin: a furnished room made of boxes.

Each frame is an indoor scene of one of :data:`SCENE_TYPES`: a room box
(floor, walls, ceiling) with furniture made of boxes (beds, chairs, tables,
cabinets, sofas, shelves with books, ...) and thin planes on the walls and
floor (windows, pictures, doors, blinds, floor mats, ...).
"""
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from .appearance import LOOKS

SCENE_TYPES = ('bedroom', 'living_room', 'office', 'kitchen', 'bathroom',
               'dining_room')


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


class Scene:
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
        base, texture = LOOKS[name]
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


def furnish(scene: Scene, scene_type: str) -> None:
    """Place the furniture and wall planes of one scene type.

    Args:
        scene (Scene): The room to fill.
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
