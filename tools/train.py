"""Train a segmentor (or depth estimator) with cmim_dense.

The interface is mmsegmentation 1.x's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]

``--resume`` is a flag: it resumes from the latest complete checkpoint of
the work directory (``last_checkpoint``, repaired if torn). To resume from a
given checkpoint instead, combine it with ``--cfg-options load_from=PATH``
(mmengine resumes from ``load_from`` when ``resume`` is set). A config
without ``randomness.seed`` resumes with the seed saved in the checkpoint,
so the data order and the workers' seeds are those of the interrupted run.

Exit codes: 0 when training completes, :data:`EXIT_PREEMPTED` (75) when a
``PreemptionHook`` stopped it on SIGTERM / SIGUSR1 after writing a
checkpoint (requeue with ``--resume``), 1 on an error.

``cmim_dense`` is imported before anything imports mmseg's models, so the
dependency-stack shims (the ``mmcv._ext`` stand-in and the checkpoint
allow-list for ``torch.load(weights_only=True)``) are in place and every
cmim_dense module is registered.
"""
import argparse
import importlib.util
import logging
import os.path as osp
import sys
from typing import List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cmim_dense  # noqa: E402,F401  (must precede mmseg's model imports)
from mmengine.config import Config  # noqa: E402
from mmengine.logging import print_log  # noqa: E402

from cmim_dense.engine import EXIT_PREEMPTED, PreemptionHook  # noqa: E402
from cmim_dense.engine import TrainingPreempted  # noqa: E402
from cmim_dense.engine import repair_last_checkpoint  # noqa: E402
from cmim_dense.utils.cli import (  # noqa: E402
    add_runner_args, apply_runner_args, build_runner, distributed_shutdown,
    parse_runner_args)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments. ``LOCAL_RANK`` is set in
        the environment from ``--local_rank`` unless already set.
    """
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir '
        'automatically; add "--cfg-options load_from=PATH" to resume from '
        'a given checkpoint instead')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    add_runner_args(parser, 'the dir to save logs and models')
    return parse_runner_args(parser, argv)


#: The AMP counterpart of each supported optimizer wrapper.
AMP_OF = {
    'OptimWrapper': 'AmpOptimWrapper',
    'NonFiniteGuardOptimWrapper': 'NonFiniteGuardAmpOptimWrapper',
}


def enable_amp(cfg: Config) -> Config:
    """Switch the config's optimizer wrapper to its AMP counterpart.

    Args:
        cfg (Config): The config; changed in place.

    Returns:
        Config: The same config, with ``optim_wrapper.type`` set to its AMP
        counterpart (:data:`AMP_OF`) and ``loss_scale='dynamic'``.

    Raises:
        ValueError: If the config has no ``optim_wrapper``, if it already is
            an AMP wrapper or if it is a wrapper type without a counterpart.
    """
    optim_wrapper = cfg.get('optim_wrapper', None)
    if optim_wrapper is None:
        raise ValueError('`--amp` needs an `optim_wrapper` in the config, '
                         'but the config has none.')
    wrapper_type = optim_wrapper.get('type', 'OptimWrapper')
    if not isinstance(wrapper_type, str):  # a class in a lazy config
        wrapper_type = wrapper_type.__name__
    wrapper_type = wrapper_type.split('.')[-1]  # drop a scope prefix
    if wrapper_type in AMP_OF.values():
        raise ValueError('`--amp` was given, but the config already uses '
                         f'`{wrapper_type}`; drop `--amp`.')
    if wrapper_type not in AMP_OF:
        raise ValueError('`--amp` is only supported when the optimizer '
                         f'wrapper type is one of {sorted(AMP_OF)}, but got '
                         f'`{wrapper_type}`.')
    optim_wrapper['type'] = AMP_OF[wrapper_type]
    optim_wrapper['loss_scale'] = 'dynamic'
    return cfg


def setup_cfg(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command line to a loaded config.

    Args:
        cfg (Config): The config loaded from ``args.config``; changed in
            place.
        args (argparse.Namespace): The parsed command line.

    Returns:
        Config: The same config, ready for the runner.
    """
    apply_runner_args(cfg, args)
    if args.amp:
        enable_amp(cfg)
    cfg.resume = args.resume
    if args.resume:
        use_checkpoint_seed(cfg)
    return cfg


def resume_checkpoint(cfg: Config) -> Optional[str]:
    """The checkpoint ``--resume`` continues from, as the runner finds it.

    Args:
        cfg (Config): The config (``load_from``, ``work_dir``).

    Returns:
        str | None: ``load_from`` if set, else the checkpoint named by the
        work directory's ``last_checkpoint`` (repaired first, see
        :func:`~cmim_dense.engine.repair_last_checkpoint`), else None.
    """
    if cfg.get('load_from', None):
        return cfg.load_from
    work_dir = cfg.get('work_dir', None)
    if not work_dir or not osp.isdir(work_dir):
        return None
    return repair_last_checkpoint(work_dir)


def use_checkpoint_seed(cfg: Config) -> Optional[int]:
    """Resume with the seed of the checkpoint when the config has none.

    mmengine builds the train dataloader (the sampler's order, the
    workers' seeds) with the run's seed before it reads the checkpoint, so
    a config without ``randomness.seed`` (a fresh random seed per process)
    would resume on another data order. The checkpoint's ``meta.seed`` is
    put in the config instead.

    Args:
        cfg (Config): The config; changed in place.

    Returns:
        int | None: The seed taken from the checkpoint, None if the config
        has a seed or there is no local checkpoint to read.
    """
    randomness = cfg.get('randomness', None) or {}
    if randomness.get('seed', None) is not None:
        return None
    path = resume_checkpoint(cfg)
    if path is None or '://' in path or not osp.isfile(path):
        return None
    import torch
    try:
        meta = torch.load(
            path, map_location='cpu', weights_only=True, mmap=True)['meta']
    except Exception as err:  # the runner reports a bad file properly
        print_log(
            f'Could not read the seed of {path} ({err}).',
            logger='current',
            level=logging.WARNING)
        return None
    seed = meta.get('seed', None) if isinstance(meta, dict) else None
    if seed is None:
        return None
    cfg.randomness = dict(randomness, seed=int(seed))
    print_log(f'Resuming with the seed of {path}: {seed}', logger='current')
    return int(seed)


def install_preemption_handlers(runner) -> List[PreemptionHook]:
    """Install every ``PreemptionHook``'s handlers before training starts.

    The train dataloader's workers start when the train loop is built, at
    the beginning of ``runner.train()``, before any hook runs; installing
    here blocks the preemption signals in them (see
    :class:`~cmim_dense.engine.PreemptionHook`).

    Args:
        runner (Runner): The built runner.

    Returns:
        list[PreemptionHook]: The hooks installed.
    """
    hooks = [h for h in runner.hooks if isinstance(h, PreemptionHook)]
    for hook in hooks:
        hook.install()
    return hooks


def main(argv: Optional[List[str]] = None) -> None:
    """Train from the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.
    """
    args = parse_args(argv)
    cfg = setup_cfg(Config.fromfile(args.config), args)
    with distributed_shutdown():
        runner = build_runner(cfg)
        hooks = install_preemption_handlers(runner)
        try:
            runner.train()
        except TrainingPreempted as stop:
            runner.logger.warning(
                f'Training {stop}; exit code {EXIT_PREEMPTED}.')
            sys.exit(EXIT_PREEMPTED)
        finally:
            for hook in hooks:
                hook.uninstall()


if __name__ == '__main__':
    main()
