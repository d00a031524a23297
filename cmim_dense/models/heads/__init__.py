"""Dense prediction heads (depth; segmentation heads are mmseg's)."""
from .aspp_depth_head import ASPPDepthHead
from .fcn_depth_head import FCNDepthHead

__all__ = ['FCNDepthHead', 'ASPPDepthHead']
