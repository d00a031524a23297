import math
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(osp.dirname(HERE)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_schedule_and_rotation_identical_on_two_gloo_ranks(tmp_path):
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHONPATH=os.pathsep.join([HERE, ROOT]))
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        '--master_addr=127.0.0.1', f'--master_port={free_port()}',
        osp.join(HERE, 'ddp_schedule_worker.py'),
        str(tmp_path)
    ]
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    states = [torch.load(tmp_path / f'rank{r}.pt') for r in (0, 1)]
    assert states[0].keys() == states[1].keys()
    # parameters (synchronised by DDP) and every quantizer buffer (set by the
    # hook from the shared progress) agree; BN running statistics are per
    # rank by design
    for key in states[0]:
        if not key.startswith('bn.'):
            assert torch.equal(states[0][key], states[1][key]), key
    t = float(states[0]['conv1.input_quantizer.grad.t'])
    assert t == pytest.approx(1e-2 * 10**(3 / 4 * math.log10(1e3)))
    left = states[0]['conv1.weight_quantizer.rotation_left']
    assert not torch.equal(left, torch.eye(left.shape[0]))
