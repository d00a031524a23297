"""Losses: depth losses and CMIM's contrastive loss."""
from .berhu_loss import BerHuLoss
from .cmim_nce_loss import CMIMNCELoss
from .depth_distill_loss import DepthDistillLoss
from .depth_l1_loss import DepthL1Loss
from .depth_silog_loss import DepthSiLogLoss
from .pixel_kl_distill_loss import PixelKLDistillLoss

__all__ = [
    'BerHuLoss', 'DepthL1Loss', 'DepthSiLogLoss', 'CMIMNCELoss',
    'DepthDistillLoss', 'PixelKLDistillLoss'
]
