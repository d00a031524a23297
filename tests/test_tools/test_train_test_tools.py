"""End-to-end CPU tests of ``tools/train.py`` and ``tools/test.py``.

A toy segmentation dataset is written to ``tmp_path`` and the tiny config
``tests/data/configs/tiny_seg.py`` is trained, resumed and tested through the
command line, in subprocesses of the current interpreter.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Optional

import numpy as np
import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / 'tools'
CONFIG = REPO_ROOT / 'tests' / 'data' / 'configs' / 'tiny_seg.py'
NUM_CLASSES = 3  # of tests/data/tiny_seg_dataset.py
IMG_SIZE = 32
TIMEOUT_S = 120


def _load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` as a module (``tools`` is no package)."""
    spec = importlib.util.spec_from_file_location(f'cmim_dense_tool_{name}',
                                                  TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_root_options(data_root: Path) -> List[str]:
    """``--cfg-options`` items pointing every dataloader at ``data_root``."""
    return [
        f'{loader}.dataset.data_root={data_root}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]


def run_tool(args: List[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a tool with this interpreter; fail with its output if it fails."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get('PYTHONPATH', '')) if p)
    env['OMP_NUM_THREADS'] = '1'
    env.pop('LOCAL_RANK', None)
    proc = subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=TIMEOUT_S)
    assert proc.returncode == 0, (f'{args[0]} failed ({proc.returncode}):\n'
                                  f'--- stdout ---\n{proc.stdout[-5000:]}\n'
                                  f'--- stderr ---\n{proc.stderr[-5000:]}')
    return proc


def latest_run_dir(work_dir: Path) -> Path:
    """The newest ``<timestamp>`` folder mmengine made in ``work_dir``."""
    runs = sorted(p for p in work_dir.iterdir()
                  if p.is_dir() and p.name[:8].isdigit())
    assert runs, f'no run folder in {work_dir}: {os.listdir(work_dir)}'
    return runs[-1]


def read_scalars(run_dir: Path) -> List[dict]:
    """The records of ``vis_data/scalars.json`` of one run."""
    path = run_dir / 'vis_data' / 'scalars.json'
    assert path.is_file(), f'{path} missing'
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope='module')
def trained(tmp_path_factory: pytest.TempPathFactory,
            tiny_seg_dataset) -> Dict[str, Path]:
    """Train 4 iterations, then resume to 6; shared by the tests below."""
    tmp = tmp_path_factory.mktemp('tools')
    data_root = tiny_seg_dataset.make(tmp / 'data')
    work_dir = tmp / 'work_dir'
    options = data_root_options(data_root)
    run_tool([
        str(TOOLS / 'train.py'),
        str(CONFIG), '--work-dir',
        str(work_dir), '--cfg-options', *options
    ],
             cwd=tmp)
    first_run = latest_run_dir(work_dir)
    run_tool([
        str(TOOLS / 'train.py'),
        str(CONFIG), '--work-dir',
        str(work_dir), '--resume', '--cfg-options', *options,
        'train_cfg.max_iters=6', 'train_cfg.val_interval=6'
    ],
             cwd=tmp)
    second_run = latest_run_dir(work_dir)
    return dict(
        tmp=tmp,
        data_root=data_root,
        work_dir=work_dir,
        first_run=first_run,
        second_run=second_run)


def test_train_writes_checkpoints(trained: Dict[str, Path]) -> None:
    """The first run trains 4 iterations, saves every 2 and validates."""
    import cmim_dense  # noqa: F401  (allow-lists the checkpoint globals)
    import torch

    work_dir = trained['work_dir']
    assert (work_dir / 'iter_2.pth').is_file()
    assert (work_dir / 'iter_4.pth').is_file()
    ckpt = torch.load(work_dir / 'iter_4.pth', map_location='cpu')
    assert ckpt['meta']['iter'] == 4
    scalars = read_scalars(trained['first_run'])
    train_steps = [r['step'] for r in scalars if 'loss' in r]
    assert train_steps == [1, 2, 3, 4]
    assert any('mIoU' in r for r in scalars), scalars


def test_train_resume_continues(trained: Dict[str, Path]) -> None:
    """``--resume`` continues from iter 4 instead of starting again."""
    import cmim_dense  # noqa: F401
    import torch

    work_dir = trained['work_dir']
    assert trained['second_run'] != trained['first_run']
    ckpt = torch.load(work_dir / 'iter_6.pth', map_location='cpu')
    assert ckpt['meta']['iter'] == 6
    scalars = read_scalars(trained['second_run'])
    train_steps = [r['step'] for r in scalars if 'loss' in r]
    assert train_steps == [5, 6], 'the resumed run did not start at iter 5'
    assert (work_dir /
            'last_checkpoint').read_text().strip().endswith('iter_6.pth')


def run_test_tool(trained: Dict[str, Path], checkpoint: Path,
                  name: str) -> Dict[str, Path]:
    """Run ``tools/test.py`` on ``checkpoint`` (``--out``, ``--show-dir``)."""
    tmp = trained['tmp']
    dirs = dict(
        work_dir=tmp / f'{name}_work_dir',
        out_dir=tmp / f'{name}_preds',
        show_dir=tmp / f'{name}_show')
    run_tool([
        str(TOOLS / 'test.py'),
        str(CONFIG),
        str(checkpoint), '--work-dir',
        str(dirs['work_dir']), '--out',
        str(dirs['out_dir']), '--show-dir',
        str(dirs['show_dir']), '--cfg-options',
        *data_root_options(trained['data_root']),
        'default_hooks.visualization.interval=1'
    ],
             cwd=tmp)
    run_dir = latest_run_dir(dirs['work_dir'])
    dirs['result'] = json.loads((run_dir / f'{run_dir.name}.json').read_text())
    return dirs


@pytest.fixture(scope='module')
def tested(trained: Dict[str, Path]) -> Dict[str, Path]:
    """``tools/test.py`` on the final (unpacked) checkpoint."""
    return run_test_tool(trained, trained['work_dir'] / 'iter_6.pth',
                         'unpacked')


def test_test_tool_reports_miou(trained: Dict[str, Path],
                                tested: Dict[str, Path]) -> None:
    """``tools/test.py`` evaluates a checkpoint, saves predictions and
    painted images."""
    result = tested['result']
    assert 0.0 <= result['mIoU'] <= 100.0, result
    # The checkpoint was really loaded: same mIoU as the final validation.
    last_val = [r for r in read_scalars(trained['second_run']) if 'mIoU' in r]
    assert result['mIoU'] == pytest.approx(last_val[-1]['mIoU'])
    out_dir = tested['out_dir']
    assert sorted(os.listdir(out_dir)) == ['000.png', '001.png']
    pred = np.asarray(Image.open(out_dir / '000.png'))
    assert pred.shape == (IMG_SIZE, IMG_SIZE)
    assert pred.max() < NUM_CLASSES
    painted = [f for _, _, files in os.walk(tested['show_dir']) for f in files]
    assert len([f for f in painted if f.endswith('.png')]) == 2, painted


def test_packed_checkpoint_tests_identically(trained: Dict[str, Path],
                                             tested: Dict[str, Path]) -> None:
    """``pack_binary.py`` shrinks the weights; ``tools/test.py`` evaluates the
    packed checkpoint directly with exactly the unpacked predictions."""
    import cmim_dense  # noqa: F401
    import torch

    packed = trained['tmp'] / 'packed.pth'
    proc = run_tool([
        str(TOOLS / 'deploy' / 'pack_binary.py'),
        str(trained['work_dir'] / 'iter_6.pth'),
        str(packed)
    ],
                    cwd=trained['tmp'])
    assert 'verified: packed and unpacked outputs are identical' in \
        proc.stdout, proc.stdout
    ckpt = torch.load(packed, weights_only=True)
    layers = ckpt['meta']['binary_packing']['layers']
    assert 'backbone.layer1.0.conv1' in layers
    assert ckpt['state_dict']['backbone.layer1.0.conv1.weight_packed'].dtype \
        == torch.uint8
    assert 'backbone.layer1.0.conv1.weight' not in ckpt['state_dict']
    assert 'decode_head.conv_seg.weight' in ckpt['state_dict']  # FP, kept
    result = run_test_tool(trained, packed, 'packed')
    assert result['result']['mIoU'] == tested['result']['mIoU']
    for name in ('000.png', '001.png'):
        assert (result['out_dir'] / name).read_bytes() == \
            (tested['out_dir'] / name).read_bytes()


# --------------------------------------------------------------------------
# Config munging, without running anything.
# --------------------------------------------------------------------------


@pytest.fixture(scope='module')
def train_tool() -> ModuleType:
    return _load_tool('train')


@pytest.fixture(scope='module')
def test_tool() -> ModuleType:
    return _load_tool('test')


def _train_args(train_tool: ModuleType, *argv: str) -> argparse.Namespace:
    return train_tool.parse_args([str(CONFIG), *argv])


def test_amp_switches_optim_wrapper(train_tool: ModuleType) -> None:
    from mmengine.config import Config
    args = _train_args(train_tool, '--amp')
    cfg = train_tool.setup_cfg(Config.fromfile(args.config), args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer.type == 'SGD'  # rest kept


def test_amp_builds_amp_optim_wrapper(train_tool: ModuleType,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The munged config builds an ``AmpOptimWrapper`` with dynamic scale.

    mmengine refuses to build the wrapper without an accelerator, so the
    availability check is patched on CPU-only machines (only construction
    is checked; AMP training itself needs a GPU).
    """
    import torch
    from mmengine.config import Config
    from mmengine.optim import AmpOptimWrapper, build_optim_wrapper
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    args = _train_args(train_tool, '--amp')
    cfg = train_tool.setup_cfg(Config.fromfile(args.config), args)
    if not torch.cuda.is_available():
        monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                            lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # GradScaler: CUDA not available
        wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    assert isinstance(wrapper, AmpOptimWrapper)
    assert wrapper._scale_update_param is None  # 'dynamic' loss scale


@pytest.mark.parametrize('optim_wrapper, match', [
    (None, 'has none'),
    (dict(type='AmpOptimWrapper', optimizer=dict(type='SGD',
                                                 lr=0.1)), 'already uses'),
    (dict(type='mmengine.AmpOptimWrapper',
          optimizer=dict(type='SGD')), 'already uses'),
    (dict(type='OptimWrapperDict'), 'only supported'),
])
def test_amp_refuses_bad_optim_wrapper(train_tool: ModuleType,
                                       optim_wrapper: Optional[dict],
                                       match: str) -> None:
    from mmengine.config import Config
    cfg = Config(dict(optim_wrapper=optim_wrapper))
    if optim_wrapper is None:
        cfg = Config(dict())
    with pytest.raises(ValueError, match=match):
        train_tool.enable_amp(cfg)


def test_amp_keeps_the_non_finite_guard(train_tool: ModuleType) -> None:
    from mmengine.config import Config
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='NonFiniteGuardOptimWrapper',
                optimizer=dict(type='SGD', lr=0.1),
                policy='stop')))
    train_tool.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'NonFiniteGuardAmpOptimWrapper'
    assert cfg.optim_wrapper.policy == 'stop'
    with pytest.raises(ValueError, match='already uses'):
        train_tool.enable_amp(cfg)


def test_train_setup_cfg_defaults(train_tool: ModuleType,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from mmengine.config import Config
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = _train_args(train_tool, '--local-rank', '3', '--cfg-options',
                       'train_cfg.max_iters=7')
    assert os.environ['LOCAL_RANK'] == '3'
    cfg = train_tool.setup_cfg(Config.fromfile(args.config), args)
    assert cfg.work_dir == osp.join('./work_dirs', 'tiny_seg')
    assert cfg.resume is False
    assert cfg.launcher == 'none'
    assert cfg.train_cfg.max_iters == 7
    assert cfg.optim_wrapper.type == 'OptimWrapper'

    args = _train_args(train_tool, '--resume', '--work-dir', 'w', '--launcher',
                       'pytorch')
    cfg = train_tool.setup_cfg(Config.fromfile(args.config), args)
    assert (cfg.work_dir, cfg.resume, cfg.launcher) == ('w', True, 'pytorch')


def test_test_setup_cfg(test_tool: ModuleType, tmp_path: Path) -> None:
    from mmengine.config import Config
    args = test_tool.parse_args([
        str(CONFIG), 'ckpt.pth', '--out',
        str(tmp_path), '--show-dir', 'vis', '--tta'
    ])
    cfg = test_tool.setup_cfg(Config.fromfile(args.config), args)
    assert cfg.load_from == 'ckpt.pth'
    assert cfg.test_evaluator.output_dir == str(tmp_path)
    assert 'keep_results' not in cfg.test_evaluator  # IoUMetric lacks it
    assert cfg.default_hooks.visualization.draw is True
    assert cfg.visualizer.save_dir == 'vis'
    assert cfg.model.type == 'SegTTAModel'
    assert cfg.model.module.type == 'EncoderDecoder'


def test_test_out_falls_back_to_dump_results(test_tool: ModuleType,
                                             tmp_path: Path) -> None:
    """Metrics without ``output_dir`` get a ``DumpResults`` companion."""
    from mmengine.config import Config
    cfg = Config(
        dict(
            test_evaluator=dict(
                type='mmengine.DumpResults', out_file_path='a.pkl')))
    test_tool.set_output_dir(cfg, str(tmp_path))
    assert isinstance(cfg.test_evaluator, list)
    assert cfg.test_evaluator[1].type == 'mmengine.DumpResults'
    assert cfg.test_evaluator[1].out_file_path == str(tmp_path / 'results.pkl')
    # keep_results is set where the metric accepts it.
    cfg = Config(dict(test_evaluator=[dict(type='CityscapesMetric')]))
    test_tool.set_output_dir(cfg, str(tmp_path))
    assert cfg.test_evaluator[0].output_dir == str(tmp_path)
    assert cfg.test_evaluator[0].keep_results is True


def test_test_show_needs_visualization_hook(test_tool: ModuleType) -> None:
    from mmengine.config import Config
    args = test_tool.parse_args([str(CONFIG), 'ckpt.pth', '--show'])
    cfg = Config.fromfile(args.config)
    del cfg.default_hooks['visualization']
    with pytest.raises(RuntimeError, match='visualization hook'):
        test_tool.setup_cfg(cfg, args)
