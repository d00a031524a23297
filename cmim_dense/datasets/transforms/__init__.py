"""Transforms of the NYUD-v2 data (loading, border crop, depth-aware
resize)."""
from .depth_aware_random_resize import DepthAwareRandomResize
from .load_nyudv2_annotations import LoadNYUDv2Annotations
from .load_nyudv2_image import LoadNYUDv2Image
from .nyudv2_crop_border import NYUDv2CropBorder

__all__ = [
    'LoadNYUDv2Image', 'LoadNYUDv2Annotations', 'NYUDv2CropBorder',
    'DepthAwareRandomResize'
]
