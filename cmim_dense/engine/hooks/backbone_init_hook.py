"""Say, loudly when it matters, where the backbone's weights came from."""
import logging
from typing import Dict, List, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import nn

from cmim_dense.registry import HOOKS

#: Key of the record in the runner's ``message_hub`` runtime info.
INFO_KEY = 'backbone_init'
#: Value recorded for a backbone that loaded no checkpoint.
SCRATCH = 'scratch'
#: Start of the warning line for such a backbone (stable, for log parsers).
SCRATCH_LINE = 'BACKBONE TRAINED FROM SCRATCH'


def _checkpoint_of(init_cfg) -> Optional[str]:
    """The checkpoint an ``init_cfg`` (dict or list of dicts) names.

    Args:
        init_cfg (dict | list[dict] | None): A module's init config.

    Returns:
        str | None: The first ``checkpoint`` entry, or None.
    """
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for cfg in cfgs:
        if isinstance(cfg, dict) and cfg.get('checkpoint'):
            return str(cfg['checkpoint'])
    return None


def backbone_init_sources(model: nn.Module) -> Dict[str, str]:
    """Where each trained backbone of ``model`` takes its weights from.

    Backbones are the submodules named ``backbone`` (``backbone``,
    ``architecture.backbone`` in a CMIM wrapper, ...); those under a
    ``teacher`` (a frozen FP teacher loads its own checkpoint) are skipped.

    Args:
        model (nn.Module): The model (unwrapped).

    Returns:
        dict[str, str]: Module name -> ``'checkpoint:<path>'`` or
        ``'scratch'``.
    """
    sources = {}
    for name, module in model.named_modules():
        parts = name.split('.')
        if parts[-1] != 'backbone' or 'teacher' in parts:
            continue
        checkpoint = _checkpoint_of(getattr(module, 'init_cfg', None))
        sources[name] = SCRATCH if checkpoint is None else \
            f'checkpoint:{checkpoint}'
    return sources


@HOOKS.register_module()
class BackboneInitHook(Hook):
    """Log and record how the backbone was initialised, before training.

    Runs after the runner has initialised the weights. For every trained
    backbone (see :func:`backbone_init_sources`) it logs the checkpoint it
    was initialised from, or, for a backbone without one (e.g.
    ``--cfg-options model.backbone.init_cfg=None``), a WARNING starting
    with ``BACKBONE TRAINED FROM SCRATCH``, since such results are not
    comparable with the ImageNet-initialised recipes. When ``load_from`` or
    ``resume`` gives the weights, that is said instead. The record
    (``{name: 'checkpoint:<path>' | 'scratch'}``, plus ``'load_from'`` when
    set) is stored in the runner's ``message_hub`` runtime info under
    ``'backbone_init'`` (hence in saved checkpoints' ``message_hub``).
    """

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        """Log and record the sources.

        Args:
            runner (Runner): The runner.
        """
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        sources = backbone_init_sources(model)
        load_from = getattr(runner, '_load_from', None)
        record: Dict[str, str] = dict(sources)
        if load_from:
            record['load_from'] = str(load_from)
        runner.message_hub.update_info(INFO_KEY, record)
        scratch: List[str] = [n for n, s in sources.items() if s == SCRATCH]
        loaded: List[Tuple[str, str]] = [(n, s) for n, s in sources.items()
                                         if s != SCRATCH]
        for name, source in loaded:
            print_log(
                f'backbone_init: {name} from {source[11:]}', logger='current')
        if not scratch:
            return
        if load_from:
            print_log(
                f'backbone_init: {", ".join(scratch)} without an ImageNet '
                f'checkpoint; all weights come from load_from={load_from}',
                logger='current',
                level=logging.WARNING)
            return
        bar = '!' * 78
        print_log(
            f'\n{bar}\n{SCRATCH_LINE}: {", ".join(scratch)} loaded no '
            'checkpoint (init_cfg without one, e.g. --cfg-options '
            'model.backbone.init_cfg=None).\nThe NYUD-v2 recipes this '
            'project compares with start from ImageNet weights; results of '
            f'this run are not comparable with them.\n{bar}',
            logger='current',
            level=logging.WARNING)
