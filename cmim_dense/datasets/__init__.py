"""Datasets (NYUD-v2: official .mat, folder layouts, synthetic twin)."""
from .nyudv2_base_dataset import BaseNYUDv2Dataset
from .nyudv2_class_tables import (MAP_40_TO_13, MAP_894_TO_40, NYU13_CLASSES,
                                  NYU40_CLASSES, NYU894_NAMES, nyudv2_classes,
                                  nyudv2_label_lut, nyudv2_palette)
from .nyudv2_converter import convert_nyudv2_to_folders
from .nyudv2_folder_dataset import NYUDv2FolderDataset
from .nyudv2_format_error import NYUDv2FormatError
from .nyudv2_mat_dataset import NYUDv2MatDataset
from .nyudv2_mat_file import (NYUDv2MatFile, close_nyudv2_mat_files,
                              get_nyudv2_mat_file)
from .nyudv2_mat_writer import NYUDv2MatWriter
from .nyudv2_mono_depth_dataset import NYUDv2MonoDepthDataset
from .nyudv2_splits import load_nyudv2_splits, save_nyudv2_splits
from .synthetic import (SYNTHETIC_RAW_IDS, generate_synthetic_nyudv2,
                        render_synthetic_frame)
from .nyudv2_regions import REGIONS, crop_to_region, region_box
from .transforms import (DepthAwareRandomResize, LoadNYUDv2Annotations,
                         LoadNYUDv2Image, NYUDv2CropBorder)

__all__ = [
    'BaseNYUDv2Dataset', 'NYUDv2MatDataset', 'NYUDv2FolderDataset',
    'NYUDv2MonoDepthDataset', 'NYUDv2FormatError', 'NYUDv2MatFile',
    'NYUDv2MatWriter', 'get_nyudv2_mat_file', 'close_nyudv2_mat_files',
    'load_nyudv2_splits', 'save_nyudv2_splits', 'generate_synthetic_nyudv2',
    'render_synthetic_frame', 'SYNTHETIC_RAW_IDS', 'convert_nyudv2_to_folders',
    'LoadNYUDv2Image', 'LoadNYUDv2Annotations', 'NYUDv2CropBorder',
    'DepthAwareRandomResize', 'REGIONS', 'region_box', 'crop_to_region',
    'NYU40_CLASSES', 'NYU13_CLASSES', 'NYU894_NAMES', 'MAP_894_TO_40',
    'MAP_40_TO_13', 'nyudv2_classes', 'nyudv2_palette', 'nyudv2_label_lut'
]
