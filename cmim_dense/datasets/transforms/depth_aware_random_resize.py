"""Random resize that divides depth by the zoom, as the multi-task recipes."""
import math
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import RandomResize
from mmcv.transforms.utils import cache_randomness

from cmim_dense.registry import TRANSFORMS


@TRANSFORMS.register_module()
class DepthAwareRandomResize(RandomResize):
    """mmcv's ``RandomResize`` that also divides the depth by the zoom.

    Zooming a frame in by ``s`` makes the scene look ``s`` times nearer, so
    the multi-task recipes (MTL-PyTorch's and ATRC's ``ScaleNRotate``,
    InvPT's random scaling) divide the depth map by ``s``; mmseg's
    ``RandomResize`` keeps the values. Here the image and every map in
    ``seg_fields`` are resized as by ``RandomResize`` (maps with nearest
    interpolation), then ``gt_depth_map`` is divided by the realised zoom
    ``s = sqrt((H'/H) * (W'/W))`` (``H x W`` before, ``H' x W'`` after; the
    two factors agree up to rounding with ``keep_ratio=True``). Invalid
    depth (0) stays 0. The zoom is stored as ``depth_zoom``.

    The target size is ``scale * r`` (``scale`` as ``(w, h)``) or, with
    ``scale=None``, the input frame's size times ``r``; the ratio ``r`` is
    drawn uniformly from ``ratio_range`` or from the list ``ratio_choices``
    (MTL-PyTorch's NYUD recipe: ``(1.0, 1.2, 1.5)``).

    Args:
        scale (tuple[int], optional): Base ``(w, h)``; None: the input size.
            Defaults to None.
        ratio_range (tuple[float], optional): ``(min, max)`` ratio.
        ratio_choices (Sequence[float], optional): Ratios drawn with equal
            probability. Exactly one of ``ratio_range``, ``ratio_choices``.
        divide_depth (bool): Divide the depth by the zoom. False makes this
            mmseg's ``RandomResize``. Defaults to True.
        depth_key (str): Key of the depth map. Defaults to
            ``'gt_depth_map'``.
        resize_type (str): The resize transform. Defaults to ``'Resize'``
            (mmseg's, which resizes every map in ``seg_fields``).
        **resize_kwargs: Its arguments (``keep_ratio``, ...).
    """

    def __init__(self,
                 scale: Optional[Tuple[int, int]] = None,
                 ratio_range: Optional[Tuple[float, float]] = None,
                 ratio_choices: Optional[Sequence[float]] = None,
                 divide_depth: bool = True,
                 depth_key: str = 'gt_depth_map',
                 resize_type: str = 'Resize',
                 **resize_kwargs) -> None:
        name = type(self).__name__
        if (ratio_range is None) == (ratio_choices is None):
            raise ValueError(f'{name}: give exactly one of ratio_range and '
                             f'ratio_choices, got {ratio_range!r} and '
                             f'{ratio_choices!r}')
        if ratio_range is not None and (
                len(ratio_range) != 2
                or not 0 < ratio_range[0] <= ratio_range[1]):
            raise ValueError(f'{name}: ratio_range must be (min, max) with '
                             f'0 < min <= max, got {ratio_range!r}')
        if ratio_choices is not None:
            ratio_choices = tuple(float(r) for r in ratio_choices)
            if not ratio_choices or min(ratio_choices) <= 0:
                raise ValueError(f'{name}: ratio_choices must be positive '
                                 f'ratios, got {ratio_choices!r}')
        if scale is not None and (len(scale) != 2
                                  or any(int(v) != v or v <= 0
                                         for v in scale)):
            raise ValueError(f'{name}: scale must be None or (w, h) of '
                             f'positive ints, got {scale!r}')
        super().__init__(
            scale=None if scale is None else tuple(int(v) for v in scale),
            ratio_range=ratio_range,
            resize_type=resize_type,
            **resize_kwargs)
        self.ratio_choices = ratio_choices
        self.divide_depth = bool(divide_depth)
        self.depth_key = depth_key

    @cache_randomness
    def _random_ratio(self) -> float:
        """Draw the ratio ``r``.

        Returns:
            float: From ``ratio_choices`` or uniform in ``ratio_range``.
        """
        if self.ratio_choices is not None:
            return self.ratio_choices[np.random.randint(
                len(self.ratio_choices))]
        low, high = self.ratio_range
        return float(np.random.uniform(low, high))

    def transform(self, results: dict) -> dict:
        """Resize, then divide the depth by the zoom.

        Args:
            results (dict): Loaded frame.

        Returns:
            dict: The resized frame with ``depth_zoom``.
        """
        height, width = results['img'].shape[:2]
        base_w, base_h = self.scale if self.scale is not None else (width,
                                                                    height)
        ratio = self._random_ratio()
        results['scale'] = (max(1, int(base_w * ratio)),
                            max(1, int(base_h * ratio)))
        self.resize.scale = results['scale']
        results = self.resize(results)
        new_h, new_w = results['img'].shape[:2]
        zoom = math.sqrt((new_h / height) * (new_w / width))
        results['depth_zoom'] = zoom
        depth = results.get(self.depth_key)
        if self.divide_depth and depth is not None:
            results[self.depth_key] = (depth / np.float32(zoom)).astype(
                np.float32)
        return results

    def __repr__(self) -> str:
        """Summary for logs.

        Returns:
            str: The summary.
        """
        return (f'{type(self).__name__}(scale={self.scale}, ratio_range='
                f'{self.ratio_range}, ratio_choices={self.ratio_choices}, '
                f'divide_depth={self.divide_depth}, '
                f'resize_cfg={self.resize_cfg})')
