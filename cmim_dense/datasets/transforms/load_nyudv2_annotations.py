"""Load the segmentation, depth and instance maps of a NYUD-v2 frame."""
import warnings
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from cmim_dense.registry import TRANSFORMS
from ..nyudv2_class_tables import nyudv2_label_lut
from ..nyudv2_format_error import NYUDv2FormatError
from ..nyudv2_mat_file import get_nyudv2_mat_file
from ..nyudv2_regions import crop_to_region


def _read_png(path: str, part: str) -> np.ndarray:
    """Read a single-channel PNG unchanged (8 or 16 bit).

    Args:
        path (str): The file.
        part (str): Layout part for errors (``'segmentation'``, ...).

    Returns:
        np.ndarray: H x W integer array.
    """
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as err:
        raise NYUDv2FormatError(
            path, f'cannot be read: {err}', field=part) from err
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if arr is None:
        raise NYUDv2FormatError(
            path, 'not a readable image (truncated or '
            'corrupt?)',
            field=part)
    if arr.ndim != 2:
        raise NYUDv2FormatError(
            path,
            f'expected a single-channel map, got shape {arr.shape}',
            field=part)
    return arr


def _read_npy(path: str, part: str) -> np.ndarray:
    """Read a depth ``.npy`` (H x W or H x W x 1, real-valued).

    Args:
        path (str): The file.
        part (str): Layout part for errors.

    Returns:
        np.ndarray: H x W array.
    """
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise NYUDv2FormatError(
            path,
            f'not a readable .npy (truncated or corrupt?): {err}',
            field=part) from err
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2 or arr.dtype.kind not in 'uif':
        raise NYUDv2FormatError(
            path, f'expected an H x W real array, got {arr.shape} '
            f'{arr.dtype}',
            field=part)
    return arr


@TRANSFORMS.register_module()
class LoadNYUDv2Annotations(BaseTransform):
    """Load every annotation a NYUD-v2 frame's data info asks for.

    Works for all layouts (the labeled ``.mat``, the multi-task folders,
    the monocular-depth layout), driven by the data info that the NYUD-v2
    datasets write (without ``tasks``, e.g. mmseg's ``NYUDataset``, the
    tasks follow ``seg_map_path``/``depth_map_path``; depth PNGs without
    ``depth_scale`` are read as millimetres, ``.npy`` as metres):

    - ``gt_seg_map``: H x W uint8 training ids ``0..C-1`` (40 or 13
      classes), 255 = ignore (unlabeled). Raw ``.mat`` labels must lie in
      0..894 and PNG labels in 0..40, otherwise an error names the file,
      field and frame.
    - ``gt_depth_map``: H x W float32 metres, 0 = invalid. NaN, inf and
      negative values become 0 with a warning giving their count.
    - ``gt_instance_map`` (data info with ``instance_field``): H x W uint8
      NYU instance ids (not packed by ``PackSegInputs``).

    A data info with ``crop_region`` has every map cut to that window
    (as :class:`LoadNYUDv2Image` cuts the image). Each loaded map is
    appended to ``seg_fields``, so mmseg's geometric
    transforms (``RandomResize``, ``Resize``, ``RandomCrop``,
    ``RandomFlip``, ...) apply them together with the image, with nearest
    interpolation (a depth value is never interpolated with an invalid
    neighbour). mmseg's ``PackSegInputs`` packs ``gt_seg_map`` and
    ``gt_depth_map``. (mmseg's ``RandomRotate`` fills the corners of every
    map in ``seg_fields`` with its ``seg_pad_val``, 255 by default: do not
    use it with depth.)

    Args:
        tasks (Sequence[str], optional): Load only these of the data info's
            tasks and ``'instance'`` (e.g. ``('seg', )``); None loads all
            the data info offers. Defaults to None.
    """

    def __init__(self, tasks: Optional[Sequence[str]] = None) -> None:
        self.tasks = None if tasks is None else tuple(tasks)
        self._luts: Dict[Tuple[int, str], np.ndarray] = {}

    def _lut(self, num_classes: int, source: str) -> np.ndarray:
        """Cached label lookup table.

        Args:
            num_classes (int): 40 or 13.
            source (str): ``'nyu894'`` or ``'nyu40'``.

        Returns:
            np.ndarray: The table.
        """
        key = (num_classes, source)
        if key not in self._luts:
            self._luts[key] = nyudv2_label_lut(num_classes, source)
        return self._luts[key]

    @staticmethod
    def _source(results: dict, path_key: str) -> Tuple[str, Optional[int]]:
        """The file and frame an annotation comes from (for errors).

        Args:
            results (dict): Data info.
            path_key (str): Key of the annotation file for file layouts.

        Returns:
            tuple[str, int | None]: File and 0-based frame (``.mat`` only).
        """
        if 'mat_path' in results:
            return results['mat_path'], results['frame_idx']
        return results[path_key], None

    def _load_seg(self, results: dict) -> np.ndarray:
        """Load and map the segmentation of one frame.

        Args:
            results (dict): Data info.

        Returns:
            np.ndarray: H x W uint8 training ids, 255 ignore.
        """
        source = results.get('label_source', 'nyu40')
        lut = self._lut(results.get('num_classes', 40), source)
        path, frame = self._source(results, 'seg_map_path')
        if frame is not None:
            field = 'labels'
            raw = get_nyudv2_mat_file(path, results['mat_fields']).read(
                field, frame)
        else:
            field = 'segmentation'
            raw = _read_png(path, field)
        if raw.dtype.kind not in 'ui':
            raise NYUDv2FormatError(
                path,
                f'labels must be integers, got {raw.dtype}',
                field=field,
                frame=frame)
        top = len(lut) - 1
        if raw.size and (raw.min() < 0 or raw.max() > top):
            bad = raw[(raw < 0) | (raw > top)]
            raise NYUDv2FormatError(
                path, f'{bad.size} labels outside 0..{top}, e.g. '
                f'{np.unique(bad)[:5].tolist()}',
                field=field,
                frame=frame)
        return lut[raw]

    def _load_depth(self, results: dict) -> np.ndarray:
        """Load one frame's depth in metres, invalid = 0.

        Args:
            results (dict): Data info.

        Returns:
            np.ndarray: H x W float32.
        """
        path, frame = self._source(results, 'depth_map_path')
        if frame is not None:
            field = results.get('depth_field', 'depths')
            depth = get_nyudv2_mat_file(path, results['mat_fields']).read(
                field, frame)
            scale = 1.0
        else:
            field = 'depth'
            if path.endswith('.npy'):
                depth = _read_npy(path, field)
            else:
                depth = _read_png(path, field)
            # PNG depth is millimetres by convention, .npy metres
            scale = results.get('depth_scale',
                                1.0 if path.endswith('.npy') else 1e-3)
        depth = depth.astype(np.float32)
        if scale != 1.0:
            depth *= np.float32(scale)
        bad = ~np.isfinite(depth)
        negative = ~bad & (depth < 0)
        num_bad, num_neg = int(bad.sum()), int(negative.sum())
        if num_bad or num_neg:
            depth[bad | negative] = 0.0
            where = f'{path}, field {field!r}' + (
                f', frame {frame + 1} (index {frame})'
                if frame is not None else '')
            warnings.warn(
                f'{where}: {num_bad} NaN/inf and {num_neg} negative depth '
                'values set to 0 (invalid)',
                stacklevel=2)
        return depth

    def _check_shape(self, results: dict, key: str, arr: np.ndarray,
                     field: str) -> None:
        """Check an annotation has the image's original size.

        Args:
            results (dict): Data info (``ori_shape`` if the image is
                loaded).
            key (str): Annotation path key for the error.
            arr (np.ndarray): The annotation.
            field (str): Field for the error.
        """
        shape = results.get('ori_shape')
        if shape is not None and tuple(arr.shape[:2]) != tuple(shape[:2]):
            path, frame = self._source(results, key)
            raise NYUDv2FormatError(
                path, f'size {arr.shape[:2]} differs from the image '
                f'{tuple(shape[:2])}',
                field=field,
                frame=frame)

    def transform(self, results: dict) -> dict:
        """Load the annotations.

        Args:
            results (dict): Data info of one frame (after the image loader).

        Returns:
            dict: ``results`` with the maps, listed in ``seg_fields``.
        """
        tasks = results.get('tasks')
        if tasks is None:  # a data info of another dataset (mmseg's NYU)
            tasks = [
                task for task, key in (('seg', 'seg_map_path'),
                                       ('depth', 'depth_map_path'))
                if results.get(key)
            ]
        if self.tasks is not None:
            tasks = [t for t in tasks if t in self.tasks]
        seg_fields = results.setdefault('seg_fields', [])
        region = results.get('crop_region', 'full')
        loaded = []
        if 'seg' in tasks:
            seg = crop_to_region(self._load_seg(results), region)
            self._check_shape(results, 'seg_map_path', seg, 'labels')
            results['gt_seg_map'] = seg
            loaded.append('gt_seg_map')
        if 'depth' in tasks:
            depth = crop_to_region(self._load_depth(results), region)
            self._check_shape(results, 'depth_map_path', depth, 'depth')
            results['gt_depth_map'] = depth
            loaded.append('gt_depth_map')
        if results.get('instance_field') and (self.tasks is None
                                              or 'instance' in self.tasks):
            path, frame = results['mat_path'], results['frame_idx']
            inst = get_nyudv2_mat_file(path, results['mat_fields']).read(
                results['instance_field'], frame)
            inst = crop_to_region(inst, region)
            results['gt_instance_map'] = inst.astype(
                np.uint8 if inst.size == 0 or inst.max() < 256 else np.uint16)
            loaded.append('gt_instance_map')
        shapes = {results[key].shape for key in loaded}
        if len(shapes) > 1:
            path, frame = self._source(results, 'seg_map_path')
            raise NYUDv2FormatError(
                path,
                f'annotation sizes disagree: {sorted(shapes)}',
                frame=frame)
        for key in loaded:
            if key not in seg_fields:
                seg_fields.append(key)
        return results

    def __repr__(self) -> str:
        """Summary for logs.

        Returns:
            str: The summary.
        """
        return f'{self.__class__.__name__}(tasks={self.tasks})'
