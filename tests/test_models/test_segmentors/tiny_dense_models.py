"""Tiny dense models and batches shared by the segmentor tests."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
from typing import List, Optional, Tuple

import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from cmim_dense.registry import MODELS

BN = dict(type='BN')
IRNET = dict(type='BinaryConv2d', binarizer='irnet')
# binary convs need a signed activation before them (not ReLU)
PRELU = dict(type='PReLU')
NUM_CLASSES = 3
# IR-Net ResNet-18 at output stride 8 with 8 base channels
BACKBONE = dict(
    type='IRNetResNet',
    depth=18,
    stem_channels=8,
    base_channels=8,
    strides=(1, 2, 1, 1),
    dilations=(1, 1, 2, 4),
    norm_cfg=BN)
PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(32, 32))


def seg_head(**kwargs) -> dict:
    cfg = dict(
        type='ASPPHead',
        in_channels=64,
        in_index=3,
        channels=8,
        dilations=(1, 2),
        dropout_ratio=0.0,
        num_classes=NUM_CLASSES,
        norm_cfg=BN,
        conv_cfg=IRNET,
        act_cfg=PRELU)
    cfg.update(kwargs)
    return cfg


def depth_head(**kwargs) -> dict:
    cfg = dict(
        type='ASPPDepthHead',
        in_channels=64,
        in_index=3,
        channels=8,
        dilations=(1, 2),
        c1_in_channels=8,
        c1_channels=4,
        dropout_ratio=0.0,
        norm_cfg=BN,
        conv_cfg=IRNET,
        act_cfg=PRELU)
    cfg.update(kwargs)
    return cfg


def build_multi_task(**kwargs) -> nn.Module:
    init_default_scope('mmseg')
    cfg = dict(
        type='MultiTaskEncoderDecoder',
        data_preprocessor=PREPROCESSOR,
        backbone=BACKBONE,
        heads=dict(seg=seg_head(), depth=depth_head()),
        test_cfg=dict(mode='whole'))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def build_depth_estimator(**kwargs) -> nn.Module:
    init_default_scope('mmseg')
    cfg = dict(
        type='DenseDepthEstimator',
        data_preprocessor=PREPROCESSOR,
        backbone=BACKBONE,
        decode_head=depth_head(),
        test_cfg=dict(mode='whole'))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def make_samples(num: int,
                 size: Tuple[int, int] = (32, 32),
                 seg: bool = True,
                 depth: bool = True,
                 meta: Optional[dict] = None) -> List[SegDataSample]:
    """Samples with random GT (classes 0..2 and 255; depth 0 or 0.5..9.5)."""
    gen = torch.Generator().manual_seed(num)
    samples = []
    for i in range(num):
        info = dict(
            img_shape=size,
            ori_shape=size,
            pad_shape=size,
            sample_idx=i,
            img_path=f'img_{i}.png')
        info.update(meta or {})
        sample = SegDataSample(metainfo=info)
        if seg:
            label = torch.randint(0, NUM_CLASSES, (1, ) + size, generator=gen)
            label[:, :2] = 255
            sample.gt_sem_seg = PixelData(data=label)
        if depth:
            dep = torch.rand((1, ) + size, generator=gen) * 9 + 0.5
            dep[:, :, :2] = 0
            sample.gt_depth_map = PixelData(data=dep)
        samples.append(sample)
    return samples


def randomize_regressors(model: nn.Module) -> nn.Module:
    """Give ``conv_depth``/``conv_seg`` weights of std 1 (init is 0.01)."""
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, module in model.named_modules():
            if name.endswith(('conv_depth', 'conv_seg')):
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=gen))
    return model


class PixelwiseBackbone(nn.Module):
    """1x1 conv 'backbone': every output pixel sees one input pixel."""

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 1)

    def forward(self, x):
        return (torch.tanh(self.conv(x)), )
