import math

import pytest
import torch
from mmengine.runner import Runner
from toy_binary_net import ToyBinaryNet, runner_cfg

from cmim_dense.engine.hooks import BinarizerScheduleHook
from cmim_dense.models import BinaryConv2d


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


def test_bnn_latent_weights_clipped(tmp_path):
    cfg = runner_cfg(str(tmp_path), 'bnn')
    cfg['optim_wrapper'] = dict(optimizer=dict(type='SGD', lr=50.0))
    runner = Runner(**cfg)
    with torch.no_grad():
        runner.model.conv1.weight.mul_(10)
        runner.model.stem.weight.mul_(100)
    runner.train()
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
