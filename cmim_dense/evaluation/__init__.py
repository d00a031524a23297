"""Metrics (segmentation and depth).

Segmentation uses mmseg's ``IoUMetric`` unchanged: it reads only
``pred_sem_seg`` and ``gt_sem_seg`` of a data sample, so it works on the
samples of :class:`~cmim_dense.models.segmentors.MultiTaskEncoderDecoder`
as they are. It accumulates the confusion counts over the whole test set
(``IoU_c = TP / (TP + FP + FN)``), ignores label 255 (``ignore_index``) and
reports ``aAcc`` (pixel accuracy), ``mIoU`` and ``mAcc`` (mean class
accuracy) in percent, plus a per-class table. Its class count and names
come from the dataset's ``metainfo['classes']`` (set on the evaluator by
the runner): the 40 NYUD-v2 classes (wall, floor, cabinet, ..., otherprop;
labels 0..39 after the 0 -> 255, c -> c - 1 convention) or the 13 classes
(bed, books, ceiling, ..., window). Depth uses :class:`DepthEvalMetric`.
:class:`RegionIoUMetric` is ``IoUMetric`` over an evaluation window
(``eval_region``: ``'full'``, ``'nyud_mt'``, ``'eigen'``), the same window
``DepthEvalMetric(eval_region=...)`` scores. Both run in one evaluator on a
multi-task model::

    test_evaluator = [
        dict(type='RegionIoUMetric', iou_metrics=['mIoU'],
             eval_region='nyud_mt'),
        # multi-task convention; monocular-depth convention:
        # eval_region='eigen', aggregation='image'
        dict(type='DepthEvalMetric', eval_region='nyud_mt',
             aggregation='pixel'),
    ]
"""
from .depth_eval_metric import DepthEvalMetric
from .region_iou_metric import RegionIoUMetric

__all__ = ['DepthEvalMetric', 'RegionIoUMetric']
