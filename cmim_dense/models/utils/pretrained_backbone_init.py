"""``init_cfg=dict(type='PretrainedBackbone', ...)``: an ImageNet checkpoint
that must exist, with a message saying where users get it."""
import os.path as osp
from typing import Any, List, Optional

from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import WEIGHT_INITIALIZERS
from torch import nn

#: How to train from scratch on purpose, quoted by the messages.
SCRATCH_HINT = ('to train from scratch on purpose, pass --cfg-options '
                'model.backbone.init_cfg=None '
                '(model.architecture.backbone.init_cfg=None in a CMIM config)')


def check_checkpoint_file(checkpoint: str,
                          source: Optional[str] = None) -> None:
    """Stop with a clear message when a local checkpoint file is missing.

    Args:
        checkpoint (str): Path of the checkpoint (URLs and other
            ``scheme://`` sources are not checked here).
        source (str, optional): Where users get the file (the tool that
            writes it, the page to download from), quoted in the message.

    Raises:
        FileNotFoundError: The file does not exist; the message names it,
            says where to get it, that nothing is downloaded at run time,
            and how to train from scratch instead.
    """
    if '://' in checkpoint or osp.isfile(checkpoint):
        return
    where = f' Get it: {source}.' if source else ''
    raise FileNotFoundError(
        f'backbone checkpoint {checkpoint!r} not found (absolute path '
        f'{osp.abspath(checkpoint)!r}).{where} Nothing is downloaded at run '
        f'time; {SCRATCH_HINT}.')


@WEIGHT_INITIALIZERS.register_module(name='PretrainedBackbone')
class PretrainedBackboneInit:
    """Initialise a backbone from an (ImageNet) checkpoint that must exist.

    ``init_cfg=dict(type='PretrainedBackbone', checkpoint=PATH,
    source='how to get PATH')`` in a backbone config: a missing ``PATH``
    stops with a ``FileNotFoundError`` naming it and quoting ``source``
    (see :func:`check_checkpoint_file`); nothing is downloaded. An existing
    one is loaded as ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``
    loads it: for the project's binary backbones (which have
    ``checkpoint_revise_keys``) by their own ``init_weights`` (default init,
    then the non-strict load with key renaming, shape checks and the
    matched / missing / unexpected report in the log and in
    ``pretrained_report``), for any other module by mmengine's
    ``PretrainedInit``.

    Args:
        checkpoint (str): Path (or URL) of the checkpoint.
        source (str, optional): Where users get it, for the message.
        prefix (str, optional): Key prefix to select and strip.
        map_location (str): Device to load to. Defaults to ``'cpu'``.
    """

    def __init__(self,
                 checkpoint: str,
                 source: Optional[str] = None,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu') -> None:
        if not isinstance(checkpoint, str) or not checkpoint:
            raise ValueError('PretrainedBackbone: checkpoint must be a '
                             f'non-empty path, got {checkpoint!r}')
        self.checkpoint = checkpoint
        self.source = source
        self.prefix = prefix
        self.map_location = map_location

    def __call__(self, module: nn.Module) -> None:
        """Check the file, then load it into ``module``.

        Args:
            module (nn.Module): The backbone.
        """
        check_checkpoint_file(self.checkpoint, self.source)
        if not hasattr(module, 'checkpoint_revise_keys'):
            PretrainedInit(
                checkpoint=self.checkpoint,
                prefix=self.prefix,
                map_location=self.map_location)(
                    module)
            return
        # the backbone's own loader (called from its BaseModule.init_weights,
        # before its children are initialised: they are initialised inside
        # this call, then skipped by the outer one as already initialised)
        given = module.init_cfg
        module.init_cfg = dict(
            type='Pretrained',
            checkpoint=self.checkpoint,
            prefix=self.prefix,
            map_location=self.map_location)
        try:
            module.init_weights()
        finally:
            module.init_cfg = given
        print_log(
            f'{type(module).__name__}: initialised from {self.checkpoint}' +
            (f' ({self.source})' if self.source else ''),
            logger='current')

    def __repr__(self) -> str:
        """Summary for logs.

        Returns:
            str: The summary.
        """
        return (f'{type(self).__name__}(checkpoint={self.checkpoint!r}, '
                f'source={self.source!r})')


def drop_checkpoint_inits(cfg: Any) -> List[str]:
    """Set to None every module's ``init_cfg`` that names a checkpoint.

    For tools whose result does not depend on the weights (speed, memory,
    FLOPs): they then run without the ImageNet files. Works in place on a
    config (``Config``/``ConfigDict``/dict/list).

    Args:
        cfg (Any): A model config or a part of one.

    Returns:
        list[str]: The checkpoints no longer loaded.
    """
    dropped: List[str] = []
    if isinstance(cfg, (list, tuple)):
        for item in cfg:
            dropped += drop_checkpoint_inits(item)
        return dropped
    if not isinstance(cfg, dict):
        return dropped
    for value in cfg.values():
        dropped += drop_checkpoint_inits(value)
    init_cfg = cfg.get('init_cfg')
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    named = [
        c['checkpoint'] for c in cfgs
        if isinstance(c, dict) and c.get('checkpoint')
    ]
    if named and 'type' in cfg:
        cfg['init_cfg'] = None
        dropped += [str(c) for c in named]
    return dropped
