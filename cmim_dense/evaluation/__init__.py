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
Both run in one evaluator on a multi-task model::

    test_evaluator = [
        dict(type='IoUMetric', iou_metrics=['mIoU']),
        # monocular-depth convention; multi-task convention:
        # eigen_crop=False, aggregation='pixel'
        dict(type='DepthEvalMetric', eigen_crop=True, aggregation='image'),
    ]
"""
from .depth_eval_metric import DepthEvalMetric

__all__ = ['DepthEvalMetric']
