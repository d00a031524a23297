"""``build_binary_conv``: padding, dilation and groups passed through."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cmim_dense.models.backbones import build_binary_conv
from cmim_dense.models.layers import BinaryConv2d


@pytest.mark.parametrize('binarizer', ['irnet', None])
@pytest.mark.parametrize('groups,dilation', [(1, 1), (4, 1), (8, 2)])
def test_groups_and_dilation(binarizer, groups, dilation):
    conv = build_binary_conv(
        binarizer, 8, 16, 3, stride=2, dilation=dilation, groups=groups)
    assert type(conv) is (nn.Conv2d if binarizer is None else BinaryConv2d)
    assert conv.groups == groups and conv.dilation == (dilation, dilation)
    assert conv.padding == (dilation, dilation) and conv.bias is None
    assert conv.weight.shape == (16, 8 // groups, 3, 3)
    x = torch.randn(2, 8, 9, 9)
    assert conv(x).shape == (2, 16, 5, 5)


def test_depthwise_binary_conv_computes_grouped_conv():
    """Each channel sees only its own binarized input and weights."""
    conv = build_binary_conv('bnn', 4, 4, 3, groups=4, pad_value=-1.0)
    x = torch.randn(1, 4, 6, 6)
    with torch.no_grad():
        expected = F.conv2d(
            F.pad(torch.sign(x), (1, 1, 1, 1), value=-1.0),
            torch.sign(conv.weight),
            groups=4)
        torch.testing.assert_close(conv(x), expected)


@pytest.mark.parametrize('groups', [0, 3, 2.0, True])
def test_bad_groups(groups):
    with pytest.raises(ValueError, match=r'groups .*in_channels \(8\)'):
        build_binary_conv('irnet', 8, 16, 3, groups=groups)
