"""Tests of :mod:`cmim_dense.utils.complexity` against hand arithmetic."""
import json
from typing import List

import pytest
import torch
from torch import Tensor, nn

import cmim_dense  # noqa: F401  (registers the quantizers)
from cmim_dense.models import BinaryConv2d, BinaryLinear, binarize_modules
from cmim_dense.utils.complexity import (ComplexityReport, analyze_complexity,
                                         format_table, human_number,
                                         layer_kind)


class TinyNet(nn.Module):
    """One layer of each kind, small enough to count by hand.

    Input 1x3x8x8:

    - ``conv0``: FP conv 3->4, k3, padding 1 -> 1x4x8x8, bias.
    - ``bn0``: BatchNorm2d(4).
    - ``conv1``: IR-Net conv 4->4, k3, stride 2, padding 2, dilation 2,
      groups 2, no bias -> 1x4x4x4 (``(8 + 2*2 - 2*(3-1) - 1) // 2 + 1``).
    - ``conv2``: 1x1 conv 4->4 with binary weights, FP activations, no bias.
    - reshape to 1x4x16 (4 rows of 16).
    - ``fc1``: IR-Net linear 16->10 with bias -> 1x4x10.
    - flatten to 1x40; ``fc2``: FP linear 40->2 with bias.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn0 = nn.BatchNorm2d(4)
        self.conv1 = BinaryConv2d(
            4,
            4,
            3,
            stride=2,
            padding=2,
            dilation=2,
            groups=2,
            bias=False,
            binarizer='irnet')
        self.conv2 = BinaryConv2d(
            4, 4, 1, bias=False, binarizer='irnet', input_quantizer=False)
        self.fc1 = BinaryLinear(16, 10, binarizer='irnet')
        self.fc2 = nn.Linear(40, 2)
        self.modes: List[bool] = []

    def forward(self, x: Tensor) -> Tensor:
        self.modes.append(self.training)
        x = self.conv2(self.conv1(self.bn0(self.conv0(x))))
        x = self.fc1(x.flatten(2))
        return self.fc2(x.flatten(1))


# Hand counts of TinyNet on 1x3x8x8.
# MACs:
CONV0_MACS = 4 * 8 * 8 * 3 * 3 * 3  # out elements * in/groups * kh * kw
CONV1_MACS = (4 * 4 * 4) * (4 // 2) * 3 * 3  # 64 * 2 * 9 = 1152 (binary)
CONV2_MACS = (4 * 4 * 4) * 4 * 1 * 1  # 256, binary weights only: FLOPs
FC1_MACS = 4 * 16 * 10  # 4 rows * in * out = 640 (binary)
FC2_MACS = 40 * 2  # 80
FLOPS = CONV0_MACS + CONV2_MACS + FC2_MACS  # 6912 + 256 + 80 = 7248
BOPS = CONV1_MACS + FC1_MACS  # 1152 + 640 = 1792
OPS = BOPS / 64 + FLOPS  # 28 + 7248 = 7276
# Parameters:
CONV0_PARAMS = 4 * 3 * 3 * 3 + 4  # 112
BN0_PARAMS = 4 + 4  # weight + bias (running stats are buffers)
CONV1_PARAMS = 4 * (4 // 2) * 3 * 3  # 72
CONV2_PARAMS = 4 * 4  # 16
FC1_PARAMS = 16 * 10 + 10  # 170
FC2_PARAMS = 40 * 2 + 2  # 82
PARAMS = (CONV0_PARAMS + BN0_PARAMS + CONV1_PARAMS + CONV2_PARAMS +
          FC1_PARAMS + FC2_PARAMS)  # 460
# Packed bits: binary weights 1 bit + one fp32 scale per output channel;
# everything else 32 bits.
CONV0_BITS = 32 * CONV0_PARAMS  # 3584
BN0_BITS = 32 * BN0_PARAMS  # 256
CONV1_BITS = 1 * 72 + 32 * 4  # 200
CONV2_BITS = 1 * 16 + 32 * 4  # 144
FC1_BITS = 1 * 160 + 32 * 10 + 32 * 10  # weights + scales + bias = 800
FC2_BITS = 32 * FC2_PARAMS  # 2624
PACKED_BITS = (CONV0_BITS + BN0_BITS + CONV1_BITS + CONV2_BITS + FC1_BITS +
               FC2_BITS)  # 7608 bits = 951 bytes


def tiny_report() -> ComplexityReport:
    return analyze_complexity(TinyNet(), torch.rand(1, 3, 8, 8))


def test_hand_arithmetic_is_what_the_test_claims() -> None:
    """The constants above, spelled out."""
    assert (CONV0_MACS, CONV1_MACS, CONV2_MACS, FC1_MACS) == (6912, 1152, 256,
                                                              640)
    assert (FLOPS, BOPS, OPS, PARAMS) == (7248, 1792, 7276, 460)
    assert PACKED_BITS == 7608


def test_tiny_net_totals() -> None:
    report = tiny_report()
    assert report.flops == FLOPS
    assert report.bops == BOPS
    assert report.ops == pytest.approx(OPS)
    assert report.macs == FLOPS + BOPS
    assert report.params == PARAMS
    assert report.size_fp32_bytes == 4 * PARAMS  # 1840
    assert report.size_packed_bytes == PACKED_BITS // 8  # 951
    assert report.input_shapes == [(1, 3, 8, 8)]


def test_tiny_net_layers() -> None:
    """Rows in call order; BN is no row; grouped/dilated/strided conv."""
    rows = {r.name: r for r in tiny_report().layers}
    assert list(rows) == ['conv0', 'conv1', 'conv2', 'fc1', 'fc2']
    expected = dict(
        conv0=('Conv2d', 'fp', (1, 4, 8, 8), CONV0_MACS, 0, CONV0_PARAMS,
               CONV0_BITS),
        conv1=('BinaryConv2d', 'binary', (1, 4, 4, 4), 0, CONV1_MACS,
               CONV1_PARAMS, CONV1_BITS),
        conv2=('BinaryConv2d', 'binary-weight', (1, 4, 4, 4), CONV2_MACS, 0,
               CONV2_PARAMS, CONV2_BITS),
        fc1=('BinaryLinear', 'binary', (1, 4, 10), 0, FC1_MACS, FC1_PARAMS,
             FC1_BITS),
        fc2=('Linear', 'fp', (1, 2), FC2_MACS, 0, FC2_PARAMS, FC2_BITS))
    for name, (typ, kind, shape, flops, bops, params, bits) in \
            expected.items():
        row = rows[name]
        assert (row.type, row.kind, row.output_shape) == (typ, kind, shape)
        assert (row.flops, row.bops, row.macs) == (flops, bops, flops + bops)
        assert (row.params, row.weight_bits, row.calls) == (params, bits, 1)
        assert row.ops == pytest.approx(bops / 64 + flops)


@pytest.mark.parametrize('stride,padding,dilation,groups', [(1, 0, 1, 1),
                                                            (2, 1, 1, 1),
                                                            (1, 3, 3, 1),
                                                            (2, 2, 2, 4),
                                                            (1, 1, 1, 8)])
def test_conv_geometry(stride: int, padding: int, dilation: int,
                       groups: int) -> None:
    """MACs = out elements * in/groups * kh * kw for any geometry."""
    conv = nn.Conv2d(8, 16, (3, 5), stride, padding, dilation, groups)
    out = conv(torch.rand(2, 8, 13, 11))
    expected = out.numel() * (8 // groups) * 3 * 5
    report = analyze_complexity(conv, torch.rand(2, 8, 13, 11))
    assert report.flops == expected and report.bops == 0
    assert report.layers[0].name == ''
    assert report.layers[0].output_shape == tuple(out.shape)


def test_transposed_conv_and_shared_layer() -> None:
    """Transposed conv: in elements * out/groups * k; a layer called twice
    adds its calls, its parameters count once."""
    deconv = nn.ConvTranspose2d(4, 6, 2, stride=2, groups=2)
    fc = nn.Linear(3, 3, bias=False)

    class Net(nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.deconv, self.fc = deconv, fc

        def forward(self, x: Tensor, y: Tensor) -> Tensor:
            return self.deconv(x).sum() + self.fc(self.fc(y)).sum()

    report = analyze_complexity(Net(),
                                (torch.rand(1, 4, 5, 5), torch.rand(7, 3)))
    rows = {r.name: r for r in report.layers}
    assert rows['deconv'].flops == (4 * 5 * 5) * (6 // 2) * 2 * 2  # 1200
    assert rows['fc'].calls == 2
    assert rows['fc'].flops == 2 * (7 * 3 * 3)  # two calls of 7 rows
    assert report.params == (4 * 3 * 2 * 2 + 6) + 9
    assert report.input_shapes == [(1, 4, 5, 5), (7, 3)]


def test_hooks_removed_and_mode_restored() -> None:
    net = TinyNet().train()
    net.bn0.eval()  # a mixed state is restored as it was
    analyze_complexity(net, torch.rand(1, 3, 8, 8))
    assert net.modes == [False]  # ran in eval mode
    assert net.training and not net.bn0.training and net.conv1.training
    for module in net.modules():
        assert not module._forward_hooks
    assert torch.is_grad_enabled()  # grad mode untouched


def test_hooks_removed_on_error() -> None:
    net = TinyNet().train()
    with pytest.raises(RuntimeError):
        analyze_complexity(net, torch.rand(1, 5, 8, 8))  # wrong channels
    assert net.training and net.conv0.training
    for module in net.modules():
        assert not module._forward_hooks


def test_no_grad_during_analysis() -> None:
    seen = []

    class Probe(nn.Linear):

        def forward(self, x: Tensor) -> Tensor:
            seen.append(torch.is_grad_enabled())
            return super().forward(x)

    analyze_complexity(Probe(2, 2), torch.rand(1, 2))
    assert seen == [False]


def test_forward_kwargs_and_fn() -> None:
    net = TinyNet()
    report = analyze_complexity(
        net, torch.rand(1, 3, 8, 8), forward_fn=lambda x: net.conv0(x))
    assert [r.name for r in report.layers] == ['conv0']
    assert report.flops == CONV0_MACS
    # sizes cover the modules that ran; the rest is reported apart
    assert report.params == 4 * 3 * 9 + 4
    assert report.unused_params == PARAMS - report.params
    assert report.size_fp32_bytes == 4 * report.params

    class Kw(nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x: Tensor, mode: str = 'loss') -> Tensor:
            assert mode == 'tensor'
            return self.fc(x)

    report = analyze_complexity(
        Kw(), torch.rand(3, 4), forward_kwargs=dict(mode='tensor'))
    assert report.flops == 3 * 4 * 2


def test_frozen_binary_weights_keep_their_kind() -> None:
    """The deploy form (``freeze_weight``: no weight quantizer, weight holds
    its binary values) counts as the trained form."""
    net = TinyNet()
    before = analyze_complexity(net, torch.rand(1, 3, 8, 8))
    for layer in (net.conv1, net.conv2, net.fc1):
        layer.freeze_weight()
        assert layer.weight_quantizer is None
    after = analyze_complexity(net, torch.rand(1, 3, 8, 8))
    assert after.to_dict() == before.to_dict()


def test_layer_kind() -> None:
    assert layer_kind(nn.Conv2d(2, 2, 1)) == 'fp'
    assert layer_kind(BinaryConv2d(2, 2, 1)) == 'fp'  # no binarizer
    assert layer_kind(BinaryConv2d(2, 2, 1, binarizer='bireal')) == 'binary'
    assert layer_kind(
        BinaryLinear(2, 2, binarizer='bireal',
                     input_quantizer=False)) == 'binary-weight'
    # binary activations with FP weights: FP MACs, 32-bit weights
    act_only = BinaryLinear(2, 2, binarizer='bireal', weight_quantizer=False)
    assert layer_kind(act_only) == 'fp'
    report = analyze_complexity(act_only, torch.rand(1, 2))
    assert report.flops == 4 and report.size_packed_bytes == 6 * 4


def test_to_dict_is_json() -> None:
    data = json.loads(json.dumps(tiny_report().to_dict()))
    assert set(data) == {'input_shapes', 'totals', 'layers'}
    assert data['input_shapes'] == [[1, 3, 8, 8]]
    assert data['totals'] == dict(
        flops=FLOPS,
        bops=BOPS,
        ops=OPS,
        macs=FLOPS + BOPS,
        params=PARAMS,
        unused_params=0,
        size_fp32_bytes=4 * PARAMS,
        size_packed_bytes=PACKED_BITS // 8)
    assert set(data['layers'][0]) == {
        'name', 'type', 'kind', 'output_shape', 'calls', 'macs', 'flops',
        'bops', 'ops', 'params', 'weight_bits'
    }
    assert data['layers'][1]['output_shape'] == [1, 4, 4, 4]


def test_format_table() -> None:
    report = tiny_report()
    table = format_table(report)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ['layer', 'type', 'kind']
    assert any(
        line.startswith('conv1 ') and 'binary' in line for line in lines)
    assert 'OPs (BOPs/64 + FLOPs)' in table and '7.28 k' in table
    assert '951 B' in table and '1.84 kB' in table
    top = format_table(report, top=2)
    body = top.splitlines()[2:4]
    assert body[0].startswith('conv0') and body[1].startswith('conv2')
    assert '... 3 more layers' in top


def test_human_number() -> None:
    assert human_number(1_676_279_808) == '1.68 G'
    assert human_number(137_793_536) == '137.79 M'
    assert human_number(28) == '28'
    assert human_number(0) == '0'
    assert human_number(2048, 'B') == '2.05 kB'


def test_bireal18_anchor() -> None:
    """Bi-Real-18 at 224x224 against the Bi-Real paper (Liu et al. 2018).

    Paper: BOPs 1.68e9, FLOPs 1.39e8, OPs 1.63e8 (1000-way FC included).
    The network: torchvision's ResNet-18 with every 3x3 conv binary
    (Bi-Real), the 7x7 stem, the three 1x1 downsample convs and the FC FP.
    (Bi-Real's shortcut is AvgPool2d(2) + 1x1 stride-1 conv, torchvision's a
    1x1 stride-2 conv: same output size, so the same MACs.)

    BOPs, 3x3 convs (out H*W * C_in * C_out * 9):
      layer1: 4 convs 56*56*64*64*9        = 4 * 115,605,504 = 462,422,016
      layer2: 28*28*64*128*9 = 57,802,752 + 3 * 115,605,504 = 404,619,264
      layer3: 14*14*128*256*9 = 57,802,752 + 3 * 115,605,504 = 404,619,264
      layer4: 7*7*256*512*9 = 57,802,752 + 3 * 115,605,504 = 404,619,264
      total                                                 = 1,676,279,808
    FLOPs:
      stem 7*7*3*64*112*112                                  = 118,013,952
      downsamples 64*128*28*28 + 128*256*14*14 + 256*512*7*7 = 3 * 6,422,528
                                                             = 19,267,584
      fc 512*1000                                            = 512,000
      total                                                  = 137,793,536
    OPs = 1,676,279,808 / 64 + 137,793,536 = 26,191,872 + 137,793,536
        = 163,985,408.
    Memory (paper: 33.6 Mbit): 10,985,472 binary 3x3 weights at 1 bit
      + 3,840 output-channel scales (16 convs: 4*(64+128+256+512)) at 32 bits
      + 704,040 other parameters (11,689,512 - 10,985,472) at 32 bits
      = 10,985,472 + 122,880 + 22,529,280 = 33,637,632 bits.
    """
    torchvision = pytest.importorskip('torchvision')
    net = torchvision.models.resnet18(weights=None)
    converted = binarize_modules(
        net, 'bireal', exclude=('*fc', '*downsample*'))
    assert len(converted) == 16  # every 3x3 conv, and only those

    report = analyze_complexity(net, torch.rand(1, 3, 224, 224))

    assert report.bops == 1_676_279_808
    assert report.flops == 137_793_536
    assert report.ops == 163_985_408
    assert report.params == 11_689_512
    assert report.size_packed_bytes * 8 == 33_637_632
    # the paper's rounded numbers
    assert report.bops == pytest.approx(1.676e9, rel=0.01)
    assert report.bops == pytest.approx(1.68e9, rel=0.01)
    assert report.flops == pytest.approx(1.378e8, rel=0.01)
    assert report.flops == pytest.approx(1.39e8, rel=0.01)
    assert report.ops == report.bops / 64 + report.flops
    assert report.size_packed_bytes * 8 == pytest.approx(33.6e6, rel=0.005)


def test_zero_one_activations_still_count_as_binary_ops() -> None:
    """DoReFa's {0, 1} activations times +-E weights: AND-popcounts, BOPs
    (hand count: 1x4x5x5 outputs of a 3x3 conv over 4 channels)."""
    layer = BinaryConv2d(4, 4, 3, padding=1, bias=False, binarizer='dorefa')
    assert layer.input_levels == (0.0, 1.0)
    assert layer_kind(layer) == 'binary'
    report = analyze_complexity(layer, torch.randn(1, 4, 5, 5))
    assert report.bops == 4 * 5 * 5 * 4 * 3 * 3 and report.flops == 0
