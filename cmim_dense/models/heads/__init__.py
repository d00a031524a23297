"""Dense prediction heads (depth; segmentation heads are mmseg's)."""
from .aspp_depth_head import ASPPDepthHead
from .depth_regression_mixin import DepthRegressionMixin
from .fcn_depth_head import FCNDepthHead

__all__ = ['DepthRegressionMixin', 'FCNDepthHead', 'ASPPDepthHead']
