"""``MultiTaskDataPreProcessor``: like SegDataPreProcessor, depth pads 0."""
import cmim_dense  # noqa: F401,I001  (compat shims precede mmseg's imports)
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from cmim_dense.models.data_preprocessor import (MultiTaskDataPreProcessor,
                                                 stack_multitask_batch)

NORM = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True)


def _batch(sizes=((5, 7), (6, 4)), seed=0, edge=False):
    """Images with seg, depth (and edge) targets of the given sizes."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(
            torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8))
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, 40, (1, h, w), generator=gen))
        sample.gt_depth_map = PixelData(
            data=torch.rand((1, h, w), generator=gen) * 9 + 0.5)
        if edge:
            sample.gt_edge_map = PixelData(
                data=torch.randint(0, 2, (1, h, w), generator=gen))
        sample.set_metainfo(dict(sample_idx=len(samples)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_registered_and_built_from_config():
    built = MODELS.build(dict(type='MultiTaskDataPreProcessor', **NORM))
    assert isinstance(built, MultiTaskDataPreProcessor)
    assert isinstance(built, SegDataPreProcessor)
    assert built.depth_pad_val == 0


@pytest.mark.parametrize('pad', [dict(size_divisor=8), dict(size=(9, 10))])
def test_training_pads_depth_with_zero_and_labels_with_255(pad):
    ours = MultiTaskDataPreProcessor(pad_val=0, seg_pad_val=255, **pad, **NORM)
    theirs = SegDataPreProcessor(pad_val=0, seg_pad_val=255, **pad, **NORM)
    out = ours(_batch(edge=True), training=True)
    ref = theirs(_batch(edge=True), training=True)
    assert torch.equal(out['inputs'], ref['inputs'])
    target = out['inputs'].shape[-2:]
    assert target == ((8, 8) if 'size_divisor' in pad else (9, 10))
    for sample, ref_sample, (h, w) in zip(out['data_samples'],
                                          ref['data_samples'],
                                          ((5, 7), (6, 4))):
        seg = sample.gt_sem_seg.data
        depth = sample.gt_depth_map.data
        assert seg.shape[-2:] == depth.shape[-2:] == target
        assert torch.equal(seg, ref_sample.gt_sem_seg.data)
        assert torch.equal(sample.gt_edge_map.data,
                           ref_sample.gt_edge_map.data)
        assert torch.all(seg[:, h:] == 255) and torch.all(seg[:, :, w:] == 255)
        assert torch.all(depth[:, h:] == 0) and torch.all(depth[:, :, w:] == 0)
        assert torch.equal(depth[:, :h, :w],
                           ref_sample.gt_depth_map.data[:, :h, :w])
        # mmseg pads depth with seg_pad_val: the bug this class fixes
        assert torch.all(ref_sample.gt_depth_map.data[:, h:] == 255)
        for key in ('img_shape', 'pad_shape', 'padding_size', 'sample_idx'):
            assert sample.metainfo[key] == ref_sample.metainfo[key], key


def test_depth_pad_value_is_configurable_and_no_size_pads_to_max():
    pre = MultiTaskDataPreProcessor(depth_pad_val=-1.0)
    out = pre(_batch(), training=True)
    assert out['inputs'].shape == (2, 3, 6, 7)
    assert torch.all(out['data_samples'][0].gt_depth_map.data[:, 5:] == -1)
    assert out['data_samples'][1].metainfo['padding_size'] == (0, 3, 0, 0)


def test_normalisation_and_channel_order():
    batch = _batch(sizes=((4, 4), ))
    raw = batch['inputs'][0].clone()
    out = MultiTaskDataPreProcessor(**NORM)(batch, training=False)
    mean = torch.tensor(NORM['mean']).view(3, 1, 1)
    std = torch.tensor(NORM['std']).view(3, 1, 1)
    expected = (raw[[2, 1, 0]].float() - mean) / std
    assert torch.allclose(out['inputs'][0], expected)
    plain = MultiTaskDataPreProcessor()(_batch(sizes=((4, 4), )))
    assert torch.equal(plain['inputs'][0], raw.float())


def test_test_time_matches_seg_preprocessor():
    kwargs = dict(test_cfg=dict(size_divisor=8), **NORM)
    out = MultiTaskDataPreProcessor(**kwargs)(
        _batch(sizes=((5, 7), (5, 7))), training=False)
    ref = SegDataPreProcessor(**kwargs)(
        _batch(sizes=((5, 7), (5, 7))), training=False)
    assert torch.equal(out['inputs'], ref['inputs'])
    for sample, ref_sample in zip(out['data_samples'], ref['data_samples']):
        for key in ('img_padding_size', 'pad_shape'):
            assert sample.metainfo[key] == ref_sample.metainfo[key]
        # targets are not padded at test time (as in mmseg)
        assert sample.gt_depth_map.data.shape[-2:] == (5, 7)
    unpadded = MultiTaskDataPreProcessor(**NORM)(
        _batch(sizes=((5, 7), (5, 7))), training=False)
    assert unpadded['inputs'].shape == (2, 3, 5, 7)
    with pytest.raises(ValueError, match='one size'):
        MultiTaskDataPreProcessor(**NORM)(_batch(), training=False)


def test_stack_rejects_bad_input():
    with pytest.raises(ValueError, match='C x H x W'):
        stack_multitask_batch([torch.zeros(2, 2)])
    with pytest.raises(ValueError, match='channels'):
        stack_multitask_batch([torch.zeros(3, 2, 2), torch.zeros(1, 2, 2)])
    with pytest.raises(ValueError, match='not both'):
        stack_multitask_batch([torch.zeros(3, 2, 2)],
                              size=(4, 4),
                              size_divisor=2)
    with pytest.raises(ValueError, match='data_samples'):
        MultiTaskDataPreProcessor()(
            dict(inputs=[torch.zeros(3, 2, 2)]), training=True)
