"""A checkpoint carrying an arbitrary pickled object is refused everywhere.

The payload's ``__reduce__`` calls ``open(MARKER, 'w')``: had the file been
unpickled without ``weights_only=True``, the marker file would exist. Each
path that loads checkpoints (train ``--resume`` / ``load_from``, test,
mmseg's ``init_model``, the packing and converting tools, a backbone's
``init_cfg=dict(type='Pretrained')``) must raise an error that names the
file and says it holds disallowed objects, and the marker must not appear.
"""
import importlib.util
import pickle
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, List

import pytest
import torch

import cmim_dense  # noqa: F401  (the checkpoint shims)
from cmim_dense.utils.compat import DisallowedCheckpointError

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'tests' / 'data' / 'configs' / 'tiny_seg.py'


class WriteMarker:
    """Unpickling this creates the file ``path``: ``open(path, 'w')``."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> Any:
        return (open, (self.path, 'w'))


def _load_tool(relpath: str) -> ModuleType:
    """Import ``tools/<relpath>`` as a module (``tools`` is no package)."""
    name = 'hostile_' + relpath.replace('/', '_')[:-3]
    spec = importlib.util.spec_from_file_location(name,
                                                  REPO / 'tools' / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def hostile(tmp_path_factory: pytest.TempPathFactory,
            tiny_seg_dataset: ModuleType) -> Dict[str, Path]:
    """An mmengine-looking checkpoint with a payload in its meta."""
    tmp = tmp_path_factory.mktemp('hostile')
    marker = tmp / 'MARKER'
    ckpt = tmp / 'evil.pth'
    state = {'backbone.conv1.weight': torch.zeros(8, 3, 3, 3)}
    torch.save(
        dict(
            meta=dict(iter=2, evil=WriteMarker(marker)),
            state_dict=state,
            optimizer={}), ckpt)
    data_root = tiny_seg_dataset.make(tmp / 'data', {'train': 2, 'val': 1})
    return dict(tmp=tmp, marker=marker, ckpt=ckpt, data_root=data_root)


def _refused(hostile: Dict[str, Path], call: Callable[[], Any]) -> str:
    """Run ``call``; it must refuse the checkpoint without running it."""
    with pytest.raises(pickle.UnpicklingError) as info:
        call()
    assert not hostile['marker'].exists(), 'the payload ran'
    message = str(info.value)
    assert isinstance(info.value, DisallowedCheckpointError), message
    assert str(hostile['ckpt']) in message
    assert 'disallowed objects' in message
    assert 'open' in message  # torch's reason names the global
    return message


def test_payload_is_live_without_weights_only(
        hostile: Dict[str, Path]) -> None:
    """Sanity: a full (unsafe) load really runs the payload."""
    torch.load(hostile['ckpt'], weights_only=False)
    assert hostile['marker'].exists()
    hostile['marker'].unlink()


def _runner_options(hostile: Dict[str, Path], name: str) -> List[str]:
    return [
        f'{loader}.dataset.data_root={hostile["data_root"]}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ] + [f'experiment_name=hostile_{name}']


@pytest.mark.parametrize('resume', [True, False], ids=['resume', 'load_from'])
def test_train_tool_refuses(hostile: Dict[str, Path], resume: bool) -> None:
    """``tools/train.py [--resume] --cfg-options load_from=EVIL``."""
    train = _load_tool('train.py')
    argv = [str(CONFIG), '--work-dir', str(hostile['tmp'] / f'train_{resume}')]
    argv += ['--resume'] if resume else []
    argv += [
        '--cfg-options', f'load_from={hostile["ckpt"]}',
        *_runner_options(hostile, f'train_{resume}')
    ]
    _refused(hostile, lambda: train.main(argv))


def test_test_tool_refuses(hostile: Dict[str, Path]) -> None:
    """``tools/test.py CONFIG EVIL``."""
    test = _load_tool('test.py')
    argv = [
        str(CONFIG),
        str(hostile['ckpt']), '--work-dir',
        str(hostile['tmp'] / 'test'), '--cfg-options',
        *_runner_options(hostile, 'test')
    ]
    _refused(hostile, lambda: test.main(argv))


def test_init_model_refuses(hostile: Dict[str, Path]) -> None:
    """mmseg's ``init_model(config, EVIL)``."""
    from mmseg.apis import init_model
    _refused(
        hostile,
        lambda: init_model(str(CONFIG), str(hostile['ckpt']), device='cpu'))


@pytest.mark.parametrize(
    'tool', ['deploy/pack_binary.py', 'model_converters/cmim_to_plain.py'])
def test_export_tools_refuse(hostile: Dict[str, Path], tool: str) -> None:
    """The packed export and the CMIM-to-plain converter."""
    module = _load_tool(tool)
    out = hostile['tmp'] / f'out_{Path(tool).stem}.pth'
    argv = [str(hostile['ckpt']), str(out)]
    if tool.startswith('deploy'):
        argv += ['--config', str(CONFIG)]
    _refused(hostile, lambda: module.main(argv))
    assert not out.exists()


def test_backbone_pretrained_init_refuses(hostile: Dict[str, Path]) -> None:
    """``init_cfg=dict(type='Pretrained', checkpoint=EVIL)``."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    backbone = MODELS.build(
        dict(
            type='IRNetResNet',
            depth=18,
            stem_channels=8,
            base_channels=8,
            init_cfg=dict(
                type='Pretrained',
                checkpoint=str(hostile['ckpt']),
                prefix='backbone.')))
    _refused(hostile, backbone.init_weights)


def test_plain_file_object_is_named(hostile: Dict[str, Path]) -> None:
    """A refused load from an open file names that file too."""
    with open(hostile['ckpt'], 'rb') as file:
        _refused(hostile, lambda: torch.load(file))


def test_corrupt_pickle_error_unchanged(tmp_path: Path) -> None:
    """Only weights-only refusals are rewrapped, other errors propagate."""
    path = tmp_path / 'trusted.pth'
    torch.save({'a': torch.ones(1)}, path)
    loaded = torch.load(path)
    assert torch.equal(loaded['a'], torch.ones(1))
    bad = tmp_path / 'garbage.pth'
    bad.write_bytes(b'not a checkpoint at all')
    with pytest.raises(Exception) as info:
        torch.load(bad)
    assert not isinstance(info.value, DisallowedCheckpointError)
