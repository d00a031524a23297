"""Depth heads: bounded output, binarizable inner convs, losses, misuse."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from cmim_dense.models.heads import ASPPDepthHead, FCNDepthHead
from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.models.losses import DepthL1Loss
from cmim_dense.models.utils import binarize_modules
from cmim_dense.registry import MODELS

BN = dict(type='BN')
IRNET = dict(type='BinaryConv2d', binarizer='irnet')
# multi-level features of a tiny backbone: strides 4, 8, 8, 8
FEATS = ((2, 4, 8, 8), (2, 8, 4, 4), (2, 8, 4, 4), (2, 16, 4, 4))

HEADS = {
    'fcn':
    dict(type='FCNDepthHead', in_channels=16, channels=8, num_convs=2),
    'fcn_concat':
    dict(
        type='FCNDepthHead',
        in_channels=16,
        channels=8,
        num_convs=1,
        concat_input=True),
    'aspp':
    dict(type='ASPPDepthHead', in_channels=16, channels=8, dilations=(1, 2)),
    'aspp_plus':
    dict(
        type='ASPPDepthHead',
        in_channels=16,
        channels=8,
        dilations=(1, 2),
        c1_in_channels=4,
        c1_channels=4),
}


def _feats(scale=1.0):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(s, generator=gen) * scale for s in FEATS]


def _build(name, **kwargs):
    cfg = dict(HEADS[name], norm_cfg=BN, in_index=3, max_depth=10.0)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _samples(depths):
    samples = []
    for depth in depths:
        sample = SegDataSample(
            metainfo=dict(
                img_shape=depth.shape[-2:], pad_shape=depth.shape[-2:]))
        sample.gt_depth_map = PixelData(data=depth)
        samples.append(sample)
    return samples


@pytest.mark.parametrize('name', list(HEADS))
def test_output_bounded(name):
    head = _build(name)
    head.init_weights()
    head.eval()
    with torch.no_grad():
        out = head(_feats(scale=50.))
        expected = (8, 8) if name == 'aspp_plus' else (4, 4)
        assert out.shape == (2, 1) + expected
        assert torch.all(out > 0) and torch.all(out <= 10.0)
        for bias, bound in ((100., 10.0), (-100., 1e-3)):
            head.conv_depth.bias.fill_(bias)
            assert torch.allclose(
                head(_feats()), torch.full_like(out, bound), atol=1e-6)


@pytest.mark.parametrize('name', list(HEADS))
def test_inner_convs_binary_regressor_fp(name):
    head = _build(name, conv_cfg=IRNET, act_cfg=dict(type='PReLU'))
    binary = [
        n for n, m in head.named_modules() if isinstance(m, BinaryConv2d)
    ]
    plain = [n for n, m in head.named_modules() if type(m) is nn.Conv2d]
    assert binary and plain == ['conv_depth']
    assert not hasattr(head, 'conv_seg')
    out = head(_feats())
    out.sum().backward()
    assert head.conv_depth.weight.grad is not None
    # an FP head converted afterwards keeps conv_depth FP too
    fp_head = _build(name)
    converted = binarize_modules(fp_head, 'irnet', keep_first_conv=False)
    assert 'conv_depth' not in converted
    assert type(fp_head.conv_depth) is nn.Conv2d


def test_binary_convs_after_relu_warn_and_degenerate():
    with pytest.warns(UserWarning, match='only \\+1'):
        relu = _build('aspp', conv_cfg=IRNET)
    signed = _build('aspp', conv_cfg=IRNET, act_cfg=dict(type='PReLU'))
    for head in (relu, signed):
        head.eval()
        with torch.no_grad():
            head.conv_depth.weight.normal_()
    with torch.no_grad():
        # all-ones input of the bottleneck: one value for every pixel
        assert relu(_feats()).std() == 0
        assert signed(_feats()).std() > 0


def test_loss_reads_gt_depth_and_masks_padding():
    head = _build(
        'fcn',
        dropout_ratio=0.0,
        loss_decode=[
            dict(type='DepthSiLogLoss'),
            dict(type='DepthL1Loss', loss_weight=0.5)
        ])
    head.eval()  # BN statistics fixed: two forwards agree
    gen = torch.Generator().manual_seed(1)
    depth = torch.rand(2, 1, 16, 16, generator=gen) * 9 + 0.5
    depth[:, :, :2] = 0  # invalid rows
    losses = head.loss(_feats(), _samples(depth), dict())
    assert set(losses) == {'loss_silog', 'loss_l1'}
    with torch.no_grad():
        pred = nn.functional.interpolate(
            head(_feats()), size=(16, 16), mode='bilinear')
    assert losses['loss_l1'].item() == pytest.approx(
        0.5 * DepthL1Loss()(pred, depth).item(), rel=1e-5)
    # 255 padding (mmseg's seg_pad_val) beyond max_depth is ignored
    padded = depth.clone()
    padded[:, :, -3:] = 255.
    masked = depth.clone()
    masked[:, :, -3:] = 0.
    loss_pad = head.loss(_feats(), _samples(padded), dict())
    loss_mask = head.loss(_feats(), _samples(masked), dict())
    for key in loss_pad:
        assert loss_pad[key].item() == pytest.approx(loss_mask[key].item())


def test_predict_resizes_to_input():
    head = _build('aspp')
    metas = [dict(img_shape=(20, 24), pad_shape=(32, 32))] * 2
    out = head.predict(_feats(), metas, dict())
    assert out.shape == (2, 1, 32, 32)


def test_missing_gt_and_misuse():
    head = _build('fcn')
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, 16, 16).long())
    with pytest.raises(ValueError, match='gt_depth_map'):
        head.loss(_feats(), [sample, sample], dict())
    with pytest.raises(ValueError, match='num_classes'):
        _build('fcn', num_classes=40)
    with pytest.raises(ValueError, match='out_channels'):
        _build('aspp', out_channels=2)
    with pytest.raises(ValueError, match='segmentation options'):
        _build('fcn', threshold=0.3)
    with pytest.raises(ValueError, match='min_depth'):
        _build('fcn', min_depth=0.0)
    with pytest.raises(ValueError, match='min_depth'):
        _build('fcn', max_depth=float('inf'))
    with pytest.raises(AttributeError, match='classifier'):
        head.cls_seg(torch.zeros(1, 8, 2, 2))
    with pytest.raises(ValueError, match='num_convs=0'):
        _build('fcn', num_convs=0)
    with pytest.raises(ValueError, match='dilations'):
        _build('aspp', dilations=())
    assert isinstance(_build('fcn'), FCNDepthHead)
    assert isinstance(_build('aspp'), ASPPDepthHead)
