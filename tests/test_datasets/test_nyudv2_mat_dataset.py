"""``NYUDv2MatDataset``: frames, tasks, options and every bad input."""
import shutil

import h5py
import numpy as np
import pytest
from mmseg.registry import DATASETS

from cmim_dense.datasets import (NYU13_CLASSES, NYU40_CLASSES,
                                 NYUDv2FormatError, load_nyudv2_splits)
from cmim_dense.datasets.nyudv2_class_tables import nyudv2_label_lut

LOAD = [dict(type='LoadNYUDv2Image'), dict(type='LoadNYUDv2Annotations')]


def _build(root, **kwargs):
    """A ``NYUDv2MatDataset`` on ``root`` that loads every task."""
    cfg = dict(type='NYUDv2MatDataset', data_root=str(root), pipeline=LOAD)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_frames_follow_split_and_documented_layout(quick_set):
    root = quick_set['root']
    dataset = _build(root, split='test', with_instances=True)
    test = load_nyudv2_splits(str(root / 'splits.mat'))['test']
    assert len(dataset) == len(test)
    lut = nyudv2_label_lut(40, 'nyu894')
    with h5py.File(root / 'nyu_depth_v2_labeled.mat', 'r') as file:
        for idx in (0, len(dataset) - 1):
            frame = int(test[idx])
            sample = dataset[idx]
            assert sample['frame_idx'] == frame
            assert sample['sample_idx'] == idx
            assert sample['frame_id'] == f'{frame + 1:04d}'
            rgb = file['images'][frame].transpose(2, 1, 0)
            assert sample['img'].dtype == np.uint8
            assert np.array_equal(sample['img'], rgb[..., ::-1])  # BGR
            assert np.array_equal(sample['gt_seg_map'],
                                  lut[file['labels'][frame].T])
            assert sample['gt_seg_map'].dtype == np.uint8
            assert np.array_equal(sample['gt_depth_map'],
                                  file['depths'][frame].T)
            assert sample['gt_depth_map'].dtype == np.float32
            assert np.array_equal(sample['gt_instance_map'],
                                  file['instances'][frame].T)
            assert sample['seg_fields'] == [
                'gt_seg_map', 'gt_depth_map', 'gt_instance_map'
            ]
            assert sample['img_shape'] == sample['ori_shape'] == (120, 160)
    meta = dataset.metainfo
    assert meta['classes'] == NYU40_CLASSES and len(meta['palette']) == 40
    assert meta['ignore_index'] == 255 and meta['tasks'] == ('seg', 'depth')


def test_task_and_option_variants(quick_set):
    root = quick_set['root']
    seg_only = _build(root, tasks=('seg', ))[0]
    assert 'gt_seg_map' in seg_only and 'gt_depth_map' not in seg_only
    depth_only = _build(root, tasks='depth', depth_source='rawDepths')[0]
    assert 'gt_seg_map' not in depth_only
    assert (depth_only['gt_depth_map'] == 0).any()  # raw depth has holes
    thirteen = _build(root, num_classes=13)
    assert thirteen.metainfo['classes'] == NYU13_CLASSES
    values = set(np.unique(thirteen[0]['gt_seg_map']).tolist())
    assert values <= set(range(13)) | {255}
    every = _build(root, split=None)
    assert len(every) == quick_set['num_frames']
    assert [every[i]['frame_idx'] for i in range(3)] == [0, 1, 2]
    assert len(_build(root, split='val')) == len(_build(root, split='test'))
    only_seg = _build(
        root,
        pipeline=[
            dict(type='LoadNYUDv2Image'),
            dict(type='LoadNYUDv2Annotations', tasks=('seg', ))
        ])[0]
    assert 'gt_depth_map' not in only_seg


@pytest.mark.parametrize('kwargs', [
    dict(split='trainval'),
    dict(depth_source='depth'),
    dict(tasks=('normals', )),
    dict(tasks=()),
    dict(num_classes=20),
])
def test_bad_arguments(quick_set, kwargs):
    with pytest.raises(ValueError):
        _build(quick_set['root'], **kwargs)


def _copy(src, dst):
    """Copy a labeled set and its splits into a new folder."""
    dst.mkdir()
    for name in ('nyu_depth_v2_labeled.mat', 'splits.mat'):
        shutil.copy(src / name, dst / name)
    return dst


def test_missing_files(tiny_set, tmp_path):
    with pytest.raises(NYUDv2FormatError, match='file not found') as err:
        _build(tmp_path)
    assert 'nyu_depth_v2_labeled.mat' in str(err.value)
    root = _copy(tiny_set, tmp_path / 'copy')
    (root / 'splits.mat').unlink()
    with pytest.raises(NYUDv2FormatError, match='split file not found'):
        _build(root, split_file='splits.mat')
    # no split file given or beside: the packaged one, for 1449 frames only
    with pytest.raises(NYUDv2FormatError, match='1449-frame labeled set'):
        _build(root)
    assert len(_build(root, split=None)) == 6  # no split file needed


def test_v5_or_non_hdf5_labeled_file(tiny_set, tmp_path):
    root = _copy(tiny_set, tmp_path / 'copy')
    shutil.copy(root / 'splits.mat', root / 'nyu_depth_v2_labeled.mat')
    with pytest.raises(NYUDv2FormatError, match='MATLAB v5'):
        _build(root)
    (root / 'nyu_depth_v2_labeled.mat').write_bytes(b'\x00' * 4096)
    with pytest.raises(NYUDv2FormatError, match='not an HDF5'):
        _build(root)


def test_truncated_file(tiny_set, tmp_path):
    root = _copy(tiny_set, tmp_path / 'copy')
    path = root / 'nyu_depth_v2_labeled.mat'
    data = path.read_bytes()
    path.write_bytes(data[:len(data) * 2 // 3])
    with pytest.raises(NYUDv2FormatError, match='truncated') as err:
        _build(root)
    assert str(path) in str(err.value)


def _frames(num=4, height=6, width=8, seed=0):
    """Random valid frames, natural orientation, for ``write_mat``."""
    rng = np.random.default_rng(seed)
    return dict(
        images=rng.integers(0, 256, (num, height, width, 3), np.uint8),
        depths=rng.uniform(0.5, 9.0, (num, height, width)).astype(np.float32),
        labels=rng.integers(0, 895, (num, height, width)).astype(np.uint16))


@pytest.mark.parametrize('field', ['images', 'depths', 'labels'])
def test_missing_field(tmp_path, write_mat, field):
    arrays = _frames()
    del arrays[field]
    write_mat(tmp_path, **arrays)
    with pytest.raises(NYUDv2FormatError) as err:
        _build(tmp_path)
    assert f"field '{field}'" in str(err.value)
    assert 'missing' in str(err.value)


def test_fields_with_disagreeing_shapes(tmp_path, write_mat):
    arrays = _frames()
    arrays['depths'] = arrays['depths'][:, :, :7]
    write_mat(tmp_path, **arrays)
    with pytest.raises(NYUDv2FormatError, match='disagrees') as err:
        _build(tmp_path)
    assert "field 'depths'" in str(err.value)
    arrays = _frames()
    arrays['labels'] = arrays['labels'][:3]
    write_mat(tmp_path, **arrays)
    with pytest.raises(NYUDv2FormatError, match="field 'labels'"):
        _build(tmp_path)


@pytest.mark.parametrize('field, value, words', [
    ('images', np.zeros((4, 6, 8, 3), np.float32), 'stored type'),
    ('images', np.zeros((4, 6, 8, 4), np.uint8), '(N, 3, W, H)'),
    ('depths', np.zeros((4, 6, 8), np.uint8), 'stored type'),
    ('depths', np.zeros((4, 6, 8), '>f4'), 'stored type'),
    ('labels', np.zeros((4, 6, 8), np.float32), 'stored type'),
    ('labels', np.zeros((4, 6), np.uint16), '3-d array'),
])
def test_wrong_dtypes_and_ranks(tmp_path, write_mat, field, value, words):
    arrays = _frames()
    arrays[field] = value
    write_mat(tmp_path, **arrays)
    with pytest.raises(NYUDv2FormatError) as err:
        _build(tmp_path)
    assert f"field '{field}'" in str(err.value) and words in str(err.value)


def test_labels_outside_range_name_file_field_frame(tmp_path, write_mat):
    arrays = _frames()
    arrays['labels'] = np.minimum(arrays['labels'], 894)
    arrays['labels'][2, 1, 1] = 895
    path = write_mat(tmp_path, **arrays, train=np.arange(4), test=[])
    dataset = _build(tmp_path, split=None)
    dataset[1]  # frames without bad labels load
    with pytest.raises(NYUDv2FormatError) as err:
        dataset[2]
    message = str(err.value)
    assert str(path) in message and "field 'labels'" in message
    assert 'frame 3 (index 2)' in message and '0..894' in message


def test_non_finite_depth_is_invalid_with_a_warning(tmp_path, write_mat):
    arrays = _frames()
    arrays['depths'][1, 0, :3] = [np.nan, np.inf, -np.inf]
    arrays['depths'][1, 5, 7] = -1.0
    write_mat(tmp_path, **arrays)
    dataset = _build(tmp_path, split=None)
    with pytest.warns(UserWarning, match='3 NaN/inf and 1 negative') as rec:
        depth = dataset[1]['gt_depth_map']
    assert "field 'depths', frame 2 (index 1)" in str(rec[0].message)
    assert np.all(depth[0, :3] == 0) and depth[5, 7] == 0
    assert np.all(np.isfinite(depth))


def test_split_indices_checked_against_the_file(tmp_path, write_mat):
    write_mat(
        tmp_path, **_frames(), train=np.array([0, 1]), test=np.array([2, 4]))
    with pytest.raises(NYUDv2FormatError, match='out of range 1..4'):
        _build(tmp_path)
    write_mat(
        tmp_path, **_frames(), train=np.array([0, 1]), test=np.array([1, 2]))
    with pytest.raises(NYUDv2FormatError, match='both splits'):
        _build(tmp_path)
    write_mat(
        tmp_path,
        **_frames(),
        train=np.array([0, 1, 2, 3]),
        test=np.array([], int))
    with pytest.raises(NYUDv2FormatError, match='empty split'):
        _build(tmp_path, split='test')


def test_any_frame_size_and_unchunked_storage(tmp_path, write_mat):
    arrays = _frames(num=3, height=5, width=11)
    write_mat(tmp_path, chunked=False, **arrays)
    dataset = _build(tmp_path, split=None)
    sample = dataset[2]
    assert sample['img'].shape == (5, 11, 3)
    assert np.array_equal(sample['img'][..., ::-1], arrays['images'][2])
    assert np.array_equal(sample['gt_depth_map'], arrays['depths'][2])
