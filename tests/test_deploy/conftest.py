"""Shared helpers of the deploy tests."""
import pytest
import torch
from torch import nn


def randomize(module: nn.Module) -> nn.Module:
    """Non-trivial BN statistics, shifts and scales."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-2, 2)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(-1.5, 1.5)
                m.bias.uniform_(-1, 1)
            for name in ('bias', 'scale', 'rows', 'cols', 'shift_in',
                         'shift_out', 'slope'):
                p = getattr(m, name, None)
                if isinstance(p, nn.Parameter) and not isinstance(
                        m, (nn.Conv2d, nn.BatchNorm2d)):
                    p.uniform_(-0.5, 1.0)
    return module.eval()


@pytest.fixture(name='randomize')
def randomize_fixture():
    """:func:`randomize`."""
    return randomize
