"""Appearance of the synthetic twin: albedo, textures, shading, sensor noise.

Per-class colours with per-object jitter, procedural textures in 3-D
surface coordinates, Lambertian shading from a ceiling light plus ambient
light, RGB sensor noise and the bright invalid border of the registered
Kinect frames.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .labels import CEILING, FLOOR, WALLS

# base RGB albedo (0..1) and texture kind per class
LOOKS: Dict[Optional[str], Tuple[Tuple[float, float, float], str]] = {
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


def texture(kind: str, points: np.ndarray, phase: float) -> np.ndarray:
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


def paint_albedo(rng: np.random.Generator, owner: np.ndarray,
                 points: np.ndarray, boxes: Sequence) -> np.ndarray:
    """RGB albedo (0..1) of every pixel: class colour times texture.

    The room surfaces (floor, ceiling, walls, in this order, those visible)
    draw a colour jitter and a texture phase from ``rng``; boxes carry
    theirs.

    Args:
        rng (np.random.Generator): The frame's generator.
        owner (np.ndarray): (H, W) surface of every pixel (see
            :func:`~cmim_dense.datasets.synthetic.labels.paint_labels`).
        points (np.ndarray): (H, W, 3) world points hit.
        boxes (list[Box]): The scene's boxes, indexed by ``owner``.

    Returns:
        np.ndarray: (H, W, 3) float32.
    """
    albedo = np.empty(owner.shape + (3, ), np.float32)
    for code, name in ((FLOOR, 'floor'), (CEILING, 'ceiling'), (WALLS,
                                                                'wall')):
        mask = owner == code
        if not mask.any():
            continue
        base, kind = LOOKS[name]
        tint = np.asarray(base) + rng.uniform(-0.08, 0.08, 3)
        tex = texture(kind, points[mask], rng.uniform(0, 6.3))
        albedo[mask] = tint * tex[:, None]
    for k, box in enumerate(boxes):
        mask = owner == k
        if not mask.any():
            continue
        tex = texture(box.texture, points[mask], box.phase)
        albedo[mask] = box.color * tex[:, None]
    return albedo


def shade(rng: np.random.Generator, albedo: np.ndarray, points: np.ndarray,
          normal: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Lit RGB image with sensor noise (float, not yet clipped).

    Args:
        rng (np.random.Generator): The frame's generator.
        albedo (np.ndarray): (H, W, 3) albedo.
        points (np.ndarray): (H, W, 3) world points.
        normal (np.ndarray): (H, W, 3) surface normals.
        light (np.ndarray): (3,) position of the ceiling light.

    Returns:
        np.ndarray: (H, W, 3) float32 image in 0..255 (plus noise).
    """
    # Lambertian shading from a ceiling light plus ambient light
    to_light = light - points
    dist2 = np.sum(to_light * to_light, -1)
    lambert = np.maximum(
        np.sum(normal * to_light, -1) / np.sqrt(dist2 + 1e-6), 0)
    shading = 0.35 + 0.9 * lambert / (1.0 + 0.08 * dist2)
    image = albedo * shading[..., None] * 255.0
    image += rng.normal(0.0, 3.0, image.shape).astype(np.float32)
    return image


def paint_border(rng: np.random.Generator, image: np.ndarray,
                 edge: np.ndarray) -> None:
    """Fill the invalid border of the image with bright noise, in place.

    Args:
        rng (np.random.Generator): The frame's generator.
        image (np.ndarray): (H, W, 3) float image.
        edge (np.ndarray): (H, W) bool border mask.
    """
    image[edge] = 250.0 + rng.normal(0, 2.0, (int(edge.sum()), 3))
