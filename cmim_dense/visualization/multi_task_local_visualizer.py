"""One panel per image: input, segmentation and depth, GT and prediction.

Built on mmseg's ``SegLocalVisualizer``: segmentation tiles are drawn by its
``_draw_sem_seg``; what is ours is the panel layout, depth drawn on one
colour scale shared by GT and prediction with invalid pixels marked (mmseg
normalises each depth map on its own and has no invalid colour), a class
legend, a colour bar, and ``set_dataset_meta`` (mmseg 1.2.2's constructor
passes palette and classes swapped and defaults to Cityscapes).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.structures import PixelData
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.utils import get_classes, get_palette
from mmseg.visualization import SegLocalVisualizer

#: Colour maps available for depth (OpenCV's).
DEPTH_CMAPS: Dict[str, int] = {
    'viridis': cv2.COLORMAP_VIRIDIS,
    'magma': cv2.COLORMAP_MAGMA,
    'inferno': cv2.COLORMAP_INFERNO,
    'plasma': cv2.COLORMAP_PLASMA,
    'turbo': cv2.COLORMAP_TURBO,
    'jet': cv2.COLORMAP_JET,
}
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)


def _to_numpy(data) -> np.ndarray:
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2:
        raise ValueError(f'expected a (1, H, W) or (H, W) map, got shape '
                         f'{data.shape}')
    return data


@VISUALIZERS.register_module()
class MultiTaskLocalVisualizer(SegLocalVisualizer):
    """Draw a multi-task sample as one panel image.

    Layout (each tile ``H x W``, the size of the predictions / ground
    truth, i.e. ``ori_shape``, under a ``title_height`` title bar)::

        | input        | GT seg   | pred seg   |
        | class legend | GT depth | pred depth | colour bar |

    The segmentation row is drawn when the sample has ``gt_sem_seg`` or
    ``pred_sem_seg``: class colours from ``dataset_meta['palette']`` (a
    fixed random palette when missing or too short), blended with the input
    with ``alpha``, ignored labels (>= number of classes, e.g. 255) in
    ``ignore_color``. The depth row is drawn when it has ``gt_depth_map`` or
    ``pred_depth_map``: both maps in one colour map over one range
    (``depth_range``, or the min and max of the valid GT and prediction
    values), with the colour bar at the right, invalid pixels (``<= 0`` or
    not finite) in ``invalid_color``. With both rows, the legend lists the
    classes present in GT or prediction (most frequent first); a row
    without the other task starts with the input. A missing map (no GT at
    test time, ``draw_gt=False``) is a blank tile. The panel is
    ``(rows * (H + title_height), 3 * W + colorbar_width)`` pixels (no
    colour bar without depth), see :meth:`panel_shape`.

    Args:
        name (str): Instance name. Defaults to ``'visualizer'``.
        image (np.ndarray, optional): See mmengine's ``Visualizer``.
        vis_backends (list[dict], optional): Storage backends.
        save_dir (str, optional): Backends' directory (``--show-dir``).
        classes, palette, dataset_name: See ``SegLocalVisualizer``; the
            runner replaces them with the dataset's metainfo.
        alpha (float): Opacity of the class colours over the input; 1 draws
            plain label maps. Defaults to 0.8.
        depth_range (tuple[float, float], optional): Fixed colour range in
            metres, e.g. ``(0, 10)`` for NYUD-v2. Defaults to None
            (per image).
        depth_cmap (str): One of :data:`DEPTH_CMAPS`. Defaults to
            ``'viridis'``.
        invalid_color (tuple[int]): RGB of invalid depth. Defaults to grey.
        ignore_color (tuple[int]): RGB of ignored labels. Defaults to black.
        title_height (int): Height of the title bars. Defaults to 20.
        colorbar_width (int): Width of the colour bar strip. Defaults to 64.
        **kwargs: Passed to ``SegLocalVisualizer``.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None,
                 classes: Optional[List[str]] = None,
                 palette: Optional[List] = None,
                 dataset_name: Optional[str] = None,
                 alpha: float = 0.8,
                 depth_range: Optional[Tuple[float, float]] = None,
                 depth_cmap: str = 'viridis',
                 invalid_color: Sequence[int] = (128, 128, 128),
                 ignore_color: Sequence[int] = (0, 0, 0),
                 title_height: int = 20,
                 colorbar_width: int = 64,
                 **kwargs) -> None:
        # mmseg 1.2.2's __init__ passes (palette, classes) swapped to
        # set_dataset_meta: set the meta ourselves, after it.
        super().__init__(name, image, vis_backends, save_dir, None, None, None,
                         alpha, **kwargs)
        self.set_dataset_meta(classes, palette, dataset_name)
        if depth_cmap not in DEPTH_CMAPS:
            raise ValueError(f'depth_cmap must be one of {list(DEPTH_CMAPS)}'
                             f', got {depth_cmap!r}')
        if depth_range is not None and not (len(depth_range) == 2 and
                                            depth_range[0] < depth_range[1]):
            raise ValueError('depth_range must be (min, max) with min < max, '
                             f'got {depth_range!r}')
        if title_height < 8 or colorbar_width < 16:
            raise ValueError('title_height must be >= 8 and colorbar_width '
                             '>= 16')
        self.depth_range = None if depth_range is None else \
            (float(depth_range[0]), float(depth_range[1]))
        self.depth_cmap = depth_cmap
        self.invalid_color = np.array(invalid_color, dtype=np.uint8)
        self.ignore_color = np.array(ignore_color, dtype=np.uint8)
        self.title_height = int(title_height)
        self.colorbar_width = int(colorbar_width)

    def set_dataset_meta(self,
                         classes: Optional[List[str]] = None,
                         palette: Optional[List] = None,
                         dataset_name: Optional[str] = None) -> None:
        """Set class names and palette (no Cityscapes default).

        Args:
            classes (list[str], optional): Class names.
            palette (list, optional): RGB colour per class; generated when
                missing.
            dataset_name (str, optional): mmseg dataset name giving both when
                ``classes`` is None.
        """
        if classes is None and dataset_name is not None:
            classes = get_classes(dataset_name)
            palette = palette or get_palette(dataset_name)
        meta = {}
        if classes:
            meta['classes'] = list(classes)
        if palette:
            meta['palette'] = [list(c) for c in palette]
        self.dataset_meta = meta

    # ------------------------------------------------------------ pieces
    def _classes_palette(self, num_hint: int) -> Tuple[List[str], np.ndarray]:
        meta = self.dataset_meta or {}
        classes = list(meta.get('classes') or [])
        if not classes:
            classes = [str(i) for i in range(num_hint)]
        palette = meta.get('palette') or []
        if len(palette) < len(classes):
            rng = np.random.default_rng(0)
            palette = rng.integers(0, 256, (len(classes), 3)).tolist()
        return classes, np.array(palette[:len(classes)], dtype=np.uint8)

    def colorize_seg(self, label: np.ndarray, palette: np.ndarray,
                     image: np.ndarray) -> np.ndarray:
        """RGB tile of a label map blended with the input.

        Drawn by ``SegLocalVisualizer._draw_sem_seg`` (class colours blended
        with ``alpha``; no in-image labels: the panel has a legend); what
        is added is the colour of ignored labels (``>= num_classes``, e.g.
        255), which mmseg leaves black.

        Args:
            label (np.ndarray): Labels (H, W).
            palette (np.ndarray): (num_classes, 3) uint8 RGB.
            image (np.ndarray): RGB (H, W, 3) to blend with.

        Returns:
            np.ndarray: (H, W, 3) uint8.
        """
        label = label.astype(np.int64)
        color = self._draw_sem_seg(
            image, PixelData(data=label[None]), [''] * len(palette),
            palette.tolist(), with_labels=False)
        ignored = (label < 0) | (label >= len(palette))
        if ignored.any() and self.ignore_color.any():
            color[ignored] = (image[ignored] * (1 - self.alpha) +
                              self.ignore_color * self.alpha).astype(np.uint8)
        return color

    def colorize_depth(self, depth: np.ndarray, vmin: float,
                       vmax: float) -> np.ndarray:
        """RGB image of a depth map on the range ``[vmin, vmax]``.

        Args:
            depth (np.ndarray): Depth (H, W), metres; ``<= 0`` or non-finite
                values are invalid.
            vmin (float): Depth of the first colour.
            vmax (float): Depth of the last colour.

        Returns:
            np.ndarray: (H, W, 3) uint8, invalid pixels ``invalid_color``.
        """
        depth = depth.astype(np.float64)
        valid = np.isfinite(depth) & (depth > 0)
        scaled = np.zeros(depth.shape, dtype=np.float64)
        scaled[valid] = (depth[valid] - vmin) / (vmax - vmin)
        levels = np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)
        color = cv2.applyColorMap(levels, DEPTH_CMAPS[self.depth_cmap])
        color = np.ascontiguousarray(color[..., ::-1])
        color[~valid] = self.invalid_color
        return color

    def _depth_limits(self, maps: List[np.ndarray]) -> Tuple[float, float]:
        if self.depth_range is not None:
            return self.depth_range
        values = [m[np.isfinite(m) & (m > 0)] for m in maps]
        values = np.concatenate([v.ravel() for v in values] + [np.zeros(0)])
        if values.size == 0:
            return 0.0, 1.0
        vmin, vmax = float(values.min()), float(values.max())
        return (vmin, vmax) if vmax > vmin else (vmin, vmin + 1e-3)

    def _text(self,
              canvas: np.ndarray,
              text: str,
              org: Tuple[int, int],
              height: int,
              color=_BLACK) -> None:
        scale = max(height, 8) / 30.0
        cv2.putText(canvas, text, org, _FONT, scale, color, 1, cv2.LINE_AA)

    def _titled(self, tile: np.ndarray, title: str) -> np.ndarray:
        bar = np.full((self.title_height, tile.shape[1], 3), 255, np.uint8)
        self._text(bar, title, (3, self.title_height - 5), self.title_height)
        return np.concatenate([bar, tile], axis=0)

    def colorbar(self, height: int, vmin: float, vmax: float) -> np.ndarray:
        """Vertical colour bar (``vmax`` on top) with metre labels.

        Args:
            height (int): Height of the strip (tile + title bar).
            vmin (float): Depth at the bottom.
            vmax (float): Depth at the top.

        Returns:
            np.ndarray: (height, colorbar_width, 3) uint8.
        """
        strip = np.full((height, self.colorbar_width, 3), 255, np.uint8)
        top, bottom = self.title_height, height - 1
        span = max(bottom - top, 1)
        levels = np.linspace(255, 0, span + 1).round().astype(np.uint8)
        ramp = cv2.applyColorMap(levels[:, None],
                                 DEPTH_CMAPS[self.depth_cmap])[:, :, ::-1]
        bar_w = max(self.colorbar_width // 5, 6)
        strip[top:bottom + 1, 4:4 + bar_w] = ramp
        self._text(strip, 'm', (2, self.title_height - 5), self.title_height)
        text_h = max(self.title_height - 6, 8)
        num_ticks = 5 if span >= 5 * text_h else 2
        for i in range(num_ticks):
            frac = i / (num_ticks - 1)
            y = int(round(top + frac * span))
            value = vmax - frac * (vmax - vmin)
            ty = min(max(y + text_h // 2, top + text_h), bottom)
            strip[y, 4 + bar_w:8 + bar_w] = _BLACK
            self._text(strip, f'{value:.2f}', (10 + bar_w, ty), text_h)
        return strip

    def legend(self, shape: Tuple[int,
                                  int], labels: np.ndarray, counts: np.ndarray,
               classes: List[str], palette: np.ndarray) -> np.ndarray:
        """Tile listing classes with their colours, most frequent first.

        Args:
            shape (tuple[int, int]): Tile (H, W).
            labels (np.ndarray): Class indices present.
            counts (np.ndarray): Their pixel counts.
            classes (list[str]): Class names.
            palette (np.ndarray): (num_classes, 3) colours.

        Returns:
            np.ndarray: (H, W, 3) uint8.
        """
        tile = np.full(shape + (3, ), 255, np.uint8)
        line = max(self.title_height - 4, 10)
        rows = max(shape[0] // line, 1)
        order = [int(labels[i]) for i in np.argsort(-counts, kind='stable')]
        shown = order if len(order) <= rows else order[:rows - 1]
        for row, label in enumerate(shown):
            y = row * line
            tile[y + 2:y + line - 2, 2:line - 2] = palette[label]
            self._text(tile, classes[label], (line + 2, y + line - 3),
                       line - 2)
        if len(shown) < len(order):
            self._text(tile, f'+{len(order) - len(shown)} more',
                       (2, (rows - 1) * line + line - 3), line - 2)
        return tile

    # ------------------------------------------------------------- panel
    def panel_shape(self, height: int, width: int, with_seg: bool,
                    with_depth: bool) -> Tuple[int, int]:
        """(H, W) of the panel for ``height x width`` predictions.

        Args:
            height (int): Tile height.
            width (int): Tile width.
            with_seg (bool): Segmentation row drawn.
            with_depth (bool): Depth row drawn.

        Returns:
            tuple[int, int]: Panel height and width.
        """
        rows = int(with_seg) + int(with_depth)
        if rows == 0:
            return height + self.title_height, width
        return (rows * (height + self.title_height),
                3 * width + (self.colorbar_width if with_depth else 0))

    def draw_panel(self,
                   image: np.ndarray,
                   data_sample: Optional[SegDataSample] = None,
                   draw_gt: bool = True,
                   draw_pred: bool = True) -> np.ndarray:
        """Compose the panel of one sample.

        Args:
            image (np.ndarray): Input RGB (h, w, 3), resized to the maps'
                size if needed.
            data_sample (SegDataSample, optional): GT and predictions.
            draw_gt (bool): Draw the ground truth. Defaults to True.
            draw_pred (bool): Draw the predictions. Defaults to True.

        Returns:
            np.ndarray: The RGB panel, see :meth:`panel_shape`.
        """
        maps: Dict[str, np.ndarray] = {}
        for key, allowed in (('gt_sem_seg', draw_gt), ('gt_depth_map',
                                                       draw_gt),
                             ('pred_sem_seg', draw_pred), ('pred_depth_map',
                                                           draw_pred)):
            if allowed and data_sample is not None and key in data_sample:
                maps[key] = _to_numpy(data_sample.get(key).data)
        ref = next((maps[k]
                    for k in ('pred_sem_seg', 'gt_sem_seg', 'pred_depth_map',
                              'gt_depth_map') if k in maps), None)
        image = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
        h, w = ref.shape if ref is not None else image.shape[:2]
        if image.shape[:2] != (h, w):
            image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
        for key, value in maps.items():
            if value.shape != (h, w):
                maps[key] = cv2.resize(
                    value.astype(np.float32), (w, h),
                    interpolation=cv2.INTER_NEAREST)
        with_seg = any(k in maps for k in ('gt_sem_seg', 'pred_sem_seg'))
        with_depth = any(k in maps for k in ('gt_depth_map', 'pred_depth_map'))
        blank = np.full((h, w, 3), 255, np.uint8)
        input_tile = self._titled(image, 'input')
        rows = []
        if with_seg:
            seg_maps = [
                maps[k] for k in ('gt_sem_seg', 'pred_sem_seg') if k in maps
            ]
            hint = int(
                max((m[m < 255].max(initial=0)
                     for m in seg_maps), default=0)) + 1
            classes, palette = self._classes_palette(hint)
            tiles = [input_tile]
            for key, title in (('gt_sem_seg', 'GT seg'), ('pred_sem_seg',
                                                          'pred seg')):
                tile = self.colorize_seg(maps[key], palette, image) \
                    if key in maps else blank
                tiles.append(self._titled(tile, title))
            rows.append(np.concatenate(tiles, axis=1))
        if with_depth:
            vmin, vmax = self._depth_limits([
                maps[k] for k in ('gt_depth_map', 'pred_depth_map')
                if k in maps
            ])
            if with_seg:
                all_labels = np.concatenate([m.ravel() for m in seg_maps])
                all_labels = all_labels[(all_labels >= 0)
                                        & (all_labels < len(palette))]
                labels, counts = np.unique(
                    all_labels.astype(np.int64), return_counts=True)
                first = self._titled(
                    self.legend((h, w), labels, counts, classes, palette),
                    'classes')
            else:
                first = input_tile
            tiles = [first]
            for key, title in (('gt_depth_map', 'GT depth'), ('pred_depth_map',
                                                              'pred depth')):
                tile = self.colorize_depth(maps[key], vmin, vmax) \
                    if key in maps else blank
                tiles.append(self._titled(tile, title))
            tiles.append(self.colorbar(h + self.title_height, vmin, vmax))
            rows.append(np.concatenate(tiles, axis=1))
        if not rows:
            return input_tile
        width = max(r.shape[1] for r in rows)
        rows = [
            np.pad(
                r, ((0, 0), (0, width - r.shape[1]), (0, 0)),
                constant_values=255) for r in rows
        ]
        return np.concatenate(rows, axis=0)

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw the panel of a sample and save it to the backends.

        Args:
            name (str): Image identifier (file name stem of the backends).
            image (np.ndarray): Input RGB image.
            data_sample (SegDataSample, optional): GT and predictions.
            draw_gt (bool): Draw the ground truth. Defaults to True.
            draw_pred (bool): Draw the predictions. Defaults to True.
            show (bool): Display the panel. Defaults to False.
            wait_time (float): Display time (s). Defaults to 0.
            out_file (str, optional): Write the panel there instead of the
                backends. Defaults to None.
            step (int): Global step for the backends. Defaults to 0.
            with_labels (bool): Unused (the legend replaces the in-image
                labels of ``SegLocalVisualizer``).
        """
        panel = self.draw_panel(image, data_sample, draw_gt, draw_pred)
        self.set_image(panel)
        if show:
            self.show(panel, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(panel), out_file)
        else:
            self.add_image(name, panel, step)
