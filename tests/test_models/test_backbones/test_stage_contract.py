"""The backbone contract: an arch table, ``make_stage`` / ``add_stage``, the
base class's stage loop, and the public ``stage_names`` that CMIM's
``'last_per_stage'`` and ``'stages'`` selectors read."""
import pytest
import torch
from tiny_backbones import BACKBONES, build_tiny
from torch import Tensor, nn

from cmim_dense.models.backbones import (BaseBinaryBackbone, IRNetResNet,
                                         ReActBlock, ReActNet,
                                         build_binary_conv)
from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.models.utils.activation_recorder import (resolve_layers,
                                                   resolve_modules)


class DepthwiseSeparable(nn.Module):
    """A binary MobileNetV1 block: depthwise 3x3 + pointwise 1x1."""

    def __init__(self,
                 in_channels,
                 out_channels,
                 stride=1,
                 binarizer='irnet',
                 pad_value=1.0,
                 binary_roles=None,
                 norm_cfg=None,
                 act_cfg=None,
                 with_cp=False):
        super().__init__()
        self.dw = build_binary_conv(
            binarizer,
            in_channels,
            in_channels,
            3,
            stride,
            pad_value=pad_value,
            groups=in_channels)
        self.pw = build_binary_conv(binarizer, in_channels, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.pw(self.dw(x))


class TinyMobileNet(BaseBinaryBackbone):
    """What the docs' "add a backbone" example needs, and nothing more."""

    arch_settings = {
        'v1': (((DepthwiseSeparable, 8, 2), ), ((DepthwiseSeparable, 16, 2),
                                                (DepthwiseSeparable, 16, 1))),
    }
    stem_names = ('conv1', )

    def __init__(self, arch='v1', out_indices=(0, 1), frozen_stages=-1):
        super().__init__()
        stages = self.arch_settings[arch]
        self.init_stage_args(
            len(stages), len(stages), (2, ) * len(stages), (1, ) * len(stages),
            out_indices, frozen_stages, False)
        self.init_block_args('irnet', 1.0, None, dict(type='BN'), None, False)
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        channels = 4
        for stage in stages:
            specs = []
            for block, out_channels, stride in stage:
                specs.append((block,
                              dict(
                                  in_channels=channels,
                                  out_channels=out_channels,
                                  stride=stride)))
                channels = out_channels
            self.add_stage(self.make_stage(specs))
        self._freeze_stages()

    def forward_stem(self, x: Tensor) -> Tensor:
        return self.conv1(x)


class Wrapper(nn.Module):
    """A model with its backbone at ``backbone``, as CMIM expects."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone


def test_one_class_backbone_by_table():
    model = TinyMobileNet()
    assert model.stage_names == ['layer1', 'layer2']
    assert [len(model.layer1), len(model.layer2)] == [1, 2]
    dw = model.layer2[0].dw
    assert isinstance(dw, BinaryConv2d) and dw.groups == 8
    outs = model(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 8, 8, 8), (2, 16, 4, 4)]
    (out, ) = TinyMobileNet(out_indices=(0, ))(torch.randn(1, 3, 32, 32))
    assert out.shape == (1, 8, 8, 8)
    frozen = TinyMobileNet(frozen_stages=1)
    frozen.train()
    assert not any(p.requires_grad for p in frozen.conv1.parameters())
    assert not any(p.requires_grad for p in frozen.layer1.parameters())
    assert all(p.requires_grad for p in frozen.layer2.parameters())
    # CMIM's selectors read the new backbone's stage names
    wrapped = Wrapper(model)
    assert resolve_layers(wrapped, 'last_per_stage') == [
        'backbone.layer1.0.pw', 'backbone.layer2.1.pw'
    ]


@pytest.mark.parametrize('name', BACKBONES)
def test_stage_names_are_the_stages(name):
    model = build_tiny(name)
    assert model.stage_names == ['layer1', 'layer2', 'layer3', 'layer4']
    assert resolve_modules(Wrapper(model), 'stages') == [
        f'backbone.{n}' for n in model.stage_names
    ]
    assert type(model).forward is BaseBinaryBackbone.forward


def test_arch_tables():
    block, stage_blocks = IRNetResNet.arch_settings[34]
    assert stage_blocks == (3, 4, 6, 3) and block.__name__ == \
        'BinaryBasicBlock'
    table = ReActNet.arch_settings['A']
    assert [len(stage) for stage in table] == [3, 2, 6, 2]
    assert all(block is ReActBlock for stage in table for block, _, _ in stage)
    assert [c for stage in table for _, c, _ in stage][-2:] == [1024, 1024]
    with pytest.raises(ValueError, match=r"arch 'B'.*\['A'\]"):
        ReActNet(arch='B')


def test_selectors_read_stage_names_not_prefixes():
    """Stages are what ``stage_names`` says, whatever their names; other
    children (even named ``layer*``) are not stages."""
    backbone = nn.Module()
    backbone.early = nn.Sequential(
        BinaryConv2d(3, 4, 3, binarizer='irnet'),
        BinaryConv2d(4, 4, 3, binarizer='irnet'))
    backbone.layer9 = BinaryConv2d(4, 4, 1, binarizer='irnet')
    backbone.late = nn.Sequential(BinaryConv2d(4, 4, 1, binarizer='irnet'))
    backbone.stage_names = ['late', 'early']
    model = Wrapper(backbone)
    assert resolve_layers(
        model, 'last_per_stage') == ['backbone.early.1', 'backbone.late.0']
    assert resolve_modules(model,
                           'stages') == ['backbone.late', 'backbone.early']


@pytest.mark.parametrize('selector,resolve',
                         [('last_per_stage', resolve_layers),
                          ('stages', resolve_modules)])
def test_backbone_without_stage_names_is_refused(selector, resolve):
    backbone = nn.Module()
    backbone.layer1 = nn.Sequential(BinaryConv2d(3, 4, 3, binarizer='irnet'))
    with pytest.raises(ValueError, match=f"'{selector}'.*has no stage_names"):
        resolve(Wrapper(backbone), selector)
    backbone.stage_names = ['layer1', 'layer2']
    with pytest.raises(ValueError, match=r"stage_names \['layer2'\]"):
        resolve(Wrapper(backbone), selector)
    with pytest.raises(ValueError, match="no 'backbone' module"):
        resolve(nn.Sequential(backbone), selector)
