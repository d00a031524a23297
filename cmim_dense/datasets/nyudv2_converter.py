"""Convert the labeled ``.mat`` (+ a split) to the multi-task layout.

Output (read by :class:`NYUDv2FolderDataset`)::

    out_dir/
    ├── images/<id>.png (or .jpg)   RGB image as stored in the .mat
    ├── segmentation/<id>.png       uint8, 0 void, 1..40 (894 -> 40 mapping)
    ├── depth/<id>.npy              float32 metres, 0 invalid
    ├── gt_sets/{train,val}.txt     the ids of trainNdxs / testNdxs
    └── .nyudv2_convert.json        what was converted, and whether done

``<id>`` is the 1-based frame number, zero-padded to 4 digits (``0001``).
Every file is written to a temporary name and renamed, so an interrupted run
leaves only complete files; running again with the same source and options
resumes (complete frames are skipped). The id lists are written last, so an
incomplete conversion is never mistaken for a usable dataset. A folder that
holds anything else is refused unless ``overwrite``.
"""
import json
import os
import os.path as osp
import sys
import warnings
from typing import Callable, Dict, Optional

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from .nyudv2_class_tables import MAP_894_TO_40
from .nyudv2_format_error import NYUDv2FormatError
from .nyudv2_mat_file import NYUDv2MatFile
from .nyudv2_splits import default_nyudv2_split_file, load_nyudv2_splits

MARKER = '.nyudv2_convert.json'
_TMP_TAG = '.tmp-'


def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    """Write ``path`` through a temporary file in the same folder.

    Args:
        path (str): Final path.
        write (Callable[[str], None]): Writes the content to a given path.
    """
    folder, name = osp.split(path)
    stem, ext = osp.splitext(name)
    tmp = osp.join(folder, f'.{stem}{_TMP_TAG}{os.getpid()}{ext}')
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def _write_bytes(data: bytes) -> Callable[[str], None]:
    """A writer of fixed bytes.

    Args:
        data (bytes): Content.

    Returns:
        Callable[[str], None]: Writer for :func:`_atomic_write`.
    """

    def write(path: str) -> None:
        """Write the bytes to ``path``.

        Args:
            path (str): Target file.
        """
        with open(path, 'wb') as file:
            file.write(data)

    return write


def _encode(img: np.ndarray, ext: str) -> bytes:
    """Encode an image with OpenCV (lossless PNG or quality-95 JPEG).

    Args:
        img (np.ndarray): Image (BGR) or single-channel map.
        ext (str): ``'.png'`` or ``'.jpg'``.

    Returns:
        bytes: Encoded file.
    """
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == '.jpg' else []
    ok, buf = cv2.imencode(ext, img, params)
    if not ok:
        raise RuntimeError(f'OpenCV could not encode a {ext} image')
    return buf.tobytes()


def _source_id(mat_path: str, split_file: Optional[str],
               options: dict) -> dict:
    """Identify a conversion (source files and options) for resuming.

    Args:
        mat_path (str): Labeled ``.mat``.
        split_file (str, optional): Split file; None for the packaged split.
        options (dict): Conversion options.

    Returns:
        dict: JSON-able identity.
    """
    ident = dict(options)
    sources = [('mat', mat_path)]
    if split_file is None:
        ident['splits'] = 'packaged'
    else:
        sources.append(('splits', split_file))
    for key, path in sources:
        stat = os.stat(path)
        ident[key] = dict(
            path=osp.abspath(path), size=stat.st_size, mtime=stat.st_mtime)
    return ident


def convert_nyudv2_to_folders(mat_path: str,
                              out_dir: str,
                              split_file: Optional[str] = None,
                              img_format: str = 'png',
                              depth_source: str = 'depths',
                              overwrite: bool = False,
                              progress: bool = True) -> Dict[str, int]:
    """Convert the labeled set to the multi-task folder layout.

    Args:
        mat_path (str): ``nyu_depth_v2_labeled.mat``.
        out_dir (str): Output folder.
        split_file (str, optional): ``splits.mat``. Defaults to None: the
            one beside ``mat_path`` if it exists, else the official split
            carried by the package.
        img_format (str): ``'png'`` (lossless, default) or ``'jpg'``.
        depth_source (str): ``'depths'`` (in-painted, default) or
            ``'rawDepths'``.
        overwrite (bool): Rewrite every file of a folder that holds
            anything, instead of refusing. Defaults to False.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict[str, int]: ``frames`` (in the splits), ``written``,
        ``skipped`` (already complete), ``invalid_depth`` (NaN/inf/negative
        values written as 0).
    """
    if img_format not in ('png', 'jpg'):
        raise ValueError(f"img_format must be 'png' or 'jpg', got "
                         f'{img_format!r}')
    if depth_source not in ('depths', 'rawDepths'):
        raise ValueError(f"depth_source must be 'depths' or 'rawDepths', "
                         f'got {depth_source!r}')
    if split_file is None:
        split_file = default_nyudv2_split_file(
            osp.dirname(osp.abspath(mat_path)))
    # check everything before writing anything
    mat = NYUDv2MatFile(mat_path, ('images', 'labels', depth_source))
    splits = load_nyudv2_splits(split_file, mat.num_frames)
    ident = _source_id(
        mat_path, split_file,
        dict(img_format=img_format, depth_source=depth_source, version=1))
    marker = osp.join(out_dir, MARKER)
    resume = False
    if osp.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        try:
            with open(marker, encoding='utf-8') as file:
                previous = json.load(file)
        except (OSError, ValueError):
            previous = None
        if previous is None or previous.get('source') != ident:
            raise FileExistsError(
                f'{out_dir} is not empty and was not converted from the '
                f'same source with the same options ({MARKER} differs or '
                'is missing); refusing to overwrite it without overwrite=True'
                ' (--overwrite)')
        resume = True
    folders = {
        part: osp.join(out_dir, part)
        for part in ('images', 'segmentation', 'depth', 'gt_sets')
    }
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.startswith('.') and _TMP_TAG in name:
                os.remove(osp.join(folder, name))  # an interrupted write
    _atomic_write(
        marker,
        _write_bytes(
            json.dumps(dict(source=ident, complete=False), indent=1).encode()))

    to_40 = np.array((0, ) + MAP_894_TO_40, np.uint8)
    ext = f'.{img_format}'
    frames = np.union1d(splits['train'], splits['test'])
    summary = dict(
        frames=int(frames.size), written=0, skipped=0, invalid_depth=0)
    bar = ProgressBar(int(frames.size), file=sys.stdout) if progress else None
    for frame in frames.tolist():
        frame_id = f'{frame + 1:04d}'
        paths = (osp.join(folders['images'], frame_id + ext),
                 osp.join(folders['segmentation'], frame_id + '.png'),
                 osp.join(folders['depth'], frame_id + '.npy'))
        if resume and all(osp.exists(p) for p in paths):
            summary['skipped'] += 1
        else:
            rgb = mat.read('images', frame)
            labels = mat.read('labels', frame)
            if labels.size and labels.max() > 894:
                raise NYUDv2FormatError(
                    mat.path, f'labels outside 0..894 (max '
                    f'{int(labels.max())})',
                    field='labels',
                    frame=frame)
            depth = mat.read(depth_source, frame).astype(np.float32)
            bad = ~np.isfinite(depth) | (depth < 0)
            if bad.any():
                summary['invalid_depth'] += int(bad.sum())
                depth[bad] = 0.0
            _atomic_write(
                paths[0],
                _write_bytes(
                    _encode(np.ascontiguousarray(rgb[..., ::-1]), ext)))
            _atomic_write(paths[1],
                          _write_bytes(_encode(to_40[labels], '.png')))

            def save_depth(path: str, data: np.ndarray = depth) -> None:
                """Save the depth map as ``.npy`` to ``path``.

                Args:
                    path (str): Target file.
                    data (np.ndarray): The depth map.
                """
                with open(path, 'wb') as file:
                    np.save(file, data)

            _atomic_write(paths[2], save_depth)
            summary['written'] += 1
        if bar is not None:
            bar.update()
    if bar is not None:
        print()  # end the progress bar's line
    for split, name in (('train', 'train.txt'), ('test', 'val.txt')):
        ids = ''.join(f'{i + 1:04d}\n' for i in splits[split].tolist())
        _atomic_write(
            osp.join(folders['gt_sets'], name), _write_bytes(ids.encode()))
    if summary['invalid_depth']:
        warnings.warn(
            f'{mat.path}, field {depth_source!r}: '
            f'{summary["invalid_depth"]} NaN/inf/negative depth values '
            'written as 0 (invalid)')
    _atomic_write(
        marker,
        _write_bytes(
            json.dumps(dict(source=ident, complete=True), indent=1).encode()))
    return summary
