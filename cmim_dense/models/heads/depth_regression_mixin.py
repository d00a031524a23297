"""Turn an mmseg decode head into a bounded metric-depth regressor."""
import math
import warnings
from typing import List

import torch
from mmseg.models.utils import resize
from mmseg.utils import SampleList
from torch import Tensor, nn

#: ``BaseDecodeHead`` options that only make sense for classification.
_SEG_ONLY_ARGS = ('threshold', 'sampler', 'ignore_index')
#: Activations whose output is >= 0: a binary conv after them sees only +1.
_NON_NEGATIVE_ACTS = ('ReLU', 'ReLU6', 'Sigmoid', 'HSigmoid')


class DepthRegressionMixin:
    """Mixin placed before an mmseg decode head to regress depth.

    ``class ASPPDepthHead(DepthRegressionMixin, ASPPHead)`` keeps everything
    of mmseg's head (its inner layers, ``_forward_feature``, ``in_index``,
    ``input_transform``, ``align_corners``, ``predict``) and changes only
    what differs for depth:

    - the classifier ``conv_seg`` is replaced by the FP regressor
      ``conv_depth = nn.Conv2d(channels, 1, 1)`` (``binarize_modules`` keeps
      ``*conv_depth`` FP) whose output ``x`` is bounded::

          depth = min_depth + (max_depth - min_depth) * sigmoid(x)

      so ``0 < min_depth < depth < max_depth`` (in float32 ``depth`` may
      round to the bounds when the sigmoid saturates);
    - ``forward`` returns ``regress_depth(_forward_feature(inputs))``;
      ``cls_seg`` raises;
    - ``loss_by_feat`` reads ``gt_depth_map`` (metres, ``0`` = invalid) of
      every data sample. Ground truth deeper than ``max_depth`` cannot be
      predicted by the bounded output and is set to 0 (invalid) before the
      losses: this also removes the ``seg_pad_val`` (255) that mmseg's
      ``SegDataPreProcessor`` pads depth maps with.

    Inner convs are mmseg's ``ConvModule`` built with ``conv_cfg``, so
    ``conv_cfg=dict(type='BinaryConv2d', ...)`` binarizes them. ``sign``
    maps a ReLU output (>= 0) to +1 everywhere, so a binary conv fed by
    another ConvModule with ReLU computes a constant; use an activation with
    negative outputs (``act_cfg=dict(type='PReLU')`` or
    ``dict(type='Hardtanh')``). :meth:`_check_binary_chain` warns otherwise
    (mmseg's ``ASPPHead`` / ``FCNHead`` have the same property).

    Args:
        max_depth (float): Upper bound of the output, metres. Defaults to
            10 (NYUD-v2).
        min_depth (float): Lower bound of the output, > 0. Defaults to 1e-3.
        num_classes (int): Must be 1 (accepted for config compatibility).
        out_channels (int): Must be 1.
        loss_decode (dict | Sequence[dict]): Depth losses. Defaults to
            ``dict(type='DepthSiLogLoss')``.
        init_cfg (dict | list[dict], optional): Defaults to a normal init
            (std 0.01) of ``conv_depth``.
        **kwargs: Arguments of the mmseg head (``in_channels``,
            ``channels``, ``dropout_ratio``, ``conv_cfg``, ``norm_cfg``,
            ``act_cfg``, ``in_index``, ``input_transform``, ...).

    Raises:
        ValueError: If ``num_classes`` or ``out_channels`` is not 1, the
            depth range is invalid, or a segmentation-only option
            (``threshold``, ``sampler``, ``ignore_index``) is given.
    """

    def __init__(self,
                 *,
                 max_depth: float = 10.0,
                 min_depth: float = 1e-3,
                 num_classes: int = 1,
                 out_channels: int = 1,
                 loss_decode=dict(type='DepthSiLogLoss'),
                 init_cfg=dict(
                     type='Normal', std=0.01,
                     override=dict(name='conv_depth')),
                 **kwargs) -> None:
        name = type(self).__name__
        if num_classes != 1 or out_channels != 1:
            raise ValueError(
                f'{name} regresses one depth channel: num_classes and '
                f'out_channels must be 1, got num_classes={num_classes}, '
                f'out_channels={out_channels}. Use a segmentation head '
                '(e.g. ASPPHead) for classes.')
        bad = [k for k in _SEG_ONLY_ARGS if k in kwargs]
        if bad:
            raise ValueError(f'{name}: {bad} are segmentation options and '
                             'do not apply to a depth head')
        if not (math.isfinite(max_depth) and 0 < min_depth < max_depth):
            raise ValueError(f'{name}: need 0 < min_depth < max_depth < inf, '
                             f'got min_depth={min_depth}, '
                             f'max_depth={max_depth}')
        super().__init__(
            num_classes=1,
            out_channels=1,
            threshold=0.5,  # unused; silences the binary-seg warning
            loss_decode=loss_decode,
            init_cfg=init_cfg,
            **kwargs)
        self.max_depth = float(max_depth)
        self.min_depth = float(min_depth)
        del self.conv_seg
        self.conv_depth = nn.Conv2d(self.channels, 1, kernel_size=1)

    def _check_binary_chain(self) -> None:
        """Warn if binary inner convs follow a non-negative activation.

        Called by heads whose inner convs feed other inner convs.
        """
        conv_type = (self.conv_cfg or {}).get('type', None)
        act_type = (self.act_cfg or {}).get('type', None)
        conv_name = getattr(conv_type, '__name__', conv_type)
        act_name = getattr(act_type, '__name__', act_type)
        if conv_name == 'BinaryConv2d' and act_name in _NON_NEGATIVE_ACTS:
            warnings.warn(
                f'{type(self).__name__}: binary inner convs after '
                f'{act_name} see only +1 (sign of a non-negative input) and '
                'output a constant; use act_cfg=dict(type=\'PReLU\') or '
                'dict(type=\'Hardtanh\') with binary convs')

    def extra_repr(self) -> str:
        """Extra repr with the depth range."""
        return (f'{super().extra_repr()}, min_depth={self.min_depth}, '
                f'max_depth={self.max_depth}')

    def cls_seg(self, feat: Tensor) -> Tensor:
        """Not available: a depth head has no classifier."""
        raise AttributeError(f'{type(self).__name__} has no classifier; use '
                             'regress_depth()')

    def regress_depth(self, feat: Tensor) -> Tensor:
        """Dropout, ``conv_depth`` and the bounded activation.

        Args:
            feat (Tensor): Feature of shape (N, channels, H, W).

        Returns:
            Tensor: Depth of shape (N, 1, H, W) in metres.
        """
        if self.dropout is not None:
            feat = self.dropout(feat)
        out = self.conv_depth(feat)
        span = self.max_depth - self.min_depth
        return self.min_depth + span * torch.sigmoid(out)

    def forward(self, inputs) -> Tensor:
        """Depth (N, 1, h, w) in metres from multi-level features."""
        return self.regress_depth(self._forward_feature(inputs))

    def _stack_batch_gt(self, batch_data_samples: SampleList) -> Tensor:
        """Stack ``gt_depth_map`` of the samples into (N, 1, H, W).

        Raises:
            ValueError: If a sample lacks ``gt_depth_map`` or the maps have
                different shapes.
        """
        maps: List[Tensor] = []
        for i, sample in enumerate(batch_data_samples):
            if 'gt_depth_map' not in sample:
                raise ValueError(
                    f'{type(self).__name__}: data sample {i} of the batch '
                    f'({sample.metainfo.get("img_path", "no img_path")}) '
                    'has no gt_depth_map; a depth head needs depth ground '
                    'truth for its loss')
            depth = sample.gt_depth_map.data
            maps.append(depth if depth.dim() == 3 else depth[None])
        shapes = {tuple(m.shape) for m in maps}
        if len(shapes) > 1:
            raise ValueError(f'{type(self).__name__}: gt_depth_map shapes '
                             f'differ in the batch: {sorted(shapes)}; pad '
                             'them (data preprocessor) first')
        return torch.stack(maps, dim=0).float()

    def loss_by_feat(self, seg_logits: Tensor,
                     batch_data_samples: SampleList) -> dict:
        """Depth losses of a predicted depth map.

        Args:
            seg_logits (Tensor): Predicted depth (N, 1, h, w) from
                :meth:`forward` (mmseg's argument name is kept).
            batch_data_samples (list[SegDataSample]): Samples with
                ``gt_depth_map``.

        Returns:
            dict[str, Tensor]: One item per ``loss_name`` (summed when two
            losses share a name).
        """
        gt = self._stack_batch_gt(batch_data_samples).to(seg_logits.device)
        gt = torch.where(gt <= self.max_depth, gt, torch.zeros_like(gt))
        pred = resize(
            input=seg_logits,
            size=gt.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        losses_decode = self.loss_decode
        if not isinstance(losses_decode, nn.ModuleList):
            losses_decode = [losses_decode]
        loss = dict()
        for loss_decode in losses_decode:
            value = loss_decode(pred, gt)
            name = loss_decode.loss_name
            loss[name] = loss[name] + value if name in loss else value
        return loss
