"""Train a segmentor (or depth estimator) with cmim_dense.

The interface is mmsegmentation 1.x's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]

``--resume`` is a flag: it resumes from the latest checkpoint of the work
directory. To resume from a given checkpoint instead, combine it with
``--cfg-options load_from=PATH`` (mmengine resumes from ``load_from`` when
``resume`` is set).

``cmim_dense`` is imported before anything imports mmseg's models, so the
dependency-stack shims (the ``mmcv._ext`` stand-in and the checkpoint
allow-list for ``torch.load(weights_only=True)``) are in place and every
cmim_dense module is registered.
"""
import argparse
import importlib.util
import os.path as osp
import sys
from typing import List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cmim_dense  # noqa: E402,F401  (must precede mmseg's model imports)
from mmengine.config import Config  # noqa: E402

from cmim_dense.utils.cli import (
    add_runner_args,
    apply_runner_args,  # noqa
    build_runner,
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
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    """Train from the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.
    """
    args = parse_args(argv)
    cfg = setup_cfg(Config.fromfile(args.config), args)
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    main()
