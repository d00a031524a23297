"""Tests of :class:`ShortcutAvgPool` and :func:`build_shortcut_pool`
(``cmim_dense.models.backbones.shortcut_pool``)."""
import pytest
import torch
from torch import nn

from cmim_dense.models.backbones.shortcut_pool import (ShortcutAvgPool,
                                                       build_shortcut_pool)


@pytest.mark.parametrize('size', [(8, 8), (7, 9), (1, 3)])
def test_matches_ceil_mode_avg_pool(size):
    x = torch.randn(2, 3, *size)
    ref = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)(x)
    torch.testing.assert_close(ShortcutAvgPool(2, 2)(x), ref)


def test_equals_bireal_pool_on_even_sizes():
    x = torch.randn(1, 2, 6, 10)
    torch.testing.assert_close(ShortcutAvgPool()(x), nn.AvgPool2d(2)(x))


@pytest.mark.parametrize('size', [(8, 8), (7, 9)])
@pytest.mark.parametrize('dilation', [1, 2])
def test_stride_one_resamples_strided_pool(size, dilation):
    """A stride-1 pool on a grid dilated by ``d`` (the strided pool's input
    upsampled by ``d``), sampled every ``2 d``, is the strided pool."""
    x = torch.randn(1, 2, *size)
    dense = torch.randn(1, 2, size[0] * dilation, size[1] * dilation)
    dense[..., ::dilation, ::dilation] = x
    strided = ShortcutAvgPool(2, 2, 1)(x)
    out = ShortcutAvgPool(2, 1, dilation)(dense)
    assert out.shape == dense.shape
    assert torch.equal(out[..., ::2 * dilation, ::2 * dilation], strided)


def test_build_shortcut_pool():
    assert build_shortcut_pool(1, 1, 1) is None
    assert build_shortcut_pool(1, 2, 2) is None
    pool = build_shortcut_pool(2, 1, 1)
    assert (pool.kernel_size, pool.stride, pool.dilation) == (2, 2, 1)
    pool = build_shortcut_pool(1, 4, 2)
    assert (pool.kernel_size, pool.stride, pool.dilation) == (2, 1, 2)


def test_bad_args():
    with pytest.raises(ValueError, match='stride'):
        ShortcutAvgPool(2, 0)
