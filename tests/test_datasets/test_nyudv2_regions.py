"""The named windows of the NYUD-v2 frame and the datasets' crop_region."""
import numpy as np
import pytest

from cmim_dense.datasets import NYUDv2MatDataset
from cmim_dense.datasets.nyudv2_regions import (crop_to_region,
                                                eval_region_box, region_box,
                                                region_mask)


def test_windows_on_the_480x640_frame():
    # (top, bottom, left, right), half-open, as the recipes state them:
    # NYUD_MT 425x560, Eigen rows 45:471 cols 41:601, BTS crop (45:472,
    # 43:608)
    assert region_box('full', 480, 640) == (0, 480, 0, 640)
    assert region_box('nyud_mt', 480, 640) == (45, 470, 41, 601)
    assert region_box('eigen', 480, 640) == (45, 471, 41, 601)
    assert region_box('bts_train', 480, 640) == (45, 472, 43, 608)
    top, bottom, left, right = region_box('nyud_mt', 480, 640)
    assert (bottom - top, right - left) == (425, 560)


def test_windows_scaled_or_already_cut():
    # 48x64 = 480x640 / 10, bounds rounded half up: 4.5 -> 5, 60.1 -> 60
    assert region_box('nyud_mt', 48, 64) == (5, 47, 4, 60)
    assert region_box('bts_train', 48, 64) == (5, 47, 4, 61)
    # frames with the window's own aspect ratio are the window
    assert region_box('nyud_mt', 425, 560) == (0, 425, 0, 560)
    assert region_box('nyud_mt', 85, 112) == (0, 85, 0, 112)
    with pytest.raises(ValueError, match='425x560 frame'):
        region_box('eigen', 425, 560)  # 426x560 is the Eigen window
    with pytest.raises(ValueError, match='must be one of'):
        region_box('middle', 480, 640)


def test_eval_region_box_reads_the_load_time_cut():
    assert eval_region_box('nyud_mt', 42, 56, cropped_to='nyud_mt') == (
        0, 42, 0, 56)
    assert eval_region_box('nyud_mt', 48, 64) == (5, 47, 4, 60)
    assert eval_region_box('full', 42, 56, cropped_to='nyud_mt') == (
        0, 42, 0, 56)
    with pytest.raises(ValueError, match='cannot be evaluated'):
        eval_region_box('eigen', 42, 56, cropped_to='nyud_mt')


def test_crop_and_mask():
    frame = np.arange(48 * 64 * 3).reshape(48, 64, 3)
    cut = crop_to_region(frame, 'nyud_mt')
    assert cut.shape == (42, 56, 3) and cut.flags['C_CONTIGUOUS']
    assert cut[0, 0, 0] == frame[5, 4, 0]
    assert crop_to_region(frame, 'full') is frame
    mask = region_mask('eigen', 480, 640)
    assert mask.sum() == 426 * 560 and mask[45, 41] and not mask[471, 41]


def test_dataset_crop_region_cuts_image_and_maps(tiny_set):
    pipeline = [dict(type='LoadNYUDv2Image'), dict(type='LoadNYUDv2Annotations')]
    whole = NYUDv2MatDataset(data_root=str(tiny_set), pipeline=pipeline)[0]
    cut = NYUDv2MatDataset(
        data_root=str(tiny_set), crop_region='nyud_mt', pipeline=pipeline)[0]
    # 24x32 frames: rows round(2.25)=2 : round(23.5)=24, cols 2 : round(30.05)
    # = 30
    assert cut['crop_region'] == 'nyud_mt'
    assert cut['img'].shape[:2] == cut['ori_shape'] == (22, 28)
    np.testing.assert_array_equal(cut['img'], whole['img'][2:24, 2:30])
    np.testing.assert_array_equal(cut['gt_seg_map'],
                                  whole['gt_seg_map'][2:24, 2:30])
    np.testing.assert_array_equal(cut['gt_depth_map'],
                                  whole['gt_depth_map'][2:24, 2:30])
    with pytest.raises(ValueError, match='crop_region must be one of'):
        NYUDv2MatDataset(data_root=str(tiny_set), crop_region='middle')
