"""Turn a CMIM-trained checkpoint into a plain checkpoint of its segmentor.

    python tools/model_converters/cmim_to_plain.py CMIM_CKPT OUT

Keeps exactly the wrapped model's weights (``architecture.*``, prefix
removed) and drops the CMIM heads, critics (memory banks) and optimizer
state. The stored config becomes the plain model's (``model`` replaced by
``model.architecture``), so ``tools/test.py PLAIN_CONFIG OUT`` and
``tools/deploy/pack_binary.py OUT PACKED`` work as for any checkpoint.
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
from mmengine.config import Config  # noqa: E402

from cmim_dense.models.algorithms import \
    extract_architecture_state  # noqa: E402
from cmim_dense.models.utils.binary_packing import save_atomic  # noqa: E402


def plain_config_text(cfg_text: str) -> str:
    """The stored config with ``model`` replaced by its ``architecture``."""
    cfg = Config.fromstring(cfg_text, file_format='.py')
    if cfg.model.get('type') == 'CMIM':
        cfg.model = cfg.model.architecture
    return cfg.pretty_text


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        description='Extract the segmentor from a CMIM checkpoint')
    parser.add_argument('checkpoint', help='CMIM-trained checkpoint')
    parser.add_argument('out', help='plain checkpoint to write')
    args = parser.parse_args(argv)
    checkpoint = torch.load(
        args.checkpoint, map_location='cpu', weights_only=True)
    try:
        state = extract_architecture_state(checkpoint['state_dict'])
    except (KeyError, ValueError) as err:
        raise SystemExit(f'{args.checkpoint}: {err}') from err
    meta = dict(checkpoint.get('meta', {}))
    if meta.get('cfg'):
        meta['cfg'] = plain_config_text(meta['cfg'])
    save_atomic(dict(meta=meta, state_dict=state), args.out)
    print(f'wrote {len(state)} tensors of the segmentor to {args.out}')


if __name__ == '__main__':
    main()
