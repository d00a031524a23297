import numpy as np
import pytest
import torch
from torch import nn

import cmim_dense
from cmim_dense.models import BinaryConv2d, BinaryLinear
from cmim_dense.models.utils import (is_packed_checkpoint,
                                     load_packed_checkpoint, pack_checkpoint)
from cmim_dense.models.utils.binary_packing import pack_state_dict
from cmim_dense.models.utils.binary_packing import pack_signs, unpack_signs


class Net(nn.Module):

    def __init__(self, binarizer):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.conv = BinaryConv2d(8, 16, 3, padding=1, binarizer=binarizer)
        self.bn = nn.BatchNorm2d(16)
        self.dw = BinaryConv2d(
            16, 16, 3, padding=2, dilation=2, groups=4, binarizer=binarizer)
        self.fc = BinaryLinear(16, 5, binarizer=binarizer)

    def forward(self, x):
        x = self.dw(self.bn(self.conv(self.stem(x))))
        return self.fc(x.mean((2, 3)))


def test_pack_signs_bit_layout():
    values = torch.tensor([1., -1., -1., 1., 1., 1., -1., 1., -1.])
    packed = pack_signs(values)
    # MSB first: 1001 1101 | 0000 0000
    assert packed.tolist() == [0b10011101, 0]
    assert packed.dtype == torch.uint8
    assert torch.equal(unpack_signs(packed, (3, 3)), values.view(3, 3))


@pytest.mark.parametrize('binarizer', cmim_dense.available_binarizers())
def test_packed_model_predicts_exactly_like_unpacked(binarizer, tmp_path):
    torch.manual_seed(0)
    model = Net(binarizer)
    # train mode once so schedules / BN statistics are not trivial
    model(torch.randn(4, 3, 8, 8))
    for m in model.modules():
        if hasattr(m, 'set_progress'):
            m.set_progress(0.5)
    model.eval()
    x = torch.randn(2, 3, 8, 8)
    expected = model(x)
    sizes = pack_checkpoint(model, str(tmp_path / 'p.pth'), dict(note='x'))
    assert sizes['layers'] == 3
    assert sizes['packed_bytes'] < sizes['fp32_bytes']
    assert is_packed_checkpoint(str(tmp_path / 'p.pth'))

    torch.manual_seed(123)  # different init: everything must come from file
    deployed = Net(binarizer).eval()
    meta = load_packed_checkpoint(deployed, str(tmp_path / 'p.pth'))
    assert meta['note'] == 'x'
    assert torch.equal(deployed(x), expected)
    # deployed layers hold their binary weights: +-s per output channel
    weight = deployed.conv.weight.flatten(1)
    assert deployed.conv.weight_quantizer is None
    assert torch.equal(weight.abs(),
                       weight.abs().amax(1, keepdim=True).expand_as(weight))


def test_packed_sizes_count_one_bit_per_binary_weight():
    model = Net('dorefa')
    state, layers = pack_state_dict(model)
    assert layers == ['conv', 'dw', 'fc']
    assert state['conv.weight_packed'].numel() == 16 * 8 * 9 // 8
    assert state['dw.weight_packed'].numel() == 16 * 4 * 9 // 8
    assert state['fc.weight_packed'].numel() == 5 * 16 // 8
    assert state['conv.weight_scale'].shape == (16, )
    assert state['conv.weight_shape'].tolist() == [16, 8, 3, 3]
    # FP layers and BN unchanged
    assert torch.equal(state['stem.weight'], model.stem.weight)
    assert 'bn.running_mean' in state


def test_weight_quantizer_state_dropped_input_state_kept():
    model = Net('rbnn')
    state, _ = pack_state_dict(model)
    assert not any('weight_quantizer' in k for k in state)
    assert 'conv.output_scale.scale' in state
    model = Net('reactnet')
    state, _ = pack_state_dict(model)
    assert 'conv.input_quantizer.bias' in state


def test_errors():
    with pytest.raises(ValueError, match='nothing to pack'):
        pack_state_dict(nn.Sequential(nn.Conv2d(1, 1, 1)))
    model = Net('irnet')
    with pytest.raises(ValueError, match='not a packed'):
        load_packed_checkpoint(model, dict(meta={}, state_dict={}))
    ckpt = dict(
        meta=dict(binary_packing=dict(version=1, layers=['stem'])),
        state_dict={})
    with pytest.raises(ValueError, match="'stem' is a Conv2d"):
        load_packed_checkpoint(model, ckpt)
    ckpt['meta']['binary_packing']['layers'] = ['nope']
    with pytest.raises(ValueError, match="'nope' is not in the model"):
        load_packed_checkpoint(model, ckpt)


def test_non_binary_quantized_weight_refused():
    conv = BinaryConv2d(
        2, 2, 1, binarizer='dorefa', weight_quantizer=dict(type='SteSign'))
    conv.weight_quantizer = nn.Identity()  # not +-s per channel
    with pytest.raises(ValueError, match='cannot be packed'):
        pack_state_dict(nn.Sequential(conv))


def test_pack_unpack_random_shapes():
    rng = np.random.default_rng(0)
    for count in (1, 7, 8, 9, 100):
        signs = torch.from_numpy(rng.choice([-1.0, 1.0], count)).float()
        assert torch.equal(unpack_signs(pack_signs(signs), (count, )), signs)


def test_save_atomic_leaves_nothing_half_written(tmp_path, monkeypatch):
    from cmim_dense.models.utils import binary_packing
    from cmim_dense.utils import atomic_io

    target = tmp_path / 'out.pth'
    binary_packing.save_atomic(dict(a=torch.ones(1)), str(target))
    assert target.stat().st_mode & 0o644 == 0o644  # not mkstemp's 0600

    def broken_replace(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(atomic_io.os, 'replace', broken_replace)
    with pytest.raises(OSError, match='disk full'):
        binary_packing.save_atomic(dict(a=torch.zeros(1)), str(target))
    # the previous file is intact and no temporary file is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out.pth']
    assert torch.equal(
        torch.load(target, weights_only=True)['a'], torch.ones(1))


@pytest.mark.parametrize('binarizer', cmim_dense.available_binarizers())
def test_packed_meta_records_the_input_levels(binarizer, tmp_path):
    """A runtime must know a {0, 1} input (DoReFa) from a {-1, +1} one:
    the levels of every packed layer's input are in the meta."""
    model = Net(binarizer).eval()
    pack_checkpoint(model, str(tmp_path / 'p.pth'))
    meta = torch.load(str(tmp_path / 'p.pth'), weights_only=True)['meta']
    levels = meta['binary_packing']['input_levels']
    assert set(levels) == {'conv', 'dw', 'fc'}
    for name, value in levels.items():
        quantizer = model.get_submodule(name).input_quantizer
        assert tuple(value) == tuple(quantizer.levels)
