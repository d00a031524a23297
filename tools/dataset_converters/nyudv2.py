"""Convert the labeled NYUD-v2 ``.mat`` to the multi-task folder layout.

Usage::

    python tools/dataset_converters/nyudv2.py MAT OUT_DIR
        [--splits splits.mat] [--img-format png|jpg]
        [--depth-source depths|rawDepths] [--overwrite] [--no-progress]

``MAT`` is ``nyu_depth_v2_labeled.mat``; the split is ``--splits``, else a
``splits.mat`` beside ``MAT``, else the official split carried by the
package. ``OUT_DIR`` receives ``images/<id>.png``, ``segmentation/<id>.png``
(0 void, 1..40), ``depth/<id>.npy`` (float32 metres) and
``gt_sets/{train,val}.txt`` (795 / 654 ids), which ``NYUDv2FolderDataset``
reads. Files are written atomically; an interrupted run resumes when started
again with the same arguments; a folder holding anything else is refused
without ``--overwrite``. The inputs are checked before anything is written.
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

from cmim_dense.datasets import (
    NYUDv2FormatError,  # noqa: E402
    convert_nyudv2_to_folders)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='NYUD-v2 labeled .mat -> multi-task folder layout')
    parser.add_argument('mat', help='nyu_depth_v2_labeled.mat')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument(
        '--splits',
        help='splits.mat (default: the one beside MAT if any, else the '
        'official split carried by the package)',
        default=None)
    parser.add_argument(
        '--img-format',
        choices=('png', 'jpg'),
        default='png',
        help='image files (png: lossless, default)')
    parser.add_argument(
        '--depth-source',
        choices=('depths', 'rawDepths'),
        default='depths',
        help='in-painted (default) or raw depth')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='rewrite a folder that holds another conversion or files')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the conversion.

    Args:
        argv (list[str], optional): Command line arguments.

    Returns:
        int: Exit status (1 on bad input or a refused overwrite).
    """
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        summary = convert_nyudv2_to_folders(
            args.mat,
            args.out_dir,
            split_file=args.splits,
            img_format=args.img_format,
            depth_source=args.depth_source,
            overwrite=args.overwrite,
            progress=not args.no_progress)
    except (NYUDv2FormatError, FileExistsError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'{summary["frames"]} frames: {summary["written"]} written, '
          f'{summary["skipped"]} already complete; invalid depth values '
          f'set to 0: {summary["invalid_depth"]} '
          f'({time.perf_counter() - start:.1f} s) -> {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
