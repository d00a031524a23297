"""Tests of the dependency-stack shims in :mod:`cmim_dense.utils.compat`."""
import importlib.machinery
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import textwrap
import types
import uuid
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
import torch
from torch import nn

import cmim_dense  # noqa: F401  (applies the shims)
from cmim_dense.utils import compat

REPO_ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------
# (a) + (f): a fresh interpreter that imports cmim_dense, then all of mmseg.
# --------------------------------------------------------------------------

_IMPORT_ALL_MMSEG = textwrap.dedent('''
    import importlib, json, os, pkgutil, sys
    import cmim_dense  # first, like tools/train.py
    import mmseg
    failures, names = {}, []
    def onerror(name):
        failures[name] = repr(sys.exc_info()[1])
    for info in pkgutil.walk_packages(mmseg.__path__, 'mmseg.', onerror):
        names.append(info.name)
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # noqa: BLE001
            failures[info.name] = f'{type(exc).__name__}: {exc}'
    print(json.dumps(dict(
        names=names, failures=failures,
        env={k: v for k, v in os.environ.items() if 'WEIGHTS_ONLY' in k},
        ext_is_stub=getattr(sys.modules.get('mmcv._ext'),
                            'is_cmim_dense_stub', False))))
''')


@pytest.fixture(scope='module')
def fresh_import() -> Dict[str, Any]:
    """Result of :data:`_IMPORT_ALL_MMSEG` run in a subprocess."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get('PYTHONPATH', '')) if p)
    env['OMP_NUM_THREADS'] = '1'
    for key in ('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD',
                'TORCH_FORCE_WEIGHTS_ONLY_LOAD'):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, '-c', _IMPORT_ALL_MMSEG],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_mmseg_module_imports(fresh_import: Dict[str, Any]) -> None:
    """(a) After ``import cmim_dense`` all of mmseg imports (mmcv-lite)."""
    failures = fresh_import['failures']
    assert not failures, (
        f'{len(failures)} of {len(fresh_import["names"])} mmseg modules '
        'failed to import:\n' +
        '\n'.join(f'{k}: {v}' for k, v in sorted(failures.items())))
    assert len(fresh_import['names']) > 150  # 187 in mmseg 1.2.2
    assert fresh_import['ext_is_stub'] == (not _real_ext_installed())


def test_weights_only_protection_not_disabled(
        fresh_import: Dict[str, Any]) -> None:
    """(f) The package never sets ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``."""
    assert fresh_import['env'] == {}
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ


def _real_ext_installed() -> bool:
    module = sys.modules.get('mmcv._ext')
    return module is not None and not getattr(module, 'is_cmim_dense_stub',
                                              False)


# --------------------------------------------------------------------------
# (b) + (c): the mmcv._ext stand-in.
# --------------------------------------------------------------------------


def test_compiled_op_raises_clear_error() -> None:
    """(b) Calling a compiled op raises ``MissingCompiledOpError``."""
    if _real_ext_installed():
        pytest.skip('real mmcv compiled ops are installed')
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.]])
    scores = torch.tensor([0.9, 0.8])
    with pytest.raises(compat.MissingCompiledOpError, match='"nms"'):
        nms(boxes, scores, iou_threshold=0.5)
    assert issubclass(compat.MissingCompiledOpError, RuntimeError)
    assert sys.modules['mmcv._ext'].is_cmim_dense_stub


def test_stub_install_is_idempotent() -> None:
    if _real_ext_installed():
        pytest.skip('real mmcv compiled ops are installed')
    stub = sys.modules['mmcv._ext']
    assert compat.install_mmcv_ext_stub() is True
    assert sys.modules['mmcv._ext'] is stub
    assert compat.has_compiled_mmcv_ops() is False


def test_stub_not_installed_over_loaded_real_ext(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """(c) A real, already imported ``mmcv._ext`` is left alone."""
    real = types.ModuleType('mmcv._ext')
    real.nms = lambda *args, **kwargs: 'real nms'
    monkeypatch.setitem(sys.modules, 'mmcv._ext', real)
    assert compat.has_compiled_mmcv_ops() is True
    assert compat.install_mmcv_ext_stub() is False
    assert sys.modules['mmcv._ext'] is real
    assert not hasattr(real, 'is_cmim_dense_stub')


def test_stub_not_installed_over_importable_real_ext(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """(c) A real ``mmcv._ext`` that is importable but not yet imported."""
    monkeypatch.delitem(sys.modules, 'mmcv._ext', raising=False)
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == 'mmcv._ext':
            return importlib.machinery.ModuleSpec(
                name, loader=None, origin='/fake/mmcv/_ext.so')
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, 'find_spec', find_spec)
    assert compat.has_compiled_mmcv_ops() is True
    assert compat.install_mmcv_ext_stub() is False
    assert 'mmcv._ext' not in sys.modules


# --------------------------------------------------------------------------
# (d) + (e): the weights_only allow-list.
# --------------------------------------------------------------------------


class ToyModel(nn.Module):
    """A one-layer mmengine model for the checkpoint tests."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs: torch.Tensor, mode: str = 'tensor') -> Any:
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return out


def _toy_model() -> nn.Module:
    from mmengine.model import BaseModel

    class _Wrapper(BaseModel):

        def __init__(self) -> None:
            super().__init__()
            self.toy = ToyModel()

        def forward(self,
                    inputs: torch.Tensor,
                    data_samples: Any = None,
                    mode: str = 'tensor') -> Any:
            return self.toy(inputs, mode)

    return _Wrapper()


class _ToyDataset(torch.utils.data.Dataset):
    metainfo: Dict[str, Any] = {}

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        return dict(inputs=torch.full((2, ), float(index)))


def _build_runner(work_dir: Path, max_iters: int, **kwargs: Any) -> Any:
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    class StartIterHook(Hook):

        def __init__(self) -> None:
            self.start_iters: List[int] = []

        def before_train(self, runner: Any) -> None:
            self.start_iters.append(runner.iter)

    return Runner(
        model=_toy_model(),
        work_dir=str(work_dir),
        experiment_name=f'toy_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(
            dataset=_ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=2,
            num_workers=0,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[StartIterHook()],
        default_scope='mmengine',
        log_level='WARNING',
        randomness=dict(seed=0),
        **kwargs)


@pytest.fixture(scope='module')
def toy_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``iter_2.pth`` written by a real mmengine Runner."""
    from mmengine.registry import DefaultScope
    scopes = set(DefaultScope._instance_dict)
    work_dir = tmp_path_factory.mktemp('toy_runner')
    _build_runner(work_dir, max_iters=2).train()
    # the Runner made 'mmengine' the current scope: later modules' tests must
    # not see it (the per-test fixture of tests/conftest.py does the same)
    for name in set(DefaultScope._instance_dict) - scopes:
        del DefaultScope._instance_dict[name]
    path = work_dir / 'iter_2.pth'
    assert path.is_file()
    return path


def test_mmengine_checkpoint_loads_weights_only(toy_checkpoint: Path) -> None:
    """(d) The message hub's HistoryBuffer and numpy values are allowed."""
    from mmengine.logging import HistoryBuffer
    ckpt = torch.load(toy_checkpoint, map_location='cpu', weights_only=True)
    assert ckpt['meta']['iter'] == 2
    buffers = ckpt['message_hub']['log_scalars']
    loss = buffers['train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert isinstance(loss._log_history, np.ndarray)
    assert len(loss.data[0]) == 2  # two train iterations logged
    assert np.isfinite(loss.statistics('mean'))
    # The default (no weights_only argument) is weights_only=True on torch
    # >= 2.6 and works too.
    torch.load(toy_checkpoint, map_location='cpu')


def test_runner_resume_and_load_from(toy_checkpoint: Path) -> None:
    """(d) ``resume=True`` continues from iter 2; ``load_from`` loads."""
    from mmengine.runner import load_checkpoint
    work_dir = toy_checkpoint.parent
    saved = torch.load(toy_checkpoint, weights_only=True)['state_dict']

    runner = _build_runner(work_dir, max_iters=3, resume=True)
    runner.train()
    hook = [h for h in runner.hooks if type(h).__name__ == 'StartIterHook']
    assert hook[0].start_iters == [2]
    assert runner.iter == 3

    model = _toy_model()
    load_checkpoint(model, str(toy_checkpoint), map_location='cpu')
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key

    runner = _build_runner(
        work_dir / 'load_from', max_iters=2, load_from=str(toy_checkpoint))
    runner.load_or_resume()
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, saved[key]), key


_CALLS: List[str] = []


def _record_call(tag: str) -> str:
    """Stands for arbitrary code a malicious checkpoint would run."""
    _CALLS.append(tag)
    return tag


class _Malicious:
    """Unpickling this runs :func:`_record_call`."""

    def __reduce__(self) -> Any:
        return (_record_call, ('pwned', ))


class _SneakyGetattr:
    """Abuses the ``getattr`` name that the allow-list resolves."""

    def __reduce__(self) -> Any:
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


class _SneakyGetattrNdarray:
    """``getattr`` on another allow-listed class is refused too."""

    def __reduce__(self) -> Any:
        return (getattr, (np.ndarray, 'tofile'))


@pytest.mark.parametrize(
    'payload', [
        _Malicious(),
        dict(state_dict={}, meta=dict(evil=_Malicious())),
        _SneakyGetattr(),
        _SneakyGetattrNdarray(),
        dict(fn=os.system),
    ],
    ids=[
        'reduce', 'nested', 'getattr-history-buffer', 'getattr-ndarray',
        'os.system'
    ])
def test_arbitrary_objects_still_refused(tmp_path: Path, payload: Any) -> None:
    """(e) The allow-list does not switch the protection off."""
    path = tmp_path / 'evil.pth'
    torch.save(payload, path)
    _CALLS.clear()
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)  # the default is weights_only=True too
    assert _CALLS == []
    # ... while a full (trusted) load would indeed run the payload.
    if isinstance(payload, _Malicious):
        torch.load(path, weights_only=False)
        assert _CALLS == ['pwned']


def test_cpu_distributed_patch_follows_the_installed_mmengine() -> None:
    """The launcher / DDP patches are applied because mmengine 0.10.7 has
    the calls; a function without them would not be patched."""
    launcher, wrapper = compat.mmengine_needs_cpu_distributed_patch()
    assert (launcher, wrapper) == (True, True)
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import distributed as wrappers
    assert getattr(dist_utils._init_dist_pytorch, '_cmim_dense', False)
    assert getattr(wrappers.MMDistributedDataParallel.__init__, '_cmim_dense',
                   False)

    def fixed_upstream(local_rank: int) -> None:
        if local_rank >= 0:
            return None

    def still_broken(local_rank: int) -> None:
        import torch
        torch.cuda.set_device(local_rank)

    assert not compat._source_calls(fixed_upstream, 'torch.cuda.set_device')
    assert compat._source_calls(still_broken, 'torch.cuda.set_device')


# --------------------------------------------------------------------------
# Detection: every patch is applied only where the installed stack needs it.
# --------------------------------------------------------------------------


def test_every_patch_was_applied_on_the_pinned_stack() -> None:
    """The pinned stack has all four problems; once applied, no detection
    asks again, so applying again is a no-op."""
    assert compat.applied_patches() == [p.name for p in compat.PATCHES]
    assert [p.needed() for p in compat.PATCHES] == [False] * 4
    assert compat.apply_all() == []


def test_apply_all_applies_only_what_is_needed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: List[str] = []
    patches = (compat.Patch('needed', lambda: True,
                            lambda: calls.append('needed')),
               compat.Patch('not_needed', lambda: False,
                            lambda: calls.append('not_needed')))
    monkeypatch.setattr(compat, 'PATCHES', patches)
    monkeypatch.setattr(compat, '_APPLIED', [])
    assert compat.apply_all() == ['needed']
    assert calls == ['needed']
    assert compat.applied_patches() == ['needed']


def test_mmcv_ext_stub_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, 'mmcv._ext', raising=False)
    specs: Dict[str, Any] = {'mmcv': object(), 'mmcv._ext': None}
    monkeypatch.setattr(importlib.util, 'find_spec', specs.get)
    assert compat.mmcv_ext_stub_needed()  # mmcv-lite
    specs['mmcv._ext'] = object()
    assert not compat.mmcv_ext_stub_needed()  # full mmcv, ops built
    specs.update({'mmcv': None, 'mmcv._ext': None})
    assert not compat.mmcv_ext_stub_needed()  # no mmcv at all
    monkeypatch.setitem(sys.modules, 'mmcv._ext', types.ModuleType('x'))
    assert not compat.mmcv_ext_stub_needed()  # already loaded


def test_checkpoint_globals_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    from mmengine.logging.history_buffer import HistoryBuffer
    serialization = types.SimpleNamespace(
        add_safe_globals=lambda g: None, get_safe_globals=lambda: [])
    monkeypatch.setattr(torch, 'serialization', serialization)
    assert compat.checkpoint_globals_needed()  # torch >= 2.4, not listed
    serialization.get_safe_globals = lambda: [HistoryBuffer]
    assert not compat.checkpoint_globals_needed()  # mmengine lists it
    monkeypatch.setattr(torch, 'serialization', types.SimpleNamespace())
    assert not compat.checkpoint_globals_needed()  # torch < 2.4


def test_refused_checkpoint_naming_detection(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch, 'load', lambda f, **kw: None)
    assert compat.refused_checkpoint_naming_needed()  # plain torch.load
    monkeypatch.setattr(torch, 'serialization', types.SimpleNamespace())
    assert not compat.refused_checkpoint_naming_needed()  # no weights_only


def test_cpu_distributed_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    from mmengine.dist import utils as dist_utils
    assert not compat.cpu_distributed_needed()  # applied at import

    def unpatched_launcher(backend: str = 'nccl', **kwargs: Any) -> None:
        torch.cuda.set_device(0)

    monkeypatch.setattr(dist_utils, '_init_dist_pytorch', unpatched_launcher)
    assert compat.cpu_distributed_needed()  # the launcher is unpatched
    monkeypatch.setattr(compat, 'mmengine_needs_cpu_distributed_patch', lambda:
                        (False, False))
    assert not compat.cpu_distributed_needed()  # a fixed mmengine


def test_hardtanh_is_not_in_mmengine_root_registry() -> None:
    """Our activation lives in our scope; mmengine's root is untouched."""
    from mmengine.registry import MODELS as ROOT_MODELS
    from mmseg.registry import MODELS as MMSEG_MODELS

    from cmim_dense.models.backbones import build_activation
    assert 'Hardtanh' not in ROOT_MODELS.module_dict
    assert MMSEG_MODELS.get('Hardtanh') is nn.Hardtanh
    assert type(build_activation(dict(type='Hardtanh'), 4)) is nn.Hardtanh
