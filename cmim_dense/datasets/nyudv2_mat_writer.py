"""Write files in the exact layout of ``nyu_depth_v2_labeled.mat``.

The official labeled set is a MATLAB v7.3 MAT-file: HDF5 with a 512-byte
user block holding the MATLAB header, arrays stored with their axes reversed
(``images`` (N, 3, W, H) uint8, ``depths``/``rawDepths`` (N, W, H) float32,
``labels`` (N, W, H) uint16, ``instances`` (N, W, H) uint8, ``accelData``
(4, N) float32), each with a ``MATLAB_class`` attribute, and cell arrays of
strings (``names``, ``scenes``, ``sceneTypes``, ``rawRgbFilenames``,
``rawDepthFilenames``) as (1, K) arrays of object references into
``#refs#`` pointing at (len, 1) uint16 char arrays. :class:`NYUDv2MatWriter`
writes exactly that, frame by frame (per-frame chunks, deflate, as MATLAB
compresses v7.3 variables), into a temporary file renamed on success.
``namesToIds`` (a MATLAB ``containers.Map`` object that h5py cannot read) is
not written.
"""
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import h5py
import numpy as np

from .nyudv2_class_tables import NYU894_NAMES

_USERBLOCK = 512
_MATLAB_CLASS = {
    'images': 'uint8',
    'depths': 'single',
    'rawDepths': 'single',
    'labels': 'uint16',
    'instances': 'uint8',
    'accelData': 'single',
}
_CELL_FIELDS = ('scenes', 'sceneTypes', 'rawRgbFilenames', 'rawDepthFilenames')


def _matlab_header() -> bytes:
    """The 128-byte MATLAB 7.3 header that opens the user block.

    Returns:
        bytes: Text padded to 116 bytes, subsystem offset, version, 'IM'.
    """
    text = ('MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: '
            f'{time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(0))} '
            'HDF5 schema 1.00 .')
    return (text.encode('ascii').ljust(116, b' ') + b' ' * 8 + b'\x00\x02' +
            b'IM')


def _ref_name(index: int) -> str:
    """MATLAB-style name of the ``index``-th object in ``#refs#``.

    Args:
        index (int): 0-based object index.

    Returns:
        str: ``'a'``, ``'b'``, ..., ``'z'``, ``'ba'``, ...
    """
    name = ''
    while True:
        name = chr(ord('a') + index % 26) + name
        index //= 26
        if index == 0:
            return name


class NYUDv2MatWriter:
    """Write a labeled set in the official HDF5 layout, one frame at a time.

    Use as a context manager; the file appears at ``path`` only when the
    block exits without error (written to ``path.tmp-<pid>`` first).

    Args:
        path (str): Output ``.mat`` path.
        num_frames (int): N.
        height (int): Frame height H.
        width (int): Frame width W.
        with_instances (bool): Write the ``instances`` field. Defaults to
            True.
        names (Sequence[str]): The ``names`` cell array (raw class names).
            Defaults to the 894 NYU names.
        compression_level (int, optional): Deflate level of the frame
            chunks, None for uncompressed. Defaults to 3.
        attributes (dict[str, str], optional): Extra string attributes of
            the root group (MATLAB ignores them). Defaults to None.
    """

    def __init__(self,
                 path: str,
                 num_frames: int,
                 height: int,
                 width: int,
                 with_instances: bool = True,
                 names: Sequence[str] = NYU894_NAMES,
                 compression_level: Optional[int] = 3,
                 attributes: Optional[Dict[str, str]] = None) -> None:
        if num_frames < 1 or height < 1 or width < 1:
            raise ValueError(f'need at least one frame of one pixel, got '
                             f'{num_frames} frames of {height}x{width}')
        self.path = path
        self.num_frames = num_frames
        self.height = height
        self.width = width
        self.names = tuple(names)
        self._tmp = f'{path}.tmp-{os.getpid()}'
        self._written = np.zeros(num_frames, bool)
        self._cells: Dict[str, List[str]] = {
            key: [''] * num_frames
            for key in _CELL_FIELDS
        }
        self._file = h5py.File(self._tmp, 'w', userblock_size=_USERBLOCK)
        for key, value in (attributes or {}).items():
            self._file.attrs[key] = np.bytes_(value)
        comp = dict(compression='gzip', compression_opts=compression_level) \
            if compression_level is not None else {}
        frame = (width, height)
        self._create('images', (num_frames, 3) + frame, np.uint8,
                     (1, 3) + frame, comp)
        self._create('depths', (num_frames, ) + frame, np.float32,
                     (1, ) + frame, comp)
        self._create('rawDepths', (num_frames, ) + frame, np.float32,
                     (1, ) + frame, comp)
        self._create('labels', (num_frames, ) + frame, np.uint16,
                     (1, ) + frame, comp)
        if with_instances:
            self._create('instances', (num_frames, ) + frame, np.uint8,
                         (1, ) + frame, comp)
        self._create('accelData', (4, num_frames), np.float32, None, {})

    def _create(self, name: str, shape: tuple, dtype: type,
                chunks: Optional[tuple], comp: dict) -> None:
        """Create one numeric field with its ``MATLAB_class``.

        Args:
            name (str): Field name.
            shape (tuple): h5py shape (MATLAB axes reversed).
            dtype (type): numpy dtype.
            chunks (tuple, optional): Chunk shape.
            comp (dict): Compression keywords.
        """
        dset = self._file.create_dataset(
            name,
            shape=shape,
            dtype=dtype,
            chunks=chunks,
            track_times=False,
            **comp)
        dset.attrs['MATLAB_class'] = np.bytes_(_MATLAB_CLASS[name])

    def write_frame(self,
                    index: int,
                    image: np.ndarray,
                    depth: np.ndarray,
                    raw_depth: np.ndarray,
                    label: np.ndarray,
                    instance: Optional[np.ndarray] = None,
                    scene: str = '',
                    scene_type: str = '',
                    accel: Optional[Sequence[float]] = None) -> None:
        """Store frame ``index`` given in natural orientation.

        Args:
            index (int): 0-based frame index.
            image (np.ndarray): H x W x 3 uint8, RGB.
            depth (np.ndarray): H x W in-painted depth, metres.
            raw_depth (np.ndarray): H x W raw depth, metres, 0 = hole.
            label (np.ndarray): H x W raw class ids 0..894.
            instance (np.ndarray, optional): H x W instance ids.
            scene (str): Scene name (e.g. ``'bedroom_0001'``).
            scene_type (str): Scene type (e.g. ``'bedroom'``).
            accel (Sequence[float], optional): 4 accelerometer values.
        """
        size = (self.height, self.width)
        if image.shape != size + (3, ) or image.dtype != np.uint8:
            raise ValueError(f'image must be {size + (3, )} uint8, got '
                             f'{image.shape} {image.dtype}')
        for name, arr in (('depth', depth), ('raw_depth', raw_depth),
                          ('label', label), ('instance', instance)):
            if arr is not None and arr.shape != size:
                raise ValueError(f'{name} must be {size}, got {arr.shape}')
        file = self._file
        file['images'][index] = image.transpose(2, 1, 0)
        file['depths'][index] = depth.T.astype(np.float32)
        file['rawDepths'][index] = raw_depth.T.astype(np.float32)
        file['labels'][index] = label.T.astype(np.uint16)
        if 'instances' in file:
            if instance is None:
                instance = np.zeros(size, np.uint8)
            file['instances'][index] = instance.T.astype(np.uint8)
        file['accelData'][:, index] = np.asarray(
            accel if accel is not None else (0, 0, 0, 0), np.float32)
        self._cells['scenes'][index] = scene
        self._cells['sceneTypes'][index] = scene_type
        self._cells['rawRgbFilenames'][index] = \
            f'{scene}/r-{index + 1:06d}.ppm'
        self._cells['rawDepthFilenames'][index] = \
            f'{scene}/d-{index + 1:06d}.pgm'
        self._written[index] = True

    def _write_cells(self) -> None:
        """Write the string cell arrays as MATLAB does (refs to chars)."""
        refs = self._file.create_group('#refs#')
        count = 0
        cells = dict(names=list(self.names), **self._cells)
        for key, strings in cells.items():
            out = self._file.create_dataset(
                key,
                shape=(1, len(strings)),
                dtype=h5py.ref_dtype,
                track_times=False)
            out.attrs['MATLAB_class'] = np.bytes_('cell')
            for col, text in enumerate(strings):
                chars = np.array([ord(c) for c in text],
                                 np.uint16).reshape(-1, 1)
                if chars.size == 0:
                    chars = np.zeros((0, 1), np.uint16)
                item = refs.create_dataset(
                    _ref_name(count), data=chars, track_times=False)
                item.attrs['MATLAB_class'] = np.bytes_('char')
                item.attrs['MATLAB_int_decode'] = np.int32(2)
                out[0, col] = item.ref
                count += 1

    def close(self) -> None:
        """Finish the file and move it into place."""
        if not self._written.all():
            missing = np.flatnonzero(~self._written)
            self.abort()
            raise ValueError(f'{self.path}: frames never written, e.g. '
                             f'{missing[:5].tolist()} (0-based)')
        self._write_cells()
        self._file.close()
        with open(self._tmp, 'r+b') as raw:
            raw.write(_matlab_header())
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop the temporary file; nothing appears at ``path``."""
        try:
            self._file.close()
        finally:
            if osp.exists(self._tmp):
                os.remove(self._tmp)

    def __enter__(self) -> 'NYUDv2MatWriter':
        """Enter the block.

        Returns:
            NYUDv2MatWriter: This writer.
        """
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        """Finish the file, or drop it if the block raised.

        Args:
            exc_type (type | None): Exception type raised in the block.
            exc (BaseException | None): The exception.
            traceback: Its traceback.
        """
        if exc_type is None:
            self.close()
        else:
            self.abort()
