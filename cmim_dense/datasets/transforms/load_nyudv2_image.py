"""Load a NYUD-v2 image from the labeled ``.mat`` or from an image file."""
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile

from cmim_dense.registry import TRANSFORMS
from ..nyudv2_mat_file import get_nyudv2_mat_file
from ..nyudv2_regions import crop_to_region


@TRANSFORMS.register_module()
class LoadNYUDv2Image(LoadImageFromFile):
    """Load the image of a NYUD-v2 frame as H x W x 3 uint8 **BGR**.

    Frames of the labeled ``.mat`` (data info with ``mat_path`` and
    ``frame_idx``) are read with h5py (``images[i].transpose(2, 1, 0)``,
    RGB) and returned in BGR order, exactly like images that mmcv's
    ``LoadImageFromFile`` decodes from files; other data infos are loaded
    by ``LoadImageFromFile`` itself. Configs therefore use one data
    preprocessor (``bgr_to_rgb=True``) for every layout, and photometric
    transforms that expect BGR (``PhotoMetricDistortion``) behave the same.

    A data info with ``crop_region`` (set by the NYUD-v2 datasets'
    ``crop_region`` argument) has its image cut to that window of
    :data:`~cmim_dense.datasets.nyudv2_regions.REGIONS` right after
    reading, so ``ori_shape`` is the window's size;
    :class:`LoadNYUDv2Annotations` cuts the maps the same way.

    Required Keys:

    - img_path, or mat_path + frame_idx

    Added Keys:

    - img, img_shape, ori_shape

    Args:
        to_float32 (bool): Return float32 instead of uint8. Defaults to
            False.
        **kwargs: Other ``LoadImageFromFile`` arguments (file loading).
    """

    def __init__(self, to_float32: bool = False, **kwargs) -> None:
        super().__init__(to_float32=to_float32, **kwargs)

    def transform(self, results: dict) -> Optional[dict]:
        """Load the image.

        Args:
            results (dict): Data info of one frame.

        Returns:
            dict: ``results`` with the image.
        """
        if 'mat_path' not in results:
            results = super().transform(results)
            if results is not None:
                self._crop(results)
            return results
        reader = get_nyudv2_mat_file(results['mat_path'],
                                     results.get('mat_fields', ('images', )))
        rgb = reader.read('images', results['frame_idx'])
        img = np.ascontiguousarray(rgb[..., ::-1])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        self._crop(results)
        return results

    @staticmethod
    def _crop(results: dict) -> None:
        """Cut the image to ``crop_region`` and set the shapes.

        Args:
            results (dict): Data info with the loaded ``img``.
        """
        img = crop_to_region(results['img'],
                             results.get('crop_region', 'full'))
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
