"""Test (and evaluate) a checkpoint with cmim_dense.

The interface is mmsegmentation 1.x's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show] [--show-dir DIR] [--wait-time S] [--tta] [--engine]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]

The metrics are logged and written as json to ``WORK_DIR/<timestamp>/``.
``CHECKPOINT`` may also be a packed checkpoint written by
``tools/deploy/pack_binary.py`` (1-bit weights); it is recognised by its meta
and loaded with :func:`cmim_dense.models.utils.load_packed_checkpoint`.

``--engine`` runs the binary layers on the 1-bit CPU engine
(:mod:`cmim_dense.deploy`); the checkpoint may then be plain, CMIM or packed.

``--out DIR`` saves the predictions for offline evaluation. Every metric of
``test_evaluator`` whose class accepts ``output_dir`` (mmseg's ``IoUMetric``
writes one PNG per image there) gets ``output_dir=DIR``, and
``keep_results=True`` where it accepts that argument too. When no metric
accepts ``output_dir``, mmengine's ``DumpResults`` metric is added instead and
pickles every prediction to ``DIR/results.pkl``.
"""
import argparse
import importlib.util
import inspect
import os.path as osp
import sys
from typing import Any, Dict, List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cmim_dense  # noqa: E402,F401  (must precede mmseg's model imports)
from mmengine.config import Config, ConfigDict  # noqa: E402
from mmengine.model import BaseTTAModel, is_model_wrapper  # noqa: E402

from cmim_dense.models.utils import (
    is_packed_checkpoint,  # noqa: E402
    load_packed_checkpoint)
from cmim_dense.utils.cli import (
    add_runner_args,
    apply_runner_args,  # noqa
    build_runner,
    distributed_shutdown,
    parse_runner_args)

#: File written by the ``DumpResults`` fallback of ``--out``.
DUMP_FILE_NAME = 'results.pkl'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments. ``LOCAL_RANK`` is set in
        the environment from ``--local_rank`` unless already set.
    """
    parser = argparse.ArgumentParser(
        description='cmim_dense test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        type=str,
        help='the directory to save output predictions for offline '
        'evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved (the '
        'visualizer\'s save_dir)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    parser.add_argument(
        '--engine',
        action='store_true',
        help='run the binary layers on the 1-bit CPU engine')
    add_runner_args(
        parser, 'if specified, the evaluation metric results will be dumped '
        'into the directory as json')
    return parse_runner_args(parser, argv)


def trigger_visualization_hook(cfg: Config,
                               args: argparse.Namespace) -> Config:
    """Turn on drawing in the config's visualization hook.

    Args:
        cfg (Config): The config; changed in place.
        args (argparse.Namespace): The parsed command line (``show``,
            ``wait_time`` and ``show_dir`` are used).

    Returns:
        Config: The same config.

    Raises:
        RuntimeError: If ``default_hooks`` has no ``visualization`` hook, or
            ``--show-dir`` is given and the config has no ``visualizer``.
    """
    default_hooks = cfg.get('default_hooks', None) or {}
    hook = default_hooks.get('visualization', None)
    if hook is None:
        raise RuntimeError(
            '--show/--show-dir need a visualization hook, but the config has '
            'none: add `default_hooks.visualization='
            'dict(type=\'SegVisualizationHook\')` to the config (or pass '
            '`--cfg-options default_hooks.visualization.type='
            'SegVisualizationHook`).')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        visualizer = cfg.get('visualizer', None)
        if visualizer is None:
            raise RuntimeError(
                '--show-dir needs a `visualizer` in the config, e.g. '
                '`visualizer=dict(type=\'SegLocalVisualizer\', '
                'vis_backends=[dict(type=\'LocalVisBackend\')], '
                'name=\'visualizer\')`.')
        visualizer['save_dir'] = args.show_dir
    return cfg


def _metric_init_params(metric_cfg: Dict[str, Any]) -> Optional[set]:
    """Names of the ``__init__`` arguments of a metric config's class.

    Returns:
        set or None: None when the class cannot be resolved.
    """
    metric_type = metric_cfg.get('type', None)
    if isinstance(metric_type, str):
        from mmseg.registry import METRICS
        metric_type = METRICS.get(metric_type)
    if not inspect.isclass(metric_type):
        return None
    return set(inspect.signature(metric_type.__init__).parameters)


def set_output_dir(cfg: Config, out_dir: str) -> Config:
    """Make the test evaluator save the predictions to ``out_dir``.

    Args:
        cfg (Config): The config; ``test_evaluator`` is changed in place.
        out_dir (str): The output directory.

    Returns:
        Config: The same config. See the module docstring for what each
        kind of metric gets.
    """
    evaluator = cfg.test_evaluator
    if isinstance(evaluator, dict) and 'metrics' in evaluator:  # Evaluator
        metrics = evaluator['metrics']
    else:
        metrics = evaluator
    is_list = isinstance(metrics, (list, tuple))
    metrics = list(metrics) if is_list else [metrics]

    supported = False
    for metric in metrics:
        params = _metric_init_params(metric)
        if params is None or 'output_dir' not in params:
            continue
        metric['output_dir'] = out_dir
        if 'keep_results' in params:
            metric['keep_results'] = True
        supported = True
    if not supported:
        metrics.append(
            ConfigDict(
                type='mmengine.DumpResults',
                out_file_path=osp.join(out_dir, DUMP_FILE_NAME)))
        is_list = True

    if not is_list:
        return cfg
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator['metrics'] = metrics
    else:
        cfg.test_evaluator = metrics
    return cfg


def enable_tta(cfg: Config) -> Config:
    """Wrap the model into the config's ``tta_model`` with ``tta_pipeline``.

    Args:
        cfg (Config): The config; changed in place.

    Returns:
        Config: The same config.

    Raises:
        RuntimeError: If the config lacks ``tta_model`` or ``tta_pipeline``.
    """
    missing = [k for k in ('tta_model', 'tta_pipeline') if k not in cfg]
    if missing:
        raise RuntimeError(f'--tta needs {" and ".join(missing)} in the '
                           'config.')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
    return cfg


def setup_cfg(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command line to a loaded config.

    The work directory is chosen in this order: ``--work-dir``, the config's
    ``work_dir``, ``./work_dirs/<config file stem>``.

    Args:
        cfg (Config): The config loaded from ``args.config``; changed in
            place.
        args (argparse.Namespace): The parsed command line.

    Returns:
        Config: The same config, ready for the runner.
    """
    apply_runner_args(cfg, args)
    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        trigger_visualization_hook(cfg, args)
    if args.tta:
        enable_tta(cfg)
    if args.out is not None:
        set_output_dir(cfg, args.out)
    return cfg


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    """Test from the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.

    Returns:
        dict: The metrics returned by ``runner.test()``.
    """
    args = parse_args(argv)
    cfg = setup_cfg(Config.fromfile(args.config), args)
    engine = args.engine
    packed = is_packed_checkpoint(args.checkpoint)
    with distributed_shutdown():
        if packed or engine:  # loaded below, into the built model
            cfg.load_from = None
        runner = build_runner(cfg)
        if packed or engine:  # unwrap DDP and TTA wrappers
            model = runner.model
            while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
                model = model.module
            if engine:
                from cmim_dense.deploy import convert_to_engine, load_weights
                from cmim_dense.ops import engine_isa
                load_weights(model, args.checkpoint)
                report = convert_to_engine(model)
                print(f'engine ({engine_isa()}): {len(report["engine"])} '
                      f'modules converted, {len(report["pytorch"])} binary '
                      'layers left in PyTorch')
            else:
                load_packed_checkpoint(model, args.checkpoint)
        return runner.test()


if __name__ == '__main__':
    main()
