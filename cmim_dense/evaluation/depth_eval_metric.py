"""Depth metrics of NYUD-v2 (monocular-depth and multi-task conventions)."""
import json
import logging
import math
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from prettytable import PrettyTable
from torch import Tensor

from cmim_dense.datasets.nyudv2_regions import (REFERENCE_FRAME, REGIONS,
                                                 check_region,
                                                 eval_region_box, region_box)
from cmim_dense.registry import METRICS

#: Per-image sufficient statistics; every metric is a function of their sums.
_STAT_KEYS = ('n', 'd1', 'd2', 'd3', 'abs_rel', 'sq_rel', 'sq_err',
              'log_sq_err', 'log10_abs_err', 'log_err')
#: Aggregations: per image then mean over images, or over all pixels.
AGGREGATIONS = ('image', 'pixel')
#: File written by ``compute_metrics`` into ``output_dir``.
JSON_FILE = 'depth_metrics.json'


@METRICS.register_module()
class DepthEvalMetric(BaseMetric):
    r"""Depth estimation metrics (the definitions of Eigen et al. 2014 / BTS;
    protocols: ``docs/nyudv2_protocols.md``).

    For each image, the evaluated pixels are those with a valid ground
    truth, ``min_depth < gt < max_depth`` (default ``1e-3 < gt < 10`` m;
    ``gt = 0``, negative and NaN depths are therefore invalid), inside the
    evaluation window ``eval_region``; the bounds are compared in the GT's dtype
    (as numpy does in BTS: a 1 mm float32 depth is not ``> 1e-3``). The
    prediction is clamped to ``[min_depth, max_depth]`` (``clamp_pred``).
    With ``e = log pred - log gt`` and ``r = max(gt / pred, pred / gt)``:

    ==========  ==================================================
    d1, d2, d3  ``mean(r < 1.25 ** k)``, k = 1, 2, 3 (fractions)
    abs_rel     ``mean(|gt - pred| / gt)``
    sq_rel      ``mean((gt - pred) ** 2 / gt)``
    rmse        ``sqrt(mean((gt - pred) ** 2))`` (metres)
    rmse_log    ``sqrt(mean(e ** 2))``
    log10       ``mean(|log10 gt - log10 pred|)``
    silog       ``sqrt(mean(e ** 2) - mean(e) ** 2) * 100``
    ==========  ==================================================

    ``silog`` is the KITTI/BTS definition (variance of the log error times
    100); mmseg's ``DepthMetric`` reports ``sqrt(mean(e^2) - 0.5 mean(e)^2)``
    without ``* 100`` instead, so the two are not comparable.

    Aggregation (``aggregation``): ``'image'`` (monocular-depth
    convention, BTS/AdaBins/mmseg) computes every metric per image, then
    averages over the images; ``'pixel'`` (multi-task convention,
    MTL-PyTorch/InvPT) computes them once over all evaluated pixels of the
    whole set. The two give different numbers: a report must say which.
    The usual settings are ``eval_region='eigen', aggregation='image'``
    (monocular) and ``eval_region='nyud_mt', aggregation='pixel'``
    (multi-task).

    Evaluation window (``eval_region``, see
    :data:`~cmim_dense.datasets.nyudv2_regions.REGIONS`): ``'full'`` (the
    whole ground truth), ``'nyud_mt'`` (the 425 x 560 window of the
    multi-task anchors' frames) or ``'eigen'`` (the Eigen crop, rows
    45:471, columns 41:601 of the 480 x 640 frame). On a rescaled 480 x 640
    ground truth (aspect ratio 3:4 within 1 %) the bounds are scaled by
    ``H / 480`` and ``W / 640`` and rounded half up (e.g. ``eigen`` on
    240 x 320 -> rows 23:236, cols 21:301). A ground truth already cut to
    the window (metainfo ``crop_region`` equal to ``eval_region``, or a
    frame of the window's own aspect ratio, e.g. the 425 x 560 NYUD_MT
    frames for ``'nyud_mt'``) is evaluated whole. Any other size (e.g.
    425 x 560 for ``'eigen'``) raises a ``ValueError``.

    Bad input: a prediction whose shape differs from the ground truth's,
    a prediction that is NaN or infinite at an evaluated pixel, or (with
    ``clamp_pred=False``) non-positive there, raises a ``ValueError``
    naming the image. Images without any evaluated pixel are skipped with a
    warning (listed in the json); if no image has one, ``compute_metrics``
    raises a ``ValueError`` (usually depth not in metres, or a wrong
    range), so metrics are never silently NaN. Negative ground-truth depths
    are counted and reported in a warning.

    Output: a table in the log (with the convention used), the selected
    metrics as the returned dict (hence in mmengine's metrics json), and,
    with ``output_dir``, ``output_dir/depth_metrics.json`` (settings,
    metrics, per-image metrics, skipped images) plus each prediction as a
    16-bit PNG ``<image name>_depth.png`` in ``depth_png_scale`` units per
    metre (millimetres by default, the monocular-depth layout).

    Args:
        depth_metrics (Sequence[str], optional): Subset of :attr:`METRICS`
            to report, in this order. Defaults to all nine.
        min_depth (float): Exclusive lower bound of valid GT (and lower
            clamp of the prediction). Defaults to 1e-3.
        max_depth (float): Exclusive upper bound of valid GT (and upper
            clamp). Defaults to 10.
        eigen_crop (bool): Evaluate inside the Eigen crop only (the same as
            ``eval_region='eigen'``). Defaults to False.
        eval_region (str, optional): ``'full'``, ``'nyud_mt'`` or
            ``'eigen'``. Defaults to None: ``'eigen'`` if ``eigen_crop``
            else ``'full'``.
        aggregation (str): ``'image'`` or ``'pixel'``. Defaults to
            ``'image'``.
        clamp_pred (bool): Clamp predictions to ``[min_depth, max_depth]``.
            Defaults to True.
        output_dir (str, optional): Where to write the json and the
            predicted depth PNGs. Defaults to None.
        format_only (bool): Only write the predictions (no ground truth
            needed, no metrics). Needs ``output_dir``. Defaults to False.
        depth_png_scale (float): PNG units per metre. Defaults to 1000.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None.
    """

    METRICS = ('d1', 'd2', 'd3', 'abs_rel', 'sq_rel', 'rmse', 'rmse_log',
               'log10', 'silog')
    #: (top, bottom, left, right) of the Eigen crop in the reference frame.
    EIGEN_CROP = REGIONS['eigen']
    #: Reference frame (H, W) of :attr:`EIGEN_CROP`.
    EIGEN_FRAME = REFERENCE_FRAME

    def __init__(self,
                 depth_metrics: Optional[Sequence[str]] = None,
                 min_depth: float = 1e-3,
                 max_depth: float = 10.0,
                 eigen_crop: bool = False,
                 eval_region: Optional[str] = None,
                 aggregation: str = 'image',
                 clamp_pred: bool = True,
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 depth_png_scale: float = 1000.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if depth_metrics is None:
            depth_metrics = self.METRICS
        if isinstance(
                depth_metrics,
                str) or not isinstance(depth_metrics,
                                       (list, tuple)) or not depth_metrics:
            raise ValueError('DepthEvalMetric: depth_metrics must be a '
                             'non-empty list of names from '
                             f'{self.METRICS}, got {depth_metrics!r}')
        unknown = [m for m in depth_metrics if m not in self.METRICS]
        if unknown:
            raise ValueError(f'DepthEvalMetric: unknown metric(s) {unknown}; '
                             f'available: {self.METRICS}')
        if aggregation not in AGGREGATIONS:
            raise ValueError('DepthEvalMetric: aggregation must be one of '
                             f'{AGGREGATIONS}, got {aggregation!r}')
        if not (0 < min_depth < max_depth and math.isfinite(max_depth)):
            raise ValueError('DepthEvalMetric: need 0 < min_depth < '
                             f'max_depth < inf, got {min_depth}, '
                             f'{max_depth}')
        if eval_region is None:
            eval_region = 'eigen' if eigen_crop else 'full'
        check_region(eval_region, 'DepthEvalMetric: eval_region')
        if eval_region == 'bts_train' or (eigen_crop
                                          and eval_region != 'eigen'):
            raise ValueError(
                'DepthEvalMetric: eval_region must be one of '
                f"('full', 'nyud_mt', 'eigen'), got {eval_region!r}"
                f'{" with eigen_crop=True" if eigen_crop else ""}')
        if format_only and output_dir is None:
            raise ValueError('DepthEvalMetric: format_only needs output_dir')
        if depth_png_scale <= 0:
            raise ValueError('DepthEvalMetric: depth_png_scale must be > 0')
        self.metrics = tuple(depth_metrics)
        self.min_depth = float(min_depth)
        self.max_depth = float(max_depth)
        self.eval_region = eval_region
        self.eigen_crop = eval_region == 'eigen'
        self.aggregation = aggregation
        self.clamp_pred = bool(clamp_pred)
        self.output_dir = output_dir
        self.format_only = bool(format_only)
        self.depth_png_scale = float(depth_png_scale)
        if output_dir and is_main_process():
            mkdir_or_exist(output_dir)

    # ----------------------------------------------------------- geometry
    @classmethod
    def eigen_crop_box(cls, height: int, width: int) -> Tuple[int, ...]:
        """Eigen crop ``(top, bottom, left, right)`` for an ``H x W`` GT.

        Args:
            height (int): Ground-truth height.
            width (int): Ground-truth width.

        Returns:
            tuple[int]: Half-open bounds; :attr:`EIGEN_CROP` for 480 x 640.

        Raises:
            ValueError: If ``H x W`` is not a rescaled 480 x 640 frame.
        """
        return region_box('eigen', height, width)

    # ------------------------------------------------------------ process
    @staticmethod
    def _field(sample: Any, key: str) -> Optional[Tensor]:
        """``sample[key].data`` for a dict or a SegDataSample, or None."""
        if isinstance(sample, dict):
            value = sample.get(key, None)
            if isinstance(value, dict):
                value = value.get('data', None)
        else:
            value = getattr(sample, key, None)
            value = getattr(value, 'data', value)
        if value is None:
            return None
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
        return value

    @staticmethod
    def _meta(sample: Any, key: str) -> Any:
        if isinstance(sample, dict):
            return sample.get(key, None)
        return sample.metainfo.get(key, None)

    def _name(self, sample: Any, fallback: int) -> str:
        path = self._meta(sample, 'img_path')
        if path:
            return osp.splitext(osp.basename(path))[0]
        idx = self._meta(sample, 'sample_idx')
        return f'{fallback if idx is None else idx:06d}'

    @staticmethod
    def _as_2d(depth: Tensor, what: str, name: str) -> Tensor:
        if depth.dim() == 3 and depth.shape[0] == 1:
            depth = depth[0]
        if depth.dim() != 2:
            raise ValueError(f'DepthEvalMetric: {what} of {name} must be '
                             f'(1, H, W) or (H, W), got {tuple(depth.shape)}')
        return depth.detach().cpu()

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store per-image statistics of a batch.

        Args:
            data_batch (Any): The batch from the dataloader (unused).
            data_samples (Sequence[dict | SegDataSample]): Outputs of the
                model with ``pred_depth_map`` and ``gt_depth_map``.
        """
        for i, sample in enumerate(data_samples):
            name = self._name(sample, len(self.results) + i)
            pred = self._field(sample, 'pred_depth_map')
            if pred is None:
                raise ValueError(f'DepthEvalMetric: sample {name} has no '
                                 'pred_depth_map (is the model a depth or '
                                 'multi-task model?)')
            pred = self._as_2d(pred, 'pred_depth_map', name)
            if self.output_dir is not None:
                self._save_png(pred, name)
            if self.format_only:
                continue
            gt = self._field(sample, 'gt_depth_map')
            if gt is None:
                raise ValueError(f'DepthEvalMetric: sample {name} has no '
                                 'gt_depth_map (use format_only=True for '
                                 'data without ground truth)')
            gt = self._as_2d(gt, 'gt_depth_map', name)
            self.results.append(
                self.image_stats(pred, gt, name,
                                 self._meta(sample, 'crop_region')))

    def _save_png(self, pred: Tensor, name: str) -> None:
        value = torch.nan_to_num(pred, nan=0.0) * self.depth_png_scale
        value = value.round().clamp(0, 65535).numpy().astype(np.uint16)
        cv2.imwrite(
            osp.join(self.output_dir, f'{name}_depth.png'), value,
            [cv2.IMWRITE_PNG_COMPRESSION, 1])

    def eval_mask(self, gt: Tensor,
                  cropped_to: Optional[str] = None) -> Tensor:
        """Evaluated pixels of a ground truth (H, W): valid and in window.

        Args:
            gt (Tensor): Ground-truth depth (H, W), metres; the bounds are
                compared in its dtype.
            cropped_to (str, optional): Window the ground truth was cut to
                at load time (metainfo ``crop_region``). Defaults to None.

        Returns:
            Tensor: Boolean mask (H, W).
        """
        mask = (gt > self.min_depth) & (gt < self.max_depth)
        if self.eval_region != 'full':
            top, bottom, left, right = eval_region_box(
                self.eval_region, *gt.shape, cropped_to=cropped_to)
            window = torch.zeros_like(mask)
            window[top:bottom, left:right] = True
            mask &= window
        return mask

    def image_stats(self,
                    pred: Tensor,
                    gt: Tensor,
                    name: str = 'image',
                    cropped_to: Optional[str] = None) -> Dict[str, Any]:
        """Sufficient statistics of one image.

        Args:
            pred (Tensor): Predicted depth (H, W), metres.
            gt (Tensor): Ground-truth depth (H, W), metres.
            name (str): Image name for messages.
            cropped_to (str, optional): See :meth:`eval_mask`.

        Returns:
            dict: ``name``, ``neg_gt`` (negative GT pixels) and the sums of
            :data:`_STAT_KEYS` (``n = 0`` when no pixel is evaluated).

        Raises:
            ValueError: On a shape mismatch or a bad prediction.
        """
        if pred.shape != gt.shape:
            raise ValueError(
                f'DepthEvalMetric: prediction {tuple(pred.shape)} and ground '
                f'truth {tuple(gt.shape)} of {name} differ in size; '
                'predictions must be at the ground truth\'s (ori_shape) size')
        # the range test runs in the GT's own dtype (as numpy/BTS compare a
        # float32 map with 1e-3: a 1 mm float32 depth is not > 1e-3)
        mask = self.eval_mask(gt, cropped_to)
        pred, gt = pred.double(), gt.double()
        stats: Dict[str, Any] = dict.fromkeys(_STAT_KEYS, 0.0)
        stats.update(name=name, neg_gt=int((gt < 0).sum()))
        num = int(mask.sum())
        if num == 0:
            return stats
        p, g = pred[mask], gt[mask]
        bad = ~torch.isfinite(p)
        if bad.any():
            raise ValueError(f'DepthEvalMetric: {int(bad.sum())} evaluated '
                             f'pixels of {name} have a NaN or infinite '
                             'predicted depth')
        if self.clamp_pred:
            p = p.clamp(self.min_depth, self.max_depth)
        elif (p <= 0).any():
            raise ValueError(
                f'DepthEvalMetric: {int((p <= 0).sum())} evaluated pixels of '
                f'{name} have a non-positive predicted depth; enable '
                'clamp_pred or fix the model output')
        ratio = torch.maximum(g / p, p / g)
        diff = g - p
        log_err = torch.log(p) - torch.log(g)
        stats.update(
            n=float(num),
            d1=float((ratio < 1.25).sum()),
            d2=float((ratio < 1.25**2).sum()),
            d3=float((ratio < 1.25**3).sum()),
            abs_rel=float((diff.abs() / g).sum()),
            sq_rel=float((diff.square() / g).sum()),
            sq_err=float(diff.square().sum()),
            log_sq_err=float(log_err.square().sum()),
            log10_abs_err=float((torch.log10(g) - torch.log10(p)).abs().sum()),
            log_err=float(log_err.sum()))
        return stats

    # ------------------------------------------------------------ compute
    @classmethod
    def metrics_from_stats(cls, stats: Dict[str, float]) -> Dict[str, float]:
        """All nine metrics from (summed) statistics with ``n > 0``.

        Args:
            stats (dict): Sums of :data:`_STAT_KEYS`.

        Returns:
            dict[str, float]: The metrics of :attr:`METRICS`.
        """
        n = stats['n']
        mean_log = stats['log_err'] / n
        mean_log_sq = stats['log_sq_err'] / n
        return dict(
            d1=stats['d1'] / n,
            d2=stats['d2'] / n,
            d3=stats['d3'] / n,
            abs_rel=stats['abs_rel'] / n,
            sq_rel=stats['sq_rel'] / n,
            rmse=math.sqrt(stats['sq_err'] / n),
            rmse_log=math.sqrt(mean_log_sq),
            log10=stats['log10_abs_err'] / n,
            silog=math.sqrt(max(mean_log_sq - mean_log**2, 0.0)) * 100)

    def _window_note(self) -> str:
        """str: ``', in the <region> window'`` unless the region is full."""
        if self.eval_region == 'full':
            return ''
        return f', in the {self.eval_region} window'

    def settings(self) -> Dict[str, Any]:
        """dict: The evaluation convention, as logged and saved."""
        return dict(
            aggregation=self.aggregation,
            eigen_crop=self.eigen_crop,
            eval_region=self.eval_region,
            valid_range=[self.min_depth, self.max_depth],
            clamp_pred=self.clamp_pred,
            silog='sqrt(mean(e^2) - mean(e)^2) * 100, e = log pred - log gt')

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Aggregate the per-image statistics.

        Args:
            results (list[dict]): Outputs of :meth:`image_stats`.

        Returns:
            dict[str, float]: The selected metrics.

        Raises:
            ValueError: If no image has an evaluated pixel.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            print_log(f'depth predictions saved to {self.output_dir}', logger)
            return {}
        evaluated = [r for r in results if r['n'] > 0]
        skipped = [r['name'] for r in results if r['n'] == 0]
        neg_gt = sum(r['neg_gt'] for r in results)
        if neg_gt:
            print_log(
                f'DepthEvalMetric: {neg_gt} ground-truth pixels have a '
                'negative depth; they were treated as invalid.',
                logger,
                level=logging.WARNING)
        if skipped:
            print_log(
                f'DepthEvalMetric: {len(skipped)} of {len(results)} images '
                'have no valid ground-truth pixel '
                f'({self.min_depth} < gt < {self.max_depth}'
                f'{self._window_note()}) and '
                f'were skipped: {skipped[:10]}'
                f'{" ..." if len(skipped) > 10 else ""}',
                logger,
                level=logging.WARNING)
        if not evaluated:
            raise ValueError(
                f'DepthEvalMetric: none of the {len(results)} images has a '
                f'valid ground-truth pixel ({self.min_depth} < gt < '
                f'{self.max_depth} m); is the depth in metres?')
        per_image = [self.metrics_from_stats(r) for r in evaluated]
        if self.aggregation == 'image':
            full = {
                k: float(np.mean([m[k] for m in per_image]))
                for k in self.METRICS
            }
        else:
            total = {k: sum(r[k] for r in evaluated) for k in _STAT_KEYS}
            full = self.metrics_from_stats(total)
        metrics = {k: full[k] for k in self.metrics}

        table = PrettyTable()
        for key, value in metrics.items():
            table.add_column(key, [f'{value:.4f}'])
        settings = self.settings()
        print_log(
            f'depth metrics over {len(evaluated)} images '
            f'({len(skipped)} skipped): ' +
            ', '.join(f'{k}={v}' for k, v in settings.items()), logger)
        print_log('\n' + table.get_string(), logger=logger)

        if self.output_dir is not None:
            record = dict(
                settings=settings,
                metrics=metrics,
                num_images=len(evaluated),
                skipped=skipped,
                per_image=[
                    dict(name=r['name'], num_pixels=int(r['n']), **m)
                    for r, m in zip(evaluated, per_image)
                ])
            with open(osp.join(self.output_dir, JSON_FILE), 'w') as f:
                json.dump(record, f, indent=1)
        return metrics
