"""A synthetic twin of the NYUD-v2 labeled set, rendered procedurally.

Each frame is an indoor scene (:mod:`.scene_layout`): a room box with
furniture made of boxes and thin planes on the walls and floor, seen by a
Kinect-like camera; depth is ray cast and ``rawDepths`` gets Kinect-like
quantisation, noise and holes (:mod:`.geometry`). Labels are NYU *raw*
class ids (:data:`SYNTHETIC_RAW_IDS`) that the real 894 -> 40 mapping sends
to the intended classes (:mod:`.labels`); appearance follows the geometry
(:mod:`.appearance`). :func:`generate_synthetic_nyudv2` (:mod:`.generate`)
writes the set in the official layout; :func:`render_synthetic_frame`
(:mod:`.frame`) renders one frame.
"""
from .frame import render_synthetic_frame
from .generate import TRAIN_FRACTION, generate_synthetic_nyudv2
from .labels import SYNTHETIC_RAW_IDS

__all__ = [
    'generate_synthetic_nyudv2', 'render_synthetic_frame', 'SYNTHETIC_RAW_IDS',
    'TRAIN_FRACTION'
]
