"""Base class of the binary ResNets (basic blocks, depth 18 / 34)."""
import re
from typing import Optional, Sequence, Tuple, Union

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from .base_backbone import BaseBinaryBackbone, InitCfg
from .binary_basic_block import BinaryBasicBlock
from .builders import build_activation, check_binary_roles

# torchvision names a downsample shortcut's conv and BN by position.
_TORCHVISION_DOWNSAMPLE = re.compile(r'(^|\.)downsample\.([01])\.')
_DOWNSAMPLE_NAMES = {'0': 'conv', '1': 'bn'}


class BinaryResNet(BaseBinaryBackbone):
    """Binary ResNet with an FP stem, for dense prediction.

    The stem stays FP: ``conv1`` (7x7, stride 2), ``bn1``, ``stem_act``
    (chosen by the subclass: Hardtanh in the IR-Net/RBNN/ReCU ImageNet
    ResNets, none in Bi-Real; never a ReLU, after which every value is >= 0
    and the first binary conv would see only +1), ``maxpool`` (3x3,
    stride 2).
    Stage ``i`` (``layer{i+1}``) has ``base_channels * 2 ** i`` channels
    and stacks :class:`~.BinaryBasicBlock` s whose two convs are binary.
    Subclasses choose the block activation and the downsample shortcut
    (:meth:`make_downsample`), which is ``layerK.0.downsample`` with children
    ``conv`` and ``bn`` (and ``pool`` for pooled shortcuts). Module names
    follow torchvision's ResNet, so its checkpoints load (torchvision's
    ``downsample.0`` / ``downsample.1`` become ``downsample.conv`` /
    ``downsample.bn``).

    Output stride 8 or 16 replaces the stride of the last stages by dilation
    as DeepLab does: in such a stage the conv that had the stride (``conv1``
    of the first block, and its downsample) runs at stride 1 with the
    previous stage's dilation, and every later conv uses the stage's
    dilation. Sampling the dilated network's stage outputs every 2 / 4
    positions then gives the strided network's outputs exactly (same
    weights, eval mode). Output stride 8: ``strides=(1, 2, 1, 1),
    dilations=(1, 1, 2, 4)``; 16: ``strides=(1, 2, 2, 1),
    dilations=(1, 1, 1, 2)``. (A stage has a downsample shortcut when its
    stride or its channels change, as in torchvision; a converted stage
    whose channels do not change, impossible with the default widths, would
    lose it.)

    Args:
        depth (int): 18 or 34.
        binarizer (str | dict | None): Binarization method of the blocks'
            convs (a name of :func:`~cmim_dense.available_binarizers` or a
            dict); None builds the same network with FP convs.
        act_cfg (dict, optional): Activation after each residual addition;
            None for none.
        stem_act_cfg (dict, optional): Activation after the stem's BN; None
            for none. Defaults to None.
        in_channels (int): Input channels. Defaults to 3.
        stem_channels (int): Stem output channels. Defaults to 64.
        base_channels (int): Channels of the first stage. Defaults to 64.
        num_stages (int): Stages built, 1 to 4. Defaults to 4.
        strides (Sequence[int]): Stride of each stage.
            Defaults to ``(1, 2, 2, 2)``.
        dilations (Sequence[int]): Dilation of each stage.
            Defaults to ``(1, 1, 1, 1)``.
        out_indices (Sequence[int]): Stages whose outputs are returned; with
            the default strides, stage ``i`` has stride ``4 * 2 ** i``.
            Defaults to ``(0, 1, 2, 3)``.
        frozen_stages (int): Freeze the stem (``>= 0``) and the first
            ``frozen_stages`` stages (eval mode, no gradient); -1 freezes
            nothing. Defaults to -1.
        norm_cfg (dict): Norm layer config.
            Defaults to ``dict(type='BN', requires_grad=True)``.
        norm_eval (bool): Keep BatchNorm layers in eval mode while training.
            Defaults to False.
        with_cp (bool): Checkpoint each block (``torch.utils.checkpoint``).
            Defaults to False.
        pad_value (float): Value padding the binary convs' inputs (+1 or -1
            keeps them binary; 0 is zero padding, as the authors' PyTorch
            code pads). Defaults to 1.0.
        binary_roles (dict, optional): Role overrides of every binary conv,
            e.g. ``dict(weight_quantizer=False)`` for binary activations with
            FP weights (see :func:`~.build_binary_conv`). Defaults to None.
        init_cfg (dict | list[dict], optional): Initialization config;
            ``dict(type='Pretrained', checkpoint=PATH, prefix=None)`` loads a
            torchvision-format (or mmengine) ResNet checkpoint, see
            :class:`~.BaseBinaryBackbone`. Defaults to None.
    """

    arch_settings = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
    stem_names = ('conv1', 'bn1')

    def __init__(self,
                 depth: int,
                 binarizer: Union[None, str, dict],
                 act_cfg: Optional[dict],
                 stem_act_cfg: Optional[dict] = None,
                 in_channels: int = 3,
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 pad_value: float = 1.0,
                 binary_roles: Optional[dict] = None,
                 init_cfg: InitCfg = None) -> None:
        super().__init__(init_cfg)
        name = type(self).__name__
        if depth not in self.arch_settings:
            raise ValueError(f'{name}: invalid depth {depth!r}; valid depths: '
                             f'{sorted(self.arch_settings)}')
        self.check_stage_args(name, num_stages, 4, strides, dilations,
                              out_indices, frozen_stages)
        self.depth = depth
        self.binarizer = binarizer
        self.pad_value = pad_value
        self.binary_roles = check_binary_roles(binary_roles)
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.with_cp = with_cp
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.conv1 = nn.Conv2d(
            in_channels, stem_channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, stem_channels)[1]
        self.stem_act = build_activation(stem_act_cfg, stem_channels)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        channels, prev_dilation = stem_channels, 1
        blocks = self.arch_settings[depth][:num_stages]
        for i, num_blocks in enumerate(blocks):
            out_channels = base_channels * 2**i
            stage = self.make_stage(num_blocks, channels, out_channels,
                                    self.strides[i], self.dilations[i],
                                    prev_dilation)
            self.add_module(f'layer{i + 1}', stage)
            self.stage_names.append(f'layer{i + 1}')
            channels, prev_dilation = out_channels, self.dilations[i]
        self.out_channels = tuple(base_channels * 2**i for i in out_indices)
        self._freeze_stages()

    def make_downsample(self, in_channels: int, out_channels: int, stride: int,
                        dilation: int, prev_dilation: int) -> nn.Sequential:
        """Build the shortcut of a stage's first block.

        Args:
            in_channels (int): Input channels.
            out_channels (int): Output channels.
            stride (int): The stage's stride.
            dilation (int): The stage's dilation.
            prev_dilation (int): Dilation of the input grid (previous
                stage's).

        Returns:
            nn.Sequential: Children named ``conv``, ``bn`` (and ``pool``).
        """
        raise NotImplementedError

    def make_stage(self, num_blocks: int, in_channels: int, out_channels: int,
                   stride: int, dilation: int,
                   prev_dilation: int) -> nn.Sequential:
        """Build one stage (``layerK``).

        Args:
            num_blocks (int): Blocks in the stage.
            in_channels (int): Input channels.
            out_channels (int): Output channels.
            stride (int): Stride of the first block.
            dilation (int): The stage's dilation.
            prev_dilation (int): Dilation of the input grid; used by the
                first block's ``conv1`` and shortcut.

        Returns:
            nn.Sequential: The blocks.
        """
        downsample = None
        if stride != 1 or in_channels != out_channels:
            downsample = self.make_downsample(in_channels, out_channels,
                                              stride, dilation, prev_dilation)
        common = dict(
            binarizer=self.binarizer,
            pad_value=self.pad_value,
            binary_roles=self.binary_roles,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            with_cp=self.with_cp)
        blocks = [
            BinaryBasicBlock(
                in_channels,
                out_channels,
                stride=stride,
                dilation=dilation,
                first_dilation=prev_dilation,
                downsample=downsample,
                **common)
        ]
        for _ in range(1, num_blocks):
            blocks.append(
                BinaryBasicBlock(
                    out_channels, out_channels, dilation=dilation, **common))
        return nn.Sequential(*blocks)

    def map_checkpoint_key(self, key: str) -> str:
        """Rename torchvision's ``downsample.0/1`` to ``downsample.conv/bn``.

        Args:
            key (str): Checkpoint key.

        Returns:
            str: The model key.
        """
        return _TORCHVISION_DOWNSAMPLE.sub(
            lambda m: f'{m.group(1)}downsample.'
            f'{_DOWNSAMPLE_NAMES[m.group(2)]}.', key)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Forward.

        Args:
            x (Tensor): Images, ``(N, in_channels, H, W)``.

        Returns:
            tuple[Tensor]: The outputs of the stages in ``out_indices``.
        """
        x = self.maxpool(self.stem_act(self.bn1(self.conv1(x))))
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
