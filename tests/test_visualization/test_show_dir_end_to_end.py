"""``tools/test.py --show-dir`` on a toy multi-task dataset, in process."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import importlib.util
import math
import os.path as osp
import uuid
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.datasets import BaseSegDataset

from cmim_dense.registry import DATASETS, MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
SIZE = (24, 32)  # H, W
CLASSES = ('wall', 'floor', 'cabinet')


@DATASETS.register_module(force=True)
class ToyDepthSegDataset(BaseSegDataset):
    """BaseSegDataset plus ``depth_dir/<stem>.png`` (uint16 millimetres)."""

    METAINFO = dict(
        classes=CLASSES, palette=[[200, 0, 0], [0, 200, 0], [0, 0, 200]])

    def load_data_list(self):
        data_list = super().load_data_list()
        for info in data_list:
            stem = osp.splitext(osp.basename(info['img_path']))[0]
            info['depth_map_path'] = osp.join(self.data_root, 'depth_dir',
                                              f'{stem}.png')
        return data_list


CONFIG = '''
default_scope = 'mmseg'
custom_imports = dict(imports=['cmim_dense'], allow_failed_imports=False)
norm_cfg = dict(type='BN')
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[0., 0., 0.], std=[255., 255., 255.],
        bgr_to_rgb=True, size_divisor=8),
    backbone=dict(type='IRNetResNet', depth=18, stem_channels=8,
                  base_channels=8, strides=(1, 2, 1, 1),
                  dilations=(1, 1, 2, 4), norm_cfg=norm_cfg),
    heads=dict(
        seg=dict(type='FCNHead', in_channels=64, in_index=3, channels=8,
                 num_convs=1, concat_input=False, num_classes=3,
                 norm_cfg=norm_cfg),
        depth=dict(type='FCNDepthHead', in_channels=64, in_index=3,
                   channels=8, num_convs=1, norm_cfg=norm_cfg)),
    test_cfg=dict(mode='slide', crop_size=(24, 24), stride=(16, 16)))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LoadDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ToyDepthSegDataset', data_root='DATA_ROOT',
                 data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
                 img_suffix='.png', seg_map_suffix='.png',
                 pipeline=test_pipeline))
test_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='DepthEvalMetric', aggregation='pixel'),
]
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    visualization=dict(type='MultiTaskVisualizationHook', interval=1))
visualizer = dict(type='MultiTaskLocalVisualizer', name='VIS_NAME',
                  vis_backends=[dict(type='LocalVisBackend')])
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'),
               mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
log_level = 'WARNING'
randomness = dict(seed=0)
'''


def _make_data(root: Path, num: int = 3) -> None:
    rng = np.random.default_rng(0)
    for sub in ('img_dir', 'ann_dir', 'depth_dir'):
        (root / sub).mkdir(parents=True)
    for i in range(num):
        img = rng.integers(0, 256, SIZE + (3, ), dtype=np.uint8)
        label = rng.integers(0, 3, SIZE).astype(np.uint8)
        label[:2] = 255
        depth = rng.integers(500, 9000, SIZE).astype(np.uint16)
        depth[:, :3] = 0  # invalid
        cv2.imwrite(str(root / 'img_dir' / f'f{i}.png'), img)
        cv2.imwrite(str(root / 'ann_dir' / f'f{i}.png'), label)
        cv2.imwrite(str(root / 'depth_dir' / f'f{i}.png'), depth)


def _load_test_tool():
    spec = importlib.util.spec_from_file_location(
        'cmim_dense_tool_test_e2e', REPO_ROOT / 'tools' / 'test.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_show_dir_writes_one_panel_per_image(tmp_path):
    data_root = tmp_path / 'data'
    _make_data(data_root)
    cfg_text = CONFIG.replace('DATA_ROOT', str(data_root)).replace(
        'VIS_NAME', f'e2e-{uuid.uuid4().hex}')
    cfg_file = tmp_path / 'multi_task_toy.py'
    cfg_file.write_text(cfg_text)
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(str(cfg_file)).model)
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)

    show_dir = tmp_path / 'show'
    metrics = _load_test_tool().main([
        str(cfg_file),
        str(ckpt), '--work-dir',
        str(tmp_path / 'work'), '--show-dir',
        str(show_dir)
    ])
    for key in ('mIoU', 'aAcc', 'rmse', 'd1', 'silog'):
        assert math.isfinite(metrics[key]), key
    panels = sorted((show_dir / 'vis_data' / 'vis_image').glob('*.png'))
    assert [p.name for p in panels
            ] == ['test_f0_0.png', 'test_f1_0.png', 'test_f2_0.png']
    h, w = SIZE
    for panel in panels:
        assert cv2.imread(str(panel)).shape == (2 * (h + 20), 3 * w + 64, 3)
