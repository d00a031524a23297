"""MultiTaskEncoderDecoder: training, prediction, task specs, errors."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from tiny_dense_models import (NUM_CLASSES, build_multi_task, depth_head,
                               make_samples, randomize_regressors, seg_head)

from cmim_dense.models.segmentors import MultiTaskEncoderDecoder


def _uint8_batch(sizes):
    gen = torch.Generator().manual_seed(0)
    inputs = [
        torch.randint(0, 256, (3, ) + size, generator=gen, dtype=torch.uint8)
        for size in sizes
    ]
    samples = []
    for i, size in enumerate(sizes):
        samples += make_samples(1, size=size, meta=dict(sample_idx=i))
    return dict(inputs=inputs, data_samples=samples)


def test_train_step_with_preprocessor_padding():
    model = build_multi_task(
        auxiliary_heads=dict(
            seg=dict(
                type='FCNHead',
                in_channels=32,
                in_index=2,
                channels=8,
                num_convs=1,
                concat_input=False,
                num_classes=NUM_CLASSES,
                norm_cfg=dict(type='BN'))),
        loss_weights=dict(depth=0.5))
    assert isinstance(model, MultiTaskEncoderDecoder)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = model.backbone.layer1[0].conv1.weight.detach().clone()
    # 28x30 is padded to 32x32 (depth with 255 by mmseg's preprocessor,
    # which the depth head masks)
    log = model.train_step(_uint8_batch([(32, 32), (28, 30)]), optim)
    assert {
        'seg.loss_ce', 'seg.acc_seg', 'depth.loss_silog', 'seg.aux.loss_ce',
        'loss'
    } <= set(log)
    assert all(torch.isfinite(v) for v in log.values())
    assert not torch.equal(before, model.backbone.layer1[0].conv1.weight)


def test_loss_weights_prefixes_and_backward():
    inputs = torch.randn(2, 3, 32, 32)
    samples = make_samples(2)
    plain = build_multi_task()
    torch.manual_seed(0)
    weighted = build_multi_task(
        loss_weights=dict(seg=2.0, depth=0.25),
        loss_prefixes=dict(depth='dep'))
    weighted.load_state_dict(plain.state_dict())
    a = plain.loss(inputs, samples)
    b = weighted.loss(inputs, samples)
    assert set(a) == {'seg.loss_ce', 'seg.acc_seg', 'depth.loss_silog'}
    assert set(b) == {'seg.loss_ce', 'seg.acc_seg', 'dep.loss_silog'}
    assert b['seg.loss_ce'].item() == pytest.approx(2 *
                                                    a['seg.loss_ce'].item())
    assert b['dep.loss_silog'].item() == pytest.approx(
        0.25 * a['depth.loss_silog'].item())
    assert b['seg.acc_seg'].item() == pytest.approx(a['seg.acc_seg'].item())
    (b['seg.loss_ce'] + b['dep.loss_silog']).backward()
    for name in ('backbone.layer4.1.conv2.weight', 'heads.seg.conv_seg.weight',
                 'heads.depth.conv_depth.weight',
                 'heads.depth.c1_bottleneck.conv.weight'):
        assert weighted.get_parameter(name).grad is not None, name


def test_predict_writes_both_fields_into_same_samples():
    model = randomize_regressors(build_multi_task()).eval()
    samples = make_samples(
        2, meta=dict(padding_size=[0, 2, 0, 4], ori_shape=(56, 60)))
    with torch.no_grad():
        out = model.predict(torch.randn(2, 3, 32, 32), samples)
    assert [id(s) for s in out] == [id(s) for s in samples]
    for sample in out:
        seg = sample.pred_sem_seg.data
        assert seg.shape == (1, 56, 60)
        assert seg.min() >= 0 and seg.max() < NUM_CLASSES
        assert sample.seg_logits.data.shape == (NUM_CLASSES, 56, 60)
        depth = sample.pred_depth_map.data
        assert depth.shape == (1, 56, 60)
        assert torch.all(depth > 0) and torch.all(depth <= 10)
        # the ground truth is untouched
        assert sample.gt_depth_map.data.shape == (1, 32, 32)
    with torch.no_grad():
        bare = model.predict(torch.randn(1, 3, 32, 32))
    assert bare[0].pred_sem_seg.shape == bare[0].pred_depth_map.shape


def test_forward_modes_and_api():
    model = build_multi_task().eval()
    inputs = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        raw = model(inputs, mode='tensor')
        feats = model.extract_feat(inputs)
    assert set(raw) == {'seg', 'depth'}
    assert raw['seg'].shape == (1, NUM_CLASSES, 4, 4)
    assert raw['depth'].shape == (1, 1, 8, 8)
    assert len(feats) == 4
    assert model.task_names == ['seg', 'depth']
    assert model.with_auxiliary_head is False


def test_extra_task_from_spec():
    model = build_multi_task(
        heads=dict(
            seg=seg_head(),
            depth=depth_head(),
            coarse_depth=dict(
                type='FCNDepthHead',
                in_channels=64,
                in_index=3,
                channels=8,
                num_convs=1,
                loss_decode=dict(type='DepthL1Loss'))),
        tasks=dict(
            coarse_depth=dict(
                kind='regression',
                gt_key='gt_depth_map',
                pred_key='pred_coarse_depth')))
    losses = model.loss(torch.randn(2, 3, 32, 32), make_samples(2))
    assert 'coarse_depth.loss_l1' in losses
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 32, 32), make_samples(1))
    assert out[0].pred_coarse_depth.shape == (32, 32)


def test_missing_gt_is_an_error():
    model = build_multi_task()
    samples = make_samples(2, depth=False)
    with pytest.raises(ValueError, match="task 'depth' needs gt_depth_map"):
        model.loss(torch.randn(2, 3, 32, 32), samples)
    with pytest.raises(ValueError, match='data samples'):
        model.loss(torch.randn(2, 3, 32, 32), None)


@pytest.mark.parametrize('kwargs, match', [
    (dict(heads=dict()), 'non-empty'),
    (dict(heads=dict(normals=depth_head())), 'unknown task'),
    (dict(loss_weights=dict(normals=1.0)), 'without a head'),
    (dict(tasks=dict(seg=dict(kind='ranking'))), 'kind'),
    (dict(tasks=dict(extra=dict(kind='regression'))), 'bad task spec'),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_multi_task(**kwargs)
