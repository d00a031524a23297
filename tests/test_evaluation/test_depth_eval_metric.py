"""DepthEvalMetric against hand-computed values, crop, conventions, errors."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import json
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from cmim_dense.evaluation import DepthEvalMetric
from cmim_dense.evaluation import depth_eval_metric as metric_module
from cmim_dense.registry import METRICS

LN2, L2 = math.log(2.0), math.log10(2.0)
# image A: 3 valid pixels (gt 0 invalid); image B: 1 valid pixel
GT_A, PRED_A = [[1., 2.], [4., 0.]], [[2., 2.], [2., 5.]]
GT_B, PRED_B = [[2., 0.], [0., 0.]], [[1., 9.], [9., 9.]]
# per image, by hand:
#   A: r = (2, 1, 2), |d|/g = (1, 0, .5), d^2/g = (1, 0, 1), d^2 = (1, 0, 4),
#      e = (ln2, 0, -ln2)
#   B: r = 2, |d|/g = .5, d^2/g = .5, d^2 = 1, e = -ln2
HAND_A = dict(
    d1=1 / 3,
    d2=1 / 3,
    d3=1 / 3,
    abs_rel=0.5,
    sq_rel=2 / 3,
    rmse=math.sqrt(5 / 3),
    rmse_log=math.sqrt(2 / 3) * LN2,
    log10=2 / 3 * L2,
    silog=math.sqrt(2 / 3) * LN2 * 100)
HAND_B = dict(
    d1=0.,
    d2=0.,
    d3=0.,
    abs_rel=0.5,
    sq_rel=0.5,
    rmse=1.,
    rmse_log=LN2,
    log10=L2,
    silog=0.)
# over the 4 pixels: e = (ln2, 0, -ln2, -ln2)
HAND_PIXEL = dict(
    d1=0.25,
    d2=0.25,
    d3=0.25,
    abs_rel=0.5,
    sq_rel=0.625,
    rmse=math.sqrt(1.5),
    rmse_log=math.sqrt(0.75) * LN2,
    log10=0.75 * L2,
    silog=math.sqrt(0.75 - 1 / 16) * LN2 * 100)


def _sample(gt, pred, name='x', as_dict=True):
    sample = SegDataSample(metainfo=dict(img_path=f'/data/{name}.png'))
    sample.pred_depth_map = PixelData(
        data=torch.as_tensor(pred, dtype=torch.float32)[None])
    if gt is not None:
        sample.gt_depth_map = PixelData(
            data=torch.as_tensor(gt, dtype=torch.float32)[None])
    return sample.to_dict() if as_dict else sample


def _evaluate(metric, pairs):
    metric.process({},
                   [_sample(g, p, f'im{i}') for i, (g, p) in enumerate(pairs)])
    return metric.evaluate(len(pairs))


@pytest.fixture
def logs(monkeypatch):
    messages = []
    monkeypatch.setattr(metric_module, 'print_log',
                        lambda msg, *a, **k: messages.append(str(msg)))
    return messages


def test_registered_and_defaults():
    assert METRICS.get('DepthEvalMetric') is DepthEvalMetric
    metric = DepthEvalMetric()
    assert metric.metrics == DepthEvalMetric.METRICS
    assert (metric.min_depth, metric.max_depth) == (1e-3, 10.0)
    assert metric.aggregation == 'image' and not metric.eigen_crop


def test_hand_values_per_image(logs):
    got = _evaluate(DepthEvalMetric(), [(GT_A, PRED_A), (GT_B, PRED_B)])
    expected = {k: (HAND_A[k] + HAND_B[k]) / 2 for k in HAND_A}
    assert list(got) == list(DepthEvalMetric.METRICS)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
    assert any('aggregation=image' in m for m in logs)
    assert any('rmse_log' in m for m in logs)  # the table


def test_hand_values_pixel_aggregation():
    got = _evaluate(
        DepthEvalMetric(aggregation='pixel'), [(GT_A, PRED_A), (GT_B, PRED_B)])
    for key, value in HAND_PIXEL.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key


def test_selected_subset_in_order():
    got = _evaluate(
        DepthEvalMetric(depth_metrics=['rmse', 'd1'], prefix='depth'),
        [(GT_A, PRED_A)])
    assert list(got) == ['depth/rmse', 'depth/d1']
    assert got['depth/rmse'] == pytest.approx(HAND_A['rmse'])


def test_eigen_crop_480x640_hand_values():
    gt = np.full((480, 640), 2.0)
    pred = np.full((480, 640), 4.0)  # ratio 2 outside the crop
    pred[45:471, 41:601] = 2.0
    pred[100:110, 200:210] = 1.0  # 100 pixels with ratio 2 inside
    n_crop, n_all = 426 * 560, 480 * 640
    cropped = _evaluate(
        DepthEvalMetric(
            eigen_crop=True, depth_metrics=['d1', 'abs_rel', 'rmse']),
        [(gt, pred)])
    assert cropped['d1'] == pytest.approx(1 - 100 / n_crop)
    assert cropped['abs_rel'] == pytest.approx(100 * 0.5 / n_crop)
    assert cropped['rmse'] == pytest.approx(math.sqrt(100 / n_crop))
    full = _evaluate(
        DepthEvalMetric(depth_metrics=['d1', 'abs_rel', 'rmse']), [(gt, pred)])
    outside = n_all - n_crop
    assert full['d1'] == pytest.approx(1 - (100 + outside) / n_all)
    assert full['abs_rel'] == pytest.approx((50 + outside) / n_all)
    assert full['rmse'] == pytest.approx(
        math.sqrt((100 + 4 * outside) / n_all))


def test_eigen_crop_scaled_and_refused():
    assert DepthEvalMetric.eigen_crop_box(480, 640) == (45, 471, 41, 601)
    assert DepthEvalMetric.eigen_crop_box(240, 320) == (23, 236, 21, 301)
    assert DepthEvalMetric.eigen_crop_box(960, 1280) == (90, 942, 82, 1202)
    metric = DepthEvalMetric(eigen_crop=True)
    mask = metric.eval_mask(torch.full((240, 320), 2.0, dtype=torch.float64))
    assert int(mask.sum()) == (236 - 23) * (301 - 21)
    assert not mask[22].any() and mask[23, 21:301].all()
    assert not mask[236].any() and mask[235, 21:301].all()
    assert not mask[:, 20].any() and not mask[:, 301].any()
    with pytest.raises(ValueError, match='425x560'):
        _evaluate(metric, [(np.full((425, 560), 2.), np.full((425, 560), 2.))])


def test_valid_range_and_clamping():
    gt = [[10.0, 1e-3, 0.0011, 5.0]]  # 10 and 1e-3 are excluded
    pred = [[1.0, 1.0, 0.0011, 20.0]]  # 20 is clamped to 10
    got = _evaluate(DepthEvalMetric(depth_metrics=['abs_rel']), [(gt, pred)])
    assert got['abs_rel'] == pytest.approx((0 + 1.0) / 2)
    got = _evaluate(
        DepthEvalMetric(depth_metrics=['abs_rel'], max_depth=30.),
        [(gt, pred)])
    assert got['abs_rel'] == pytest.approx((0.9 + 0 + 3) / 3)
    # negative predictions clamp to min_depth; without clamping: an error
    got = _evaluate(
        DepthEvalMetric(depth_metrics=['abs_rel']), [([[2.0]], [[-1.0]])])
    assert got['abs_rel'] == pytest.approx((2 - 1e-3) / 2)
    with pytest.raises(ValueError, match='non-positive'):
        _evaluate(DepthEvalMetric(clamp_pred=False), [([[2.0]], [[-1.0]])])


def test_bad_inputs():
    with pytest.raises(ValueError, match='differ in size'):
        _evaluate(DepthEvalMetric(), [(np.ones((4, 4)), np.ones((4, 5)))])
    with pytest.raises(ValueError, match='NaN or infinite'):
        _evaluate(DepthEvalMetric(), [([[2.0, 3.0]], [[float('nan'), 1.]])])
    # NaN where the GT is invalid is not evaluated
    got = _evaluate(
        DepthEvalMetric(depth_metrics=['rmse']),
        [([[2.0, 0.0]], [[2.0, float('nan')]])])
    assert got['rmse'] == 0.0
    metric = DepthEvalMetric()
    with pytest.raises(ValueError, match='no gt_depth_map'):
        metric.process({}, [_sample(None, [[1.0]])])
    with pytest.raises(ValueError, match='no pred_depth_map'):
        metric.process({}, [{'gt_depth_map': {'data': torch.ones(1, 2, 2)}}])
    with pytest.raises(ValueError, match=r'\(1, H, W\)'):
        metric.process({}, [{
            'gt_depth_map': {
                'data': torch.ones(1, 2, 2)
            },
            'pred_depth_map': {
                'data': torch.ones(2, 2, 2)
            }
        }])


def test_frames_without_valid_pixels(logs):
    got = _evaluate(DepthEvalMetric(), [(GT_A, PRED_A),
                                        ([[0., 20.]], [[1., 1.]]),
                                        ([[-1., 3.]], [[3., 3.]])])
    assert got['rmse'] == pytest.approx((HAND_A['rmse'] + 0.0) / 2)
    assert any('1 of 3 images' in m and 'im1' in m for m in logs)
    assert any('negative depth' in m for m in logs)
    with pytest.raises(ValueError, match='metres'):
        _evaluate(DepthEvalMetric(), [([[1000., 3000.]], [[1., 1.]])])


def test_bad_arguments():
    for kwargs, match in ((dict(depth_metrics=['rmse', 'mae']), 'unknown'),
                          (dict(depth_metrics='rmse'), 'non-empty list'),
                          (dict(aggregation='set'),
                           'aggregation'), (dict(min_depth=0.), 'min_depth'),
                          (dict(format_only=True), 'output_dir')):
        with pytest.raises(ValueError, match=match):
            DepthEvalMetric(**kwargs)


def test_output_dir_json_and_pngs(tmp_path, logs):
    metric = DepthEvalMetric(output_dir=str(tmp_path), eigen_crop=False)
    metric.process({}, [
        _sample(GT_A, PRED_A, 'a', as_dict=False),
        _sample(GT_B, PRED_B, 'b')
    ])
    got = metric.evaluate(2)
    record = json.loads((tmp_path / 'depth_metrics.json').read_text())
    assert record['metrics'] == pytest.approx(got)
    assert record['settings']['aggregation'] == 'image'
    assert record['settings']['valid_range'] == [1e-3, 10.0]
    assert [r['name'] for r in record['per_image']] == ['a', 'b']
    assert record['per_image'][1]['rmse'] == pytest.approx(1.0)
    png = cv2.imread(osp.join(tmp_path, 'a_depth.png'), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16
    assert png.tolist() == [[2000, 2000], [2000, 5000]]
    only = DepthEvalMetric(output_dir=str(tmp_path / 'fmt'), format_only=True)
    only.process({}, [_sample(None, PRED_B, 'c')])
    assert only.evaluate(1) == {}
    assert (tmp_path / 'fmt' / 'c_depth.png').exists()


def test_reference_implementation_random():
    """Against a direct numpy transcription of the metric definitions
    (Eigen et al. 2014; silog as BTS)."""
    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(3):
        gt = rng.uniform(0.5, 12., (48, 64))
        gt[rng.random((48, 64)) < 0.2] = 0
        pred = gt * rng.uniform(0.7, 1.4, gt.shape) + rng.normal(
            0, .1, gt.shape)
        pairs.append((gt, pred))

    def reference(gt, pred):
        mask = (gt > 1e-3) & (gt < 10)
        top, bottom, left, right = 5, 47, 4, 60  # 45:471, 41:601 scaled
        crop = np.zeros_like(mask)
        crop[top:bottom, left:right] = True
        g, p = gt[mask & crop], np.clip(pred[mask & crop], 1e-3, 10)
        r = np.maximum(g / p, p / g)
        e = np.log(p) - np.log(g)
        return dict(
            d1=np.mean(r < 1.25),
            d2=np.mean(r < 1.25**2),
            d3=np.mean(r < 1.25**3),
            abs_rel=np.mean(np.abs(g - p) / g),
            sq_rel=np.mean((g - p)**2 / g),
            rmse=np.sqrt(np.mean((g - p)**2)),
            rmse_log=np.sqrt(np.mean(e**2)),
            log10=np.mean(np.abs(np.log10(g) - np.log10(p))),
            silog=np.sqrt(np.mean(e**2) - np.mean(e)**2) * 100)

    assert DepthEvalMetric.eigen_crop_box(48, 64) == (5, 47, 4, 60)
    got = _evaluate(DepthEvalMetric(eigen_crop=True), pairs)
    refs = [reference(g, p) for g, p in pairs]
    for key in DepthEvalMetric.METRICS:
        expected = np.mean([r[key] for r in refs])
        assert got[key] == pytest.approx(expected, rel=1e-6), key


def _windowed_sample(gt, pred, crop_region=None):
    sample = _sample(gt, pred)
    if crop_region is not None:
        sample['crop_region'] = crop_region
    return sample


def test_nyud_mt_window_480x640_hand_values():
    # errors only outside rows 45:470, cols 41:601 (the 425x560 window) and
    # 50 pixels of ratio 2 inside it
    gt = np.full((480, 640), 2.0)
    pred = np.full((480, 640), 4.0)
    pred[45:470, 41:601] = 2.0
    pred[200:205, 300:310] = 1.0
    n_window = 425 * 560
    metric = DepthEvalMetric(
        eval_region='nyud_mt', aggregation='pixel',
        depth_metrics=['d1', 'rmse'])
    metric.process({}, [_windowed_sample(gt, pred)])
    got = metric.evaluate(1)
    assert got['d1'] == pytest.approx(1 - 50 / n_window)
    assert got['rmse'] == pytest.approx(math.sqrt(50 / n_window))
    # one row more than the window: the Eigen crop (45:471) sees row 470
    pred[470, 41:601] = 1.0
    eigen = _evaluate(
        DepthEvalMetric(eval_region='eigen', depth_metrics=['rmse']),
        [(gt, pred)])
    assert eigen['rmse'] == pytest.approx(
        math.sqrt((50 + 560) / (426 * 560)))


def test_window_of_frames_cut_at_load_or_already_cut():
    gt = np.full((42, 56), 2.0)
    pred = np.full((42, 56), 2.0)
    pred[0, 0] = 1.0  # an error on the frame's border
    # cut to nyud_mt at load (a 3:4 frame after the cut): scored whole
    metric = DepthEvalMetric(eval_region='nyud_mt', depth_metrics=['rmse'])
    metric.process({}, [_windowed_sample(gt, pred, 'nyud_mt')])
    assert metric.evaluate(1)['rmse'] == pytest.approx(
        math.sqrt(1 / (42 * 56)))
    # the real NYUD_MT frames (425x560, no metainfo) are the window
    gt, pred = np.full((425, 560), 2.0), np.full((425, 560), 2.0)
    pred[0, 0] = 1.0
    got = _evaluate(
        DepthEvalMetric(eval_region='nyud_mt', depth_metrics=['rmse']),
        [(gt, pred)])
    assert got['rmse'] == pytest.approx(math.sqrt(1 / (425 * 560)))
    # cut to one window, scored on another: refused
    metric = DepthEvalMetric(eval_region='eigen')
    with pytest.raises(ValueError, match="cut to the 'nyud_mt' window"):
        metric.process({}, [_windowed_sample(gt, pred, 'nyud_mt')])


def test_eval_region_arguments():
    assert DepthEvalMetric(eigen_crop=True).eval_region == 'eigen'
    assert DepthEvalMetric(eval_region='eigen').eigen_crop
    assert DepthEvalMetric().settings()['eval_region'] == 'full'
    with pytest.raises(ValueError, match='eval_region must be one of'):
        DepthEvalMetric(eval_region='center')
    with pytest.raises(ValueError, match='eigen_crop=True'):
        DepthEvalMetric(eigen_crop=True, eval_region='nyud_mt')
    with pytest.raises(ValueError, match='bts_train'):
        DepthEvalMetric(eval_region='bts_train')
