"""Crop the invalid border of the registered NYUD-v2 frames."""
from typing import Sequence, Union

from mmcv.transforms import BaseTransform

from cmim_dense.registry import TRANSFORMS


@TRANSFORMS.register_module()
class NYUDv2CropBorder(BaseTransform):
    """Crop a fixed border from the image and every map in ``seg_fields``.

    The labeled NYUD-v2 frames have a thin border (about 7 px at 640 x 480)
    of invalid pixels left by the Kinect registration (unlabeled, no raw
    depth, blank image). Use this right after the loaders; when the frame
    has not been resized yet, ``ori_shape`` becomes the cropped size too, so
    that predictions are compared with the cropped ground truth.

    Required Keys:

    - img, seg_fields (and the maps they name)

    Modified Keys:

    - img, img_shape, ori_shape (see above), the maps in seg_fields

    Args:
        border (int | Sequence[int]): Pixels to drop: one value for all
            sides or ``(top, bottom, left, right)``. Defaults to 7.
        scale_with_width (bool): Scale the border by ``W / 640`` (for
            frames stored at another size, e.g. the synthetic twin at
            160 x 120). Defaults to False.
    """

    def __init__(self,
                 border: Union[int, Sequence[int]] = 7,
                 scale_with_width: bool = False) -> None:
        sides = (border, ) * 4 if isinstance(border, int) else tuple(border)
        if len(sides) != 4 or any(int(s) != s or s < 0 for s in sides):
            raise ValueError('border must be a non-negative int or 4 ints '
                             f'(top, bottom, left, right), got {border!r}')
        self.border = tuple(int(s) for s in sides)
        self.scale_with_width = scale_with_width

    def transform(self, results: dict) -> dict:
        """Crop the image and maps.

        Args:
            results (dict): Loaded frame.

        Returns:
            dict: The cropped frame.
        """
        height, width = results['img'].shape[:2]
        top, bottom, left, right = self.border
        if self.scale_with_width:
            top, bottom, left, right = (
                int(round(s * width / 640)) for s in self.border)
        if top + bottom >= height or left + right >= width:
            raise ValueError(f'border {(top, bottom, left, right)} leaves '
                             f'nothing of a {height}x{width} frame')
        rows = slice(top, height - bottom)
        cols = slice(left, width - right)
        unresized = tuple(results.get('ori_shape', ())[:2]) == (height, width)
        results['img'] = results['img'][rows, cols].copy()
        for key in results.get('seg_fields', []):
            if results.get(key) is not None:
                results[key] = results[key][rows, cols].copy()
        results['img_shape'] = results['img'].shape[:2]
        if unresized:
            results['ori_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        """Summary for logs.

        Returns:
            str: The summary.
        """
        return (f'{self.__class__.__name__}(border={self.border}, '
                f'scale_with_width={self.scale_with_width})')
