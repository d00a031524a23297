"""Loading torchvision / mmengine checkpoints into the binary backbones."""
import logging

import pytest
import torch
import torchvision
from mmengine.logging import MMLogger
from mmengine.runner import load_checkpoint
from tiny_backbones import build_tiny

from cmim_dense.models.backbones import (BiRealResNet, IRNetResNet,
                                         load_pretrained)
from cmim_dense.models.backbones.pretrained import revise_key


@pytest.fixture(scope='module')
def torchvision_checkpoints(tmp_path_factory):
    """State dicts of randomly initialised torchvision ResNet-18/34."""
    root = tmp_path_factory.mktemp('torchvision')
    paths, states = {}, {}
    for depth in (18, 34):
        torch.manual_seed(depth)
        net = getattr(torchvision.models, f'resnet{depth}')(weights=None)
        states[depth] = net.state_dict()
        paths[depth] = str(root / f'resnet{depth}.pth')
        torch.save(states[depth], paths[depth])
    return paths, states


@pytest.fixture
def log_records():
    """Records logged by the current MMLogger."""
    logger = MMLogger.get_instance('test_backbone_pretrained')
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    handler = Collect()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def to_ours(key):
    return key.replace('downsample.0.',
                       'downsample.conv.').replace('downsample.1.',
                                                   'downsample.bn.')


@pytest.mark.parametrize('depth', [18, 34])
@pytest.mark.parametrize('binarizer', ['irnet', 'rbnn'])
def test_torchvision_keys_all_match(torchvision_checkpoints, log_records,
                                    depth, binarizer):
    paths, states = torchvision_checkpoints
    model = IRNetResNet(
        depth,
        binarizer=binarizer,
        init_cfg=dict(type='Pretrained', checkpoint=paths[depth]))
    model.init_weights()
    report = model.pretrained_report
    own = model.state_dict()
    conv_bn = [k for k in states[depth] if not k.startswith('fc.')]
    assert sorted(report.matched) == sorted(to_ours(k) for k in conv_bn)
    for key in conv_bn:
        assert torch.equal(own[to_ours(key)], states[depth][key]), key
    assert sorted(report.unexpected) == ['fc.bias', 'fc.weight']
    # only quantizer parameters are missing (IR-Net's have none); the
    # schedule buffers (t, k) never are
    if binarizer == 'irnet':
        assert report.missing == []
    else:
        assert 'layer1.0.conv1.weight_quantizer.theta' in report.missing
        assert all('quantizer' in k or 'output_scale' in k
                   for k in report.missing)
    messages = [m for m in log_records if 'keys matched' in m]
    assert len(messages) == 1
    assert f'{len(conv_bn)} keys matched' in messages[0]
    assert 'fc.weight' in messages[0]


def test_bireal_and_fp_load_torchvision(torchvision_checkpoints):
    paths, states = torchvision_checkpoints
    for model in (BiRealResNet(18), IRNetResNet(18, binarizer=None)):
        report = load_pretrained(
            model, paths[18], revise_keys=model.checkpoint_revise_keys)
        assert len(report.matched) == len(states[18]) - 2
        assert sorted(report.unexpected) == ['fc.bias', 'fc.weight']
        assert report.missing == []
        assert torch.equal(model.layer2[0].downsample.conv.weight,
                           states[18]['layer2.0.downsample.0.weight'])


def test_mmengine_checkpoint_with_prefix(tmp_path):
    source = build_tiny('ReActNet')
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['decode_head.conv_seg.weight'] = torch.zeros(2, 2, 1, 1)
    path = tmp_path / 'segmentor.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=state), path)
    model = build_tiny(
        'ReActNet',
        init_cfg=dict(
            type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    model.init_weights()
    report = model.pretrained_report
    assert report.missing == [] and report.unexpected == []
    assert len(report.matched) == len(source.state_dict())
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_unknown_prefix(tmp_path):
    model = build_tiny('IRNetResNet')
    path = tmp_path / 'own.pth'
    torch.save(model.state_dict(), path)
    with pytest.raises(ValueError, match="prefix 'backbone.'"):
        load_pretrained(model, str(path), prefix='backbone.')


def test_shape_mismatch_names_key_and_shapes(tmp_path):
    model = build_tiny('IRNetResNet')
    state = model.state_dict()
    state['layer2.0.downsample.0.weight'] = torch.zeros(16, 4, 1, 1)
    state.pop('layer2.0.downsample.conv.weight')
    path = tmp_path / 'bad.pth'
    torch.save(state, path)
    model = build_tiny(
        'IRNetResNet', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(
            ValueError,
            match=r"layer2\.0\.downsample\.conv\.weight.*\(16, 4, 1, 1\).*"
            r'\(16, 8, 1, 1\)'):
        model.init_weights()


def test_key_map():
    pairs = build_tiny('IRNetResNet').checkpoint_revise_keys
    assert revise_key('layer3.0.downsample.0.weight', pairs) == \
        'layer3.0.downsample.conv.weight'
    assert revise_key('layer3.0.downsample.1.running_var', pairs) == \
        'layer3.0.downsample.bn.running_var'
    assert revise_key('layer3.0.downsample.bn.bias', pairs) == \
        'layer3.0.downsample.bn.bias'
    assert revise_key('layer1.0.conv1.weight', pairs) == \
        'layer1.0.conv1.weight'


@pytest.mark.parametrize('cls', [IRNetResNet, BiRealResNet])
def test_mmengine_load_checkpoint_with_revise_keys(torchvision_checkpoints,
                                                   cls):
    """The renaming is mmengine's own: ``load_checkpoint(revise_keys=...)``
    loads a torchvision ResNet into the binary ResNets as it is."""
    paths, states = torchvision_checkpoints
    model = cls(18, binarizer=None)
    load_checkpoint(
        model,
        paths[18],
        strict=False,
        revise_keys=list(cls.checkpoint_revise_keys))
    own = model.state_dict()
    for key, value in states[18].items():
        if not key.startswith('fc.'):
            assert torch.equal(own[to_ours(key)], value), key


def test_default_init_without_checkpoint():
    model = build_tiny('BiRealResNet')
    model.init_weights()
    assert model.pretrained_report is None
    assert torch.equal(model.layer1[0].bn1.weight, torch.ones(8))
