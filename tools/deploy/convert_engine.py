"""Convert a trained binary segmentor for the 1-bit CPU engine.

    python tools/deploy/convert_engine.py CHECKPOINT OUT [--config CONFIG]

``CHECKPOINT`` is a plain, CMIM or packed (``pack_binary.py``) checkpoint.
``OUT`` is a packed checkpoint of the inference model (a CMIM model's
``architecture``; 1-bit weights, see
:mod:`cmim_dense.models.utils.binary_packing`) whose stored config is that
model's: it is what ``tools/deploy/infer.py`` and ``tools/test.py --engine``
load (the engine packs the bits once, at load). Unless ``--no-verify``, the
engine model built from ``OUT`` is run beside the fake-quantized PyTorch
model on a random input: the predicted segmentation must be identical and
every output within ``--atol``/``--rtol``.
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

from cmim_dense.deploy import load_deploy_model  # noqa: E402
from cmim_dense.models.utils import pack_checkpoint  # noqa: E402
from cmim_dense.ops import engine_isa  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a binary checkpoint for the 1-bit CPU engine')
    parser.add_argument('checkpoint', help='plain, CMIM or packed .pth')
    parser.add_argument('out', help='packed inference checkpoint to write')
    parser.add_argument(
        '--config', help='model config (default: the checkpoint\'s own)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--verify-shape',
        type=int,
        nargs=2,
        default=[96, 128],
        metavar=('H', 'W'),
        help='input size of the engine == PyTorch check')
    parser.add_argument('--atol', type=float, default=1e-3)
    parser.add_argument('--rtol', type=float, default=1e-3)
    parser.add_argument(
        '--no-verify', action='store_true', help='skip the check')
    return parser.parse_args(argv)


def inference_config(args: argparse.Namespace, checkpoint: dict) -> Config:
    """The config of the inference model (CMIM's ``architecture``).

    ``--config`` or the checkpoint's own, read as ``pack_binary.py`` does.
    """
    spec = importlib.util.spec_from_file_location(
        'cmim_dense_tool_pack_binary',
        osp.join(osp.dirname(osp.abspath(__file__)), 'pack_binary.py'))
    pack_binary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pack_binary)
    cfg = pack_binary.load_config(args, checkpoint)
    if cfg.model.get('type') == 'CMIM':
        cfg.model = cfg.model.architecture
    return cfg


@torch.no_grad()
def compare(reference: torch.nn.Module, engine: torch.nn.Module,
            shape: List[int], atol: float, rtol: float) -> List[str]:
    """Problems found running both models on one random input."""
    inputs = torch.randn(
        1, 3, *shape, generator=torch.Generator().manual_seed(0))
    ref, got = reference(inputs, mode='tensor'), engine(inputs, mode='tensor')
    if isinstance(ref, torch.Tensor):
        ref, got = dict(out=ref), dict(out=got)
    problems = []
    for task in ref:
        a, b = ref[task], got[task]
        if a.shape[1] > 1 and not torch.equal(a.argmax(1), b.argmax(1)):
            share = (a.argmax(1) != b.argmax(1)).float().mean().item()
            problems.append(f'{task}: {share:.4%} of the labels differ')
        if not torch.allclose(a, b, rtol=rtol, atol=atol):
            problems.append(f'{task}: max |diff| '
                            f'{(a - b).abs().max().item():.3g}')
    return problems


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    checkpoint = torch.load(
        args.checkpoint, map_location='cpu', weights_only=True)
    cfg = inference_config(args, checkpoint)
    try:
        model = load_deploy_model(cfg, checkpoint, engine=False)
    except ValueError as err:
        raise SystemExit(str(err).replace('<dict>', args.checkpoint)) from err
    meta = {
        k: v
        for k, v in checkpoint.get('meta', {}).items()
        if k in ('dataset_meta', 'seed', 'iter', 'epoch', 'mmengine_version')
    }
    meta['cfg'] = cfg.pretty_text
    sizes = pack_checkpoint(model, args.out, meta)
    mib = 1024**2
    print(f'packed {sizes["layers"]} binary layers -> {args.out} '
          f'({sizes["fp32_bytes"] / mib:.3f} MiB fp32 -> '
          f'{sizes["packed_bytes"] / mib:.3f} MiB)')
    if not args.no_verify:
        engine = load_deploy_model(cfg, args.out, engine=True)
        problems = compare(model, engine, args.verify_shape, args.atol,
                           args.rtol)
        if problems:
            raise SystemExit('verification failed: ' + '; '.join(problems))
        print(f'verified on the {engine_isa()} engine: same predictions as '
              'the PyTorch model')
    return sizes


if __name__ == '__main__':
    main()
