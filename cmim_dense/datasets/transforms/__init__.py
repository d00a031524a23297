"""Transforms of the NYUD-v2 data (loading, border crop)."""
from .load_nyudv2_annotations import LoadNYUDv2Annotations
from .load_nyudv2_image import LoadNYUDv2Image
from .nyudv2_crop_border import NYUDv2CropBorder

__all__ = ['LoadNYUDv2Image', 'LoadNYUDv2Annotations', 'NYUDv2CropBorder']
