"""DepthAwareRandomResize: a zoom by s divides depth by s."""
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS


def _frame():
    depth = np.array([[1.0, 2.0, 0.0], [4.0, 8.0, 3.0]], np.float32)
    seg = np.array([[1, 2, 255], [3, 4, 5]], np.uint8)
    return dict(
        img=np.zeros((2, 3, 3), np.uint8),
        gt_depth_map=depth,
        gt_seg_map=seg,
        seg_fields=['gt_seg_map', 'gt_depth_map'])


def test_2x_zoom_halves_depth_and_repeats_labels():
    t = TRANSFORMS.build(
        dict(type='DepthAwareRandomResize', ratio_choices=(2.0, ),
             keep_ratio=True))
    out = t(_frame())
    # nearest 2x: every value repeated in a 2x2 block; depth then / 2
    expected_depth = np.array([[0.5, 1.0, 0.0], [2.0, 4.0, 1.5]]).repeat(
        2, 0).repeat(2, 1)
    np.testing.assert_array_equal(out['gt_depth_map'], expected_depth)
    np.testing.assert_array_equal(
        out['gt_seg_map'],
        np.array([[1, 2, 255], [3, 4, 5]]).repeat(2, 0).repeat(2, 1))
    assert out['img'].shape[:2] == (4, 6) and out['depth_zoom'] == 2.0
    assert out['gt_depth_map'].dtype == np.float32


def test_no_division_without_zoom_or_when_off():
    same = TRANSFORMS.build(
        dict(type='DepthAwareRandomResize', ratio_choices=(1.0, ),
             keep_ratio=True))(_frame())
    np.testing.assert_array_equal(same['gt_depth_map'],
                                  _frame()['gt_depth_map'])
    plain = TRANSFORMS.build(
        dict(type='DepthAwareRandomResize', ratio_choices=(2.0, ),
             keep_ratio=True, divide_depth=False))(_frame())
    assert plain['gt_depth_map'].max() == 8.0  # mmseg's RandomResize


def test_base_scale_and_ratio_range():
    t = TRANSFORMS.build(
        dict(type='DepthAwareRandomResize', scale=(6, 4),
             ratio_range=(0.5, 0.5), keep_ratio=True))
    out = t(_frame())  # target (3, 2): the frame's own size, zoom 1
    assert out['img'].shape[:2] == (2, 3) and out['depth_zoom'] == 1.0
    # the zoom realised on a 20x30 frame is the drawn ratio exactly
    t = TRANSFORMS.build(
        dict(type='DepthAwareRandomResize', ratio_choices=(1.0, 1.5, 2.0),
             keep_ratio=True))
    draws = {
        t(dict(img=np.zeros((20, 30, 3), np.uint8),
               seg_fields=[]))['depth_zoom']
        for _ in range(30)
    }
    assert draws <= {1.0, 1.5, 2.0} and len(draws) > 1


def test_bad_arguments():
    with pytest.raises(ValueError, match='exactly one of'):
        TRANSFORMS.build(dict(type='DepthAwareRandomResize'))
    with pytest.raises(ValueError, match='exactly one of'):
        TRANSFORMS.build(
            dict(type='DepthAwareRandomResize', ratio_range=(1, 2),
                 ratio_choices=(1.0, )))
    with pytest.raises(ValueError, match='ratio_range'):
        TRANSFORMS.build(
            dict(type='DepthAwareRandomResize', ratio_range=(2.0, 1.0)))
    with pytest.raises(ValueError, match='ratio_choices'):
        TRANSFORMS.build(
            dict(type='DepthAwareRandomResize', ratio_choices=(0.0, )))
