"""Tiny configs of the binary backbones, shared by the backbone tests."""
import torch
from torch import nn

from cmim_dense.registry import MODELS

# Smallest widths that keep every architectural feature.
TINY = {
    'IRNetResNet':
    dict(type='IRNetResNet', depth=18, stem_channels=8, base_channels=8),
    'BiRealResNet':
    dict(type='BiRealResNet', depth=18, stem_channels=8, base_channels=8),
    'ReActNet':
    dict(type='ReActNet', widen_factor=0.125),
}
# Stage channels of the tiny configs.
TINY_CHANNELS = {
    'IRNetResNet': (8, 16, 32, 64),
    'BiRealResNet': (8, 16, 32, 64),
    'ReActNet': (16, 32, 64, 128),
}
# (strides, dilations) for output strides 8 and 16.
OUTPUT_STRIDE = {
    'IRNetResNet': {
        8: ((1, 2, 1, 1), (1, 1, 2, 4)),
        16: ((1, 2, 2, 1), (1, 1, 1, 2))
    },
    'ReActNet': {
        8: ((2, 2, 1, 1), (1, 1, 2, 4)),
        16: ((2, 2, 2, 1), (1, 1, 1, 2))
    },
}
OUTPUT_STRIDE['BiRealResNet'] = OUTPUT_STRIDE['IRNetResNet']
BACKBONES = tuple(TINY)


def build_tiny(name: str, **kwargs) -> nn.Module:
    """Build the tiny config of backbone ``name`` with overrides."""
    cfg = dict(TINY[name])
    cfg.update(kwargs)
    return MODELS.build(cfg)


def randomize_norms(model: nn.Module) -> None:
    """Give every BatchNorm non-trivial statistics and affine parameters."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
                module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                module.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                module.bias.copy_(torch.rand(n, generator=gen) - 0.5)
