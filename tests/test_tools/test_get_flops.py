"""Tests of ``tools/analysis_tools/get_flops.py`` on a tiny binary
segmentor."""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
import torch

import cmim_dense  # noqa: F401  (registers BinaryConv2d)
from cmim_dense.utils.complexity import analyze_complexity

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'analysis_tools' / 'get_flops.py'
TIMEOUT_S = 120

pytestmark = pytest.mark.filterwarnings(
    "ignore:``build_loss``:UserWarning",
    "ignore:Default ``avg_non_ignore``:UserWarning")

TINY_BINARY_SEG = textwrap.dedent('''
    default_scope = 'mmseg'
    custom_imports = dict(imports=['cmim_dense'], allow_failed_imports=False)
    norm_cfg = dict(type='BN', requires_grad=True)
    conv_cfg = dict(type='BinaryConv2d', binarizer='irnet')
    model = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            contract_dilation=True),
        decode_head=dict(
            type='FCNHead',
            in_channels=64,
            in_index=3,
            channels=16,
            num_convs=1,
            concat_input=False,
            num_classes=3,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
''')


def _load_tool() -> ModuleType:
    """Import the tool as a module (``tools`` is no package)."""
    spec = importlib.util.spec_from_file_location('cmim_dense_get_flops', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool() -> ModuleType:
    return _load_tool()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / 'tiny_binary_seg.py'
    path.write_text(TINY_BINARY_SEG)
    return path


def test_cli_json_matches_analyze_complexity(tool: ModuleType, config: Path,
                                             tmp_path: Path) -> None:
    out = tmp_path / 'out' / 'flops.json'
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get('PYTHONPATH', '')) if p)
    env['OMP_NUM_THREADS'] = '1'
    proc = subprocess.run([
        sys.executable,
        str(TOOL),
        str(config), '--shape', '64', '64', '--json',
        str(out)
    ],
                          cwd=tmp_path,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'OPs (BOPs/64 + FLOPs)' in proc.stdout
    assert 'decode_head.conv_seg' in proc.stdout

    data = json.loads(out.read_text())
    assert data['shape'] == [64, 64] and data['backbone_only'] is False
    assert data['input_shapes'] == [[1, 3, 64, 64]]
    assert set(data['totals']) == {
        'flops', 'bops', 'ops', 'macs', 'params', 'unused_params',
        'size_fp32_bytes', 'size_packed_bytes'
    }

    model = tool.build_model(str(config))
    expected = analyze_complexity(
        model,
        torch.rand(1, 3, 64, 64),
        forward_kwargs=dict(data_samples=None, mode='tensor'))
    assert data['totals'] == expected.to_dict()['totals']
    totals = data['totals']
    assert totals['bops'] > 0 and totals['flops'] > 0
    assert totals['ops'] == totals['bops'] / 64 + totals['flops']
    assert totals['size_packed_bytes'] < totals['size_fp32_bytes']
    # conv_seg is the only FP layer: 3 classes * 16 channels * 8*8 pixels
    assert totals['flops'] == 3 * 16 * 8 * 8
    names = [row['name'] for row in data['layers']]
    assert names[0] == 'backbone.stem.0'
    assert names[-1] == 'decode_head.conv_seg'


def test_backbone_only(tool: ModuleType, config: Path,
                       capsys: pytest.CaptureFixture) -> None:
    full = tool.main([str(config), '--shape', '32'])
    backbone = tool.main(
        [str(config), '--shape', '32', '32', '--backbone-only', '--top', '3'])
    assert backbone.input_shapes == [(1, 3, 32, 32)]
    assert not any(r.name.startswith('decode_head') for r in backbone.layers)
    assert backbone.flops == 0  # the backbone is binary throughout
    assert 0 < backbone.bops < full.bops
    # parameters and sizes are the backbone's own
    assert 0 < backbone.params < full.params
    assert backbone.size_packed_bytes < full.size_packed_bytes
    assert '... ' in capsys.readouterr().out


def test_cfg_options(tool: ModuleType, config: Path) -> None:
    report = tool.main([
        str(config), '--shape', '32', '--cfg-options',
        'model.backbone.conv_cfg=None', 'model.decode_head.conv_cfg=None'
    ])
    assert report.bops == 0 and report.flops > 0


def test_unbuildable_config(tool: ModuleType, tmp_path: Path) -> None:
    bad = tmp_path / 'bad.py'
    bad.write_text(
        TINY_BINARY_SEG.replace("type='ResNetV1c'", "type='NoSuchNet'"))
    with pytest.raises(SystemExit) as info:
        tool.main([str(bad), '--shape', '32'])
    message = str(info.value.code)
    assert str(bad) in message and 'NoSuchNet' in message


def test_parse_args_defaults(tool: ModuleType) -> None:
    args = tool.parse_args(['cfg.py'])
    assert args.shape == (480, 640) and not args.backbone_only
    assert args.json is None and args.in_channels == 3
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py', '--shape', '1', '2', '3'])
