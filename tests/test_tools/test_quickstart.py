"""The quickstart end to end at a tiny size: in one process, and in two CPU
processes through tools/dist_train.sh (torchrun, gloo)."""
import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / 'configs' / 'quickstart.py'
SYNTHETIC = dict(num_frames=12, height=48, width=64, seed=0)


def tiny_options(data_root: Path, work_dir: Path, iters: int = 4) -> dict:
    """The quickstart shrunk: 12 frames of 48x64, batch 2, a few steps."""
    options = {
        'work_dir': str(work_dir),
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters,
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': 1,
        'default_hooks.visualization.interval': 1,
        'param_scheduler.0.end': iters,
        'train_dataloader.batch_size': 2,
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
        options[f'{loader}.dataset.data_root'] = str(data_root)
        for key, value in SYNTHETIC.items():
            options[f'{loader}.dataset.synthetic.{key}'] = value
    return options


def test_quickstart_runs_end_to_end(tmp_path):
    cfg = Config.fromfile(str(QUICKSTART))
    cfg.merge_from_dict(tiny_options(tmp_path / 'data', tmp_path / 'work'))
    # mmengine keeps visualizers by name across runners of one process
    cfg.experiment_name = f'quickstart_{uuid.uuid4().hex}'
    cfg.visualizer.name = cfg.experiment_name
    runner = Runner.from_cfg(cfg)
    runner.train()
    # the twin was generated in the official layout and read by the loader
    assert (tmp_path / 'data' / 'nyu_depth_v2_labeled.mat').is_file()
    assert (tmp_path / 'data' / 'splits.mat').is_file()
    assert (tmp_path / 'work' / 'iter_4.pth').is_file()
    run_dir = next(p for p in (tmp_path / 'work').iterdir() if p.is_dir())
    records = [
        json.loads(line) for line in
        (run_dir / 'vis_data' / 'scalars.json').read_text().splitlines()
    ]
    metrics = records[-1]
    assert 'mIoU' in metrics and 'rmse' in metrics, metrics
    assert any('loss_cmim' in r for r in records)
    panels = list((run_dir / 'vis_data' / 'vis_image').glob('*.png'))
    assert panels, 'no visualisation panel written'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_quickstart_two_cpu_processes(tmp_path):
    options = tiny_options(tmp_path / 'data', tmp_path / 'work', iters=2)
    # generate the data once, so that both ranks only read it
    from cmim_dense.datasets.synthetic import generate_synthetic_nyudv2
    generate_synthetic_nyudv2(str(tmp_path / 'data'), **SYNTHETIC)
    args = [f'{k}={v}' for k, v in options.items()]
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               OMP_NUM_THREADS='1')
    env.pop('LOCAL_RANK', None)
    proc = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(QUICKSTART), '2',
         '--cfg-options', *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ckpt = torch.load(tmp_path / 'work' / 'iter_2.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 2
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    # torchrun started 2 workers and exits non-zero if either fails
    assert 'Distributed training: True' in log, log[:2000]
