"""Whole / slide / flip inference and geometry restoration."""
from unittest import mock

import pytest
import torch
from tiny_dense_models import (PixelwiseBackbone, build_depth_estimator,
                               build_multi_task, make_samples,
                               randomize_regressors)

from cmim_dense.models.segmentors.dense_inference_mixin import \
    DenseInferenceMixin


def _pixelwise_depth_model(**test_cfg):
    """Depth estimator that is per-pixel: slide must equal whole."""
    model = build_depth_estimator(
        decode_head=dict(
            type='FCNDepthHead',
            in_channels=64,
            in_index=0,
            channels=8,
            num_convs=1,
            kernel_size=1,
            dropout_ratio=0.0,
            norm_cfg=dict(type='BN')),
        test_cfg=dict(mode='whole', **test_cfg))
    model.backbone = PixelwiseBackbone()
    return model.eval()


def test_slide_equals_whole_for_pixelwise_model():
    model = _pixelwise_depth_model()
    inputs = torch.randn(2, 3, 32, 40)
    metas = [dict(img_shape=(32, 40), pad_shape=(32, 40))] * 2
    with torch.no_grad():
        whole = model.inference(inputs, metas)
        model.test_cfg = dict(mode='slide', crop_size=(16, 16), stride=(8, 8))
        with mock.patch.object(
                model, 'encode_decode',
                wraps=model.encode_decode) as encode_decode:
            slide = model.inference(inputs, metas)
    # rows: 0, 8, 16 ; cols: 0, 8, 16, 24 -> 12 windows
    assert encode_decode.call_count == 12
    assert slide.shape == whole.shape == (2, 1, 32, 40)
    assert torch.allclose(slide, whole, atol=1e-6)
    # the caller's metas are left untouched
    assert metas[0]['img_shape'] == (32, 40)


def test_slide_window_covering_image_equals_whole():
    for model in (build_depth_estimator(), build_multi_task()):
        model.eval()
        inputs = torch.randn(1, 3, 32, 32)
        metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))]
        with torch.no_grad():
            whole = model.inference(inputs, metas)
            model.test_cfg = dict(
                mode='slide', crop_size=(48, 48), stride=(16, 16))
            slide = model.inference(inputs, metas)
        if isinstance(whole, dict):
            assert set(whole) == set(slide) == {'seg', 'depth'}
            pairs = [(whole[k], slide[k]) for k in whole]
        else:
            pairs = [(whole, slide)]
        for a, b in pairs:
            assert torch.equal(a, b)


def test_slide_really_slides():
    # ASPP has a global image pool: windows differ from the whole image,
    # which mmseg's DepthEstimator would silently ignore.
    model = randomize_regressors(build_depth_estimator()).eval()
    inputs = torch.randn(1, 3, 32, 32)
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))]
    with torch.no_grad():
        whole = model.inference(inputs, metas)
        model.test_cfg = dict(mode='slide', crop_size=24, stride=8)
        slide = model.inference(inputs, metas)
    assert not torch.allclose(whole, slide)


def test_flip_averages_flipped_prediction():
    model = randomize_regressors(build_depth_estimator()).eval()
    inputs = torch.randn(1, 3, 32, 32)
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))]
    with torch.no_grad():
        plain = model.inference(inputs, metas)
        flipped = model.inference(inputs.flip(3), metas).flip(3)
        model.test_cfg = dict(mode='whole', flip=True)
        merged = model.inference(inputs, metas)
    assert torch.allclose(merged, (plain + flipped) / 2, atol=1e-6)
    # a per-pixel model is flip-equivariant: flip changes nothing
    pix = _pixelwise_depth_model()
    with torch.no_grad():
        a = pix.inference(inputs, metas)
        pix.test_cfg = dict(mode='slide', crop_size=16, stride=8, flip=True)
        b = pix.inference(inputs, metas)
    assert torch.allclose(a, b, atol=1e-6)


def test_restore_geometry():
    pred = torch.arange(24.).reshape(1, 4, 6)
    meta = dict(
        padding_size=[0, 2, 0, 1],  # left, right, top, bottom
        flip=True,
        flip_direction='horizontal',
        ori_shape=(3, 4))
    out = DenseInferenceMixin.restore_geometry(pred, meta)
    assert torch.equal(out, pred[:, :3, :4].flip(2))
    out = DenseInferenceMixin.restore_geometry(
        pred, dict(ori_shape=(8, 12)), mode='nearest')
    assert out.shape == (1, 8, 12)
    assert torch.equal(out[:, ::2, ::2], pred)


def test_bad_test_cfg():
    model = build_depth_estimator().eval()
    inputs = torch.randn(1, 3, 16, 16)
    metas = [dict(img_shape=(16, 16), pad_shape=(16, 16))]
    for cfg, match in ((dict(mode='slide_flip'), 'mode'),
                       (dict(mode='slide', crop_size=8, stride=16), 'stride'),
                       (dict(mode='slide', crop_size=(8, 0),
                             stride=4), 'crop_size'), (dict(
                                 mode='whole',
                                 flip=True,
                                 flip_direction='diagonal'),
                                                       'flip_direction')):
        model.test_cfg = cfg
        with pytest.raises(ValueError, match=match):
            model.inference(inputs, metas)


def test_depth_estimator_train_and_predict():
    model = build_depth_estimator(
        auxiliary_head=dict(
            type='FCNDepthHead',
            in_index=2,
            in_channels=32,
            channels=8,
            num_convs=1,
            norm_cfg=dict(type='BN'),
            loss_decode=dict(type='BerHuLoss')),
        test_cfg=dict(mode='slide', crop_size=24, stride=16, flip=True))
    samples = make_samples(2, seg=False)
    losses = model.loss(torch.randn(2, 3, 32, 32), samples)
    assert set(losses) == {'decode.loss_silog', 'aux.loss_berhu'}
    sum(losses.values()).backward()
    assert model.backbone.layer1[0].conv1.weight.grad is not None
    model.eval()
    samples = make_samples(
        2, seg=False, meta=dict(padding_size=[0, 4, 0, 2], ori_shape=(30, 28)))
    with torch.no_grad():
        out = model.predict(torch.randn(2, 3, 32, 32), samples)
    assert out[0] is samples[0]
    depth = out[1].pred_depth_map.data
    assert depth.shape == (1, 30, 28)
    assert torch.all(depth > 0) and torch.all(depth <= 10)
    with torch.no_grad():
        bare = model.predict(torch.randn(1, 3, 32, 32))
    assert bare[0].pred_depth_map.shape == (32, 32)


def test_depth_estimator_refuses_seg_head():
    with pytest.raises(ValueError, match='one output channel'):
        build_depth_estimator(
            decode_head=dict(
                type='FCNHead', in_channels=64, channels=8, num_classes=3))
