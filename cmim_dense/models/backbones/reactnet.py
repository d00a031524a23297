"""ReActNet-A backbone."""
from typing import List, Optional, Sequence, Union

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .base_backbone import BaseBinaryBackbone, BlockSpec, InitCfg
from .reactnet_block import ReActBlock
from .shortcut_pool import build_shortcut_pool


@MODELS.register_module()
class ReActNet(BaseBinaryBackbone):
    """ReActNet-A (Liu et al. 2020), MobileNetV1-shaped, for dense prediction.

    An FP stem (``conv1``: 3x3 conv, stride 2, 32 channels; ``bn1``) and 13
    :class:`~.ReActBlock` s with the channel plan 32->64, 64->128 (s2),
    128->128, 128->256 (s2), 256->256, 256->512 (s2), 512->512 x5, 512->1024
    (s2), 1024->1024. The blocks are grouped into 4 stages ending at strides
    4, 8, 16 and 32 (after blocks 3, 5, 11 and 13; 128, 256, 512 and 1024
    channels): ``layer1`` (blocks 1-3), ``layer2`` (4-5), ``layer3`` (6-11),
    ``layer4`` (12-13). Each stage has one downsampling block; its stride is
    ``strides[i]`` (the stem provides the first factor 2, hence the default
    ``(2, 2, 2, 2)``).

    The plan is the table ``arch_settings['A']``: per stage, one
    ``(block class, output channels, stride)`` entry per block, the
    channels those of width 1 (stem ``stem_width`` = 32 channels; scaled by
    the actual stem width), a stride > 1 marking the stage's downsampling
    block (whose actual stride is ``strides[i]``).

    Output stride 8 (``strides=(2, 2, 1, 1), dilations=(1, 1, 2, 4)``) or
    16 (``(2, 2, 2, 1), (1, 1, 1, 2)``) replaces a stage's stride by
    dilation: its downsampling block's 3x3 conv (and every conv before it in
    the stage) keeps the previous stage's dilation at stride 1, every later
    3x3 conv uses the stage's dilation, and the block's pooling shortcut keeps
    its 2x2 window at stride 1 with taps spaced by the previous dilation
    (:class:`~.ShortcutAvgPool`), so the dilated network is an exact
    resampling of the strided one.

    Args:
        binarizer (str | dict | None): Binarization method of the blocks'
            convs; None builds the FP network. Defaults to ``'reactnet'``.
        in_channels (int): Input channels. Defaults to 3.
        widen_factor (float): Width multiplier: the stem has
            ``max(1, round(32 * widen_factor))`` channels and the blocks keep
            the plan's ratios to it. Defaults to 1.0.
        num_stages (int): Stages built, 1 to 4. Defaults to 4.
        strides (Sequence[int]): Stride of each stage's downsampling block.
            Defaults to ``(2, 2, 2, 2)``.
        dilations (Sequence[int]): Dilation of each stage.
            Defaults to ``(1, 1, 1, 1)``.
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Defaults to ``(0, 1, 2, 3)``.
        frozen_stages (int): Freeze the stem (``>= 0``) and the first
            ``frozen_stages`` stages; -1 freezes nothing. Defaults to -1.
        norm_cfg (dict): Norm layer config.
            Defaults to ``dict(type='BN', requires_grad=True)``.
        norm_eval (bool): Keep BatchNorm layers in eval mode while training.
            Defaults to False.
        act_cfg (dict, optional): Block activation (channels filled in).
            Defaults to ``dict(type='RPReLU')``.
        with_cp (bool): Checkpoint each block. Defaults to False.
        pad_value (float): Value padding the binary convs' inputs.
            Defaults to 1.0.
        binary_roles (dict, optional): Role overrides of every binary conv;
            ``dict(weight_quantizer=False)`` gives step 1 of ReActNet's
            two-step training (binary activations, FP weights; see
            :func:`~.build_binary_conv`). Defaults to None.
        arch (str): Key of ``arch_settings``. Defaults to ``'A'``.
        init_cfg (dict | list[dict], optional): Initialization config; see
            :class:`~.BaseBinaryBackbone` for ``type='Pretrained'``.
            Defaults to None.
    """

    #: arch -> per stage, (block class, output channels at width 1,
    #: stride > 1 for the downsampling block) per block.
    arch_settings = {
        'A': (
            ((ReActBlock, 64, 1), (ReActBlock, 128, 2), (ReActBlock, 128, 1)),
            ((ReActBlock, 256, 2), (ReActBlock, 256, 1)),
            ((ReActBlock, 512, 2), ) + ((ReActBlock, 512, 1), ) * 5,
            ((ReActBlock, 1024, 2), (ReActBlock, 1024, 1)),
        ),
    }
    #: Stem channels at width 1; the table's channels are relative to it.
    stem_width = 32
    stem_names = ('conv1', 'bn1')

    def __init__(self,
                 binarizer: Union[None, str, dict] = 'reactnet',
                 in_channels: int = 3,
                 widen_factor: float = 1.0,
                 num_stages: int = 4,
                 strides: Sequence[int] = (2, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 act_cfg: Optional[dict] = dict(type='RPReLU'),
                 with_cp: bool = False,
                 pad_value: float = 1.0,
                 binary_roles: Optional[dict] = None,
                 arch: str = 'A',
                 init_cfg: InitCfg = None) -> None:
        super().__init__(init_cfg)
        if arch not in self.arch_settings:
            raise ValueError(f'{type(self).__name__}: invalid arch {arch!r}; '
                             f'valid archs: {sorted(self.arch_settings)}')
        stages = self.arch_settings[arch]
        self.init_stage_args(
            len(stages), num_stages, strides, dilations, out_indices,
            frozen_stages, norm_eval)
        if widen_factor <= 0:
            raise ValueError(f'{type(self).__name__}: widen_factor must be '
                             f'positive, got {widen_factor}')
        self.init_block_args(binarizer, pad_value, binary_roles, norm_cfg,
                             act_cfg, with_cp)
        self.arch = arch

        stem_channels = max(1, round(self.stem_width * widen_factor))
        self.conv1 = nn.Conv2d(
            in_channels, stem_channels, 3, stride=2, padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, stem_channels)[1]

        channels, prev_dilation = stem_channels, 1
        stage_channels = []
        for i, stage in enumerate(stages[:num_stages]):
            specs = self.stage_blocks(stage, channels, stem_channels,
                                      self.strides[i], self.dilations[i],
                                      prev_dilation)
            self.add_stage(self.make_stage(specs))
            channels = specs[-1][1]['out_channels']
            stage_channels.append(channels)
            prev_dilation = self.dilations[i]
        self.out_channels = tuple(stage_channels[i] for i in out_indices)
        self._freeze_stages()

    def stage_blocks(self, stage: Sequence[tuple], in_channels: int,
                     stem_channels: int, stride: int, dilation: int,
                     prev_dilation: int) -> List[BlockSpec]:
        """The block specs of one stage, for :meth:`make_stage`.

        The downsampling block (table stride > 1) gets the stage's
        ``stride``, the input grid's dilation and its pooling shortcut; the
        blocks before it keep the input grid's dilation, those after it use
        the stage's.

        Args:
            stage (Sequence[tuple]): The stage's ``(block class, channels,
                stride)`` table entries.
            in_channels (int): Input channels.
            stem_channels (int): The stem's channels (scales the table's).
            stride (int): The stage's stride.
            dilation (int): The stage's dilation.
            prev_dilation (int): Dilation of the input grid.

        Returns:
            list[BlockSpec]: ``(block, arguments)`` per block.
        """
        specs: List[BlockSpec] = []
        downsampled = False
        for block, channels, table_stride in stage:
            out_channels = stem_channels * channels // self.stem_width
            args = dict(in_channels=in_channels, out_channels=out_channels)
            if table_stride > 1:
                args.update(
                    stride=stride,
                    dilation=prev_dilation,
                    pool=build_shortcut_pool(stride, dilation, prev_dilation))
                downsampled = True
            else:
                args.update(
                    dilation=dilation if downsampled else prev_dilation)
            specs.append((block, args))
            in_channels = out_channels
        return specs

    def forward_stem(self, x: Tensor) -> Tensor:
        """``conv1``, ``bn1`` (no activation).

        Args:
            x (Tensor): Images, ``(N, in_channels, H, W)``.

        Returns:
            Tensor: ``(N, stem_channels, H / 2, W / 2)``.
        """
        return self.bn1(self.conv1(x))
