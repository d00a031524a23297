"""Common base of the NYUD-v2 datasets (tasks, classes, metainfo)."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from .nyudv2_class_tables import (IGNORE_INDEX, NYU40_CLASSES, nyudv2_classes,
                                  nyudv2_palette)
from .nyudv2_regions import check_region

KNOWN_TASKS = ('seg', 'depth')


class BaseNYUDv2Dataset(BaseDataset):
    """Base of the NYUD-v2 datasets: one sample carries every task asked for.

    Subclasses list the frames of a layout in :meth:`load_data_list`; the
    data info of a frame tells :class:`LoadNYUDv2Image` and
    :class:`LoadNYUDv2Annotations` where to read it, so one pipeline serves
    every layout:

    - ``img_path`` (a real file, or ``<mat file>/<frame id>`` for a frame
      of the labeled ``.mat``, which also gives ``mat_path`` and
      ``frame_idx``), ``frame_id`` (e.g. ``'0001'``);
    - ``tasks``; for ``'seg'``: ``seg_map_path`` or the ``.mat``,
      ``label_source`` (``'nyu894'`` raw ids or ``'nyu40'``) and
      ``num_classes``; for ``'depth'``: ``depth_map_path`` with
      ``depth_scale`` (to metres) or the ``.mat`` field ``depth_field``;
    - ``crop_region`` (the ``crop_region`` argument: the loaders cut image
      and maps to that window right after reading them; packed with
      ``PackSegInputs(meta_keys=(..., 'crop_region'))`` it tells the
      region-aware metrics that the ground truth is already cut);
    - ``seg_fields`` (empty; the loaders append ``gt_seg_map`` and
      ``gt_depth_map`` so that geometric transforms apply to them);
    - ``sample_idx`` (added by :meth:`get_data_info`: the index into the
      dataset, which the CMIM memory bank needs; keep it in
      ``PackSegInputs(meta_keys=(..., 'sample_idx'))``).

    The metainfo holds ``classes`` (40 or 13 names), ``palette``,
    ``num_classes``, ``ignore_index`` (255), ``tasks`` and mmseg's
    ``reduce_zero_label`` (False: the loaders already map 0 to 255).

    Args:
        data_root (str): Folder of the data.
        tasks (Sequence[str]): Subset of ``('seg', 'depth')`` in the
            layout's ``SUPPORTED_TASKS``. Defaults to ``('seg', 'depth')``.
        num_classes (int): 40 (default) or 13.
        crop_region (str): Window of
            :data:`~cmim_dense.datasets.nyudv2_regions.REGIONS` every frame
            is cut to at load time (``'nyud_mt'``: the 425 x 560 frames of
            the multi-task anchors; ``'bts_train'``: BTS's training crop).
            Defaults to ``'full'`` (no cut).
        metainfo (dict, optional): Overrides of the metainfo (e.g. palette).
        pipeline (list): Transforms. Defaults to ``[]``.
        indices (int | Sequence[int], optional): Keep only these samples.
        serialize_data (bool): Serialise the data list (shared by workers).
            Defaults to True.
        test_mode (bool): Test phase. Defaults to False.
        lazy_init (bool): Defer :meth:`load_data_list`. Defaults to False.
        max_refetch (int): Refetch tries when the pipeline returns None.
            Defaults to 1000.
    """
    SUPPORTED_TASKS = KNOWN_TASKS
    METAINFO = dict(classes=NYU40_CLASSES, palette=nyudv2_palette(40))

    def __init__(self,
                 data_root: str = '',
                 tasks: Sequence[str] = ('seg', 'depth'),
                 num_classes: int = 40,
                 crop_region: str = 'full',
                 metainfo: Optional[dict] = None,
                 pipeline: List[Union[dict, Callable]] = [],
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000) -> None:
        if isinstance(tasks, str):
            tasks = (tasks, )
        tasks = tuple(tasks)
        unknown = [t for t in tasks if t not in KNOWN_TASKS]
        if not tasks or unknown:
            raise ValueError(f'tasks must be a non-empty subset of '
                             f'{KNOWN_TASKS}, got {tasks}')
        missing = [t for t in tasks if t not in self.SUPPORTED_TASKS]
        if missing:
            raise ValueError(
                f'{self.__class__.__name__} has no {", ".join(missing)} '
                f'annotations (supported tasks: {self.SUPPORTED_TASKS})')
        self.tasks = tasks
        self.num_classes = num_classes
        self.crop_region = check_region(
            crop_region, f'{self.__class__.__name__}: crop_region')
        meta = dict(
            classes=nyudv2_classes(num_classes),
            palette=nyudv2_palette(num_classes),
            num_classes=num_classes,
            ignore_index=IGNORE_INDEX,
            tasks=tasks,
            reduce_zero_label=False,
            label_map=None)
        meta.update(metainfo or {})
        super().__init__(
            ann_file='',
            metainfo=meta,
            data_root=data_root or '',
            data_prefix={},
            indices=indices,
            serialize_data=serialize_data,
            pipeline=pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    def _path(self, path: str) -> str:
        """Join a path with ``data_root`` unless it is absolute.

        Args:
            path (str): Path relative to ``data_root`` or absolute.

        Returns:
            str: The joined path.
        """
        if osp.isabs(path) or not self.data_root:
            return path
        return osp.join(self.data_root, path)

    def _frame_info(self, **fields) -> dict:
        """The data info entries common to every frame.

        Args:
            **fields: Layout-specific entries (paths, frame ids).

        Returns:
            dict: The frame's data info.
        """
        info = dict(
            tasks=self.tasks,
            seg_fields=[],
            reduce_zero_label=False,
            crop_region=self.crop_region)
        if 'seg' in self.tasks:
            info['num_classes'] = self.num_classes
        info.update(fields)
        return info
