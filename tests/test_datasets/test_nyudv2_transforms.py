"""Orientation/channels, joint geometric transforms, border crop, packing."""
import cv2
import h5py
import numpy as np
import pytest
import torch
from mmseg.registry import DATASETS, MODELS, TRANSFORMS

PACK = dict(
    type='PackSegInputs',
    meta_keys=('img_path', 'ori_shape', 'img_shape', 'pad_shape',
               'scale_factor', 'flip', 'flip_direction', 'sample_idx'))
PREPROCESSOR = dict(
    type='MultiTaskDataPreProcessor', bgr_to_rgb=True, size_divisor=2)


def _distinct_rgb(height: int = 6, width: int = 8) -> np.ndarray:
    """An RGB frame whose every pixel and channel has its own value.

    Args:
        height (int): H.
        width (int): W.

    Returns:
        np.ndarray: H x W x 3 uint8 with 3 H W distinct values.
    """
    y, x, c = np.meshgrid(
        np.arange(height), np.arange(width), np.arange(3), indexing='ij')
    return ((y * width + x) * 3 + c).astype(np.uint8)


def _network_input(samples):
    """Batch packed samples through the training data preprocessor."""
    preprocessor = MODELS.build(PREPROCESSOR)
    batch = dict(
        inputs=[s['inputs'] for s in samples],
        data_samples=[s['data_samples'] for s in samples])
    return preprocessor(batch, training=True)['inputs']


def test_mat_frame_reaches_network_as_rgb_like_a_png(tmp_path):
    height, width = 6, 8
    rgb = _distinct_rgb(height, width)
    assert len(np.unique(rgb)) == rgb.size
    # write the .mat by the documented rule: images[i][c, x, y] = rgb[y, x, c]
    stored = np.zeros((1, 3, width, height), np.uint8)
    for y in range(height):
        for x in range(width):
            for c in range(3):
                stored[0, c, x, y] = rgb[y, x, c]
    with h5py.File(tmp_path / 'nyu_depth_v2_labeled.mat', 'w') as file:
        file['images'] = stored
        file['labels'] = np.ones((1, width, height), np.uint16)
        file['depths'] = np.ones((1, width, height), np.float32)
    from_mat = DATASETS.build(
        dict(
            type='NYUDv2MatDataset',
            data_root=str(tmp_path),
            split=None,  # no splits.mat needed
            pipeline=[
                dict(type='LoadNYUDv2Image'),
                dict(type='LoadNYUDv2Annotations'), PACK
            ]))[0]
    png = tmp_path / 'frame.png'
    assert cv2.imwrite(str(png), rgb[..., ::-1])  # OpenCV writes BGR
    load_png = TRANSFORMS.build(dict(type='LoadImageFromFile'))
    from_png = TRANSFORMS.build(PACK)(load_png(dict(img_path=str(png))))
    net_mat, net_png = _network_input([from_mat]), _network_input([from_png])
    expected = torch.from_numpy(rgb).permute(2, 0, 1).float()
    assert torch.equal(net_mat[0], expected)
    assert torch.equal(net_png[0], expected)
    # the corners: top-left is (0, 1, 2), bottom-right the largest values
    assert net_mat[0, :, 0, 0].tolist() == [0, 1, 2]
    last = (height * width - 1) * 3
    assert net_mat[0, :, -1, -1].tolist() == [last, last + 1, last + 2]
    assert net_mat[0, 0, 0, -1] == (width - 1) * 3  # top-right, red
    assert net_mat[0, 0, -1, 0] == (height - 1) * width * 3  # bottom-left


def _coupled(height: int = 48, width: int = 64, seed: int = 0) -> dict:
    """A loaded frame whose depth is a function of its label.

    Args:
        height (int): H.
        width (int): W.
        seed (int): Seed.

    Returns:
        dict: Pipeline results with img, gt_seg_map, gt_depth_map.
    """
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 41, (height // 8, width // 8))
    seg = np.kron(blocks, np.ones((8, 8), int))
    seg = np.where(seg == 40, 255, seg).astype(np.uint8)
    img = np.stack([
        seg,
        np.broadcast_to(np.arange(width, dtype=np.uint8), seg.shape),
        np.broadcast_to(np.arange(height, dtype=np.uint8)[:, None], seg.shape)
    ], -1).copy()
    return dict(
        img=img,
        gt_seg_map=seg,
        gt_depth_map=_depth_of(seg),
        seg_fields=['gt_seg_map', 'gt_depth_map'],
        img_shape=seg.shape,
        ori_shape=seg.shape)


def _depth_of(seg: np.ndarray) -> np.ndarray:
    """The depth that :func:`_coupled` ties to each label."""
    return np.where(seg == 255, 0.0, 1.0 + 0.1 * seg).astype(np.float32)


def test_flip_moves_depth_with_labels():
    frame = _coupled()
    flip = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0))
    out = flip(dict(frame))
    assert out['flip'] and out['flip_direction'] == 'horizontal'
    assert np.array_equal(out['gt_seg_map'], frame['gt_seg_map'][:, ::-1])
    assert np.array_equal(out['gt_depth_map'], frame['gt_depth_map'][:, ::-1])
    assert np.array_equal(out['img'], frame['img'][:, ::-1])
    assert np.array_equal(out['gt_depth_map'], _depth_of(out['gt_seg_map']))


def test_standard_augmentation_is_joint_and_never_interpolates_depth():
    pipeline = [
        TRANSFORMS.build(cfg) for cfg in (
            dict(
                type='RandomResize',
                scale=(64, 48),
                ratio_range=(0.5, 2.0),
                keep_ratio=True),
            dict(type='RandomCrop', crop_size=(32, 40), cat_max_ratio=0.75),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PhotoMetricDistortion'),
        )
    ]
    sizes = set()
    for seed in range(12):
        np.random.seed(seed)
        frame = _coupled(seed=seed)
        depth_values = set(np.unique(frame['gt_depth_map']).tolist())
        out = dict(frame)
        for transform in pipeline:
            out = transform(out)
        seg, depth = out['gt_seg_map'], out['gt_depth_map']
        assert seg.shape == depth.shape == out['img'].shape[:2]
        assert depth.dtype == np.float32 and seg.dtype == np.uint8
        assert np.array_equal(depth, _depth_of(seg))
        assert set(np.unique(depth).tolist()) <= depth_values
        sizes.add(out['scale'])
    assert len(sizes) > 1  # the scale really varied


def test_photometric_distortion_leaves_maps_alone():
    frame = _coupled()
    out = TRANSFORMS.build(dict(type='PhotoMetricDistortion'))(dict(frame))
    assert np.array_equal(out['gt_seg_map'], frame['gt_seg_map'])
    assert np.array_equal(out['gt_depth_map'], frame['gt_depth_map'])


def test_crop_border():
    frame = _coupled()
    frame['gt_instance_map'] = frame['gt_seg_map'].copy()
    frame['seg_fields'].append('gt_instance_map')
    crop = TRANSFORMS.build(dict(type='NYUDv2CropBorder', border=(1, 2, 3, 4)))
    out = crop(dict(frame))
    for key in ('img', 'gt_seg_map', 'gt_depth_map', 'gt_instance_map'):
        assert np.array_equal(out[key], frame[key][1:-2, 3:-4])
    assert out['img_shape'] == out['ori_shape'] == (45, 57)
    scaled = TRANSFORMS.build(
        dict(type='NYUDv2CropBorder', border=20, scale_with_width=True))
    assert scaled(dict(frame))['img'].shape[:2] == (44, 60)  # 20*64/640=2
    resized = dict(frame, ori_shape=(96, 128))
    assert crop(resized)['ori_shape'] == (96, 128)
    with pytest.raises(ValueError, match='leaves nothing'):
        TRANSFORMS.build(dict(type='NYUDv2CropBorder', border=24))(dict(frame))
    with pytest.raises(ValueError, match='border'):
        TRANSFORMS.build(dict(type='NYUDv2CropBorder', border=(1, 2)))


def test_crop_border_on_synthetic_frames(quick_set):
    dataset = DATASETS.build(
        dict(
            type='NYUDv2MatDataset',
            data_root=str(quick_set['root']),
            depth_source='rawDepths',
            pipeline=[
                dict(type='LoadNYUDv2Image'),
                dict(type='LoadNYUDv2Annotations'),
                dict(type='NYUDv2CropBorder', scale_with_width=True)
            ]))
    sample = dataset[0]
    # 7 px at 640 wide is 2 px at 160: the unlabeled, depthless rim is gone
    assert sample['img'].shape[:2] == (116, 156)
    assert (sample['gt_seg_map'][0] != 255).any()
    assert (sample['gt_depth_map'][:, 0] > 0).any()


def test_pack_carries_depth_and_sample_idx(quick_set):
    dataset = DATASETS.build(
        dict(
            type='NYUDv2MatDataset',
            data_root=str(quick_set['root']),
            pipeline=[
                dict(type='LoadNYUDv2Image'),
                dict(type='LoadNYUDv2Annotations'), PACK
            ]))
    packed = dataset[7]
    sample = packed['data_samples']
    assert sample.metainfo['sample_idx'] == 7
    assert sample.gt_depth_map.data.shape == (1, 120, 160)
    assert sample.gt_depth_map.data.dtype == torch.float32
    assert sample.gt_sem_seg.data.shape == (1, 120, 160)
    assert packed['inputs'].shape == (3, 120, 160)
