"""Scheduled state (t, k, n, tau) lives in persistent buffers: it is saved,
survives save/load with ``weights_only=True``, and a state dict without it
(an FP checkpoint) still loads with ``strict=True`` (documented behaviour of
``base.ProgressDependent``)."""
import io

import pytest
import torch
from torch import nn

from cmim_dense.models.quantizers import ProgressDependent, binarize
from cmim_dense.models.quantizers.activation_quantizers import (EDESign,
                                                                FourierSign,
                                                                RBNNSign,
                                                                RSign)
from cmim_dense.models.quantizers.surrogate_grads import (EDEGrad, FourierGrad,
                                                          RBNNGrad)
from cmim_dense.models.quantizers.weight_quantizers import (LibraPBWeight,
                                                            RBNNWeight,
                                                            ReCUWeight,
                                                            ScaledSignWeight)

WEIGHT_SHAPE = (3, 2, 2, 2)

# (factory, {progress-buffer key: owner sub-module name})
CASES = {
    'EDEGrad': (EDEGrad, ['t', 'k']),
    'RBNNGrad': (RBNNGrad, ['t', 'k']),
    'FourierGrad': (FourierGrad, ['n']),
    'EDESign': (EDESign, ['grad.t', 'grad.k']),
    'RBNNSign': (RBNNSign, ['grad.t', 'grad.k']),
    'FourierSign': (FourierSign, ['grad.n']),
    'LibraPBWeight': (LibraPBWeight, ['grad.t', 'grad.k']),
    'RBNNWeight': (lambda: RBNNWeight(WEIGHT_SHAPE), ['grad.t', 'grad.k']),
    'ReCUWeight': (ReCUWeight, ['tau']),
    'FDAWeight':
    (lambda: ScaledSignWeight(grad=dict(type='FourierGrad')), ['grad.n']),
}


def set_progress_everywhere(module, p):
    for m in module.modules():
        if isinstance(m, ProgressDependent):
            m.set_progress(p)


def roundtrip(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


@pytest.mark.parametrize('name', list(CASES))
def test_progress_buffers_are_persistent_buffers(name):
    factory, keys = CASES[name]
    mod = factory()
    state = mod.state_dict()
    buffer_names = {n for n, _ in mod.named_buffers()}
    param_names = {n for n, _ in mod.named_parameters()}
    for key in keys:
        assert key in state
        assert key in buffer_names
        assert key not in param_names


@pytest.mark.parametrize('name', list(CASES))
def test_progress_state_survives_save_and_load(name, tmp_path):
    factory, keys = CASES[name]
    mod = factory()
    set_progress_everywhere(mod, 0.7)
    path = tmp_path / f'{name}.pth'
    torch.save(mod.state_dict(), path)

    fresh = factory()  # progress 0
    before = {k: fresh.state_dict()[k].clone() for k in keys}
    result = fresh.load_state_dict(
        torch.load(path, weights_only=True), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key in keys:
        assert torch.equal(fresh.state_dict()[key], mod.state_dict()[key])
        assert not torch.equal(fresh.state_dict()[key], before[key])


@pytest.mark.parametrize('name', list(CASES))
def test_state_dict_without_progress_buffers_loads_strictly(name):
    factory, keys = CASES[name]
    src = factory()
    set_progress_everywhere(src, 0.9)
    state = roundtrip({
        k: v
        for k, v in src.state_dict().items() if k not in keys
    })

    dst = factory()
    set_progress_everywhere(dst, 0.3)
    kept = {k: dst.state_dict()[k].clone() for k in keys}
    result = dst.load_state_dict(state, strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key in keys:  # current values are kept
        assert torch.equal(dst.state_dict()[key], kept[key])
    for key in state:  # everything else was loaded
        assert torch.equal(dst.state_dict()[key], src.state_dict()[key])


def test_missing_progress_buffers_inside_a_parent_module():
    parent = nn.ModuleDict(
        dict(act=EDESign(), weight=ReCUWeight(), fda=FourierSign()))
    state = {
        k: v
        for k, v in parent.state_dict().items()
        if k not in ('act.grad.t', 'act.grad.k', 'weight.tau', 'fda.grad.n')
    }
    assert parent.load_state_dict(state, strict=True).missing_keys == []


def test_other_missing_keys_still_fail_strictly():
    rsign = RSign(4)
    with pytest.raises(RuntimeError, match='bias'):
        rsign.load_state_dict({}, strict=True)

    rbnn = RBNNWeight(WEIGHT_SHAPE)
    state = rbnn.state_dict()
    del state['rotation_left']
    with pytest.raises(RuntimeError, match='rotation_left'):
        rbnn.load_state_dict(state, strict=True)
    # non-strict: reported as missing
    assert 'rotation_left' in rbnn.load_state_dict(
        state, strict=False).missing_keys

    recu = ReCUWeight()
    state = dict(recu.state_dict(), extra=torch.zeros(1))
    with pytest.raises(RuntimeError, match='extra'):
        recu.load_state_dict(state, strict=True)


def test_progress_buffers_follow_dtype_and_behaviour_after_reload():
    mod = EDEGrad().double()
    assert mod.t.dtype == torch.float64 and mod.k.dtype == torch.float64
    mod.set_progress(0.8)
    fresh = EDEGrad().double()
    fresh.load_state_dict(roundtrip(mod.state_dict()))
    x = torch.linspace(-2, 2, 11, dtype=torch.float64)
    x1 = x.clone().requires_grad_()
    x2 = x.clone().requires_grad_()
    binarize(x1, mod).sum().backward()
    binarize(x2, fresh).sum().backward()
    assert torch.equal(x1.grad, x2.grad)


def test_rbnn_rotation_and_theta_survive_reload():
    torch.manual_seed(0)
    mod = RBNNWeight(WEIGHT_SHAPE)
    mod.update_rotation(torch.randn(WEIGHT_SHAPE))
    fresh = RBNNWeight(WEIGHT_SHAPE)
    fresh.load_state_dict(roundtrip(mod.state_dict()), strict=True)
    for key in ('rotation_left', 'rotation_right', 'theta'):
        assert torch.equal(fresh.state_dict()[key], mod.state_dict()[key])
