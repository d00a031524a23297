"""NYUD-v2 from the official ``nyu_depth_v2_labeled.mat`` (+ a split)."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from cmim_dense.registry import DATASETS
from .nyudv2_base_dataset import BaseNYUDv2Dataset
from .nyudv2_mat_file import NYUDv2MatFile
from .nyudv2_splits import default_nyudv2_split_file, load_nyudv2_splits
from .synthetic import generate_synthetic_nyudv2

DEPTH_SOURCES = ('depths', 'rawDepths')


@DATASETS.register_module()
class NYUDv2MatDataset(BaseNYUDv2Dataset):
    """The official labeled set, read lazily frame by frame with h5py.

    ``data_root`` holds ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 / HDF5,
    2.8 GB, never loaded whole). The official split (795 train / 654 test
    frames) ships with the package; a ``splits.mat`` in ``data_root`` (or
    ``split_file``) is read instead when present. The file layout is
    checked at construction (fields, dtypes, shapes agreeing, split
    indices in range and disjoint); frame contents (label range, non-finite
    depth) when a frame is loaded. Each
    process (DataLoader worker) opens its own handle on first use.

    Segmentation uses the raw labels (1..894) mapped to 40 classes (or 13)
    with the tables carried by the package; 0 (unlabeled) becomes 255.
    Depth is ``depths`` (in-painted, default) or ``rawDepths`` (0 = hole),
    in metres. With ``with_instances`` the ``instances`` field is loaded as
    ``gt_instance_map`` (NYU instance ids, unique per class within a frame;
    not packed by ``PackSegInputs``).

    Example::

        dataset = dict(
            type='NYUDv2MatDataset', data_root='data/nyudv2', split='train',
            tasks=('seg', 'depth'), pipeline=[
                dict(type='LoadNYUDv2Image'),
                dict(type='LoadNYUDv2Annotations'),
                dict(type='RandomFlip', prob=0.5),
                dict(type='PackSegInputs', meta_keys=(
                    'img_path', 'ori_shape', 'img_shape', 'pad_shape',
                    'scale_factor', 'flip', 'flip_direction',
                    'sample_idx'))])

    Args:
        data_root (str): Folder of the labeled file (and of a split file).
        split (str, optional): ``'train'``, ``'test'`` (``'val'`` is an
            alias) or None for every frame in file order (no split file
            needed). Defaults to ``'train'``.
        mat_file (str): Labeled set, relative to ``data_root``. Defaults to
            ``'nyu_depth_v2_labeled.mat'``.
        split_file (str, optional): Split file, relative to ``data_root``
            unless absolute. Defaults to None: ``data_root/splits.mat`` if it
            exists (the synthetic twin writes one), else the official split
            carried by the package (1449-frame labeled set only).
        tasks (Sequence[str]): Subset of ``('seg', 'depth')``.
        num_classes (int): 40 or 13. Defaults to 40.
        depth_source (str): ``'depths'`` or ``'rawDepths'``. Defaults to
            ``'depths'``.
        with_instances (bool): Also load ``instances``. Defaults to False.
        synthetic (dict, optional): If the two files are missing from
            ``data_root``, generate the synthetic twin there first with these
            arguments of :func:`~cmim_dense.datasets.synthetic.\
generate_synthetic_nyudv2` (``num_frames``, ``height``, ``width``,
            ``seed``): the quickstart's data, read by the real loader. An
            existing set made with other parameters is refused. Defaults to
            None (the files must exist).
        **kwargs: :class:`BaseNYUDv2Dataset` arguments (pipeline, indices,
            test_mode, ...).
    """

    def __init__(self,
                 data_root: str = '',
                 split: Optional[str] = 'train',
                 mat_file: str = 'nyu_depth_v2_labeled.mat',
                 split_file: Optional[str] = None,
                 tasks: Sequence[str] = ('seg', 'depth'),
                 num_classes: int = 40,
                 depth_source: str = 'depths',
                 with_instances: bool = False,
                 synthetic: Optional[dict] = None,
                 **kwargs) -> None:
        if split == 'val':
            split = 'test'
        if split not in ('train', 'test', None):
            raise ValueError(f"split must be 'train', 'test' ('val') or "
                             f'None, got {split!r}')
        if depth_source not in DEPTH_SOURCES:
            raise ValueError(f'depth_source must be one of {DEPTH_SOURCES}, '
                             f'got {depth_source!r}')
        self.split = split
        self.mat_file = mat_file
        self.split_file = split_file
        self.depth_source = depth_source
        self.with_instances = with_instances
        self.synthetic = synthetic
        super().__init__(
            data_root=data_root,
            tasks=tasks,
            num_classes=num_classes,
            **kwargs)

    def _fields(self) -> tuple:
        """The HDF5 fields the requested tasks need.

        Returns:
            tuple[str]: Field names, ``images`` first.
        """
        fields = ['images']
        if 'seg' in self.tasks:
            fields.append('labels')
        if 'depth' in self.tasks:
            fields.append(self.depth_source)
        if self.with_instances:
            fields.append('instances')
        return tuple(fields)

    def _ensure_synthetic(self, mat_path: str) -> None:
        """Generate the synthetic twin into ``data_root`` (idempotent).

        Deterministic and written with atomic renames, so concurrent ranks
        generating at once end with the same files.
        """
        if self.mat_file != 'nyu_depth_v2_labeled.mat' or \
                self.split_file not in (None, 'splits.mat'):
            raise ValueError('synthetic= writes the default file names; '
                             'do not set mat_file/split_file with it')
        generate_synthetic_nyudv2(osp.dirname(mat_path), **self.synthetic)

    def load_data_list(self) -> List[dict]:
        """Check the files and list the frames of the split.

        Returns:
            list[dict]: One data info per frame.
        """
        mat_path = osp.abspath(self._path(self.mat_file))
        if self.synthetic is not None:
            self._ensure_synthetic(mat_path)
        fields = self._fields()
        mat = NYUDv2MatFile(mat_path, fields)
        if self.split is None:
            frames = np.arange(mat.num_frames)
        else:
            split_path = (
                self._path(self.split_file) if self.split_file is not None
                else default_nyudv2_split_file(self.data_root))
            frames = load_nyudv2_splits(split_path, mat.num_frames)[self.split]
        data_list = []
        for frame in frames.tolist():
            frame_id = f'{frame + 1:04d}'
            info = self._frame_info(
                img_path=osp.join(mat_path, frame_id),
                mat_path=mat_path,
                mat_fields=fields,
                frame_idx=frame,
                frame_id=frame_id)
            if 'seg' in self.tasks:
                info['label_source'] = 'nyu894'
            if 'depth' in self.tasks:
                info['depth_field'] = self.depth_source
            if self.with_instances:
                info['instance_field'] = 'instances'
            data_list.append(info)
        return data_list
