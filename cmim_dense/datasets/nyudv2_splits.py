"""The NYUD-v2 train/test split: ``splits.mat`` and the packaged copy.

``splits.mat`` is a MATLAB v5 file with ``trainNdxs`` (795 x 1) and
``testNdxs`` (654 x 1), uint16, 1-based frame numbers into the labeled set,
disjoint. A MATLAB v7.3 (HDF5) copy is read as well.

The package carries the official split as text
(``cmim_dense/datasets/data/nyudv2_splits.txt``), so only
``nyu_depth_v2_labeled.mat`` has to be downloaded:
:func:`load_nyudv2_splits` reads it when given no path. The loaders and
the converter read, in this order, the split file they are given, a
``splits.mat`` beside the labeled file (:func:`default_nyudv2_split_file`),
or the packaged split.
"""
import io
import os.path as osp
import time
from typing import Dict, Optional

import h5py
import numpy as np
import scipy.io

from cmim_dense.utils.atomic_io import atomic_write
from .nyudv2_format_error import NYUDv2FormatError

#: Length of the descriptive text that opens a MATLAB v5 file header.
_HEADER_TEXT_BYTES = 116

SPLIT_KEYS = {'train': 'trainNdxs', 'test': 'testNdxs'}

#: The official split carried by the package (text, 1-based frame numbers).
PACKAGED_SPLITS_FILE = osp.join(
    osp.dirname(osp.abspath(__file__)), 'data', 'nyudv2_splits.txt')

#: Frames of the official labeled set, which the packaged split indexes.
OFFICIAL_NUM_FRAMES = 1449

#: Name of the split file looked for beside the labeled file.
SPLITS_FILE_NAME = 'splits.mat'


def _read_variables(path: str) -> Dict[str, np.ndarray]:
    """Read the split variables from a v5 or v7.3 ``.mat`` file.

    Args:
        path (str): The split file.

    Returns:
        dict[str, np.ndarray]: ``trainNdxs``/``testNdxs`` (those present).
    """
    if not osp.isfile(path):
        raise NYUDv2FormatError(path, 'split file not found')
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, 'r') as file:
                return {
                    key: np.asarray(file[key][()]).T
                    for key in SPLIT_KEYS.values() if key in file
                }
        variables = scipy.io.loadmat(path)
    except NYUDv2FormatError:
        raise
    except Exception as err:  # noqa: B902  (scipy/h5py parse errors)
        raise NYUDv2FormatError(
            path, f'cannot be read as a .mat split file: '
            f'{type(err).__name__}: {err}') from err
    return {k: v for k, v in variables.items() if k in SPLIT_KEYS.values()}


def _read_packaged_variables(path: str) -> Dict[str, np.ndarray]:
    """Read the packaged text copy of the split.

    Args:
        path (str): The text file (``#`` comments, then per variable a line
            ``<name> <count>`` followed by ``count`` integers).

    Returns:
        dict[str, np.ndarray]: ``trainNdxs``/``testNdxs`` (those present),
        1-based.
    """
    try:
        with open(path, encoding='ascii') as file:
            tokens = [
                token for line in file if not line.startswith('#')
                for token in line.split()
            ]
    except OSError as err:
        raise NYUDv2FormatError(
            path, f'the packaged split cannot be read ({err}); reinstall '
            'cmim_dense') from err
    variables: Dict[str, np.ndarray] = {}
    pos = 0
    while pos < len(tokens):
        name, count = tokens[pos], tokens[pos + 1:pos + 2]
        if not count or not count[0].isdigit() or \
                len(tokens) < pos + 2 + int(count[0]):
            raise NYUDv2FormatError(
                path, f'malformed block header or short block at token '
                f'{pos} ({name!r})')
        end = pos + 2 + int(count[0])
        variables[name] = np.array(tokens[pos + 2:end], np.int64)
        pos = end
    return variables


def _check_splits(variables: Dict[str, np.ndarray], path: str,
                  num_frames: Optional[int]) -> Dict[str, np.ndarray]:
    """Check the split variables and make them 0-based.

    Args:
        variables (dict[str, np.ndarray]): ``trainNdxs``/``testNdxs``.
        path (str): Their file, for the error messages.
        num_frames (int, optional): Frames in the labeled set.

    Returns:
        dict[str, np.ndarray]: ``'train'`` and ``'test'``, 0-based int64.
    """
    splits = {}
    for split, key in SPLIT_KEYS.items():
        if key not in variables:
            raise NYUDv2FormatError(
                path, f'missing (the file has: '
                f'{", ".join(sorted(variables)) or "no split variable"})',
                field=key)
        value = np.asarray(variables[key])
        if value.dtype.kind not in 'uif' or value.ndim > 2 or (
                value.ndim == 2 and 1 not in value.shape):
            raise NYUDv2FormatError(
                path, f'expected a vector of frame numbers, got '
                f'{value.shape} {value.dtype}',
                field=key)
        value = value.ravel()
        if value.size == 0:
            raise NYUDv2FormatError(path, 'empty split', field=key)
        if value.dtype.kind == 'f' and not (np.all(np.isfinite(value)) and
                                            np.all(value == np.round(value))):
            raise NYUDv2FormatError(
                path, 'frame numbers must be integers', field=key)
        value = value.astype(np.int64)
        upper = num_frames if num_frames is not None else np.inf
        bad = value[(value < 1) | (value > upper)]
        if bad.size:
            raise NYUDv2FormatError(
                path, f'{bad.size} frame numbers out of range 1..'
                f'{num_frames if num_frames is not None else "N"} '
                f'(1-based), e.g. {bad[:5].tolist()}',
                field=key)
        uniq, counts = np.unique(value, return_counts=True)
        if np.any(counts > 1):
            raise NYUDv2FormatError(
                path, f'repeated frame numbers, e.g. '
                f'{uniq[counts > 1][:5].tolist()}',
                field=key)
        splits[split] = value - 1
    both = np.intersect1d(splits['train'], splits['test'])
    if both.size:
        raise NYUDv2FormatError(
            path, f'{both.size} frames are in both splits, e.g. '
            f'{(both[:5] + 1).tolist()} (1-based)',
            field='trainNdxs/testNdxs')
    return splits


def load_nyudv2_splits(path: Optional[str] = None,
                       num_frames: Optional[int] = None
                       ) -> Dict[str, np.ndarray]:
    """Read and check ``splits.mat``, or the packaged official split.

    Args:
        path (str, optional): The split file. Defaults to None: the official
            795 / 654 split carried by the package, which indexes the
            1449-frame labeled set only.
        num_frames (int, optional): Frames in the labeled set; indices must
            lie in ``1..num_frames``. Defaults to None (only ``>= 1``).

    Returns:
        dict[str, np.ndarray]: ``'train'`` and ``'test'``: 0-based frame
        indices (int64), in file order.
    """
    if path is not None:
        return _check_splits(_read_variables(path), path, num_frames)
    if num_frames is not None and num_frames != OFFICIAL_NUM_FRAMES:
        raise NYUDv2FormatError(
            PACKAGED_SPLITS_FILE,
            f'the packaged official split indexes the '
            f'{OFFICIAL_NUM_FRAMES}-frame labeled set, but the labeled file '
            f'has {num_frames} frames; give its own split file (split_file= '
            f'/ --splits, or a {SPLITS_FILE_NAME} beside it)')
    return _check_splits(
        _read_packaged_variables(PACKAGED_SPLITS_FILE), PACKAGED_SPLITS_FILE,
        num_frames)


def default_nyudv2_split_file(folder: str) -> Optional[str]:
    """The split file read when none is given: beside the labeled file.

    A ``splits.mat`` in ``folder`` is the user's choice (a synthetic twin
    writes its own), so it is read when present; otherwise the packaged
    official split is.

    Args:
        folder (str): The folder of the labeled file.

    Returns:
        str | None: ``folder/splits.mat`` if it exists, else None (the
        packaged split, see :func:`load_nyudv2_splits`).
    """
    beside = osp.join(folder, SPLITS_FILE_NAME)
    return beside if osp.isfile(beside) else None


def save_nyudv2_splits(path: str, train: np.ndarray, test: np.ndarray) -> None:
    """Write a v5 ``splits.mat`` like the official one, atomically.

    Args:
        path (str): Output file.
        train (np.ndarray): 0-based train frame indices.
        test (np.ndarray): 0-based test frame indices.
    """
    top = max(int(np.max(train, initial=0)), int(np.max(test, initial=0))) + 1
    dtype = np.uint16 if top <= np.iinfo(np.uint16).max else np.uint32
    variables = {
        'trainNdxs': (np.asarray(train, np.int64) + 1).astype(dtype)[:, None],
        'testNdxs': (np.asarray(test, np.int64) + 1).astype(dtype)[:, None],
    }
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables, format='5', do_compression=True)
    data = buffer.getvalue()
    # scipy stamps the 116-byte header text with the current time; a fixed
    # stamp keeps the file a function of its content (same seed, same bytes)
    header = (f'MATLAB 5.0 MAT-file Platform: posix, Created on: '
              f'{time.asctime(time.gmtime(0))}').encode('ascii')
    atomic_write(header.ljust(_HEADER_TEXT_BYTES) + data[_HEADER_TEXT_BYTES:],
                 path)
