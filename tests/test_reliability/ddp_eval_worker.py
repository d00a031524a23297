"""Worker of ``test_ddp_eval.py``: run under torchrun (2 gloo ranks) or
imported for the single-process reference.

    python -m torch.distributed.run --nproc_per_node=2 ddp_eval_worker.py \
        DATA_ROOT WORK_DIR CHECKPOINT

Each rank trains the tiny config for a few iterations and saves its model's
state dict (``WORK_DIR/rank{R}.pt``); then ``CHECKPOINT`` is tested and rank
0 writes the metrics (``WORK_DIR/metrics.json``) and the collected
predictions (``WORK_DIR/dump.pkl``, mmengine's ``DumpResults``).
"""
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict

import torch
from mmengine.config import Config
from mmengine.hooks import Hook

import cmim_dense  # noqa: F401
from cmim_dense.utils.cli import build_runner, distributed_shutdown

CONFIG = Path(__file__).resolve().parents[1] / 'data' / 'configs' / \
    'tiny_seg.py'
TRAIN_ITERS = 3


def make_cfg(data_root: str, work_dir: str, name: str) -> Config:
    """The tiny config on ``data_root``; distributed under torchrun."""
    cfg = Config.fromfile(str(CONFIG))
    options: Dict[str, Any] = {
        f'{loader}.dataset.data_root': data_root
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    }
    cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    cfg.experiment_name = name
    cfg.launcher = 'pytorch' if 'WORLD_SIZE' in os.environ else 'none'
    return cfg


def evaluate(data_root: str, work_dir: str, checkpoint: str,
             name: str) -> Dict[str, float]:
    """Test ``checkpoint``; the predictions are dumped to ``dump.pkl``."""
    cfg = make_cfg(data_root, work_dir, name)
    cfg.load_from = checkpoint
    cfg.test_evaluator = [
        dict(type='IoUMetric', iou_metrics=['mIoU']),
        dict(
            type='mmengine.DumpResults',
            out_file_path=os.path.join(work_dir, 'dump.pkl')),
    ]
    return build_runner(cfg).test()


class SnapshotHook(Hook):
    """Keeps the model's state dict when training starts (after init)."""

    def before_train(self, runner: Any) -> None:
        model = getattr(runner.model, 'module', runner.model)
        self.state = {
            k: v.detach().clone()
            for k, v in model.state_dict().items()
        }


def train(data_root: str, work_dir: str) -> None:
    """Train a few iterations; save this rank's states to ``rank{R}.pt``."""
    cfg = make_cfg(data_root, work_dir, 'ddp_train')
    cfg.train_cfg.max_iters = TRAIN_ITERS
    cfg.train_cfg.val_interval = 1000  # no validation
    cfg.default_hooks.checkpoint.interval = 1000
    runner = build_runner(cfg)
    snapshot = SnapshotHook()
    runner.register_hook(snapshot)
    runner.train()
    model = getattr(runner.model, 'module', runner.model)
    rank = int(os.environ.get('RANK', 0))
    torch.save(
        dict(before=snapshot.state, after=model.state_dict()),
        os.path.join(work_dir, f'rank{rank}.pt'))


def main() -> None:
    data_root, work_dir, checkpoint = sys.argv[1:4]
    with distributed_shutdown():
        train(data_root, work_dir)
        metrics = evaluate(data_root, work_dir, checkpoint, 'ddp_test')
        if int(os.environ.get('RANK', 0)) == 0:
            with open(os.path.join(work_dir, 'metrics.json'), 'w') as file:
                json.dump({k: float(v) for k, v in metrics.items()}, file)
            with open(os.path.join(work_dir, 'world.json'), 'w') as file:
                json.dump(
                    dict(world_size=torch.distributed.get_world_size()),
                    file)


if __name__ == '__main__':
    main()
