"""Fixtures of the NYUD-v2 data tests: synthetic sets and the real files."""
import time
from pathlib import Path
from typing import Callable, Dict, Optional

import h5py
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from cmim_dense.datasets import generate_synthetic_nyudv2
from cmim_dense.datasets.nyudv2_mat_file import close_nyudv2_mat_files
from cmim_dense.datasets.nyudv2_splits import save_nyudv2_splits

# public NYU Depth v2 metadata and one real frame (tests/data/README.md)
REAL_DATA = Path(__file__).resolve().parents[1] / 'data'

# the quickstart's scale: 64 frames at 120 x 160
QUICK = dict(num_frames=64, height=120, width=160, seed=0)


@pytest.fixture(autouse=True)
def _mmseg_scope_and_fresh_handles():
    """Build under mmseg's scope; no h5py handle outlives a test."""
    init_default_scope('mmseg')
    yield
    close_nyudv2_mat_files()


@pytest.fixture(scope='session')
def real_data() -> Path:
    """The real NYUD-v2 metadata and frame carried in ``tests/data``.

    Returns:
        Path: The folder (``nyuv2/`` and ``mmseg_pseudo_nyu/``).
    """
    return REAL_DATA


@pytest.fixture(scope='session')
def quick_set(tmp_path_factory) -> Dict[str, object]:
    """The synthetic twin at the quickstart's scale, with its build time.

    Args:
        tmp_path_factory: pytest's temporary folder factory.

    Returns:
        dict: ``root`` (Path), ``seconds`` (generation time) and the
        generation arguments.
    """
    root = tmp_path_factory.mktemp('nyu_quick')
    start = time.perf_counter()
    generate_synthetic_nyudv2(str(root), **QUICK)
    return dict(root=root, seconds=time.perf_counter() - start, **QUICK)


@pytest.fixture(scope='session')
def tiny_set(tmp_path_factory) -> Path:
    """A 6-frame synthetic set of 24 x 32 frames.

    Args:
        tmp_path_factory: pytest's temporary folder factory.

    Returns:
        Path: Its folder.
    """
    root = tmp_path_factory.mktemp('nyu_tiny')
    generate_synthetic_nyudv2(
        str(root), num_frames=6, height=24, width=32, seed=3)
    return root


@pytest.fixture
def write_mat() -> Callable[..., Path]:
    """Write a labeled file in the official h5py layout from raw arrays.

    The returned function takes natural-orientation arrays (N x H x W [x 3])
    and writes them with the documented axis reversal, plus a split file,
    so that malformed variants can be produced field by field.

    Returns:
        Callable: ``write(root, images=..., depths=..., labels=...,
        raw_depths=None, instances=None, train=None, test=None,
        reverse=True)`` -> the labeled file's path.
    """

    def write(root: Path,
              images: Optional[np.ndarray] = None,
              depths: Optional[np.ndarray] = None,
              labels: Optional[np.ndarray] = None,
              raw_depths: Optional[np.ndarray] = None,
              instances: Optional[np.ndarray] = None,
              train: Optional[np.ndarray] = None,
              test: Optional[np.ndarray] = None,
              chunked: bool = True) -> Path:
        """Write the arrays given (natural orientation) and splits.mat."""
        root.mkdir(parents=True, exist_ok=True)
        path = root / 'nyu_depth_v2_labeled.mat'
        num = None
        with h5py.File(path, 'w') as file:
            for name, arr, axes in (('images', images, (0, 3, 2, 1)),
                                    ('depths', depths, (0, 2, 1)),
                                    ('rawDepths', raw_depths,
                                     (0, 2, 1)), ('labels', labels, (0, 2, 1)),
                                    ('instances', instances, (0, 2, 1))):
                if arr is None:
                    continue
                arr = np.asarray(arr)
                if arr.ndim == len(axes):
                    arr = arr.transpose(axes)
                chunks = (1, ) + arr.shape[1:] if chunked and arr.ndim > 1 \
                    else None
                file.create_dataset(
                    name,
                    data=arr,
                    chunks=chunks,
                    compression='gzip' if chunks else None)
                num = arr.shape[0] if num is None else num
        num = num or 1
        if train is None:
            train = np.arange(0, num, 2)
        if test is None:
            test = np.arange(1, num, 2)
        save_nyudv2_splits(str(root / 'splits.mat'), train, test)
        return path

    return write
