import copy
import math

import pytest
import torch
from mmengine.runner import Runner
from toy_binary_net import ToyBinaryNet, runner_cfg

from cmim_dense.engine.hooks import BinarizerScheduleHook
from cmim_dense.models import BinaryConv2d
from cmim_dense.models.quantizers import (ConstrainedWeight, SignQuantizer,
                                          WeightClip, WeightStateDependent,
                                          available_binarizers)
from cmim_dense.registry import BINARIZERS, QUANTIZERS


def expected_t(progress, t_min=1e-2, t_max=1e1):
    return t_min * 10**(progress * math.log10(t_max / t_min))


def grads_of(model):
    return [m for m in model.modules() if type(m).__name__ == 'EDEGrad']


class RecordProgress:
    """Records the EDE ``t`` seen by each forward pass."""

    def __init__(self, model):
        self.seen = []
        grad = grads_of(model)[0]
        model.conv1.register_forward_pre_hook(
            lambda *_: self.seen.append(float(grad.t)))


def test_iter_based_progress_and_checkpoint(tmp_path):
    runner = Runner(**runner_cfg(str(tmp_path), 'irnet'))
    record = RecordProgress(runner.model)
    runner.train()
    # before iteration i the progress is i / max_iters
    assert record.seen == pytest.approx([expected_t(i / 4) for i in range(4)])
    # every EDE module (activation and weight, both convs) was updated
    grads = grads_of(runner.model)
    assert len(grads) == 4
    for grad in grads:
        assert float(grad.t) == pytest.approx(expected_t(3 / 4))
        assert float(grad.k) == pytest.approx(max(1 / expected_t(3 / 4), 1))
    # the schedule buffers are in the checkpoint and load back
    ckpt = torch.load(tmp_path / 'iter_4.pth', weights_only=True)
    key = 'conv1.input_quantizer.grad.t'
    assert float(ckpt['state_dict'][key]) == pytest.approx(expected_t(3 / 4))
    fresh = ToyBinaryNet('irnet')
    fresh.load_state_dict(ckpt['state_dict'])
    assert float(fresh.conv1.input_quantizer.grad.t) == pytest.approx(
        expected_t(3 / 4))


def test_epoch_based_progress(tmp_path):
    cfg = runner_cfg(str(tmp_path), 'irnet', by_epoch=True, max_epochs=2)
    runner = Runner(**cfg)
    record = RecordProgress(runner.model)
    runner.train()
    # 4 iterations per epoch; t constant within an epoch, e / E per epoch
    assert record.seen == pytest.approx([expected_t(0.0)] * 4 +
                                        [expected_t(0.5)] * 4)


def test_resume_restores_schedule(tmp_path):
    Runner(**runner_cfg(str(tmp_path), 'irnet')).train()
    cfg = runner_cfg(str(tmp_path), 'irnet', by_epoch=False, max_iters=6)
    runner = Runner(**cfg, resume=True)
    record = RecordProgress(runner.model)
    runner.train()
    assert runner.iter == 6
    assert record.seen == pytest.approx([expected_t(4 / 6), expected_t(5 / 6)])


def test_rbnn_rotation_updated_and_orthogonal(tmp_path):
    cfg = runner_cfg(str(tmp_path), 'rbnn')
    runner = Runner(**cfg)
    quant = runner.model.conv1.weight_quantizer
    before = quant.rotation_error(runner.model.conv1.weight)
    runner.train()
    left = quant.rotation_left
    assert not torch.equal(left, torch.eye(left.shape[0]))
    assert torch.allclose(left @ left.t(), torch.eye(left.shape[0]), atol=1e-5)
    right = quant.rotation_right
    assert torch.allclose(
        right @ right.t(), torch.eye(right.shape[0]), atol=1e-5)
    ckpt = torch.load(tmp_path / 'iter_4.pth', weights_only=True)
    assert torch.equal(
        ckpt['state_dict']['conv1.weight_quantizer.'
                           'rotation_left'], left)
    assert quant.rotation_error(runner.model.conv1.weight) < before


def train_with_large_weights(work_dir, binarizer, **train_cfg):
    """Train the toy net with large steps from large conv1 / stem weights,
    so an unconstrained weight ends far outside any clip bound."""
    cfg = runner_cfg(str(work_dir), binarizer, **train_cfg)
    cfg['optim_wrapper'] = dict(optimizer=dict(type='SGD', lr=50.0))
    runner = Runner(**cfg)
    with torch.no_grad():
        runner.model.conv1.weight.mul_(10)
        runner.model.stem.weight.mul_(100)
    runner.train()
    return runner


def test_bnn_latent_weights_clipped(tmp_path):
    runner = train_with_large_weights(tmp_path, 'bnn')
    for conv in (runner.model.conv1, runner.model.conv2):
        assert conv.weight.abs().max() <= 1.0
    # FP layers are untouched by the clip
    assert runner.model.stem.weight.abs().max() > 1.0


def test_hook_args_validated():
    with pytest.raises(ValueError, match='rotation_interval'):
        BinarizerScheduleHook(rotation_interval=0)


def test_set_progress_rejects_out_of_range():
    conv = BinaryConv2d(2, 2, 3, binarizer='irnet')
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        conv.input_quantizer.grad.set_progress(1.5)


def test_state_interval_and_its_deprecated_alias():
    assert BinarizerScheduleHook(state_interval=3).state_interval == 3
    with pytest.warns(DeprecationWarning, match='state_interval'):
        hook = BinarizerScheduleHook(rotation_interval=2)
    assert hook.state_interval == 2
    with pytest.raises(ValueError, match='state_interval'):
        BinarizerScheduleHook(state_interval=0)
    with pytest.raises(ValueError, match='state_interval only'):
        BinarizerScheduleHook(state_interval=1, rotation_interval=1)


def test_rotation_steps_moved_to_the_method():
    with pytest.raises(TypeError, match="type='rbnn', rotation_steps"):
        BinarizerScheduleHook(rotation_steps=5)
    layer = BinaryConv2d(
        4, 6, 3, binarizer=dict(type='rbnn', rotation_steps=5))
    assert layer.weight_quantizer.rotation_steps == 5
    with pytest.raises(ValueError, match='rotation_steps'):
        BinaryConv2d(4, 6, 3, binarizer=dict(type='rbnn', rotation_steps=0))


def test_rbnn_update_state_is_update_rotation_with_its_steps():
    layer = BinaryConv2d(
        4, 6, 3, binarizer=dict(type='rbnn', rotation_steps=1))
    twin = copy.deepcopy(layer)
    BinarizerScheduleHook.update_states(layer)
    twin.weight_quantizer.update_rotation(twin.weight, steps=1)
    for name in ('rotation_left', 'rotation_right'):
        assert torch.equal(
            getattr(layer.weight_quantizer, name),
            getattr(twin.weight_quantizer, name))


@pytest.mark.parametrize('binarizer', available_binarizers())
def test_every_binarizer_keeps_the_state_protocols(binarizer):
    """Discovered from the registry: a state update changes buffers only,
    never the latent weight or a parameter; a constraint is a projection
    (applying it twice changes nothing more)."""
    layer = BinaryConv2d(4, 6, 3, binarizer=binarizer)
    with torch.no_grad():
        layer.weight.mul_(10)
    params = {k: v.detach().clone() for k, v in layer.named_parameters()}
    BinarizerScheduleHook.update_states(layer)
    for name, value in layer.named_parameters():
        assert torch.equal(value, params[name]), name
    BinarizerScheduleHook.constrain_weights(layer)
    once = layer.weight.detach().clone()
    BinarizerScheduleHook.constrain_weights(layer)
    torch.testing.assert_close(layer.weight.detach(), once, rtol=0, atol=1e-6)
    layer.freeze_weight()  # a frozen layer has no weight quantizer left
    assert BinarizerScheduleHook.update_states(layer) == 0
    assert BinarizerScheduleHook.constrain_weights(layer) == 0


class CountingWeight(WeightStateDependent, ConstrainedWeight, SignQuantizer):
    """A made-up method's weight quantizer: counts its state updates in a
    buffer and clips the latent weight to [-0.5, 0.5]."""

    weight_constraint = WeightClip(0.5)

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer('updates', torch.zeros(()))

    def update_state(self, weight):
        self.updates += 1


@pytest.fixture
def counting_method():
    """Register the made-up method for one test only."""
    QUANTIZERS.register_module('CountingWeightForTest', module=CountingWeight)
    BINARIZERS.register_module(
        'counting_for_test',
        module=lambda: dict(
            input_quantizer=dict(type='SteSign'),
            weight_quantizer=dict(type='CountingWeightForTest'),
            output_scale=None))
    yield 'counting_for_test'
    QUANTIZERS.module_dict.pop('CountingWeightForTest')
    BINARIZERS.module_dict.pop('counting_for_test')


def test_a_new_method_is_driven_without_changing_the_hook(
        tmp_path, counting_method):
    runner = train_with_large_weights(
        tmp_path, counting_method, by_epoch=False, max_iters=8)
    for conv in (runner.model.conv1, runner.model.conv2):
        # 4 iterations per epoch: updated before iterations 0 and 4
        assert float(conv.weight_quantizer.updates) == 2
        assert conv.weight.abs().max() <= 0.5  # clipped after the last step
    assert runner.model.stem.weight.abs().max() > 0.5
