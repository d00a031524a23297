"""What the binary backbones share: argument checks, freezing, init."""
from typing import List, Optional, Sequence, Union

from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import PretrainedInit
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .pretrained import CheckpointReport, load_pretrained

InitCfg = Union[None, dict, List[dict]]


class BaseBinaryBackbone(BaseModule):
    """Base class of the binary backbones.

    A subclass builds its stem modules (names in ``stem_names``) and its
    stages (``layer1``, ``layer2``, ... named in ``stage_names``), sets
    ``frozen_stages`` and ``norm_eval``, and calls :meth:`_freeze_stages` at
    the end of ``__init__``.

    Without ``init_cfg``, convs are Kaiming-initialised and norms set to 1/0.
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH, prefix=None)`` first
    applies that default init, then loads the checkpoint non-strictly with
    :func:`~.pretrained.load_pretrained` (keys renamed by
    :meth:`map_checkpoint_key`), logs the report (matched, missing and
    unexpected keys) to the current ``MMLogger`` and keeps it in
    ``pretrained_report``.

    Args:
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None (the default init).
    """

    stem_names: Sequence[str] = ()

    def __init__(self, init_cfg: InitCfg = None) -> None:
        super().__init__(
            init_cfg if init_cfg is not None else self.default_init_cfg())
        self.stage_names: List[str] = []
        self.frozen_stages = -1
        self.norm_eval = False
        self.pretrained_report: Optional[CheckpointReport] = None

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

    def map_checkpoint_key(self, key: str) -> str:
        """The model's name for a checkpoint key (identity here).

        Args:
            key (str): Checkpoint key, prefix already stripped.

        Returns:
            str: The model key.
        """
        return key

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
            key_map=self.map_checkpoint_key,
            map_location=cfg.get('map_location', 'cpu'))
        print_log(
            f'{type(self).__name__}: {self.pretrained_report.summary()}',
            logger='current')
