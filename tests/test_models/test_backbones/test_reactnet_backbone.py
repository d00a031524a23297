"""Tests specific to the ReActNet-A backbone."""
import pytest
import torch
from tiny_backbones import build_tiny
from torch import nn

import cmim_dense
from cmim_dense.models.backbones import ReActBlock, ReActNet
from cmim_dense.models.layers import BinaryConv2d, RPReLU


def test_channel_plan():
    """The 13 blocks of ReActNet-A at full width (built, not run)."""
    model = ReActNet()
    blocks = [b for i in range(1, 5) for b in getattr(model, f'layer{i}')]
    assert len(blocks) == 13
    plan = [(b.conv1.in_channels,
             2 * b.conv1.in_channels if b.expand else b.conv1.in_channels,
             b.conv1.stride[0]) for b in blocks]
    assert plan == [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2),
                    (256, 256, 1),
                    (256, 512, 2)] + [(512, 512, 1)] * 5 + [(512, 1024, 2),
                                                            (1024, 1024, 1)]
    assert model.out_channels == (128, 256, 512, 1024)
    assert model.conv1.stride == (2, 2) and model.conv1.out_channels == 32
    assert type(model.conv1) is nn.Conv2d


def test_block_structure():
    model = build_tiny('ReActNet')
    down = model.layer2[0]  # 16 -> 32 channels, stride 2
    assert down.expand and down.pool is not None
    # the two concatenated 1x1 convs are the halves of one 16 -> 32 conv
    assert isinstance(down.conv2, BinaryConv2d) and down.conv2.is_binary
    assert down.conv2.kernel_size == (1, 1)
    assert (down.conv2.in_channels, down.conv2.out_channels) == (16, 32)
    assert down.bn2.num_features == 32
    assert isinstance(down.act1, RPReLU) and isinstance(down.act2, RPReLU)
    assert down.act2.slope.numel() == 32
    same = model.layer2[1]
    assert not same.expand and same.pool is None
    assert same.conv2.in_channels == same.conv2.out_channels == 32
    # RSign is the default activation quantizer
    assert type(same.conv1.input_quantizer).__name__ == 'RSign'


def test_doubling_block_shares_one_rsign_shift():
    """ReActNet-A's ``move21``: one learnable shift (C values) in front of
    both 1x1 halves; each half's output adds the block's input ``out``."""
    block = ReActBlock(4, 8, binarizer='reactnet', act_cfg=None)
    shifts = [
        m for m in block.modules()
        if type(m).__name__ == 'RSign' and m is not block.conv1.input_quantizer
    ]
    assert len(shifts) == 1 and shifts[0].bias.shape == (4, )
    block.eval()
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        shifts[0].bias.fill_(0.3)
        out = block.bn1(block.conv1(x)) + x
        b = torch.where(out - 0.3 >= 0, 1.0, -1.0)
        w = block.conv2.weight
        w_q = w.abs().mean(dim=(1, 2, 3), keepdim=True) * torch.sign(w)
        y = block.bn2(torch.nn.functional.conv2d(b, w_q))
        expected = torch.cat([y[:, :4] + out, y[:, 4:] + out], 1)
        torch.testing.assert_close(block(x), expected)


def test_step1_binary_activations_fp_weights():
    """ReActNet step 1: RSign activations, FP weights in every conv."""
    model = build_tiny('ReActNet', binary_roles=dict(weight_quantizer=False))
    convs = [m for m in model.modules() if isinstance(m, BinaryConv2d)]
    assert len(convs) == 26
    assert all(
        type(c.input_quantizer).__name__ == 'RSign'
        and c.weight_quantizer is None for c in convs)
    # same keys as step 2, so step 2 starts from step 1's checkpoint
    step2 = build_tiny('ReActNet')
    step2.load_state_dict(model.state_dict())


@pytest.mark.parametrize('binarizer', ['reactnet', 'irnet', 'bireal', None])
def test_binarizers(binarizer):
    model = build_tiny('ReActNet', binarizer=binarizer)
    outs = model(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 16, 16), (32, 8, 8),
                                                  (64, 4, 4), (128, 2, 2)]
    convs = [m for m in model.modules() if isinstance(m, BinaryConv2d)]
    # 13 3x3 convs + 13 1x1 convs
    assert len(convs) == (0 if binarizer is None else 26)


def test_widen_factor():
    model = build_tiny('ReActNet', widen_factor=0.25)
    assert model.out_channels == (32, 64, 128, 256)
    with pytest.raises(ValueError, match='widen_factor'):
        build_tiny('ReActNet', widen_factor=0)


def test_output_stride_8_layout():
    model = build_tiny(
        'ReActNet', strides=(2, 2, 1, 1), dilations=(1, 1, 2, 4))
    first = model.layer3[0]
    assert first.conv1.stride == (1, 1) and first.conv1.dilation == (1, 1)
    assert (first.pool.stride, first.pool.dilation) == (1, 1)
    assert all(b.conv1.dilation == (2, 2) for b in model.layer3[1:])
    first = model.layer4[0]
    assert first.conv1.dilation == (2, 2)
    assert (first.pool.stride, first.pool.dilation) == (1, 2)
    assert model.layer4[1].conv1.dilation == (4, 4)


def test_frozen_stem_and_stage():
    model = build_tiny('ReActNet', frozen_stages=1)
    model.train()
    assert not model.bn1.training and not model.layer1[2].bn2.training
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert model.layer2[0].conv1.input_quantizer.bias.requires_grad


def test_block_arguments():
    with pytest.raises(ValueError, match='out_channels'):
        ReActBlock(8, 24)
    with pytest.raises(ValueError, match='pooling'):
        ReActBlock(8, 16, stride=2)
    assert 'reactnet' in cmim_dense.available_binarizers()


def test_two_step_configs():
    """Step 2 loads step 1's last checkpoint (its default work_dir), and
    the two segmentors have the same state-dict keys and shapes."""
    from pathlib import Path

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    root = Path(__file__).resolve().parents[3] / 'configs' / 'nyudv2'
    stem = 'deeplabv3_reactnet-a-step{}-d8_adam-40k_nyudv2-480x640-seg'
    step1 = Config.fromfile(str(root / f'{stem.format(1)}.py'))
    step2 = Config.fromfile(str(root / f'{stem.format(2)}.py'))
    assert step2.load_from == f'./work_dirs/{stem.format(1)}/iter_40000.pth'
    assert step1.train_cfg.max_iters == 40000
    assert step1.model.backbone.binary_roles == dict(weight_quantizer=False)
    assert 'binary_roles' not in step2.model.backbone
    init_default_scope('mmseg')
    first, second = MODELS.build(step1.model), MODELS.build(step2.model)
    second.load_state_dict(first.state_dict(), strict=True)
    assert first.backbone.layer4[1].conv2.weight_quantizer is None
    assert second.backbone.layer4[1].conv2.is_binary
