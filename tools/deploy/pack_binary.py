"""Write a deployable checkpoint with 1-bit packed binary weights.

    python tools/deploy/pack_binary.py CHECKPOINT OUT [--config CONFIG]

Every binary layer's weight is stored as sign bits (8 per byte) plus one
float32 scale per output channel; the rest of the model is unchanged and the
optimizer state is dropped. The model is rebuilt from ``--config`` or from
the config mmengine stored in the checkpoint. Unless ``--no-verify``, the
packed file is loaded back into a fresh model and its outputs are compared
with the unpacked model's on a random input: they must be equal exactly.
``tools/test.py CONFIG OUT`` evaluates the packed checkpoint directly;
in Python use :func:`cmim_dense.models.utils.load_packed_checkpoint`.
"""
import argparse
import importlib.util
import os.path as osp
import sys
from typing import List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cmim_dense  # noqa: E402,F401
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from torch import nn  # noqa: E402

from cmim_dense.models.utils import (
    load_packed_checkpoint,  # noqa: E402
    pack_checkpoint)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Pack the binary weights of a checkpoint at 1 bit')
    parser.add_argument('checkpoint', help='trained checkpoint (.pth)')
    parser.add_argument('out', help='packed checkpoint to write (.pth)')
    parser.add_argument(
        '--config',
        help='config of the model (default: the one stored in '
        'the checkpoint by mmengine)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--verify-shape',
        type=int,
        nargs=2,
        default=[64, 64],
        metavar=('H', 'W'),
        help='input size of the equality check')
    parser.add_argument(
        '--no-verify',
        action='store_true',
        help='skip the packed == unpacked output check')
    return parser.parse_args(argv)


def load_config(args: argparse.Namespace, checkpoint: dict) -> Config:
    """The model's config: ``--config`` or the checkpoint's own."""
    if args.config is not None:
        cfg = Config.fromfile(args.config)
    else:
        text = checkpoint.get('meta', {}).get('cfg')
        if not text:
            raise SystemExit(f'{args.checkpoint} stores no config '
                             '(meta["cfg"]); pass --config CONFIG')
        cfg = Config.fromstring(text, file_format='.py')
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def build_model(cfg: Config) -> nn.Module:
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    return model.eval()


@torch.no_grad()
def outputs_equal(model: nn.Module, other: nn.Module,
                  shape: List[int]) -> bool:
    """Whether both models give identical outputs on one random input."""
    inputs = torch.randn(
        1, 3, *shape, generator=torch.Generator().manual_seed(0))
    out_a, out_b = model(inputs, mode='tensor'), other(inputs, mode='tensor')
    if isinstance(out_a, torch.Tensor):
        return torch.equal(out_a, out_b)
    return all(torch.equal(a, b) for a, b in zip(out_a, out_b))


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    checkpoint = torch.load(
        args.checkpoint, map_location='cpu', weights_only=True)
    state = checkpoint.get('state_dict', checkpoint)
    cfg = load_config(args, checkpoint)
    model = build_model(cfg)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise SystemExit(f'{args.checkpoint} does not match the config\'s '
                         f'model:\n{err}') from err
    meta = dict(checkpoint.get('meta', {}))
    meta['cfg'] = cfg.pretty_text
    meta = {
        k: meta[k]
        for k in ('cfg', 'dataset_meta', 'seed', 'iter', 'epoch',
                  'mmengine_version') if k in meta
    }
    sizes = pack_checkpoint(model, args.out, meta)
    sizes['in_file_bytes'] = osp.getsize(args.checkpoint)
    sizes['out_file_bytes'] = osp.getsize(args.out)
    mib = 1024**2
    print(f'packed {sizes["layers"]} binary layers -> {args.out}')
    print(f'weights (state dict): {sizes["fp32_bytes"] / mib:.3f} MiB fp32 '
          f'-> {sizes["packed_bytes"] / mib:.3f} MiB packed '
          f'({sizes["fp32_bytes"] / sizes["packed_bytes"]:.2f}x smaller)')
    note = ' (the input also holds optimizer state)' if 'optimizer' in \
        checkpoint else ''
    print(f'file: {sizes["in_file_bytes"] / mib:.3f} MiB -> '
          f'{sizes["out_file_bytes"] / mib:.3f} MiB{note}')
    if not args.no_verify:
        deployed = build_model(cfg)
        load_packed_checkpoint(deployed, args.out)
        if not outputs_equal(model, deployed, args.verify_shape):
            raise SystemExit('verification failed: the packed model\'s '
                             'outputs differ from the unpacked model\'s')
        print('verified: packed and unpacked outputs are identical')
    return sizes


if __name__ == '__main__':
    main()
