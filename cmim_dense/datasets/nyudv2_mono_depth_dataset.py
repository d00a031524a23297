"""NYUD-v2 in the monocular-depth layout of BTS and mmseg's ``NYUDataset``."""
import os
import os.path as osp
from typing import List, Optional, Sequence

from cmim_dense.registry import DATASETS
from .nyudv2_base_dataset import BaseNYUDv2Dataset
from .nyudv2_format_error import NYUDv2FormatError


@DATASETS.register_module()
class NYUDv2MonoDepthDataset(BaseNYUDv2Dataset):
    """Depth-only NYUD-v2 in the layout mmseg's ``NYUDataset`` reads.

    .. code-block:: none

        data_root/
        ├── images/{train,test}/<scene>_<id>.jpg
        └── annotations/{train,test}/<scene>_<id>.png  uint16 millimetres

    The depth PNG is read as uint16 and scaled to metres
    (``depth_scale=1e-3``; 0 stays invalid). The data info also carries
    ``depth_map_path``, so mmseg's ``LoadDepthAnnotation`` works too. This
    layout has no segmentation; ``tasks`` must be ``('depth', )``.

    Args:
        data_root (str): Root of the layout.
        split (str, optional): Sub-folder of ``images``/``annotations``
            (``'train'``, ``'test'``), or None when the files lie directly
            in them. Defaults to ``'train'``.
        img_dir (str): Defaults to ``'images'``.
        depth_dir (str): Defaults to ``'annotations'``.
        img_suffix (str): Defaults to ``'.jpg'``.
        depth_suffix (str): Defaults to ``'.png'``.
        depth_scale (float): Stored value -> metres. Defaults to 1e-3.
        tasks (Sequence[str]): Must be ``('depth', )``.
        **kwargs: :class:`BaseNYUDv2Dataset` arguments.
    """
    SUPPORTED_TASKS = ('depth', )

    def __init__(self,
                 data_root: str = '',
                 split: Optional[str] = 'train',
                 img_dir: str = 'images',
                 depth_dir: str = 'annotations',
                 img_suffix: str = '.jpg',
                 depth_suffix: str = '.png',
                 depth_scale: float = 1e-3,
                 tasks: Sequence[str] = ('depth', ),
                 **kwargs) -> None:
        self.split = split
        self.img_dir = img_dir
        self.depth_dir = depth_dir
        self.img_suffix = img_suffix
        self.depth_suffix = depth_suffix
        self.depth_scale = depth_scale
        super().__init__(data_root=data_root, tasks=tasks, **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the images (recursively, sorted) and their depth maps.

        Returns:
            list[dict]: One data info per frame.
        """
        sub = self.split or ''
        img_dir = self._path(osp.join(self.img_dir, sub))
        depth_dir = self._path(osp.join(self.depth_dir, sub))
        if not osp.isdir(img_dir):
            raise NYUDv2FormatError(
                img_dir, 'image folder not found', field=self.img_dir)
        names = []
        for root, _, files in os.walk(img_dir):
            for name in files:
                if name.endswith(self.img_suffix):
                    names.append(osp.relpath(osp.join(root, name), img_dir))
        if not names:
            raise NYUDv2FormatError(
                img_dir, f'no *{self.img_suffix} image', field=self.img_dir)
        data_list = []
        missing = []
        for name in sorted(names):
            stem = name[:-len(self.img_suffix)]
            depth_path = osp.join(depth_dir, stem + self.depth_suffix)
            if not osp.isfile(depth_path):
                missing.append(depth_path)
                continue
            data_list.append(
                self._frame_info(
                    img_path=osp.join(img_dir, name),
                    frame_id=osp.basename(stem),
                    depth_map_path=depth_path,
                    depth_scale=self.depth_scale))
        if missing:
            raise NYUDv2FormatError(
                depth_dir, f'{len(missing)} images have no depth map, e.g. '
                f'{missing[:3]}',
                field=self.depth_dir)
        return data_list
