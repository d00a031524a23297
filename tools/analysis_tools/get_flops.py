"""Count the FLOPs, BOPs, OPs, parameters and sizes of a model config.

Usage::

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W]
        [--in-channels C] [--backbone-only] [--top N] [--json OUT]
        [--cfg-options KEY=VALUE ...]

The model of ``CONFIG`` is built (no checkpoint is needed: counts do not
depend on the weights) and run once on a random ``1 x C x H x W`` input
(default ``1 x 3 x 480 x 640``, NYUD-v2) in eval mode: an mmseg segmentor
through ``forward(inputs, data_samples=None, mode='tensor')`` (backbone,
neck and decode head; auxiliary heads only train and are not run), or only
its backbone with ``--backbone-only``. The per-layer table and the totals
are printed; ``--json`` writes :meth:`ComplexityReport.to_dict` plus the
config path and the input shape. BOPs are binary MACs and
``OPs = BOPs / 64 + FLOPs``; see :mod:`cmim_dense.utils.complexity` for
the conventions.
"""
import argparse
import importlib.util
import inspect
import json
import os
import os.path as osp
import sys
from typing import List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cmim_dense  # noqa: E402,F401  (must precede mmseg's model imports)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch import nn  # noqa: E402

from cmim_dense.utils.complexity import (  # noqa: E402
    ComplexityReport, analyze_complexity, format_table)

DEFAULT_SHAPE = (480, 640)  # NYUD-v2 images (H, W)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments; ``shape`` is ``(H, W)``.
    """
    parser = argparse.ArgumentParser(
        description='Count FLOPs, BOPs, OPs, params and sizes of a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=list(DEFAULT_SHAPE),
        metavar='N',
        help='input size: H W, or one value for a square input '
        '(default: 480 640)')
    parser.add_argument(
        '--in-channels',
        type=int,
        default=3,
        help='input channels (default: 3)')
    parser.add_argument(
        '--backbone-only', action='store_true', help='count only the backbone')
    parser.add_argument(
        '--top',
        type=int,
        default=None,
        help='print only the N most expensive layers')
    parser.add_argument('--json', metavar='OUT', help='write the report here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, xxx=yyy format')
    args = parser.parse_args(argv)
    if len(args.shape) == 1:
        args.shape = [args.shape[0]] * 2
    if len(args.shape) != 2 or min(args.shape) <= 0:
        parser.error(f'--shape takes H W or one size, got {args.shape}')
    args.shape = tuple(args.shape)
    return args


def build_model(config: str, cfg_options: Optional[dict] = None) -> nn.Module:
    """Build ``cfg.model`` of a config with mmseg's ``MODELS`` registry.

    Args:
        config (str): Config file path.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The model, on CPU, randomly initialized.

    Raises:
        SystemExit: If the config has no model or the model fails to build,
            with the registry's error and the config path.
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise SystemExit(f'get_flops: {config} defines no `model`')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import MODELS
    try:
        return MODELS.build(cfg.model)
    except Exception as err:  # the registry wraps any build error
        raise SystemExit(f'get_flops: cannot build the model of {config}: '
                         f'{type(err).__name__}: {err}') from err


def count(model: nn.Module,
          shape: tuple,
          in_channels: int = 3,
          backbone_only: bool = False) -> ComplexityReport:
    """Run :func:`analyze_complexity` on a random ``1 x C x H x W`` input.

    Args:
        model (nn.Module): A built model.
        shape (tuple[int, int]): ``(H, W)``.
        in_channels (int): Input channels. Defaults to 3.
        backbone_only (bool): Count ``model.backbone`` only.
            Defaults to False.

    Returns:
        ComplexityReport: The counts.
    """
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(1, in_channels, *shape, generator=generator)
    if backbone_only:
        backbone = getattr(model, 'backbone', None)
        if backbone is None:
            raise SystemExit(f'get_flops: --backbone-only: '
                             f'{type(model).__name__} has no backbone')
        return analyze_complexity(backbone, inputs)
    params = inspect.signature(model.forward).parameters
    kwargs = {}
    if 'mode' in params:  # mmengine BaseModel: the plain tensor forward
        kwargs['mode'] = 'tensor'
        if 'data_samples' in params:
            kwargs['data_samples'] = None
    return analyze_complexity(model, inputs, forward_kwargs=kwargs)


def main(argv: Optional[List[str]] = None) -> ComplexityReport:
    """Build the model, count, print and optionally write the JSON.

    Args:
        argv (list[str], optional): Arguments without the program name.

    Returns:
        ComplexityReport: The counts.
    """
    args = parse_args(argv)
    model = build_model(args.config, args.cfg_options)
    report = count(model, args.shape, args.in_channels, args.backbone_only)
    part = 'backbone of ' if args.backbone_only else ''
    print(f'Complexity of the {part}{type(model).__name__} of {args.config} '
          f'(input 1x{args.in_channels}x{args.shape[0]}x{args.shape[1]}):')
    print(format_table(report, top=args.top))
    print('Only conv/linear MACs are counted (BN, activations, pooling and '
          'additions are not); BOPs = binary MACs, OPs = BOPs/64 + FLOPs.')
    if args.json:
        out = dict(
            config=osp.abspath(args.config),
            shape=list(args.shape),
            in_channels=args.in_channels,
            backbone_only=args.backbone_only,
            **report.to_dict())
        out_dir = osp.dirname(osp.abspath(args.json))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=2)
        print(f'Wrote {args.json}')
    return report


if __name__ == '__main__':
    main()
