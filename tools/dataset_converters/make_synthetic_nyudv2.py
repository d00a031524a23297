"""Generate the synthetic NYUD-v2 twin in the official labeled layout.

Usage::

    python tools/dataset_converters/make_synthetic_nyudv2.py OUT_DIR
        [--num-frames 64] [--height 480] [--width 640] [--seed 0]
        [--train-fraction 0.5487] [--overwrite]

Writes ``OUT_DIR/nyu_depth_v2_labeled.mat`` (MATLAB v7.3 / HDF5, exactly
the layout of the official file) and ``OUT_DIR/splits.mat`` (MATLAB v5), so
``NYUDv2MatDataset(data_root=OUT_DIR)`` reads it like the real set. A set
already generated with the same arguments is kept; another one is replaced
only with ``--overwrite``.
"""
import argparse
import importlib.util
import os.path as osp
import sys
import time
from typing import List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from cmim_dense.datasets.synthetic import (  # noqa: E402
    TRAIN_FRACTION, generate_synthetic_nyudv2)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Generate the synthetic NYUD-v2 labeled set')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--num-frames', type=int, default=64)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--train-fraction',
        type=float,
        default=TRAIN_FRACTION,
        help='share of frames in trainNdxs (default 795/1449)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace a set generated with other arguments')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Generate the set.

    Args:
        argv (list[str], optional): Command line arguments.

    Returns:
        int: Exit status.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        paths = generate_synthetic_nyudv2(
            args.out_dir,
            num_frames=args.num_frames,
            height=args.height,
            width=args.width,
            seed=args.seed,
            train_fraction=args.train_fraction,
            overwrite=args.overwrite)
    except (FileExistsError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'{paths["labeled"]}\n{paths["splits"]}\n'
          f'{args.num_frames} frames of {args.height}x{args.width} '
          f'({time.perf_counter() - start:.1f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
