"""The monocular-depth layout, on the real mmseg-layout frame."""
import shutil

import cv2
import numpy as np
import pytest
from mmseg.registry import DATASETS, TRANSFORMS

from cmim_dense.datasets import NYUDv2FormatError

LOAD = [dict(type='LoadNYUDv2Image'), dict(type='LoadNYUDv2Annotations')]


@pytest.fixture
def pseudo_nyu(real_data):
    """The real frame in mmseg's monocular-depth layout."""
    return real_data / 'mmseg_pseudo_nyu'


def test_real_frame_depth_in_metres(pseudo_nyu):
    dataset = DATASETS.build(
        dict(
            type='NYUDv2MonoDepthDataset',
            data_root=str(pseudo_nyu),
            split=None,
            pipeline=LOAD))
    assert len(dataset) == 1
    sample = dataset[0]
    name = 'bookstore_0001d_00001'
    assert sample['frame_id'] == name
    millimetres = cv2.imread(
        str(pseudo_nyu / 'annotations' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
    assert millimetres.dtype == np.uint16
    depth = sample['gt_depth_map']
    assert depth.dtype == np.float32 and depth.shape == (120, 160)
    assert np.allclose(depth, millimetres / 1000.0, rtol=0, atol=1e-6)
    assert 0 < depth[depth > 0].min() and depth.max() <= 10.0
    assert np.array_equal(depth == 0, millimetres == 0)
    assert sample['img'].shape == (120, 160, 3)
    assert np.array_equal(
        sample['img'], cv2.imread(str(pseudo_nyu / 'images' / f'{name}.jpg')))
    assert sample['seg_fields'] == ['gt_depth_map']
    # mmseg's own loader agrees on the same data info
    mmseg_load = TRANSFORMS.build(
        dict(type='LoadDepthAnnotation', depth_rescale_factor=1e-3))
    info = dataset.get_data_info(0)
    assert np.allclose(mmseg_load(info)['gt_depth_map'], depth)


def test_split_folders_and_mmseg_listing_agree(pseudo_nyu, tmp_path):
    for part in ('images', 'annotations'):
        shutil.copytree(pseudo_nyu / part, tmp_path / part / 'test')
    ours = DATASETS.build(
        dict(
            type='NYUDv2MonoDepthDataset',
            data_root=str(tmp_path),
            split='test'))
    theirs = DATASETS.build(
        dict(
            type='NYUDataset',
            data_root=str(tmp_path),
            data_prefix=dict(
                img_path='images/test', depth_map_path='annotations/test')))
    assert [d['img_path'] for d in ours.data_list] == \
        [d['img_path'] for d in theirs.data_list]
    assert [d['depth_map_path'] for d in ours.data_list] == \
        [d['depth_map_path'] for d in theirs.data_list]
    # our loader also reads mmseg's data infos (PNG depth in millimetres)
    load = TRANSFORMS.build(dict(type='LoadNYUDv2Annotations'))
    from_theirs = load(theirs.get_data_info(0))
    from_ours = load(ours.get_data_info(0))
    assert from_theirs['seg_fields'] == ['gt_depth_map']
    assert np.array_equal(from_theirs['gt_depth_map'],
                          from_ours['gt_depth_map'])
    assert 0 < from_theirs['gt_depth_map'].max() <= 10


def test_layout_errors(pseudo_nyu, tmp_path):
    with pytest.raises(ValueError, match='no seg annotations'):
        DATASETS.build(
            dict(
                type='NYUDv2MonoDepthDataset',
                data_root=str(pseudo_nyu),
                split=None,
                tasks=('seg', 'depth')))
    with pytest.raises(NYUDv2FormatError, match='image folder not found'):
        DATASETS.build(
            dict(type='NYUDv2MonoDepthDataset', data_root=str(tmp_path)))
    shutil.copytree(pseudo_nyu / 'images', tmp_path / 'images')
    (tmp_path / 'annotations').mkdir()
    with pytest.raises(NYUDv2FormatError, match='no depth map'):
        DATASETS.build(
            dict(
                type='NYUDv2MonoDepthDataset',
                data_root=str(tmp_path),
                split=None))
