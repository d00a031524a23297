"""Resident memory and open HDF5 handles over a long training run.

    python tools/analysis_tools/long_run_memory.py CONFIG [--iters 2000]
        [--every 100] [--json OUT] [--cfg-options ...]

Trains CONFIG (data loading in the main process, so its HDF5 handles are
visible) without validation or checkpoints, and records every ``--every``
iterations the process's resident set (``VmRSS``) and the number of open
HDF5 file handles (``h5py.h5f.get_obj_count``). A leak shows as growth after
warm-up. This is a benchmark that prints figures, not a test.
"""
import argparse
import importlib.util
import json
import os.path as osp
import sys
from typing import List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

import cmim_dense  # noqa: E402,F401
import h5py  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402


def rss_bytes() -> int:
    """Current resident set of this process (``VmRSS``)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('VmRSS not in /proc/self/status')


class MemoryProbeHook(Hook):
    """Record RSS and open HDF5 handles every ``every`` iterations."""

    priority = 'VERY_LOW'

    def __init__(self, every: int) -> None:
        self.every = every
        self.records: List[dict] = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        step = runner.iter + 1
        if step == 1 or step % self.every == 0:
            self.records.append(
                dict(
                    iter=step,
                    rss_mib=rss_bytes() / 2**20,
                    hdf5_handles=h5py.h5f.get_obj_count(
                        h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE)))


def main(argv: Optional[List[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=2000)
    parser.add_argument('--every', type=int, default=100)
    parser.add_argument('--work-dir', default='work_dirs/long_run_memory')
    parser.add_argument('--json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.train_cfg.max_iters = args.iters
    cfg.train_cfg.val_interval = args.iters + 1  # no validation
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=args.iters + 1, by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=args.every)
    if cfg.get('param_scheduler'):
        for scheduler in cfg.param_scheduler:
            scheduler['end'] = args.iters
    runner = Runner.from_cfg(cfg)
    probe = MemoryProbeHook(args.every)
    runner.register_hook(probe)
    runner.train()
    for record in probe.records:
        print(f'iter {record["iter"]:>6}  rss {record["rss_mib"]:8.1f} MiB  '
              f'open HDF5 files {record["hdf5_handles"]}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(probe.records, f, indent=2)
    return probe.records


if __name__ == '__main__':
    main()
