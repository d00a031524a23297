"""Each protocol's dataset config on each layout it reads: shapes, windows
and depth values (a 2x zoom halves depth; rotation and crops never change a
value)."""
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / '_base_' / \
    'datasets'


def _dataset_cfgs(name: str, root: str):
    cfg = Config.fromfile(str(CONFIGS / f'{name}.py'))
    train, test = cfg.train_dataloader.dataset, cfg.test_dataloader.dataset
    train.data_root = test.data_root = root
    return train, test


def _step(pipeline, kind):
    (step, ) = [s for s in pipeline if s.type == kind]
    return step


def _values(arr):
    return set(np.unique(np.asarray(arr)).tolist())


@pytest.mark.parametrize('zoom', [1.0, 2.0])
def test_multitask_train_on_the_mat_file(tiny_set, zoom):
    train, _ = _dataset_cfgs('nyudv2_multitask', str(tiny_set))
    # the 24x32 frames' NYUD_MT window is rows 2:24, cols 2:30 (22x28)
    _step(train.pipeline, 'RandomCrop').crop_size = (22, 28)
    _step(train.pipeline, 'DepthAwareRandomResize').ratio_choices = (zoom, )
    sample = DATASETS.build(train)[0]
    whole = DATASETS.build(
        dict(type='NYUDv2MatDataset', data_root=str(tiny_set),
             pipeline=[dict(type='LoadNYUDv2Image'),
                       dict(type='LoadNYUDv2Annotations')]))[0]
    window_depth = whole['gt_depth_map'][2:24, 2:30]
    window_seg = whole['gt_seg_map'][2:24, 2:30]
    # the network input is MTL-PyTorch's 480x640, maps resized with it
    assert sample['inputs'].shape == (3, 480, 640)
    data = sample['data_samples']
    assert data.gt_depth_map.shape == data.gt_sem_seg.shape == (480, 640)
    depth = data.gt_depth_map.data.numpy()
    # nearest interpolation copies values; the zoom then divides them
    expected = {float(v) for v in (window_depth / np.float32(zoom)).ravel()}
    assert _values(depth[depth > 0]) <= expected
    assert _values(data.gt_sem_seg.data) <= _values(window_seg)
    if zoom == 2.0:
        assert depth.max() <= window_depth.max() / 2 + 1e-6


def test_multitask_test_on_the_mat_file_scores_the_window(tiny_set):
    _, test = _dataset_cfgs('nyudv2_multitask', str(tiny_set))
    sample = DATASETS.build(test)[0]
    data = sample['data_samples']
    assert sample['inputs'].shape == (3, 480, 640)
    assert data.ori_shape == (22, 28) and data.crop_region == 'nyud_mt'
    assert data.gt_depth_map.shape == (22, 28)


def _write_folder_layout(root: Path, height: int, width: int) -> None:
    rng = np.random.default_rng(0)
    for sub in ('images', 'segmentation', 'depth', 'gt_sets'):
        (root / sub).mkdir(parents=True)
    ids = ['000001', '000002']
    for frame_id in ids:
        cv2.imwrite(str(root / 'images' / f'{frame_id}.png'),
                    rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        cv2.imwrite(str(root / 'segmentation' / f'{frame_id}.png'),
                    rng.integers(0, 41, (height, width), dtype=np.uint8))
        np.save(root / 'depth' / f'{frame_id}.npy',
                rng.uniform(0.5, 9.5, (height, width)).astype(np.float32))
    for split in ('train', 'val'):
        (root / 'gt_sets' / f'{split}.txt').write_text('\n'.join(ids))


def test_multitask_on_nyud_mt_folders_keeps_the_cut_frames(tmp_path):
    # frames of the NYUD_MT aspect (425x560 / 5) are already the window
    _write_folder_layout(tmp_path, 85, 112)
    train, test = _dataset_cfgs('nyudv2_multitask', str(tmp_path))
    for cfg in (train, test):
        cfg.type = 'NYUDv2FolderDataset'
    test.split = 'val'
    _step(train.pipeline, 'RandomCrop').crop_size = (85, 112)
    _step(train.pipeline, 'DepthAwareRandomResize').ratio_choices = (1.0, )
    sample = DATASETS.build(train)[0]
    raw_depth = np.load(tmp_path / 'depth' / '000001.npy')
    depth = sample['data_samples'].gt_depth_map.data.numpy()
    assert sample['inputs'].shape == (3, 480, 640)
    assert _values(depth) <= _values(raw_depth)
    data = DATASETS.build(test)[0]['data_samples']
    assert data.ori_shape == (85, 112)
    np.testing.assert_array_equal(data.gt_depth_map.data.numpy()[0],
                                  raw_depth)


def test_bts_depth_on_the_monocular_layout(tmp_path):
    rng = np.random.default_rng(1)
    for split in ('train', 'test'):
        (tmp_path / 'images' / split).mkdir(parents=True)
        (tmp_path / 'annotations' / split).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / 'images' / split / 'room_00001.jpg'),
                    rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
        cv2.imwrite(
            str(tmp_path / 'annotations' / split / 'room_00001.png'),
            rng.integers(500, 9000, (48, 64), dtype=np.uint16))
    train, test = _dataset_cfgs('nyudv2_depth_bts', str(tmp_path))
    _step(train.pipeline, 'RandomCrop').crop_size = (16, 24)
    raw = cv2.imread(
        str(tmp_path / 'annotations' / 'train' / 'room_00001.png'),
        cv2.IMREAD_UNCHANGED).astype(np.float32) * np.float32(1e-3)
    # BTS's NYU crop (rows 45:472, cols 43:608) scaled to 48x64: 5:47, 4:61
    pipeline = train.pipeline
    train.pipeline = pipeline[:2]
    loaded = DATASETS.build(train)[0]
    assert loaded['img'].shape[:2] == (42, 57)
    np.testing.assert_array_equal(loaded['gt_depth_map'], raw[5:47, 4:61])
    train.pipeline = pipeline
    sample = DATASETS.build(train)[0]
    depth = sample['data_samples'].gt_depth_map.data.numpy()
    assert sample['inputs'].shape == (3, 16, 24)
    # rotation (nearest, corners 0) and crop never change a depth value
    assert _values(depth[depth > 0]) <= _values(raw)
    data = DATASETS.build(test)[0]['data_samples']
    assert data.ori_shape == (48, 64)  # scored inside the Eigen crop
