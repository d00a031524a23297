"""Writing the synthetic twin in the official labeled-set layout.

:func:`generate_synthetic_nyudv2` writes ``nyu_depth_v2_labeled.mat`` in the
exact official HDF5 layout and a v5 ``splits.mat``, so the real loader runs
on it.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

import h5py
import numpy as np

from ..nyudv2_mat_file import close_nyudv2_mat_files
from ..nyudv2_mat_writer import NYUDv2MatWriter
from ..nyudv2_splits import save_nyudv2_splits
from .frame import render_synthetic_frame

LABELED_FILE = 'nyu_depth_v2_labeled.mat'
SPLITS_FILE = 'splits.mat'
TRAIN_FRACTION = 795 / 1449


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
            # the set's format id, kept from the first release: existing
            # sets stay recognised
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
