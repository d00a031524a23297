"""Batch preprocessor for multi-task (segmentation + depth) samples."""
from numbers import Number
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.utils import SampleList

from cmim_dense.registry import MODELS


def stack_multitask_batch(
        inputs: List[torch.Tensor],
        data_samples: Optional[SampleList] = None,
        size: Optional[Tuple[int, int]] = None,
        size_divisor: Optional[int] = None,
        pad_val: Number = 0,
        seg_pad_val: Number = 255,
        depth_pad_val: Number = 0) -> Tuple[torch.Tensor, List[dict]]:
    """Pad images and targets at the bottom/right and stack the images.

    Like mmseg's ``stack_batch``, but each target gets its own padding:
    ``gt_sem_seg`` and ``gt_edge_map`` ``seg_pad_val`` (ignore), and
    ``gt_depth_map`` ``depth_pad_val`` (0 = invalid depth), instead of one
    value for all.

    Args:
        inputs (list[Tensor]): C x H x W images.
        data_samples (list[SegDataSample], optional): Their samples, padded
            in place. Defaults to None.
        size (tuple[int, int], optional): Pad to this (H, W).
        size_divisor (int, optional): Pad to a multiple of this (of the
            largest image). With neither, pad to the largest image.
        pad_val (Number): Image padding. Defaults to 0.
        seg_pad_val (Number): Segmentation padding. Defaults to 255.
        depth_pad_val (Number): Depth padding. Defaults to 0.

    Returns:
        tuple[Tensor, list[dict]]: The N x C x H x W batch and, per image,
        ``img_shape``, ``pad_shape`` and ``padding_size`` (left, right, top,
        bottom), also written into the samples' metainfo.
    """
    if not inputs or any(t.ndim != 3 for t in inputs):
        raise ValueError('expected a non-empty list of C x H x W tensors, '
                         f'got {[tuple(t.shape) for t in inputs]}')
    if len({t.shape[0] for t in inputs}) != 1:
        raise ValueError('images of a batch must have the same channels, '
                         f'got {[t.shape[0] for t in inputs]}')
    if size is not None and size_divisor is not None:
        raise ValueError('give size or size_divisor, not both')
    target_h = max(t.shape[-2] for t in inputs)
    target_w = max(t.shape[-1] for t in inputs)
    if size is not None:
        target_h, target_w = size[-2], size[-1]
    elif size_divisor is not None and size_divisor > 1:
        target_h = -(-target_h // size_divisor) * size_divisor
        target_w = -(-target_w // size_divisor) * size_divisor
    pad_values = dict(
        gt_sem_seg=seg_pad_val,
        gt_edge_map=seg_pad_val,
        gt_depth_map=depth_pad_val)
    padded, infos = [], []
    for i, tensor in enumerate(inputs):
        padding = (0, max(target_w - tensor.shape[-1],
                          0), 0, max(target_h - tensor.shape[-2], 0))
        padded.append(F.pad(tensor, padding, value=pad_val))
        info = dict(
            img_shape=tensor.shape[-2:],
            pad_shape=padded[-1].shape[-2:],
            padding_size=padding)
        if data_samples is not None:
            sample = data_samples[i]
            for key, value in pad_values.items():
                if key in sample:
                    field = getattr(sample, key)
                    data = field.data
                    del field.data
                    field.data = F.pad(data, padding, value=value)
            sample.set_metainfo(info)
        infos.append(info)
    return torch.stack(padded, dim=0), infos


@MODELS.register_module()
class MultiTaskDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` that pads depth with 0 and labels with 255.

    mmseg's ``SegDataPreProcessor`` (through ``stack_batch``) pads
    ``gt_depth_map`` with ``seg_pad_val`` (255 m of valid-looking depth).
    This preprocessor is otherwise the same (collation, ``bgr_to_rgb``,
    mean/std normalisation, ``size``/``size_divisor``, ``test_cfg``
    padding, batch augments), pads ``gt_depth_map`` with ``depth_pad_val``,
    and in training also accepts neither ``size`` nor ``size_divisor``
    (pad to the largest image).

    Args:
        mean (Sequence[Number], optional): Per-channel mean (R, G, B after
            conversion).
        std (Sequence[Number], optional): Per-channel std.
        size (tuple, optional): Fixed padded size.
        size_divisor (int, optional): Divisor of the padded size.
        pad_val (Number): Image padding. Defaults to 0.
        seg_pad_val (Number): Segmentation padding. Defaults to 255.
        depth_pad_val (Number): Depth padding (invalid). Defaults to 0.
        bgr_to_rgb (bool): Swap BGR to RGB (loaders give BGR). Defaults to
            False.
        rgb_to_bgr (bool): Swap RGB to BGR. Defaults to False.
        batch_augments (list[dict], optional): Batch augmentations.
        test_cfg (dict, optional): ``size``/``size_divisor`` padding at
            test time.
    """

    def __init__(self,
                 mean: Optional[Sequence[Number]] = None,
                 std: Optional[Sequence[Number]] = None,
                 size: Optional[tuple] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: Number = 0,
                 seg_pad_val: Number = 255,
                 depth_pad_val: Number = 0,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 batch_augments: Optional[List[dict]] = None,
                 test_cfg: Optional[dict] = None) -> None:
        super().__init__(
            mean=mean,
            std=std,
            size=size,
            size_divisor=size_divisor,
            pad_val=pad_val,
            seg_pad_val=seg_pad_val,
            bgr_to_rgb=bgr_to_rgb,
            rgb_to_bgr=rgb_to_bgr,
            batch_augments=batch_augments,
            test_cfg=test_cfg)
        self.depth_pad_val = depth_pad_val

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Collate, convert colours, normalise and pad a batch.

        Args:
            data (dict): ``inputs`` (list of C x H x W tensors) and
                ``data_samples`` from the dataloader.
            training (bool): Training mode (pads targets, runs batch
                augments). Defaults to False.

        Returns:
            dict: ``inputs`` (N x C x H x W float) and ``data_samples``.
        """
        data = self.cast_data(data)
        inputs = data['inputs']
        data_samples = data.get('data_samples', None)
        if self.channel_conversion and inputs[0].size(0) == 3:
            inputs = [x[[2, 1, 0], ...] for x in inputs]
        inputs = [x.float() for x in inputs]
        if self._enable_normalize:
            inputs = [(x - self.mean) / self.std for x in inputs]
        if training:
            if data_samples is None:
                raise ValueError('data_samples are required in training')
            inputs, _ = stack_multitask_batch(
                inputs,
                data_samples,
                size=self.size,
                size_divisor=self.size_divisor,
                pad_val=self.pad_val,
                seg_pad_val=self.seg_pad_val,
                depth_pad_val=self.depth_pad_val)
            if self.batch_augments is not None:
                inputs, data_samples = self.batch_augments(
                    inputs, data_samples)
        else:
            img_size = inputs[0].shape[1:]
            if any(x.shape[1:] != img_size for x in inputs):
                raise ValueError('the images of a test batch must have one '
                                 f'size, got {[x.shape[1:] for x in inputs]}')
            if self.test_cfg:
                inputs, infos = stack_multitask_batch(
                    inputs,
                    size=self.test_cfg.get('size', None),
                    size_divisor=self.test_cfg.get('size_divisor', None),
                    pad_val=self.pad_val)
                for sample, info in zip(data_samples or [], infos):
                    sample.set_metainfo(
                        dict(
                            img_padding_size=info['padding_size'],
                            pad_shape=info['pad_shape']))
            else:
                inputs = torch.stack(inputs, dim=0)
        return dict(inputs=inputs, data_samples=data_samples)
