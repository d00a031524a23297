"""NYUD-v2 in the multi-task folder layout (MTL-PyTorch, MTI-Net, InvPT)."""
import os
import os.path as osp
from typing import Dict, List, Sequence

from cmim_dense.registry import DATASETS
from .nyudv2_base_dataset import BaseNYUDv2Dataset
from .nyudv2_format_error import NYUDv2FormatError


def _list_stems(folder: str, suffixes: Sequence[str]) -> Dict[str, str]:
    """Map file stems to file names for the given suffixes.

    Args:
        folder (str): Folder to list (missing: empty map).
        suffixes (Sequence[str]): Accepted suffixes, first wins.

    Returns:
        dict[str, str]: stem -> file name.
    """
    if not osp.isdir(folder):
        return {}
    found: Dict[str, str] = {}
    names = set(os.listdir(folder))
    for suffix in reversed(tuple(suffixes)):
        for name in names:
            if name.endswith(suffix):
                found[name[:-len(suffix)]] = name
    return found


@DATASETS.register_module()
class NYUDv2FolderDataset(BaseNYUDv2Dataset):
    """The multi-task layout that multi-task repositories distribute.

    .. code-block:: none

        data_root/
        ├── images/<id>.jpg (or .png)
        ├── segmentation/<id>.png   uint8, 0 void, 1..40
        ├── depth/<id>.npy          float, metres, 0 invalid
        └── gt_sets/{train,val}.txt one id per line (795 / 654)

    Frames of any size are accepted (ATRC/InvPT ship a 425 x 560 crop);
    ``tools/dataset_converters/nyudv2.py`` writes this layout from the
    labeled ``.mat``. Segmentation maps to 40 classes (or 13), 0 -> 255.

    Args:
        data_root (str): Root of the layout.
        split (str): Name of the id list ``gt_sets/<split>.txt``:
            ``'train'`` or ``'val'`` (``'test'`` reads ``val.txt`` when no
            ``test.txt`` exists). Defaults to ``'train'``.
        tasks (Sequence[str]): Subset of ``('seg', 'depth')``.
        num_classes (int): 40 or 13. Defaults to 40.
        img_dir (str): Defaults to ``'images'``.
        seg_dir (str): Defaults to ``'segmentation'``.
        depth_dir (str): Defaults to ``'depth'``.
        split_dir (str): Defaults to ``'gt_sets'``.
        img_suffixes (Sequence[str]): Image suffixes tried in order.
            Defaults to ``('.jpg', '.png')``.
        **kwargs: :class:`BaseNYUDv2Dataset` arguments.
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 tasks: Sequence[str] = ('seg', 'depth'),
                 num_classes: int = 40,
                 img_dir: str = 'images',
                 seg_dir: str = 'segmentation',
                 depth_dir: str = 'depth',
                 split_dir: str = 'gt_sets',
                 img_suffixes: Sequence[str] = ('.jpg', '.png'),
                 **kwargs) -> None:
        self.split = split
        self.img_dir = img_dir
        self.seg_dir = seg_dir
        self.depth_dir = depth_dir
        self.split_dir = split_dir
        self.img_suffixes = tuple(img_suffixes)
        super().__init__(
            data_root=data_root,
            tasks=tasks,
            num_classes=num_classes,
            **kwargs)

    def _read_ids(self) -> List[str]:
        """Read and check ``gt_sets/<split>.txt``.

        Returns:
            list[str]: Frame ids in file order.
        """
        path = self._path(osp.join(self.split_dir, f'{self.split}.txt'))
        if self.split == 'test' and not osp.isfile(path):
            path = self._path(osp.join(self.split_dir, 'val.txt'))
        if not osp.isfile(path):
            raise NYUDv2FormatError(
                path, f'split list not found (is {self.data_root!r} a '
                'complete multi-task layout?)',
                field=self.split_dir)
        with open(path, encoding='utf-8') as file:
            ids = [line.strip() for line in file if line.strip()]
        if not ids:
            raise NYUDv2FormatError(path, 'empty split list')
        seen = set()
        repeated = [i for i in ids if i in seen or seen.add(i)]
        if repeated:
            raise NYUDv2FormatError(path, f'repeated ids, e.g. {repeated[:5]}')
        return ids

    def load_data_list(self) -> List[dict]:
        """List the frames of the split and check their files exist.

        Returns:
            list[dict]: One data info per frame.
        """
        ids = self._read_ids()
        img_dir = self._path(self.img_dir)
        images = _list_stems(img_dir, self.img_suffixes)
        folders = [('images', img_dir, images)]
        if 'seg' in self.tasks:
            seg_dir = self._path(self.seg_dir)
            folders.append(
                ('segmentation', seg_dir, _list_stems(seg_dir, ('.png', ))))
        if 'depth' in self.tasks:
            depth_dir = self._path(self.depth_dir)
            folders.append(
                ('depth', depth_dir, _list_stems(depth_dir, ('.npy', ))))
        for part, folder, files in folders:
            missing = [i for i in ids if i not in files]
            if missing:
                raise NYUDv2FormatError(
                    folder, f'{len(missing)} of the {len(ids)} listed frames '
                    f'have no file, e.g. {missing[:5]}',
                    field=part)
        data_list = []
        for frame_id in ids:
            info = self._frame_info(
                img_path=osp.join(img_dir, images[frame_id]),
                frame_id=frame_id)
            if 'seg' in self.tasks:
                info['seg_map_path'] = osp.join(folders[1][1],
                                                f'{frame_id}.png')
                info['label_source'] = 'nyu40'
            if 'depth' in self.tasks:
                info['depth_map_path'] = osp.join(folders[-1][1],
                                                  f'{frame_id}.npy')
                info['depth_scale'] = 1.0
            data_list.append(info)
        return data_list
