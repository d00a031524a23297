"""mmseg's IoU metric over a named window of the NYUD-v2 frame."""
from typing import Any, Optional, Sequence

import torch
from mmseg.evaluation import IoUMetric

from cmim_dense.datasets.nyudv2_regions import check_region, eval_region_box
from cmim_dense.registry import METRICS


@METRICS.register_module()
class RegionIoUMetric(IoUMetric):
    """:class:`mmseg.evaluation.IoUMetric` restricted to an evaluation window.

    Ground-truth pixels outside ``eval_region`` (see
    :data:`~cmim_dense.datasets.nyudv2_regions.REGIONS`) are set to
    ``ignore_index`` before mmseg's confusion counts, so aAcc, mIoU and mAcc
    are computed over exactly the pixels :class:`DepthEvalMetric` with the
    same ``eval_region`` scores. The window is placed as there: a ground
    truth cut to the window at load time (metainfo ``crop_region``) or of
    the window's own aspect ratio is used whole, a rescaled 480 x 640 one
    gets the scaled bounds, any other size raises a ``ValueError``. With
    ``eval_region='full'`` it is mmseg's ``IoUMetric`` unchanged.

    Args:
        eval_region (str): ``'full'``, ``'nyud_mt'`` or ``'eigen'``.
            Defaults to ``'full'``.
        **kwargs: :class:`mmseg.evaluation.IoUMetric` arguments
            (``iou_metrics``, ``ignore_index``, ``output_dir``, ...).
    """

    def __init__(self, eval_region: str = 'full', **kwargs) -> None:
        super().__init__(**kwargs)
        check_region(eval_region, 'RegionIoUMetric: eval_region')
        if eval_region == 'bts_train':
            raise ValueError("RegionIoUMetric: eval_region must be one of "
                             "('full', 'nyud_mt', 'eigen'), got 'bts_train'")
        self.eval_region = eval_region

    def _windowed(self, sample: dict) -> dict:
        """A shallow copy of ``sample`` with its labels masked outside.

        Args:
            sample (dict): A model output with ``gt_sem_seg``.

        Returns:
            dict: The copy (``sample`` itself when nothing is masked).
        """
        if self.eval_region == 'full' or 'gt_sem_seg' not in sample:
            return sample
        label = sample['gt_sem_seg']['data']
        height, width = label.shape[-2:]
        top, bottom, left, right = eval_region_box(
            self.eval_region,
            height,
            width,
            cropped_to=sample.get('crop_region'))
        inside = torch.zeros((height, width),
                             dtype=torch.bool,
                             device=label.device)
        inside[top:bottom, left:right] = True
        masked = torch.where(inside, label,
                             torch.full_like(label, self.ignore_index))
        copy = dict(sample)
        copy['gt_sem_seg'] = dict(sample['gt_sem_seg'], data=masked)
        return copy

    def process(self, data_batch: Any,
                data_samples: Optional[Sequence[dict]]) -> None:
        """Count the confusion of each sample inside the window.

        Args:
            data_batch (Any): The batch (unused).
            data_samples (Sequence[dict]): Model outputs with
                ``pred_sem_seg`` and ``gt_sem_seg``.
        """
        super().process(data_batch, [self._windowed(s) for s in data_samples])
