"""PretrainedBackbone: a missing ImageNet file stops with where to get it;
an existing one is loaded by the backbone's own loader."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import nn

from cmim_dense.models.utils import (PretrainedBackboneInit,
                                     drop_checkpoint_inits)

TINY = dict(
    type='IRNetResNet', depth=18, binarizer='irnet', stem_channels=8,
    base_channels=8, out_indices=(3, ))


def _backbone(**init):
    init_default_scope('mmseg')
    return MODELS.build(dict(TINY, **init))


def test_missing_file_names_it_and_where_to_get_it(tmp_path):
    path = str(tmp_path / 'checkpoints' / 'irnet-r18.pth')
    backbone = _backbone(init_cfg=dict(
        type='PretrainedBackbone', checkpoint=path,
        source='tools/model_converters/irnet_to_cmim_dense.py'))
    with pytest.raises(FileNotFoundError) as err:
        backbone.init_weights()
    message = str(err.value)
    assert path in message
    assert 'tools/model_converters/irnet_to_cmim_dense.py' in message
    assert 'Nothing is downloaded' in message
    assert 'model.backbone.init_cfg=None' in message


def test_existing_file_is_loaded_with_the_report(tmp_path):
    torch.manual_seed(1)
    source = _backbone()
    state = {k: v.clone() for k, v in source.state_dict().items()}
    # torchvision's key for a downsample conv, renamed by the backbone
    key = 'layer2.0.downsample.conv.weight'
    state['layer2.0.downsample.0.weight'] = state.pop(key)
    state['fc.weight'] = torch.zeros(3, 3)  # unused by the backbone
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': state}, path)
    torch.manual_seed(2)
    backbone = _backbone(init_cfg=dict(
        type='PretrainedBackbone', checkpoint=str(path), source='here'))
    assert not torch.equal(backbone.conv1.weight, source.conv1.weight)
    backbone.init_weights()
    own = backbone.state_dict()
    for name, value in source.state_dict().items():
        assert torch.equal(own[name], value), name
    report = backbone.pretrained_report
    assert report.unexpected == ['fc.weight'] and not report.missing
    assert backbone.init_cfg['type'] == 'PretrainedBackbone'  # restored


def test_a_module_without_key_mapping_uses_mmengine(tmp_path):
    linear = nn.Linear(2, 2)
    path = tmp_path / 'linear.pth'
    torch.save({'weight': torch.ones(2, 2), 'bias': torch.zeros(2)}, path)
    PretrainedBackboneInit(checkpoint=str(path))(linear)
    assert torch.equal(linear.weight, torch.ones(2, 2))
    with pytest.raises(ValueError, match='non-empty path'):
        PretrainedBackboneInit(checkpoint='')


def test_drop_checkpoint_inits():
    cfg = dict(
        type='CMIM',
        architecture=dict(
            type='EncoderDecoder',
            backbone=dict(type='X', init_cfg=dict(
                type='PretrainedBackbone', checkpoint='a.pth')),
            decode_head=dict(type='H', init_cfg=dict(type='Normal'))))
    assert drop_checkpoint_inits(cfg) == ['a.pth']
    assert cfg['architecture']['backbone']['init_cfg'] is None
    assert cfg['architecture']['decode_head']['init_cfg'] == dict(
        type='Normal')
