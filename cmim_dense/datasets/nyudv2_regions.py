"""Named windows of the 480 x 640 NYUD-v2 frame (crops and eval regions).

Every window is stated as half-open ``(top, bottom, left, right)`` bounds
on the 480 x 640 frame of the labeled set, and placed on a frame of
another size by :func:`region_box`:

=============  ==========================  ================================
name           bounds (rows, cols)         what
=============  ==========================  ================================
``full``       the whole frame             no crop
``nyud_mt``    45:470, 41:601 (425 x 560)  the size of the NYUD_MT frames
                                           of ATRC / InvPT (``image_dims``)
``eigen``      45:471, 41:601 (426 x 560)  Eigen et al.'s evaluation crop
``bts_train``  45:472, 43:608 (427 x 565)  the crop BTS applies to its
                                           NYU training frames
=============  ==========================  ================================

The ``nyud_mt`` window has the NYUD_MT size; its offset in the 480 x 640
frame is ours (the Eigen crop less its last row), since the distributed
NYUD_MT frames do not state where they were cut. A frame that already has a
window's aspect ratio (e.g. the 425 x 560 NYUD_MT frames for ``nyud_mt``)
is the window itself: :func:`region_box` returns the whole frame for it.
"""
import math
from typing import Dict, Optional, Tuple

import numpy as np

Box = Tuple[int, int, int, int]

#: (H, W) of the frame the windows are defined on.
REFERENCE_FRAME = (480, 640)
#: Half-open ``(top, bottom, left, right)`` bounds on :data:`REFERENCE_FRAME`
#: (None: the whole frame).
REGIONS: Dict[str, Optional[Box]] = {
    'full': None,
    'nyud_mt': (45, 470, 41, 601),
    'eigen': (45, 471, 41, 601),
    'bts_train': (45, 472, 43, 608),
}


def check_region(region: str, owner: str) -> str:
    """Check a region name.

    Args:
        region (str): A key of :data:`REGIONS`.
        owner (str): Who asks (class and argument), for the message.

    Returns:
        str: ``region``.

    Raises:
        ValueError: An unknown name; the message lists the known ones.
    """
    if region not in REGIONS:
        raise ValueError(f'{owner} must be one of {tuple(REGIONS)}, got '
                         f'{region!r}')
    return region


def _same_aspect(height: int, width: int, ref_h: int, ref_w: int,
                 tol: float) -> bool:
    """Whether ``height x width`` is ``ref_h x ref_w`` rescaled (``tol``)."""
    sy, sx = height / ref_h, width / ref_w
    return abs(sy - sx) <= tol * max(sy, sx)


def region_box(region: str, height: int, width: int) -> Box:
    """The bounds of a named window on an ``height x width`` frame.

    On a rescaled 480 x 640 frame (aspect 3:4 within 1 %) the bounds are
    scaled by ``H / 480`` and ``W / 640`` and rounded half up (e.g.
    ``eigen`` on 240 x 320: rows 23:236, cols 21:301). A frame with the
    window's own aspect ratio (within 0.1 %: 425 x 560 is ``nyud_mt`` but
    not ``eigen``) is taken as already cut to it and kept whole. Frames
    cut at load time (``crop_region`` of the NYUD-v2 datasets) say so in
    their metainfo; :func:`eval_region_box` reads it.

    Args:
        region (str): A key of :data:`REGIONS`.
        height (int): Frame height.
        width (int): Frame width.

    Returns:
        tuple[int]: Half-open ``(top, bottom, left, right)``.

    Raises:
        ValueError: Unknown region, or a frame that is neither a rescaled
            480 x 640 frame nor a rescaled window.
    """
    check_region(region, 'region')
    box = REGIONS[region]
    if box is None:
        return (0, height, 0, width)
    ref_h, ref_w = REFERENCE_FRAME
    if _same_aspect(height, width, ref_h, ref_w, 0.01):
        sy, sx = height / ref_h, width / ref_w
        top, bottom, left, right = box
        return (int(math.floor(top * sy + 0.5)),
                int(math.floor(bottom * sy + 0.5)),
                int(math.floor(left * sx + 0.5)),
                int(math.floor(right * sx + 0.5)))
    top, bottom, left, right = box
    if _same_aspect(height, width, bottom - top, right - left, 0.001):
        return (0, height, 0, width)
    raise ValueError(
        f'the {region!r} window is defined on 480x640 frames; a {height}x'
        f'{width} frame is neither a rescaled 480x640 frame nor a rescaled '
        f'{bottom - top}x{right - left} {region!r} window, so the window '
        "cannot be placed (use 'full' for such data)")


def region_mask(region: str, height: int, width: int) -> np.ndarray:
    """Boolean ``height x width`` mask of a named window.

    Args:
        region (str): A key of :data:`REGIONS`.
        height (int): Frame height.
        width (int): Frame width.

    Returns:
        np.ndarray: True inside the window.
    """
    top, bottom, left, right = region_box(region, height, width)
    mask = np.zeros((height, width), dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


def eval_region_box(region: str,
                    height: int,
                    width: int,
                    cropped_to: Optional[str] = None) -> Box:
    """The evaluated window of a ground truth, given how it was loaded.

    Args:
        region (str): The evaluation region (a key of :data:`REGIONS`).
        height (int): Ground-truth height.
        width (int): Ground-truth width.
        cropped_to (str, optional): The window the frame was cut to at load
            time (metainfo ``crop_region``), None or ``'full'`` if uncut.

    Returns:
        tuple[int]: Half-open ``(top, bottom, left, right)``: the whole
        frame for ``'full'`` or when the frame was cut to ``region``.

    Raises:
        ValueError: The frame was cut to another window than ``region``, or
            see :func:`region_box`.
    """
    check_region(region, 'eval_region')
    if region == 'full' or cropped_to == region:
        return (0, height, 0, width)
    if cropped_to not in (None, 'full'):
        raise ValueError(
            f'the ground truth was cut to the {cropped_to!r} window at load '
            f'time (crop_region); it cannot be evaluated on the {region!r} '
            f"window: use eval_region={cropped_to!r} or 'full'")
    return region_box(region, height, width)


def crop_to_region(array: np.ndarray, region: str) -> np.ndarray:
    """Cut an ``H x W [x C]`` frame to a named window (a contiguous copy).

    Args:
        array (np.ndarray): Image or map of the frame.
        region (str): A key of :data:`REGIONS`.

    Returns:
        np.ndarray: The window (``array`` itself for ``'full'``).
    """
    if region == 'full':
        return array
    top, bottom, left, right = region_box(region, *array.shape[:2])
    return np.ascontiguousarray(array[top:bottom, left:right])
