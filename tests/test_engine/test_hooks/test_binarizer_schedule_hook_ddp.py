import math
import os.path as osp

import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))


def test_schedule_and_rotation_identical_on_two_gloo_ranks(
        tmp_path, run_torchrun):
    run_torchrun(
        osp.join(HERE, 'ddp_schedule_worker.py'), tmp_path, pythonpath=[HERE])
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
