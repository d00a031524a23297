"""Throughput of the NYUD-v2 train pipeline, per worker, per layout.

Usage::

    python tools/analysis_tools/benchmark_data.py [--data-root DIR]
        [--folder-root DIR] [--frames 48] [--num-frames 24]
        [--loader-workers 0] [--json OUT]

Times the standard training augmentation on full 480 x 640 frames (load
image + segmentation + depth, ``RandomResize`` 0.5-2.0, ``RandomCrop``
480 x 640 with ``cat_max_ratio=0.75``, ``RandomFlip``,
``PhotoMetricDistortion``, ``PackSegInputs``) in this process with one
thread (torch and OpenCV), i.e. what one DataLoader worker on one CPU core
delivers, for the labeled ``.mat`` (``NYUDv2MatDataset``) and the multi-task
folder layout (``NYUDv2FolderDataset``). Without ``--data-root`` a
synthetic set in the official layout is generated in a temporary folder
(``--num-frames`` frames) and converted to the folder layout. Loading alone
(no augmentation) is timed too. ``--loader-workers N`` also runs a real
DataLoader with N workers. This is a benchmark that prints figures, not a
test with a threshold.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import platform
import sys
import tempfile
import time
from typing import Dict, List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cmim_dense  # noqa: E402,F401  (registers the datasets)
import cv2  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import DATASETS  # noqa: E402

from cmim_dense.datasets import (
    convert_nyudv2_to_folders,  # noqa: E402
    generate_synthetic_nyudv2)

LOAD = [dict(type='LoadNYUDv2Image'), dict(type='LoadNYUDv2Annotations')]
AUGMENT = [
    dict(
        type='RandomResize',
        scale=(640, 480),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(480, 640), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(
        type='PackSegInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'pad_shape',
                   'scale_factor', 'flip', 'flip_direction', 'sample_idx')),
]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which reads ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='NYUD-v2 train pipeline throughput per worker')
    parser.add_argument(
        '--data-root',
        help='folder with nyu_depth_v2_labeled.mat (and splits.mat, else the '
        'packaged official split) '
        '(default: a synthetic set in a temporary folder)')
    parser.add_argument(
        '--folder-root',
        help='multi-task folder layout (default: converted from the .mat)')
    parser.add_argument(
        '--frames', type=int, default=48, help='timed samples per layout')
    parser.add_argument(
        '--warmup', type=int, default=4, help='untimed samples first')
    parser.add_argument(
        '--num-frames',
        type=int,
        default=24,
        help='frames of the generated synthetic set')
    parser.add_argument(
        '--loader-workers',
        type=int,
        default=0,
        help='also time a DataLoader with this many workers')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the figures to this file')
    return parser.parse_args(argv)


def _time_samples(dataset, frames: int, warmup: int) -> float:
    """Frames per second of ``dataset[i]`` in this process.

    Args:
        dataset: The dataset (its pipeline is what is timed).
        frames (int): Timed samples.
        warmup (int): Untimed samples first.

    Returns:
        float: Samples per second.
    """
    for i in range(warmup):
        dataset[i % len(dataset)]
    start = time.perf_counter()
    for i in range(frames):
        dataset[(warmup + i) % len(dataset)]
    return frames / (time.perf_counter() - start)


def _time_loader(dataset, frames: int, workers: int) -> float:
    """Frames per second through a DataLoader with ``workers`` workers.

    Args:
        dataset: The dataset.
        frames (int): Samples to draw after the first batch.
        workers (int): Worker processes.

    Returns:
        float: Samples per second.
    """
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=8,
        num_workers=workers,
        collate_fn=pseudo_collate,
        shuffle=True,
        persistent_workers=True)
    iterator = iter(loader)
    next(iterator)  # workers started
    count, start = 0, time.perf_counter()
    while count < frames:
        try:
            batch = next(iterator)
        except StopIteration:
            iterator = iter(loader)
            continue
        count += len(batch['inputs'])
    return count / (time.perf_counter() - start)


def _machine() -> Dict[str, object]:
    """Describe the machine and the library versions.

    Returns:
        dict: CPU, cores, Python, torch, OpenCV, h5py and HDF5 versions.
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as file:
            for line in file:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(
        cpu=cpu,
        cores=os.cpu_count(),
        python=platform.python_version(),
        torch=torch.__version__,
        opencv=cv2.__version__,
        h5py=h5py.__version__,
        hdf5=h5py.version.hdf5_version)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the benchmark and print the figures.

    Args:
        argv (list[str], optional): Command line arguments.

    Returns:
        int: Exit status.
    """
    args = parse_args(argv)
    init_default_scope('mmseg')
    torch.set_num_threads(1)
    cv2.setNumThreads(0)  # as mmengine sets for dataloading
    np.random.seed(args.seed)
    tmp = tempfile.TemporaryDirectory(prefix='nyudv2_bench_')
    data_root, folder_root = args.data_root, args.folder_root
    setup = {}
    if data_root is None:
        data_root = osp.join(tmp.name, 'mat')
        start = time.perf_counter()
        generate_synthetic_nyudv2(
            data_root, num_frames=args.num_frames, seed=args.seed)
        setup['generate_s'] = time.perf_counter() - start
    if folder_root is None:
        folder_root = osp.join(tmp.name, 'NYUD_MT')
        start = time.perf_counter()
        convert_nyudv2_to_folders(
            osp.join(data_root, 'nyu_depth_v2_labeled.mat'),
            folder_root,
            progress=False)
        setup['convert_s'] = time.perf_counter() - start
    layouts = {
        'mat': dict(type='NYUDv2MatDataset', data_root=data_root),
        'folder': dict(type='NYUDv2FolderDataset', data_root=folder_root),
    }
    results: Dict[str, Dict[str, float]] = {}
    for name, cfg in layouts.items():
        load = DATASETS.build(dict(cfg, pipeline=LOAD))
        train = DATASETS.build(dict(cfg, pipeline=LOAD + AUGMENT))
        row = dict(
            load_fps=_time_samples(load, args.frames, args.warmup),
            train_fps=_time_samples(train, args.frames, args.warmup))
        row['batch8_s'] = 8 / row['train_fps']
        if args.loader_workers:
            row['loader_fps'] = _time_loader(train, args.frames,
                                             args.loader_workers)
        results[name] = row
    machine = _machine()
    print(f'machine: {machine["cpu"]}, {machine["cores"]} cores; Python '
          f'{machine["python"]}, torch {machine["torch"]}, OpenCV '
          f'{machine["opencv"]}, h5py {machine["h5py"]} (HDF5 '
          f'{machine["hdf5"]})')
    print(f'frames: 480x640, one thread per worker, {args.frames} timed '
          f'samples per layout; data: {data_root}')
    header = f'{"layout":<8} {"load fps":>9} {"train fps":>10} ' \
             f'{"s / batch of 8":>15}'
    if args.loader_workers:
        header += f' {f"loader fps ({args.loader_workers} workers)":>24}'
    print(header)
    for name, row in results.items():
        line = (f'{name:<8} {row["load_fps"]:>9.1f} {row["train_fps"]:>10.1f}'
                f' {row["batch8_s"]:>15.2f}')
        if 'loader_fps' in row:
            line += f' {row["loader_fps"]:>24.1f}'
        print(line)
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as file:
            json.dump(
                dict(machine=machine, setup=setup, results=results),
                file,
                indent=2)
    tmp.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
