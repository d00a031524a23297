"""Property-based tests: corrupted files never hang, crash or mislead.

Every corrupted variant of a small labeled set in the official layout must
either be refused with :class:`NYUDv2FormatError` (when the dataset is
built or when a frame is loaded) or give exactly the samples of the intact
file. Each example writes a new file (HDF5 would otherwise reuse the state
of an open file with the same inode).
"""
import contextlib
import signal
import tempfile
import warnings
from pathlib import Path
from typing import Iterator, List, Optional

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmim_dense.datasets import (NYUDv2FormatError, NYUDv2MatDataset,
                                 load_nyudv2_splits)
from cmim_dense.datasets.nyudv2_mat_file import close_nyudv2_mat_files
from cmim_dense.datasets.transforms import (LoadNYUDv2Annotations,
                                            LoadNYUDv2Image)

KEYS = ('img', 'gt_seg_map', 'gt_depth_map', 'gt_instance_map')
LABELED = 'nyu_depth_v2_labeled.mat'
SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow])


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail instead of hanging.

    Args:
        seconds (int): Limit.
    """

    def expire(signum, frame):
        """Raise in the main thread when the alarm fires."""
        raise TimeoutError(f'no answer within {seconds} s (hang)')

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _load(root: Path) -> List[Optional[tuple]]:
    """Build the dataset and load every frame; None for refused frames.

    Args:
        root (Path): Folder of the labeled file and ``splits.mat``.

    Returns:
        list: Per frame, the loaded arrays or None.
    """
    dataset = NYUDv2MatDataset(
        data_root=str(root),
        split=None,
        with_instances=True,
        serialize_data=False,
        pipeline=[LoadNYUDv2Image(),
                  LoadNYUDv2Annotations()])
    frames = []
    for idx in range(len(dataset)):
        try:
            sample = dataset[idx]
        except NYUDv2FormatError as err:
            assert LABELED in str(err) and 'frame' in str(err)
            frames.append(None)
        else:
            frames.append(tuple(sample[k] for k in KEYS))
    return frames


@pytest.fixture(scope='module')
def intact(tiny_set):
    """Bytes and samples of the intact tiny set.

    Args:
        tiny_set (Path): The intact set.

    Returns:
        dict: ``data`` (bytes), ``frames`` and ``splits`` (bytes).
    """
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the intact set warns about nothing
        frames = _load(tiny_set)
    close_nyudv2_mat_files()
    assert all(f is not None for f in frames)
    return dict(
        data=(tiny_set / LABELED).read_bytes(),
        splits=(tiny_set / 'splits.mat').read_bytes(),
        frames=frames)


def _check(data: bytes, intact: dict) -> str:
    """Write a corrupted copy and check the property on it.

    Args:
        data (bytes): The corrupted labeled file.
        intact (dict): The intact set.

    Returns:
        str: ``'refused'``, ``'partly refused'`` or ``'identical'``.
    """
    with tempfile.TemporaryDirectory() as tmp, time_limit(30):
        root = Path(tmp)
        (root / LABELED).write_bytes(data)
        (root / 'splits.mat').write_bytes(intact['splits'])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('error')  # e.g. NaN depth: not silent
                frames = _load(root)
        except NYUDv2FormatError as err:
            assert LABELED in str(err)
            return 'refused'
        finally:
            close_nyudv2_mat_files()
    for got, want in zip(frames, intact['frames']):
        if got is not None:
            for key, a, b in zip(KEYS, got, want):
                assert a.dtype == b.dtype and np.array_equal(a, b), key
    return 'partly refused' if None in frames else 'identical'


@settings(max_examples=25, **SETTINGS)
@given(fraction=st.floats(0.0, 0.999))
def test_truncated_files_are_refused(intact, fraction):
    data = intact['data']
    assert _check(data[:int(len(data) * fraction)], intact) == 'refused'


@settings(max_examples=60, **SETTINGS)
@given(
    edits=st.lists(
        st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)),
        min_size=1,
        max_size=6),
    metadata=st.booleans())
def test_overwritten_bytes(intact, edits, metadata):
    data = bytearray(intact['data'])
    # half the examples aim at the first 32 KiB: headers and chunk indexes
    span = min(len(data), 32768) if metadata else len(data)
    for where, value in edits:
        data[min(512 + int(where * (span - 512)), len(data) - 1)] = value
    _check(bytes(data), intact)


@settings(max_examples=30, **SETTINGS)
@given(where=st.floats(0.0, 1.0), junk=st.binary(min_size=1, max_size=96))
def test_overwritten_ranges(intact, where, junk):
    data = bytearray(intact['data'])
    start = 512 + int(where * (min(len(data), 32768) - 512))
    data[start:start + len(junk)] = junk
    _check(bytes(data[:len(intact['data'])]), intact)


@settings(max_examples=20, **SETTINGS)
@given(junk=st.binary(max_size=4096))
def test_random_bytes_are_refused(intact, junk):
    assert _check(junk, intact) == 'refused'


@settings(max_examples=40, **SETTINGS)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 4095), st.integers(0, 255)),
        min_size=1,
        max_size=4))
def test_corrupted_split_files(intact, edits):
    data = bytearray(intact['splits'])
    for where, value in edits:
        data[where % len(data)] = value
    reference = _splits(intact['splits'])
    with tempfile.TemporaryDirectory() as tmp, time_limit(30):
        path = Path(tmp) / 'splits.mat'
        path.write_bytes(bytes(data))
        try:
            splits = load_nyudv2_splits(str(path), 6)
        except NYUDv2FormatError as err:
            assert str(path) in str(err)
            return
    for key in ('train', 'test'):
        assert np.array_equal(splits[key], reference[key])


def _splits(data: bytes) -> dict:
    """Load split file bytes through a temporary file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'splits.mat'
        path.write_bytes(data)
        return load_nyudv2_splits(str(path), 6)


BAD_TYPES = {
    'images': ['f4', 'u2', 'i1', '>f4'],
    'depths': ['u1', 'i4', '>f4', 'f2', 'c8'],
    'labels': ['f4', '>u2', 'u8', 'c8'],
}


@settings(max_examples=30, **SETTINGS)
@given(
    field=st.sampled_from(sorted(BAD_TYPES)),
    choice=st.integers(0, 4),
    reshape=st.sampled_from(['dtype', 'frames', 'width', 'rank']))
def test_wrong_dtypes_and_shapes_are_refused(field, choice, reshape):
    rng = np.random.default_rng(0)
    arrays = dict(
        images=rng.integers(0, 256, (3, 3, 8, 6), np.uint8),
        depths=rng.uniform(1, 5, (3, 8, 6)).astype(np.float32),
        labels=rng.integers(0, 895, (3, 8, 6)).astype(np.uint16))
    value = arrays[field]
    if reshape == 'dtype':
        kinds = BAD_TYPES[field]
        value = value.astype(np.dtype(kinds[choice % len(kinds)]))
    elif reshape == 'frames':
        value = value[:2]
    elif reshape == 'width':
        value = value[..., :5, :]
    else:
        value = value[0]
    arrays[field] = value
    with tempfile.TemporaryDirectory() as tmp, time_limit(30):
        with h5py.File(Path(tmp) / LABELED, 'w') as file:
            for name, arr in arrays.items():
                file[name] = arr
        with pytest.raises(NYUDv2FormatError) as err:
            NYUDv2MatDataset(data_root=tmp, split=None)
    assert f"field '{field}'" in str(
        err.value) or (field == 'images' and "field '" in str(err.value))
