"""MultiTaskLocalVisualizer panels and MultiTaskVisualizationHook."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import uuid
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from cmim_dense.registry import HOOKS
from cmim_dense.visualization import (MultiTaskLocalVisualizer,
                                      MultiTaskVisualizationHook)

H, W = 24, 32
CLASSES = ('wall', 'floor', 'cabinet')
PALETTE = [[200, 0, 0], [0, 200, 0], [0, 0, 200]]


def _visualizer(**kwargs):
    kwargs.setdefault('classes', CLASSES)
    kwargs.setdefault('palette', PALETTE)
    return MultiTaskLocalVisualizer.get_instance(f'vis-{uuid.uuid4().hex}',
                                                 **kwargs)


def _sample(seg=True, depth=True, gt=True, meta=None):
    gen = torch.Generator().manual_seed(0)
    sample = SegDataSample(metainfo=meta or {})
    if seg:
        label = torch.randint(0, 3, (1, H, W), generator=gen)
        label[:, :3] = 255
        if gt:
            sample.gt_sem_seg = PixelData(data=label)
        sample.pred_sem_seg = PixelData(data=label.flip(2) % 3)
    if depth:
        depth_map = torch.rand(1, H, W, generator=gen) * 8 + 1
        depth_map[:, :, :4] = 0  # invalid
        depth_map[0, 10, 10] = 9.5
        if gt:
            sample.gt_depth_map = PixelData(data=depth_map)
        pred = depth_map.clone()
        pred[:, :, :4] = 5.0
        sample.pred_depth_map = PixelData(data=pred)
    return sample


def _image():
    return np.random.default_rng(0).integers(0, 256, (H, W, 3), np.uint8)


def test_panel_png_size(tmp_path):
    vis = _visualizer()
    out = tmp_path / 'panel.png'
    vis.add_datasample('x', _image(), _sample(), out_file=str(out))
    png = cv2.imread(str(out))
    # 2 rows of (tile + 20 px title), 3 tiles + 64 px colour bar
    assert png.shape == (2 * (H + 20), 3 * W + 64, 3)
    assert png.shape[:2] == vis.panel_shape(H, W, True, True)
    # the input image is drawn at full size under its title
    assert np.array_equal(png[20:20 + H, :W, ::-1], _image())


def test_panel_layouts():
    vis = _visualizer(title_height=10, colorbar_width=40)
    only_depth = vis.draw_panel(_image(), _sample(seg=False))
    assert only_depth.shape == (H + 10, 3 * W + 40, 3)
    only_seg = vis.draw_panel(_image(), _sample(depth=False))
    assert only_seg.shape == (H + 10, 3 * W, 3)
    no_gt = vis.draw_panel(_image(), _sample(gt=False))
    assert no_gt.shape == (2 * (H + 10), 3 * W + 40, 3)
    # missing GT tiles are blank
    assert np.all(no_gt[10:10 + H, W:2 * W] == 255)
    # image of another size is resized to the maps' size
    big = np.zeros((2 * H, 2 * W, 3), np.uint8)
    assert vis.draw_panel(big,
                          _sample()).shape == (2 * (H + 10), 3 * W + 40, 3)
    assert vis.draw_panel(_image(), None).shape == (H + 10, W, 3)


def test_colours_palette_invalid_and_shared_scale():
    vis = _visualizer(alpha=1.0)
    sample = _sample()
    panel = vis.draw_panel(_image(), sample)
    t = vis.title_height
    gt_seg = panel[t:t + H, W:2 * W]
    label = sample.gt_sem_seg.data[0].numpy()
    assert np.array_equal(gt_seg[label == 1][0], PALETTE[1])
    assert np.all(gt_seg[label == 255] == 0)  # ignored label: black
    row = H + 2 * t
    gt_depth = panel[row:row + H, W:2 * W]
    pred_depth = panel[row:row + H, 2 * W:3 * W]
    assert np.all(gt_depth[:, :4] == 128)  # invalid GT: grey
    assert not np.all(pred_depth[:, :4] == 128)
    # same depth -> same colour in both maps (shared scale)
    assert np.array_equal(gt_depth[10, 10], pred_depth[10, 10])
    assert np.array_equal(gt_depth[5:, 4:], pred_depth[5:, 4:])
    # the maximum takes the top colour of the bar
    bar = panel[H + t:2 * (H + t), 3 * W:]
    top_colour = bar[t, 4 + max(vis.colorbar_width // 5, 6) // 2]
    assert np.array_equal(gt_depth[10, 10], top_colour)
    fixed = _visualizer(depth_range=(0, 10), depth_cmap='magma')
    assert fixed._depth_limits([np.ones((2, 2))]) == (0.0, 10.0)


def test_backend_file_and_palette_fallback(tmp_path):
    vis = _visualizer(
        classes=None,
        palette=None,
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path))
    vis.dataset_meta = dict(classes=[f'c{i}' for i in range(40)])
    vis.add_datasample('test_frame', _image(), _sample(), step=3)
    png = cv2.imread(
        str(tmp_path / 'vis_data' / 'vis_image' / 'test_frame_3.png'))
    assert png.shape == (2 * (H + 20), 3 * W + 64, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match='depth_cmap'):
        _visualizer(depth_cmap='rainbow')
    with pytest.raises(ValueError, match='depth_range'):
        _visualizer(depth_range=(5, 1))


def test_hook_reads_file_or_batch(tmp_path):
    init_default_scope('mmseg')  # other tests may have left another scope
    vis = _visualizer(
        vis_backends=[dict(type='LocalVisBackend')], save_dir=str(tmp_path))
    hook = HOOKS.build(
        dict(type='MultiTaskVisualizationHook', draw=True, interval=1))
    assert isinstance(hook, MultiTaskVisualizationHook)
    assert hook._visualizer is vis
    img_file = tmp_path / 'frame_7.png'
    cv2.imwrite(str(img_file), _image()[..., ::-1])
    from_file = _sample(meta=dict(img_path=str(img_file)))
    from_batch = _sample(meta=dict(img_path='dataset.mat#3', sample_idx=3))
    batch = dict(inputs=[
        torch.zeros(3, H, W, dtype=torch.uint8),
        torch.from_numpy(_image()[..., ::-1].copy()).permute(2, 0, 1)
    ])
    runner = SimpleNamespace(iter=0)
    hook.after_test_iter(runner, 0, batch, [from_file, from_batch])
    out_dir = tmp_path / 'vis_data' / 'vis_image'
    for name in ('test_frame_7_0.png', 'test_3_0.png'):
        png = cv2.imread(str(out_dir / name))
        assert png.shape == (2 * (H + 20), 3 * W + 64, 3)
        # both show the same input (BGR batch image converted to RGB)
        assert np.array_equal(png[20:20 + H, :W, ::-1], _image())
    with pytest.raises(ValueError, match='input_channel_order'):
        MultiTaskVisualizationHook(draw=True, input_channel_order='yuv')
