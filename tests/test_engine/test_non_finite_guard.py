"""Unit tests of ``NonFiniteGuardOptimWrapper`` on a toy ``BaseModel``."""
import logging
import uuid
import warnings
from typing import Dict, List, Optional

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

from cmim_dense.engine import (NonFiniteError, NonFiniteGuardAmpOptimWrapper,
                               NonFiniteGuardOptimWrapper)


class ToyModel(BaseModel):
    """Two loss terms; ``poison`` makes one of them NaN."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.poison: Optional[str] = None

    def forward(self, inputs, data_samples=None, mode: str = 'loss'):
        out = self.linear(inputs)
        losses = dict(
            loss_a=out.pow(2).mean(),
            loss_b=out.abs().mean(),
            acc=torch.tensor(1.0))
        if self.poison is not None:
            losses[self.poison] = losses[self.poison] * float('nan')
        return losses


def _data() -> Dict[str, torch.Tensor]:
    return dict(inputs=torch.ones(4, 2))


def _hub(iteration: int) -> MessageHub:
    hub = MessageHub.get_instance(f'nf_{uuid.uuid4().hex[:8]}')
    hub.update_info('iter', iteration)  # 0-based, as RuntimeInfoHook sets
    return hub


def _build(model: nn.Module, **kwargs) -> NonFiniteGuardOptimWrapper:
    cfg = dict(
        type='NonFiniteGuardOptimWrapper',
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9),
        **kwargs)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return build_optim_wrapper(model, cfg)


def _state(model: nn.Module) -> Dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_unchanged(model: nn.Module, before: Dict[str, torch.Tensor],
                      wrapper) -> None:
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    assert not wrapper.optimizer.state  # no momentum buffer was made


class _ListHandler(logging.Handler):

    def __init__(self) -> None:
        super().__init__()
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_skip_non_finite_loss_term() -> None:
    """A NaN loss term: the step is skipped, reported with the iteration
    and the term's name; the next finite step trains normally."""
    model = ToyModel()
    wrapper = _build(model, policy='skip')
    assert isinstance(wrapper, NonFiniteGuardOptimWrapper)
    hub = _hub(4)
    logger = MMLogger.get_instance(f'nf_{uuid.uuid4().hex[:8]}')
    records = _ListHandler()
    logger.addHandler(records)
    before = _state(model)
    model.poison = 'loss_b'
    log_vars = model.train_step(_data(), wrapper)
    assert torch.isnan(log_vars['loss'])
    _assert_unchanged(model, before, wrapper)
    assert wrapper.skipped_steps == 1
    assert hub.get_info('non_finite_skipped_steps') == 1
    message = '\n'.join(records.messages)
    assert 'iteration 5' in message and 'loss_b' in message, message
    assert 'loss_a' not in message

    model.poison = None
    model.train_step(_data(), wrapper)
    assert not torch.equal(model.linear.weight, before['linear.weight'])
    assert wrapper.skipped_steps == 1


def test_stop_names_term_and_iteration() -> None:
    model = ToyModel()
    wrapper = _build(model, policy='stop')
    _hub(9)
    before = _state(model)
    model.poison = 'loss_a'
    with pytest.raises(NonFiniteError, match=r'loss_a.*iteration 10'):
        model.train_step(_data(), wrapper)
    _assert_unchanged(model, before, wrapper)


@pytest.mark.parametrize('policy', ['skip', 'stop'])
def test_non_finite_gradient(policy: str) -> None:
    """A finite loss with an inf gradient: the parameter is named, no
    update is applied."""
    model = ToyModel()
    wrapper = _build(model, policy=policy)
    _hub(0)
    model.train_step(_data(), wrapper)  # a normal step (momentum state)
    before = _state(model)
    momentum = {
        k: v['momentum_buffer'].clone()
        for k, v in wrapper.optimizer.state.items()
    }
    handle = model.linear.bias.register_hook(lambda g: g * float('inf'))
    try:
        if policy == 'stop':
            with pytest.raises(
                    NonFiniteError, match='gradient of linear.bias'):
                model.train_step(_data(), wrapper)
        else:
            model.train_step(_data(), wrapper)
            assert wrapper.skipped_steps == 1
    finally:
        handle.remove()
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    for key, buf in momentum.items():
        assert torch.equal(wrapper.optimizer.state[key]['momentum_buffer'],
                           buf)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_bad_policy() -> None:
    with pytest.raises(ValueError, match='policy'):
        NonFiniteGuardOptimWrapper(
            torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1),
            policy='ignore')


def test_amp_variant_guards_the_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    """The AMP wrapper checks only the loss (the ``GradScaler`` handles inf
    gradients); a NaN loss never reaches ``backward``."""
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    if not torch.cuda.is_available():
        monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                            lambda: True)
    model = ToyModel()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # GradScaler: CUDA not available
        wrapper = NonFiniteGuardAmpOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            policy='skip')
    assert wrapper.check_grads is False
    _hub(2)
    before = _state(model)
    model.poison = 'loss_a'
    called = []
    monkeypatch.setattr(wrapper, 'backward', lambda *a, **k: called.append(1))
    loss, _ = model.parse_losses(model(**_data()))
    wrapper.update_params(loss)
    assert called == [] and wrapper.skipped_steps == 1
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
