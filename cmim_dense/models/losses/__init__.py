"""Losses: depth losses and CMIM's contrastive loss."""
from .base_depth_loss import BaseDepthLoss
from .berhu_loss import BerHuLoss
from .cmim_nce_loss import (CMIMNCELoss, bank_scores, crd_nce_loss,
                            info_nce_loss)
from .contrast_memory import ContrastMemory
from .depth_distill_loss import DepthDistillLoss
from .depth_l1_loss import DepthL1Loss
from .depth_silog_loss import SILOG_VARIANTS, DepthSiLogLoss
from .pixel_kl_distill_loss import PixelKLDistillLoss

__all__ = [
    'BaseDepthLoss', 'BerHuLoss', 'DepthL1Loss', 'DepthSiLogLoss',
    'SILOG_VARIANTS', 'CMIMNCELoss', 'ContrastMemory', 'bank_scores',
    'crd_nce_loss', 'info_nce_loss', 'DepthDistillLoss', 'PixelKLDistillLoss'
]
