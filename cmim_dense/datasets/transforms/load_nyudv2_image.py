"""Load a NYUD-v2 image from the labeled ``.mat`` or from an image file."""
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile

from cmim_dense.registry import TRANSFORMS
from ..nyudv2_mat_file import get_nyudv2_mat_file


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
            return super().transform(results)
        reader = get_nyudv2_mat_file(results['mat_path'],
                                     results.get('mat_fields', ('images', )))
        rgb = reader.read('images', results['frame_idx'])
        img = np.ascontiguousarray(rgb[..., ::-1])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
