"""What the binary backbones share: the stage loop, stage building,
argument checks, freezing and init."""
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type, Union

from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import PretrainedInit
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from .builders import check_binary_roles
from .pretrained import CheckpointReport, RevisePairs, load_pretrained

InitCfg = Union[None, dict, List[dict]]
#: One block of a stage: its class and its own constructor arguments.
BlockSpec = Tuple[Type[nn.Module], Dict[str, Any]]


class BaseBinaryBackbone(BaseModule):
    """Base class of the binary backbones.

    The contract of a backbone:

    - ``arch_settings``: the architecture table of the subclass (e.g.
      depth -> (block class, blocks per stage) for the ResNets, or a list of
      (block class, channels, stride) entries grouped into stages for
      ReActNet-A), read by its ``__init__``;
    - the stem: modules named in ``stem_names`` (frozen with
      ``frozen_stages >= 0``) and :meth:`forward_stem`;
    - the stages: built by :meth:`make_stage` from one
      :data:`BlockSpec` per block and registered by :meth:`add_stage`,
      which names them ``layer1``, ``layer2``, ... and appends the names to
      ``stage_names``;
    - :meth:`forward` (here): the stem, then every stage of
      ``stage_names`` in order, returning the outputs of ``out_indices``.

    ``stage_names`` is public: CMIM's ``layers='last_per_stage'`` and
    ``'stages'`` selectors read it (see
    :mod:`cmim_dense.models.utils.activation_recorder`), as does
    ``frozen_stages``. A subclass calls :meth:`init_stage_args` and
    :meth:`init_block_args` first and :meth:`_freeze_stages` at the end of
    its ``__init__``.

    Without ``init_cfg``, convs are Kaiming-initialised and norms set to 1/0.
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH, prefix=None)`` first
    applies that default init, then loads the checkpoint non-strictly with
    :func:`~.pretrained.load_pretrained` (keys renamed by
    ``checkpoint_revise_keys``), logs the report (matched, missing and
    unexpected keys) to the current ``MMLogger`` and keeps it in
    ``pretrained_report``.

    Args:
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None (the default init).
    """

    #: The architecture table of the subclass.
    arch_settings: Dict[Any, Any] = {}
    #: The stem's modules, frozen with ``frozen_stages >= 0``.
    stem_names: Sequence[str] = ()
    #: ``(pattern, replacement)`` pairs, mmengine's ``revise_keys`` format,
    #: renaming the keys of the checkpoints the backbone loads (e.g.
    #: torchvision's) to its own; also usable as
    #: ``mmengine.runner.load_checkpoint(model, path,
    #: revise_keys=type(model).checkpoint_revise_keys)``.
    checkpoint_revise_keys: RevisePairs = ()

    def __init__(self, init_cfg: InitCfg = None) -> None:
        super().__init__(
            init_cfg if init_cfg is not None else self.default_init_cfg())
        #: Names of the stage modules, in forward order.
        self.stage_names: List[str] = []
        self.out_indices: Tuple[int, ...] = ()
        self.frozen_stages = -1
        self.norm_eval = False
        self.pretrained_report: Optional[CheckpointReport] = None

    def init_stage_args(self, max_stages: int, num_stages: int,
                        strides: Sequence[int], dilations: Sequence[int],
                        out_indices: Sequence[int], frozen_stages: int,
                        norm_eval: bool) -> None:
        """Check the per-stage arguments (see :meth:`check_stage_args`) and
        keep them (``strides``, ``dilations``, ``out_indices`` as tuples).

        Args:
            max_stages (int): Stages of the architecture.
            num_stages (int): Stages built.
            strides (Sequence[int]): Stride of each stage.
            dilations (Sequence[int]): Dilation of each stage.
            out_indices (Sequence[int]): Stages returned.
            frozen_stages (int): Stages frozen (-1: none, 0: the stem).
            norm_eval (bool): Keep BatchNorm layers in eval mode.
        """
        self.check_stage_args(
            type(self).__name__, num_stages, max_stages, strides, dilations,
            out_indices, frozen_stages)
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

    def init_block_args(self,
                        binarizer: Union[None, str, dict],
                        pad_value: float,
                        binary_roles: Optional[dict],
                        norm_cfg: dict,
                        act_cfg: Optional[dict],
                        with_cp: bool = False) -> None:
        """Keep the arguments every block of :meth:`make_stage` receives.

        They are kept as attributes of the same names too (``binarizer``,
        ``pad_value``, ``binary_roles``, ``norm_cfg``, ``act_cfg``,
        ``with_cp``), for the modules a subclass builds itself.

        Args:
            binarizer (str | dict | None): Binarization method of the binary
                convs; None for FP convs.
            pad_value (float): Value padding the binary convs' inputs.
            binary_roles (dict, optional): Role overrides of the binary
                convs (see :func:`~.build_binary_conv`).
            norm_cfg (dict): Norm layer config.
            act_cfg (dict, optional): The blocks' activation.
            with_cp (bool): Checkpoint each block.

        Raises:
            ValueError: ``binary_roles`` is not a dict of roles.
        """
        self.block_args = dict(
            binarizer=binarizer,
            pad_value=pad_value,
            binary_roles=check_binary_roles(binary_roles),
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            with_cp=with_cp)
        for name, value in self.block_args.items():
            setattr(self, name, value)

    def make_stage(self, blocks: Sequence[BlockSpec]) -> nn.Sequential:
        """Build one stage: ``block(**block_args, **own_args)`` per spec.

        The blocks are built in order, after every spec's arguments (a
        shortcut module among them is built before its block).

        Args:
            blocks (Sequence[BlockSpec]): ``(block class, own arguments)``
                per block, e.g. ``(BinaryBasicBlock, dict(in_channels=64,
                out_channels=64))``.

        Returns:
            nn.Sequential: The blocks, named ``0``, ``1``, ...
        """
        return nn.Sequential(*(block(**self.block_args, **args)
                               for block, args in blocks))

    def add_stage(self, stage: nn.Module) -> str:
        """Register ``stage`` as the next stage, ``layer{K}``.

        Args:
            stage (nn.Module): The stage.

        Returns:
            str: Its name, appended to ``stage_names``.
        """
        name = f'layer{len(self.stage_names) + 1}'
        self.add_module(name, stage)
        self.stage_names.append(name)
        return name

    def forward_stem(self, x: Tensor) -> Tensor:
        """The stem's forward.

        Args:
            x (Tensor): Images, ``(N, in_channels, H, W)``.

        Returns:
            Tensor: The first stage's input.
        """
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """The stem, then every stage of ``stage_names``.

        Args:
            x (Tensor): Images, ``(N, in_channels, H, W)``.

        Returns:
            tuple[Tensor]: The outputs of the stages in ``out_indices``.
        """
        x = self.forward_stem(x)
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    @staticmethod
    def default_init_cfg() -> List[dict]:
        """Kaiming for convs (binary ones too), 1/0 for norm layers."""
        return [
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
        ]

    @staticmethod
    def check_stage_args(name: str, num_stages: int, max_stages: int,
                         strides: Sequence[int], dilations: Sequence[int],
                         out_indices: Sequence[int],
                         frozen_stages: int) -> None:
        """Validate the per-stage arguments.

        Args:
            name (str): Backbone name, for the messages.
            num_stages (int): Stages built, in ``[1, max_stages]``.
            max_stages (int): Stages of the architecture.
            strides (Sequence[int]): One positive stride per stage.
            dilations (Sequence[int]): One positive dilation per stage.
            out_indices (Sequence[int]): Stages returned, each in
                ``[0, num_stages)``.
            frozen_stages (int): In ``[-1, num_stages]``.

        Raises:
            ValueError: The first invalid argument, named.
        """
        if not 1 <= num_stages <= max_stages:
            raise ValueError(f'{name}: num_stages must be in [1, '
                             f'{max_stages}], got {num_stages}')
        for arg, values in (('strides', strides), ('dilations', dilations)):
            if len(values) != num_stages:
                raise ValueError(f'{name}: len({arg}) must equal num_stages '
                                 f'({num_stages}), got {arg}={tuple(values)}')
            if any(int(v) != v or v < 1 for v in values):
                raise ValueError(f'{name}: {arg} must be positive ints, got '
                                 f'{tuple(values)}')
        if len(out_indices) == 0:
            raise ValueError(f'{name}: out_indices must not be empty')
        bad = [i for i in out_indices if not 0 <= i < num_stages]
        if bad:
            raise ValueError(f'{name}: out_indices must lie in [0, '
                             f'{num_stages - 1}] (num_stages={num_stages}), '
                             f'got {tuple(out_indices)}')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'{name}: frozen_stages must be in [-1, '
                             f'{num_stages}], got {frozen_stages}')

    def _freeze_stages(self) -> None:
        """Freeze the stem (``frozen_stages >= 0``) and the first
        ``frozen_stages`` stages: eval mode, ``requires_grad=False``."""
        if self.frozen_stages < 0:
            return
        frozen: List[nn.Module] = [getattr(self, n) for n in self.stem_names]
        frozen += [
            getattr(self, n) for n in self.stage_names[:self.frozen_stages]
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'BaseBinaryBackbone':
        """Set the mode, keeping frozen stages (and, with ``norm_eval``,
        every BatchNorm) in eval mode.

        Args:
            mode (bool): Training mode. Defaults to True.

        Returns:
            BaseBinaryBackbone: self.
        """
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def init_weights(self) -> None:
        """Default init, then the pretrained checkpoint if one is given."""
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else \
            [self.init_cfg] if self.init_cfg else []
        pretrained = [
            c for c in cfgs if c.get('type') in ('Pretrained', PretrainedInit)
        ]
        if not pretrained or self._is_init:
            super().init_weights()
            return
        if len(pretrained) > 1 or 'checkpoint' not in pretrained[0]:
            raise ValueError(f'{type(self).__name__}: init_cfg must hold one '
                             "dict(type='Pretrained', checkpoint=...), got "
                             f'{self.init_cfg!r}')
        cfg = pretrained[0]
        others = [c for c in cfgs if c not in pretrained]
        given = self.init_cfg
        self.init_cfg = others or self.default_init_cfg()
        try:
            super().init_weights()
        finally:
            self.init_cfg = given
        self.pretrained_report = load_pretrained(
            self,
            cfg['checkpoint'],
            prefix=cfg.get('prefix'),
            revise_keys=self.checkpoint_revise_keys,
            map_location=cfg.get('map_location', 'cpu'))
        print_log(
            f'{type(self).__name__}: {self.pretrained_report.summary()}',
            logger='current')
