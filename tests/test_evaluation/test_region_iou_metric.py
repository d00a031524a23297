"""RegionIoUMetric: mmseg's IoU over exactly the evaluation window."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from cmim_dense.evaluation import RegionIoUMetric
from cmim_dense.registry import METRICS


def _sample(gt, pred, crop_region=None):
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.as_tensor(gt)[None])
    sample.pred_sem_seg = PixelData(data=torch.as_tensor(pred)[None])
    out = sample.to_dict()
    if crop_region is not None:
        out['crop_region'] = crop_region
    return out


def _evaluate(metric, samples):
    metric.dataset_meta = dict(classes=('a', 'b'))
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_registered():
    assert METRICS.get('RegionIoUMetric') is RegionIoUMetric


def test_counts_only_the_window_hand_values():
    # 480x640 frame, all class 0; inside the nyud_mt window (rows 45:470,
    # cols 41:601) the prediction is right except 100 pixels predicted 1;
    # outside it, everything is predicted 1
    gt = np.zeros((480, 640), dtype=np.int64)
    pred = np.ones((480, 640), dtype=np.int64)
    pred[45:470, 41:601] = 0
    pred[100:110, 100:110] = 1
    n_window = 425 * 560
    got = _evaluate(
        RegionIoUMetric(eval_region='nyud_mt', iou_metrics=['mIoU']),
        [_sample(gt, pred)])
    # class 0: TP = n - 100, FN = 100, FP = 0; class 1: TP = 0, FP = 100
    # -> IoU_0 = (n - 100) / n, IoU_1 = 0; aAcc = (n - 100) / n
    assert got['aAcc'] == pytest.approx(100 * (n_window - 100) / n_window,
                                        abs=0.01)
    assert got['mIoU'] == pytest.approx(
        100 * ((n_window - 100) / n_window + 0) / 2, abs=0.01)
    full = _evaluate(RegionIoUMetric(iou_metrics=['mIoU']),
                     [_sample(gt, pred)])
    n_wrong = 480 * 640 - n_window + 100
    assert full['aAcc'] == pytest.approx(
        100 * (1 - n_wrong / (480 * 640)), abs=0.01)


def test_ignored_labels_stay_ignored_and_cut_frames_are_whole():
    gt = np.zeros((42, 56), dtype=np.int64)
    gt[:, :28] = 255  # ignored
    pred = np.zeros((42, 56), dtype=np.int64)
    pred[0, 30] = 1  # one error on the border of a frame cut at load
    got = _evaluate(
        RegionIoUMetric(eval_region='nyud_mt', iou_metrics=['mIoU']),
        [_sample(gt, pred, crop_region='nyud_mt')])
    assert got['aAcc'] == pytest.approx(100 * (1 - 1 / (42 * 28)), abs=0.01)
    with pytest.raises(ValueError, match="cut to the 'nyud_mt' window"):
        _evaluate(RegionIoUMetric(eval_region='eigen'),
                  [_sample(gt, pred, crop_region='nyud_mt')])


def test_bad_region():
    with pytest.raises(ValueError, match='eval_region must be one of'):
        RegionIoUMetric(eval_region='centre')
    with pytest.raises(ValueError, match='bts_train'):
        RegionIoUMetric(eval_region='bts_train')
