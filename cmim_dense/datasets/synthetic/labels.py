"""Semantic labels of the synthetic twin: NYU raw class ids and instances.

Labels are NYU *raw* class ids (1-based indices into the 894 names) that the
real 894 -> 40 mapping sends to the intended classes; 0 (unlabeled) on the
image border and on clutter.
"""
from typing import Dict, Sequence

import numpy as np

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

#: Classes whose surfaces lose Kinect depth (glass, screens).
HOLEY_CLASSES = ('window', 'mirror', 'television', 'bottle')

#: Surface codes of the room box in the ``owner`` map (boxes are >= 0).
FLOOR, CEILING, WALLS = -1, -2, -3


def paint_labels(owner: np.ndarray, wall_index: np.ndarray,
                 boxes: Sequence) -> tuple:
    """Raw class ids and instance ids from the surface that each ray hit.

    Args:
        owner (np.ndarray): (H, W) int surface of every pixel: a box index,
            or :data:`FLOOR` / :data:`CEILING` / :data:`WALLS`.
        wall_index (np.ndarray): (H, W) instance id of the wall seen (1
            left, 2 right, 3 back), used on wall pixels.
        boxes (list[Box]): The scene's boxes, indexed by ``owner``.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``label`` (H x W uint16 raw NYU ids,
        0 unlabeled) and ``instance`` (H x W uint8).
    """
    label = np.zeros(owner.shape, np.uint16)
    instance = np.zeros(owner.shape, np.uint8)
    for code, name, inst in ((FLOOR, 'floor', None), (CEILING, 'ceiling',
                                                      None), (WALLS, 'wall',
                                                              wall_index)):
        mask = owner == code
        if not mask.any():
            continue
        label[mask] = SYNTHETIC_RAW_IDS[name]
        instance[mask] = 1 if inst is None else inst[mask]
    for k, box in enumerate(boxes):
        mask = owner == k
        if not mask.any():
            continue
        label[mask] = SYNTHETIC_RAW_IDS[box.name] if box.name else 0
        instance[mask] = box.instance
    return label, instance
