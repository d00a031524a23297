"""Datasets (NYUD-v2: official .mat, folder layouts, synthetic twin)."""
from .nyudv2_class_tables import (NYU13_CLASSES, NYU40_CLASSES, nyudv2_classes,
                                  nyudv2_palette)
from .nyudv2_converter import convert_nyudv2_to_folders
from .nyudv2_folder_dataset import NYUDv2FolderDataset
from .nyudv2_format_error import NYUDv2FormatError
from .nyudv2_mat_dataset import NYUDv2MatDataset
from .nyudv2_mono_depth_dataset import NYUDv2MonoDepthDataset
from .nyudv2_splits import load_nyudv2_splits
from .synthetic import generate_synthetic_nyudv2
from .transforms import (DepthAwareRandomResize, LoadNYUDv2Annotations,
                         LoadNYUDv2Image, NYUDv2CropBorder)

__all__ = [
    'NYUDv2MatDataset', 'NYUDv2FolderDataset', 'NYUDv2MonoDepthDataset',
    'NYUDv2FormatError', 'load_nyudv2_splits', 'generate_synthetic_nyudv2',
    'convert_nyudv2_to_folders', 'LoadNYUDv2Image', 'LoadNYUDv2Annotations',
    'NYUDv2CropBorder', 'DepthAwareRandomResize', 'NYU40_CLASSES',
    'NYU13_CLASSES', 'nyudv2_classes', 'nyudv2_palette'
]
