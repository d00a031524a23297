"""Every leaf config in ``configs/`` builds and trains one step on a tiny
input (new configs are covered automatically)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import cmim_dense  # noqa: F401

CONFIG_DIR = Path(__file__).resolve().parents[1] / 'configs'
LEAF_CONFIGS = sorted(p for p in CONFIG_DIR.rglob('*.py')
                      if '_base_' not in p.parts)


def test_there_are_configs():
    assert len(LEAF_CONFIGS) >= 6


def fake_batch(num_classes: int, size: int = 64, batch: int = 2) -> dict:
    samples = []
    for _ in range(batch):
        sample = SegDataSample()
        label = torch.randint(0, num_classes, (1, size, size))
        sample.gt_sem_seg = PixelData(data=label)
        sample.set_metainfo(
            dict(img_shape=(size, size), ori_shape=(size, size),
                 pad_shape=(size, size)))
        samples.append(sample)
    inputs = [torch.randint(0, 256, (3, size, size)).float()
              for _ in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize(
    'path', LEAF_CONFIGS, ids=[p.stem for p in LEAF_CONFIGS])
def test_config_builds_and_trains_one_step(path):
    cfg = Config.fromfile(str(path))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    # a CMIM config wraps the segmentor
    model_cfg = cfg.model.get('architecture', cfg.model)
    segmentor = getattr(model, 'architecture', model)
    num_classes = model_cfg.decode_head.num_classes
    data = model.data_preprocessor(fake_batch(num_classes), True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    grads = [
        p.grad for p in segmentor.backbone.parameters() if p.requires_grad
    ]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        logits = model(data['inputs'], mode='tensor')
    assert logits.shape[:2] == (2, num_classes)
