"""Whole binary segmentors on the engine against their fake-quantized form."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from cmim_dense.deploy import (EngineConv2d, UnsupportedLayerError,
                               convert_to_engine)
from cmim_dense.deploy.engine_blocks import EngineBasicBlock, EngineReActBlock
from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.registry import MODELS

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'nyudv2')
MULTITASK = {
    name: f'deeplabv3_{name}-d8_adam-100e_nyudv2-mtl-480x640-multitask.py'
    for name in ('irnet-r18', 'bireal-r18', 'reactnet-a')
}


def build(name: str, randomize) -> nn.Module:
    cfg = Config.fromfile(osp.join(CONFIGS, MULTITASK[name]))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    return randomize(model)


@pytest.mark.parametrize('name', sorted(MULTITASK))
def test_multitask_deeplabv3_same_predictions(name, randomize):
    model = build(name, randomize)
    engine = copy.deepcopy(model)
    report = convert_to_engine(engine)
    assert report['pytorch'] == []
    block = EngineReActBlock if name == 'reactnet-a' else EngineBasicBlock
    assert any(isinstance(m, block) for m in engine.modules())
    assert not any(
        isinstance(m, BinaryConv2d) and m.is_quantized
        for m in engine.backbone.modules())
    x = torch.randn(1, 3, 48, 64)
    with torch.no_grad():
        ref = model(x, mode='tensor')
        got = engine(x, mode='tensor')
    assert set(got) == {'seg', 'depth'}
    assert torch.equal(got['seg'].argmax(1), ref['seg'].argmax(1))
    torch.testing.assert_close(got['seg'], ref['seg'], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(
        got['depth'], ref['depth'], rtol=1e-4, atol=1e-4)


def test_fallback_model_matches(monkeypatch, randomize):
    from cmim_dense.ops import bitconv
    model = build('bireal-r18', randomize)
    engine = copy.deepcopy(model)
    convert_to_engine(engine)
    x = torch.randn(1, 3, 32, 48)
    with torch.no_grad():
        ref = model(x, mode='tensor')
        monkeypatch.setattr(bitconv, '_ext', None)
        monkeypatch.setattr(bitconv, '_ext_error', 'forced')
        monkeypatch.setattr(bitconv, '_warned', True)
        got = engine(x, mode='tensor')
    assert torch.equal(got['seg'].argmax(1), ref['seg'].argmax(1))
    torch.testing.assert_close(
        got['depth'], ref['depth'], rtol=1e-4, atol=1e-4)


def test_strict_and_lenient_conversion():
    model = nn.Sequential(
        BinaryConv2d(8, 8, 3, padding=1, binarizer='irnet'), nn.BatchNorm2d(8),
        BinaryConv2d(
            8, 8, 3, padding=1, binarizer='irnet', input_quantizer=False))
    with pytest.raises(UnsupportedLayerError, match='^2: activations'):
        convert_to_engine(copy.deepcopy(model))
    lenient = copy.deepcopy(model)
    report = convert_to_engine(lenient, strict=False)
    assert report['engine'] == ['0'] and report['pytorch'][0].startswith('2:')
    assert isinstance(lenient[0], EngineConv2d)
    assert isinstance(lenient[1], nn.Identity)  # BN folded into the conv
    x = torch.randn(1, 8, 5, 5)
    with torch.no_grad():
        torch.testing.assert_close(
            lenient(x), model.eval()(x), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match='no binary conv'):
        convert_to_engine(nn.Sequential(nn.Conv2d(3, 3, 1)))
