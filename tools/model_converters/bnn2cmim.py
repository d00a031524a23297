"""Convert an authors' ImageNet BNN checkpoint to our backbone's keys.

    python tools/model_converters/bnn2cmim.py SRC DST --arch ARCH

``ARCH``: ``irnet-r18``, ``irnet-r34``, ``rbnn-r18``, ``rbnn-r34``,
``recu-r18``, ``recu-r34``, ``bireal-r18``, ``bireal-r34``, ``reactnet-a``
(see ``docs/pretrained.md``). ``SRC`` is read with the safe loader
(``torch.load(weights_only=True)``; a ``state_dict`` entry and a
``module.`` prefix are handled). The converted state dict is loaded into
our backbone to check every shape, the report (matched / missing /
unexpected keys) is printed, and ``DST`` is written atomically as
``dict(state_dict=..., meta=...)``. Use it with
``model.backbone.init_cfg=dict(type='Pretrained', checkpoint=DST)``.

Exit status 1 (nothing written) when our backbone would keep keys that the
checkpoint does not provide, unless ``--allow-missing``.
"""
import argparse
import importlib.util
import os.path as osp
import pickle
import sys
from typing import List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cmim_dense  # noqa: E402,F401
from cmim_dense.models.backbones import read_state_dict  # noqa: E402
from cmim_dense.models.backbones.original_checkpoints import (  # noqa: E402
    ORIGINAL_ARCHS, convert_original_state_dict)
from cmim_dense.utils.atomic_io import atomic_torch_save  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Convert an authors' ImageNet BNN checkpoint (IR-Net, "
        'RBNN, ReCU, Bi-Real, ReActNet-A) to a cmim_dense backbone')
    parser.add_argument('src', help='the original checkpoint')
    parser.add_argument('dst', help='the converted checkpoint to write')
    parser.add_argument(
        '--arch',
        required=True,
        choices=list(ORIGINAL_ARCHS),
        help='architecture of the original checkpoint')
    parser.add_argument(
        '--allow-missing',
        action='store_true',
        help='write even if some backbone keys are not in the checkpoint')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        state = read_state_dict(args.src)
        result = convert_original_state_dict(args.arch, state, args.src)
    except (OSError, ValueError, pickle.UnpicklingError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    report = result.report
    print(report.summary())
    print(f'{len(result.head)} of the unexpected keys are the classifier '
          f'head ({ORIGINAL_ARCHS[args.arch]["source"]})')
    if report.missing and not args.allow_missing:
        print(
            f'error: {len(report.missing)} backbone key(s) are not in '
            f'{args.src} (is --arch {args.arch} right?); nothing written. '
            'Pass --allow-missing to write anyway.',
            file=sys.stderr)
        return 1
    meta = dict(
        arch=args.arch,
        source=osp.basename(args.src),
        original_code=ORIGINAL_ARCHS[args.arch]['source'],
        backbone=dict(ORIGINAL_ARCHS[args.arch]['backbone']))
    atomic_torch_save(dict(state_dict=result.state_dict, meta=meta), args.dst)
    print(f'wrote {len(result.state_dict)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
