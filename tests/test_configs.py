"""Every leaf config in ``configs/`` builds and trains one step on a tiny
input, and every dataset config loads a sample of a tiny synthetic NYUD-v2
twin through its pipelines (new configs are covered automatically)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample

import cmim_dense  # noqa: F401
from cmim_dense.datasets.synthetic_nyudv2 import generate_synthetic_nyudv2

CONFIG_DIR = Path(__file__).resolve().parents[1] / 'configs'
LEAF_CONFIGS = sorted(p for p in CONFIG_DIR.rglob('*.py')
                      if '_base_' not in p.parts)
DATASET_CONFIGS = sorted((CONFIG_DIR / '_base_' / 'datasets').glob('*.py'))
SIZE = 64  # the fake batches are SIZE x SIZE
FRAME = (48, 64)  # (h, w) of the synthetic twin's frames
CROP = (16, 24)  # train crop, within the smallest rescale (0.5x)


def test_there_are_configs():
    assert len(LEAF_CONFIGS) >= 30
    assert len(DATASET_CONFIGS) >= 3


def fake_batch(num_classes: int = 40, size: int = SIZE,
               batch: int = 2) -> dict:
    """A raw batch (before the data preprocessor) holding every target."""
    samples = []
    for i in range(batch):
        sample = SegDataSample()
        label = torch.randint(0, num_classes, (1, size, size))
        label[:, :4] = 255  # ignored
        depth = torch.rand(1, size, size) * 9 + 0.5
        depth[:, -4:] = 0  # invalid
        sample.gt_sem_seg = PixelData(data=label)
        sample.gt_depth_map = PixelData(data=depth)
        sample.set_metainfo(
            dict(img_shape=(size, size), ori_shape=(size, size),
                 pad_shape=(size, size), sample_idx=i))
        samples.append(sample)
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
              for _ in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


def expected_outputs(arch_cfg) -> dict:
    """Task -> channels of the ``mode='tensor'`` output of the segmentor."""
    if arch_cfg.type == 'MultiTaskEncoderDecoder':
        return {
            task: head.get('num_classes', 1)
            for task, head in arch_cfg.heads.items()
        }
    if arch_cfg.type == 'DenseDepthEstimator':
        return dict(depth=1)
    assert arch_cfg.type == 'EncoderDecoder', arch_cfg.type
    return dict(seg=arch_cfg.decode_head.num_classes)


@pytest.mark.parametrize(
    'path', LEAF_CONFIGS, ids=[p.stem for p in LEAF_CONFIGS])
def test_config_builds_and_trains_one_step(path):
    cfg = Config.fromfile(str(path))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    # a CMIM config wraps the segmentor
    is_cmim = cfg.model.type == 'CMIM'
    arch_cfg = cfg.model.architecture if is_cmim else cfg.model
    segmentor = model.architecture if is_cmim else model
    expected = expected_outputs(arch_cfg)
    data = model.data_preprocessor(fake_batch(), True)
    # depth is padded with 0 (invalid), never with the label's 255
    assert all(s.gt_depth_map.data.max() < 10 for s in data['data_samples'])
    losses = model(**data, mode='loss')
    if is_cmim:
        assert 'loss_cmim' in losses
    if arch_cfg.type == 'MultiTaskEncoderDecoder':
        assert any(k.startswith('seg.loss') for k in losses)
        assert any(k.startswith('depth.loss') for k in losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    grads = [
        p.grad for p in segmentor.backbone.parameters() if p.requires_grad
    ]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        outputs = model(data['inputs'], mode='tensor')
    if not isinstance(outputs, dict):
        (task, ) = expected
        outputs = {task: outputs}
    assert {t: o.shape[:2] for t, o in outputs.items()} == {
        t: (2, c) for t, c in expected.items()
    }


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('nyudv2')
    generate_synthetic_nyudv2(
        str(root), num_frames=4, height=FRAME[0], width=FRAME[1], seed=0)
    return str(root)


def tiny_train_pipeline(pipeline):
    """The train pipeline with scales and crop for the tiny frames."""
    for step in pipeline:
        if step.type == 'RandomResize':
            step.scale = FRAME[::-1]
        elif step.type == 'RandomCrop':
            step.crop_size = CROP
    return pipeline


@pytest.mark.parametrize(
    'path', DATASET_CONFIGS, ids=[p.stem for p in DATASET_CONFIGS])
def test_dataset_config_loads_synthetic_twin(path, synthetic_root):
    cfg = Config.fromfile(str(path))
    init_default_scope('mmseg')
    tasks = cfg.tasks
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.data_root = synthetic_root
    tiny_train_pipeline(train_cfg.pipeline)
    train_set = DATASETS.build(train_cfg)
    assert train_set.tasks == tuple(tasks)
    sample = train_set[1]
    assert sample['inputs'].shape == (3, *CROP)
    data_sample = sample['data_samples']
    assert data_sample.sample_idx == 1
    assert ('gt_sem_seg' in data_sample) == ('seg' in tasks)
    assert ('gt_depth_map' in data_sample) == ('depth' in tasks)
    for key in ('gt_sem_seg', 'gt_depth_map'):
        if key in data_sample:
            assert data_sample.get(key).shape == CROP

    # test pipeline: the image at 480x640, the ground truth untouched
    test_cfg = cfg.test_dataloader.dataset
    test_cfg.data_root = synthetic_root
    test_set = DATASETS.build(test_cfg)
    sample = test_set[0]
    assert sample['inputs'].shape == (3, 480, 640)
    data_sample = sample['data_samples']
    assert data_sample.ori_shape == FRAME
    for key in ('gt_sem_seg', 'gt_depth_map'):
        if key in data_sample:
            assert data_sample.get(key).shape == FRAME
    evaluators = cfg.test_evaluator
    assert {e.type for e in evaluators} == (
        {'IoUMetric'} if 'seg' in tasks else set()) | (
            {'DepthEvalMetric'} if 'depth' in tasks else set())
