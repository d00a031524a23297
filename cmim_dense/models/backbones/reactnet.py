"""ReActNet-A backbone."""
from typing import Optional, Sequence, Tuple, Union

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .base_backbone import BaseBinaryBackbone, InitCfg
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
        init_cfg (dict | list[dict], optional): Initialization config; see
            :class:`~.BaseBinaryBackbone` for ``type='Pretrained'``.
            Defaults to None.
    """

    # Per stage: (output channels / stem channels, downsamples) per block.
    arch = (
        ((2, False), (4, True), (4, False)),
        ((8, True), (8, False)),
        ((16, True), ) + ((16, False), ) * 5,
        ((32, True), (32, False)),
    )
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
                 init_cfg: InitCfg = None) -> None:
        super().__init__(init_cfg)
        self.check_stage_args('ReActNet', num_stages, len(self.arch), strides,
                              dilations, out_indices, frozen_stages)
        if widen_factor <= 0:
            raise ValueError(f'ReActNet: widen_factor must be positive, got '
                             f'{widen_factor}')
        self.binarizer = binarizer
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        stem_channels = max(1, round(32 * widen_factor))
        self.conv1 = nn.Conv2d(
            in_channels, stem_channels, 3, stride=2, padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, stem_channels)[1]

        common = dict(
            binarizer=binarizer,
            pad_value=pad_value,
            binary_roles=binary_roles,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            with_cp=with_cp)
        channels, prev_dilation = stem_channels, 1
        stage_channels = []
        for i, stage_arch in enumerate(self.arch[:num_stages]):
            stride, dilation = self.strides[i], self.dilations[i]
            blocks, downsampled = [], False
            for ratio, downsamples in stage_arch:
                out_channels = stem_channels * ratio
                if downsamples:
                    blocks.append(
                        ReActBlock(
                            channels,
                            out_channels,
                            stride=stride,
                            dilation=prev_dilation,
                            pool=build_shortcut_pool(stride, dilation,
                                                     prev_dilation),
                            **common))
                    downsampled = True
                else:
                    blocks.append(
                        ReActBlock(
                            channels,
                            out_channels,
                            dilation=dilation
                            if downsampled else prev_dilation,
                            **common))
                channels = out_channels
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            self.stage_names.append(f'layer{i + 1}')
            stage_channels.append(channels)
            prev_dilation = dilation
        self.out_channels = tuple(stage_channels[i] for i in out_indices)
        self._freeze_stages()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Forward.

        Args:
            x (Tensor): Images, ``(N, in_channels, H, W)``.

        Returns:
            tuple[Tensor]: The outputs of the stages in ``out_indices``.
        """
        x = self.bn1(self.conv1(x))
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
