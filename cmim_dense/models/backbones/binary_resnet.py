"""Base class of the binary ResNets (basic blocks, depth 18 / 34)."""
from typing import List, Optional, Sequence, Union

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from .base_backbone import BaseBinaryBackbone, BlockSpec, InitCfg
from .binary_basic_block import BinaryBasicBlock
from .builders import build_activation


class BinaryResNet(BaseBinaryBackbone):
    """Binary ResNet with an FP stem, for dense prediction.

    The stem stays FP: ``conv1`` (7x7, stride 2), ``bn1``, ``stem_act``
    (chosen by the subclass: Hardtanh in the IR-Net/RBNN/ReCU ImageNet
    ResNets, none in Bi-Real; never a ReLU, after which every value is >= 0
    and the first binary conv would see only +1), ``maxpool`` (3x3,
    stride 2).
    Stage ``i`` (``layer{i+1}``) has ``base_channels * 2 ** i`` channels
    and stacks the blocks of ``arch_settings[depth]`` (``(block class,
    blocks per stage)``; :class:`~.BinaryBasicBlock` s, whose two convs are
    binary).
    Subclasses choose the block activation and the downsample shortcut
    (:meth:`make_downsample`), which is ``layerK.0.downsample`` with children
    ``conv`` and ``bn`` (and ``pool`` for pooled shortcuts). Module names
    follow torchvision's ResNet, so its checkpoints load: torchvision's
    ``downsample.0`` / ``downsample.1`` become ``downsample.conv`` /
    ``downsample.bn`` by ``checkpoint_revise_keys``, which
    ``init_cfg=dict(type='Pretrained', ...)`` applies and mmengine's
    ``load_checkpoint(model, path, revise_keys=...)`` takes as they are.

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

    #: depth -> (block class, blocks per stage)
    arch_settings = {
        18: (BinaryBasicBlock, (2, 2, 2, 2)),
        34: (BinaryBasicBlock, (3, 4, 6, 3)),
    }
    stem_names = ('conv1', 'bn1')
    checkpoint_revise_keys = (
        (r'(^|\.)downsample\.0\.', r'\1downsample.conv.'),
        (r'(^|\.)downsample\.1\.', r'\1downsample.bn.'),
    )

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
        if depth not in self.arch_settings:
            raise ValueError(f'{type(self).__name__}: invalid depth '
                             f'{depth!r}; valid depths: '
                             f'{sorted(self.arch_settings)}')
        block, stage_blocks = self.arch_settings[depth]
        self.init_stage_args(
            len(stage_blocks), num_stages, strides, dilations, out_indices,
            frozen_stages, norm_eval)
        self.init_block_args(binarizer, pad_value, binary_roles, norm_cfg,
                             act_cfg, with_cp)
        self.depth = depth

        self.conv1 = nn.Conv2d(
            in_channels, stem_channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, stem_channels)[1]
        self.stem_act = build_activation(stem_act_cfg, stem_channels)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        channels, prev_dilation = stem_channels, 1
        for i, num_blocks in enumerate(stage_blocks[:num_stages]):
            out_channels = base_channels * 2**i
            self.add_stage(
                self.make_stage(
                    self.stage_blocks(block, num_blocks, channels,
                                      out_channels, self.strides[i],
                                      self.dilations[i], prev_dilation)))
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

    def stage_blocks(self, block: type, num_blocks: int, in_channels: int,
                     out_channels: int, stride: int, dilation: int,
                     prev_dilation: int) -> List[BlockSpec]:
        """The block specs of one stage (``layerK``), for :meth:`make_stage`.

        The first block has the stage's stride, its ``conv1`` the input
        grid's dilation, and the downsample shortcut (built here, before the
        blocks) when the stride or the channels change.

        Args:
            block (type): Block class (``arch_settings[depth][0]``).
            num_blocks (int): Blocks in the stage.
            in_channels (int): Input channels.
            out_channels (int): Output channels.
            stride (int): Stride of the first block.
            dilation (int): The stage's dilation.
            prev_dilation (int): Dilation of the input grid; used by the
                first block's ``conv1`` and shortcut.

        Returns:
            list[BlockSpec]: ``(block, arguments)`` per block.
        """
        downsample = None
        if stride != 1 or in_channels != out_channels:
            downsample = self.make_downsample(in_channels, out_channels,
                                              stride, dilation, prev_dilation)
        first = dict(
            in_channels=in_channels,
            out_channels=out_channels,
            stride=stride,
            dilation=dilation,
            first_dilation=prev_dilation,
            downsample=downsample)
        rest = dict(
            in_channels=out_channels,
            out_channels=out_channels,
            dilation=dilation)
        return [(block, first)] + [(block, rest)] * (num_blocks - 1)

    def forward_stem(self, x: Tensor) -> Tensor:
        """``conv1``, ``bn1``, ``stem_act``, ``maxpool``.

        Args:
            x (Tensor): Images, ``(N, in_channels, H, W)``.

        Returns:
            Tensor: ``(N, stem_channels, H / 4, W / 4)``.
        """
        return self.maxpool(self.stem_act(self.bn1(self.conv1(x))))
