"""Lazy, validated, per-process access to ``nyu_depth_v2_labeled.mat``.

The labeled set is a MATLAB v7.3 file, i.e. HDF5, whose arrays h5py sees with
their axes reversed (``docs/user_guides/data.md``):

===========  ======================  =========================================
field        h5py shape              frame ``i`` in natural orientation
===========  ======================  =========================================
images       (N, 3, W, H) uint8      ``images[i].transpose(2, 1, 0)`` H x W x 3
depths       (N, W, H) float         ``depths[i].T`` H x W, metres
rawDepths    (N, W, H) float         ``rawDepths[i].T`` H x W, metres, 0 hole
labels       (N, W, H) integer       ``labels[i].T`` H x W, 0..894
instances    (N, W, H) integer       ``instances[i].T`` H x W
===========  ======================  =========================================

:class:`NYUDv2MatFile` checks this layout once (fields, ranks, standard
stored types, shapes agreeing between fields, a complete chunk index) and
then reads single frames, never a whole field, checking that the frame's
chunks are found where the index lists them (a corrupt index would
otherwise give zeros or another frame's pixels without an error). It
holds no file handle itself, so it pickles into DataLoader workers; each
process opens its own handle on first use and keeps it (one handle per
process and file, also with persistent workers). A handle inherited through
``fork`` is closed in the child and reopened, never used.
"""
import itertools
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import h5py
import numpy as np
from h5py import h5t

from .nyudv2_format_error import NYUDv2FormatError

# field -> (rank, dtype kind(s)) of the h5py dataset
FIELD_SPECS: Dict[str, Tuple[int, str]] = {
    'images': (4, 'u'),
    'depths': (3, 'f'),
    'rawDepths': (3, 'f'),
    'labels': (3, 'ui'),
    'instances': (3, 'ui'),
}

# the standard HDF5 types accepted per dtype kind: a field whose stored type
# differs in any property (byte order, bit layout, padding) is refused rather
# than converted into plausible-looking wrong values
_STANDARD_TYPES = {
    'u': (h5t.STD_U8LE, h5t.STD_U8BE, h5t.STD_U16LE, h5t.STD_U32LE),
    'i': (h5t.STD_I8LE, h5t.STD_I8BE, h5t.STD_I16LE, h5t.STD_I32LE),
    'f': (h5t.IEEE_F32LE, h5t.IEEE_F64LE),
}
_KIND_NAMES = {'u': 'unsigned', 'i': 'signed', 'f': 'float'}
_MAT_V5_MAGIC = b'MATLAB 5.0 MAT-file'

# absolute path -> (pid of the opening process, h5py.File)
_HANDLES: Dict[str, Tuple[int, h5py.File]] = {}
# (absolute path, fields) -> validated reader, per process
_READERS: Dict[Tuple[str, Tuple[str, ...]], 'NYUDv2MatFile'] = {}


def _check_hdf5(path: str) -> None:
    """Raise a clear error if ``path`` is missing or not an HDF5 file.

    Args:
        path (str): File to check.
    """
    if not osp.isfile(path):
        raise NYUDv2FormatError(path, 'file not found')
    with open(path, 'rb') as file:
        head = file.read(128)
    if head.startswith(_MAT_V5_MAGIC):
        raise NYUDv2FormatError(
            path, 'is a MATLAB v5 .mat file, not the HDF5 (MATLAB v7.3) '
            'labeled set nyu_depth_v2_labeled.mat (splits.mat is the v5 '
            'file that goes beside it)')
    if not h5py.is_hdf5(path):
        raise NYUDv2FormatError(
            path, 'is not an HDF5 (MATLAB v7.3) file; expected the labeled '
            'set nyu_depth_v2_labeled.mat')


def _open(path: str) -> h5py.File:
    """Open ``path`` read-only, turning h5py errors into clear ones.

    Args:
        path (str): HDF5 file.

    Returns:
        h5py.File: The open file.
    """
    try:
        return h5py.File(path, 'r')
    except (OSError, RuntimeError, ValueError) as err:
        raise NYUDv2FormatError(
            path, f'cannot be opened as HDF5 (truncated or corrupt?): {err}'
        ) from err


def _chunk_index(dset: h5py.Dataset, path: str,
                 field: str) -> Optional[Dict[tuple, tuple]]:
    """Check a chunked dataset's index covers every chunk exactly once.

    A corrupt chunk index can drop a chunk (HDF5 then returns the fill
    value, zeros) or file a chunk under the coordinates of another (another
    frame's pixels): both would be silent wrong samples. The index is
    checked against the chunk grid of the shape (every position once, at
    distinct addresses inside the file), and the addresses are kept so that
    :meth:`NYUDv2MatFile.read` can check that the lookup of a frame's
    chunks finds these very chunks.

    Args:
        dset (h5py.Dataset): The dataset.
        path (str): File, for errors.
        field (str): Field, for errors.

    Returns:
        dict[tuple, tuple] | None: Chunk position -> (file address, stored
        size), None for a contiguous dataset.
    """
    if dset.chunks is None:
        return None
    grid = [-(-n // c) for n, c in zip(dset.shape, dset.chunks)]
    expected = int(np.prod(grid))
    infos: list = []
    try:
        dset.id.chunk_iter(infos.append)
    except AttributeError:  # HDF5 < 1.14: per-index queries
        infos = [
            dset.id.get_chunk_info(i) for i in range(dset.id.get_num_chunks())
        ]
    index = {
        tuple(info.chunk_offset): (info.byte_offset, info.size)
        for info in infos
    }
    addresses = {address for address, _ in index.values()}
    if len(infos) != expected or len(index) != expected or len(
            addresses) != expected:
        raise NYUDv2FormatError(
            path, f'chunk index lists {len(infos)} chunks at {len(index)} '
            f'positions and {len(addresses)} addresses, expected '
            f'{expected} (truncated or corrupt)',
            field=field)
    file_size = dset.file.id.get_filesize()
    for info in infos:
        offset = info.chunk_offset
        if any(o % c or o >= n
               for o, c, n in zip(offset, dset.chunks, dset.shape)):
            raise NYUDv2FormatError(
                path,
                f'chunk at invalid position {offset} (corrupt)',
                field=field)
        if info.byte_offset is None or \
                info.byte_offset + info.size > file_size:
            raise NYUDv2FormatError(
                path, f'chunk {offset} lies outside the file (truncated '
                'or corrupt)',
                field=field)
    return index


def close_nyudv2_mat_files() -> None:
    """Close the handles this process opened (the others are dropped).

    Readers reopen their file on next use.
    """
    _READERS.clear()
    for path in list(_HANDLES):
        pid, handle = _HANDLES.pop(path)
        if pid == os.getpid():
            handle.close()


class NYUDv2MatFile:
    """A validated view of the labeled ``.mat`` that reads single frames.

    Args:
        path (str): Path of ``nyu_depth_v2_labeled.mat`` (or a file in its
            layout, any frame size).
        fields (Sequence[str]): Fields that must be present; ``images`` is
            always required. Defaults to ``('images', )``.

    Attributes:
        num_frames (int): Number of frames N.
        height (int): Frame height H.
        width (int): Frame width W.
    """

    def __init__(self, path: str, fields: Sequence[str] = ('images', )):
        self.path = osp.abspath(path)
        self.fields = tuple(dict.fromkeys(('images', ) + tuple(fields)))
        for field in self.fields:
            if field not in FIELD_SPECS:
                raise ValueError(f'unknown NYUD-v2 field {field!r}; known: '
                                 f'{", ".join(FIELD_SPECS)}')
        self._chunks: Dict[str, Optional[Dict[tuple, tuple]]] = {}
        _check_hdf5(self.path)
        with _open(self.path) as file:
            try:
                self.num_frames, self.height, self.width = \
                    self._validate(file)
            except NYUDv2FormatError:
                raise
            except Exception as err:  # noqa: B902  (corrupt metadata)
                raise NYUDv2FormatError(
                    self.path, f'unreadable layout (corrupt?): '
                    f'{type(err).__name__}: {err}') from err

    def _validate(self, file: h5py.File) -> Tuple[int, int, int]:
        """Check fields, ranks, dtypes and shapes.

        Args:
            file (h5py.File): The open file.

        Returns:
            tuple[int, int, int]: N, H and W.
        """
        keys = sorted(str(key) for key in file.keys())
        shape = None
        for field in self.fields:
            if field not in keys:
                raise NYUDv2FormatError(
                    self.path,
                    f'missing (the file has: {", ".join(keys)})',
                    field=field)
            try:
                dset = file[field]
                is_dataset = isinstance(dset, h5py.Dataset)
                dshape = dset.shape if is_dataset else ()
                ftype = dset.id.get_type() if is_dataset else None
            except (OSError, RuntimeError, ValueError, KeyError,
                    TypeError) as err:
                raise NYUDv2FormatError(
                    self.path, f'unreadable (corrupt?): {err}',
                    field=field) from err
            rank, kinds = FIELD_SPECS[field]
            if not is_dataset or len(dshape) != rank:
                raise NYUDv2FormatError(
                    self.path, f'expected a {rank}-d array, got '
                    f'{dshape if is_dataset else type(dset).__name__}',
                    field=field)
            if not any(
                    ftype.equal(std) for kind in kinds
                    for std in _STANDARD_TYPES[kind]):
                raise NYUDv2FormatError(
                    self.path,
                    f'unexpected stored type (dtype {dset.dtype.str}); '
                    'expected a standard little-endian '
                    f'{"/".join(_KIND_NAMES[k] for k in kinds)} type',
                    field=field)
            if field == 'images':
                if dshape[1] != 3 or dset.dtype != np.uint8:
                    raise NYUDv2FormatError(
                        self.path, 'expected shape (N, 3, W, H) uint8 '
                        f'(RGB), got {dshape} {dset.dtype}',
                        field=field)
                shape = (dshape[0], dshape[2], dshape[3])
            elif dshape != shape:
                raise NYUDv2FormatError(
                    self.path, f'shape {dshape} disagrees with images '
                    f'{file["images"].shape}: expected (N, W, H) = {shape}',
                    field=field)
            self._chunks[field] = _chunk_index(dset, self.path, field)
        num_frames, width, height = shape
        if min(shape) < 1:
            raise NYUDv2FormatError(
                self.path, f'empty frames: images shape '
                f'{file["images"].shape}',
                field='images')
        return num_frames, height, width

    def _handle(self) -> h5py.File:
        """This process's handle on the file, opened on first use.

        Returns:
            h5py.File: An open handle owned by the current process.
        """
        pid = os.getpid()
        entry = _HANDLES.get(self.path)
        if entry is not None and entry[0] == pid:
            return entry[1]
        if entry is not None:
            # inherited through fork: close our copy, never read through it
            try:
                entry[1].close()
            except Exception:  # noqa: B902  (the parent's state is unknown)
                pass
        handle = _open(self.path)
        _HANDLES[self.path] = (pid, handle)
        return handle

    def _check_frame_chunks(self, dset: h5py.Dataset, field: str,
                            frame: int) -> None:
        """Check the lookup of a frame's chunks finds the indexed chunks.

        Args:
            dset (h5py.Dataset): The open dataset.
            field (str): Its field.
            frame (int): 0-based frame.
        """
        index = self._chunks.get(field)
        if index is None:
            return
        chunks = dset.chunks
        tails = itertools.product(
            *(range(0, n, c) for n, c in zip(dset.shape[1:], chunks[1:])))
        first = frame - frame % chunks[0]
        for tail in tails:
            offset = (first, ) + tail
            found = dset.id.get_chunk_info_by_coord(offset)
            try:
                # the lookup of the read path (it differs from the one above)
                _, raw = dset.id.read_direct_chunk(offset)
            except (RuntimeError, OSError, ValueError) as err:
                raise NYUDv2FormatError(
                    self.path, f'chunk {offset} not found by the read path '
                    f'(corrupt chunk index): {err}',
                    field=field,
                    frame=frame) from err
            expected = index.get(offset)
            if found.byte_offset is None or expected is None or \
                    found.byte_offset != expected[0] or \
                    len(raw) != expected[1]:
                raise NYUDv2FormatError(
                    self.path, f'the chunk index does not find chunk '
                    f'{offset} where it lists it (corrupt)',
                    field=field,
                    frame=frame)

    def read(self, field: str, frame: int) -> np.ndarray:
        """Read one frame of one field in natural orientation.

        Args:
            field (str): One of the validated fields.
            frame (int): 0-based frame index.

        Returns:
            np.ndarray: ``H x W x 3`` (RGB) for ``images``, ``H x W``
            otherwise, C-contiguous, in the stored dtype.
        """
        if field not in self.fields:
            raise KeyError(f'{field!r} was not validated for {self.path}; '
                           f'validated fields: {self.fields}')
        if not 0 <= frame < self.num_frames:
            raise NYUDv2FormatError(
                self.path, f'out of range (the file has {self.num_frames} '
                'frames)',
                field=field,
                frame=frame)
        try:
            dset = self._handle()[field]
            self._check_frame_chunks(dset, field, frame)
            data = dset[frame]
        except NYUDv2FormatError:
            raise
        except Exception as err:  # noqa: B902  (any h5py/HDF5 failure)
            raise NYUDv2FormatError(
                self.path, f'cannot be read (truncated or corrupt?): '
                f'{type(err).__name__}: {err}',
                field=field,
                frame=frame) from err
        if field == 'images':
            data = data.transpose(2, 1, 0)
        else:
            data = data.T
        return np.ascontiguousarray(data)

    def __repr__(self) -> str:
        """Summary for logs.

        Returns:
            str: The summary.
        """
        return (f'{self.__class__.__name__}({self.path!r}, '
                f'{self.num_frames} frames of {self.height}x{self.width}, '
                f'fields={self.fields})')


def get_nyudv2_mat_file(path: str,
                        fields: Sequence[str] = ('images', )) \
        -> NYUDv2MatFile:
    """A validated reader of ``path``, validated once per process.

    Args:
        path (str): The labeled ``.mat``.
        fields (Sequence[str]): Fields that must be present.

    Returns:
        NYUDv2MatFile: The cached reader.
    """
    key = (osp.abspath(path), tuple(fields))
    reader = _READERS.get(key)
    if reader is None:
        reader = _READERS[key] = NYUDv2MatFile(path, fields)
    return reader
