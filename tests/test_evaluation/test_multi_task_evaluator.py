"""IoUMetric and DepthEvalMetric in one evaluator on a multi-task model."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import math

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from cmim_dense.registry import MODELS

CLASSES = ('wall', 'floor', 'cabinet')
BN = dict(type='BN')


def _model():
    init_default_scope('mmseg')
    model = MODELS.build(
        dict(
            type='MultiTaskEncoderDecoder',
            backbone=dict(
                type='IRNetResNet',
                depth=18,
                stem_channels=8,
                base_channels=8,
                strides=(1, 2, 1, 1),
                dilations=(1, 1, 2, 4),
                norm_cfg=BN),
            heads=dict(
                seg=dict(
                    type='FCNHead',
                    in_channels=64,
                    in_index=3,
                    channels=8,
                    num_convs=1,
                    concat_input=False,
                    num_classes=len(CLASSES),
                    norm_cfg=BN),
                depth=dict(
                    type='FCNDepthHead',
                    in_channels=64,
                    in_index=3,
                    channels=8,
                    num_convs=1,
                    norm_cfg=BN)),
            test_cfg=dict(mode='slide', crop_size=24, stride=16)))
    model.init_weights()
    return model.eval()


def _samples(num):
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(num):
        sample = SegDataSample(
            metainfo=dict(
                img_path=f'frame_{i}.png',
                ori_shape=(32, 32),
                img_shape=(32, 32),
                pad_shape=(32, 32),
                sample_idx=i))
        label = torch.randint(0, len(CLASSES), (1, 32, 32), generator=gen)
        label[:, :4] = 255
        sample.gt_sem_seg = PixelData(data=label)
        sample.gt_depth_map = PixelData(
            data=torch.rand(1, 32, 32, generator=gen) * 9 + 0.5)
        samples.append(sample)
    return samples


def test_iou_and_depth_metrics_together():
    model = _model()
    evaluator = Evaluator([
        dict(type='IoUMetric', iou_metrics=['mIoU']),
        dict(type='DepthEvalMetric', eigen_crop=False, aggregation='pixel'),
    ])
    evaluator.dataset_meta = dict(classes=CLASSES)
    for batch in range(2):
        with torch.no_grad():
            outputs = model.predict(torch.randn(2, 3, 32, 32), _samples(2))
        evaluator.process(data_samples=outputs, data_batch=dict())
    metrics = evaluator.evaluate(4)
    assert {
        'aAcc', 'mIoU', 'mAcc', 'd1', 'd2', 'd3', 'abs_rel', 'sq_rel', 'rmse',
        'rmse_log', 'log10', 'silog'
    } == set(metrics)
    assert all(math.isfinite(v) for v in metrics.values())
    assert 0 <= metrics['mIoU'] <= 100 and 0 <= metrics['d1'] <= 1


def test_iou_metric_hand_value_on_multi_task_samples():
    """IoUMetric reads only the seg fields of a multi-task sample."""
    evaluator = Evaluator([
        dict(type='IoUMetric', iou_metrics=['mIoU']),
        dict(type='DepthEvalMetric', depth_metrics=['rmse'])
    ])
    evaluator.dataset_meta = dict(classes=CLASSES)
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[0, 0, 1, 255]]]))
    sample.pred_sem_seg = PixelData(data=torch.tensor([[[0, 1, 1, 2]]]))
    sample.gt_depth_map = PixelData(data=torch.tensor([[[1., 2., 3., 0.]]]))
    sample.pred_depth_map = PixelData(data=torch.tensor([[[1., 2., 5., 9.]]]))
    evaluator.process(data_samples=[sample], data_batch=dict())
    metrics = evaluator.evaluate(1)
    # class 0: I=1, U=2; class 1: I=1, U=2; class 2 absent (NaN, skipped)
    assert metrics['mIoU'] == pytest.approx(50.0)
    assert metrics['aAcc'] == pytest.approx(100 * 2 / 3, abs=0.01)
    assert metrics['rmse'] == pytest.approx(math.sqrt(4 / 3))
