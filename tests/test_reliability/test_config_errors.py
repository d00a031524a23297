"""Config errors fail when the runner is built, naming the config file.

``tools/train.py`` and ``tools/test.py`` run (in subprocesses) on configs
derived from ``tests/data/configs/tiny_seg.py`` with an unknown ``type`` or
an unexpected keyword argument; stderr must carry the registry's message
(the type or argument name) and the path of the config file.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / 'tests' / 'data' / 'configs' / 'tiny_seg.py'

ERRORS = {
    'unknown_type': ("model = dict(backbone=dict(type='NoSuchBackbone'))",
                     ['NoSuchBackbone', 'not in the mmseg::model registry']),
    'wrong_argument': ('model = dict(backbone=dict(bogus_width=3))',
                       ['unexpected keyword argument', 'bogus_width']),
}


def _run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO), env.get('PYTHONPATH', '')) if p)
    env.pop('LOCAL_RANK', None)
    return subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=120)


def _bad_config(tmp_path: Path, error: str) -> Path:
    config = tmp_path / f'bad_{error}.py'
    config.write_text(f'_base_ = [{str(BASE)!r}]\n{ERRORS[error][0]}\n')
    return config


def _tool_args(tmp_path: Path, tool: str, config: Path) -> list:
    args = [str(config)]
    if tool == 'test':
        checkpoint = tmp_path / 'weights.pth'
        torch.save(dict(meta={}, state_dict={}), checkpoint)
        args.append(str(checkpoint))
    return args + ['--work-dir', str(tmp_path / 'work')]


# One subprocess per tool (~8 s each) shows what reaches stderr; the
# in-process test below covers the other tool/error pairs.
@pytest.mark.parametrize('tool, error', [('train', 'unknown_type'),
                                         ('test', 'wrong_argument')])
def test_bad_config_stderr_names_error_and_path(tmp_path: Path, tool: str,
                                                error: str) -> None:
    config = _bad_config(tmp_path, error)
    proc = _run([
        str(REPO / 'tools' / f'{tool}.py'),
        *_tool_args(tmp_path, tool, config)
    ], tmp_path)
    assert proc.returncode != 0
    stderr = proc.stderr
    expected = ERRORS[error][1]
    for text in expected:
        assert text in stderr, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]  # the error line the user reads
    assert str(config) in last, stderr[-3000:]
    assert expected[-1] in last, stderr[-3000:]
    # the original exception is chained, its traceback printed too
    assert 'direct cause of the following exception' in stderr
    assert 'Iter(' not in proc.stdout + stderr  # nothing ran


@pytest.mark.parametrize('tool', ['train', 'test'])
@pytest.mark.parametrize('error', sorted(ERRORS))
def test_bad_config_error_in_process(tmp_path: Path, tool: str,
                                     error: str) -> None:
    """Same type as mmengine's error, message + config path, cause kept."""
    spec = importlib.util.spec_from_file_location(
        f'bad_cfg_{tool}', REPO / 'tools' / f'{tool}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = _bad_config(tmp_path, error)
    argv = _tool_args(tmp_path, tool, config) + [
        '--cfg-options', f'experiment_name=bad_cfg_{tool}_{error}'
    ]
    expected_type = KeyError if error == 'unknown_type' else TypeError
    with pytest.raises(expected_type) as info:
        module.main(argv)
    message = str(info.value)
    assert str(config) in message
    for text in ERRORS[error][1]:
        assert text in message
    cause = info.value.__cause__
    assert type(cause) is expected_type
    assert str(config) not in str(cause)


def test_dict_config_without_file_unchanged(tmp_path: Path) -> None:
    """A config built in memory (no file) re-raises the original error."""
    from mmengine.config import Config

    from cmim_dense.utils.cli import build_runner
    cfg = Config.fromfile(str(BASE))
    cfg = Config(cfg.to_dict())  # no filename
    cfg.model.backbone.type = 'NoSuchBackbone'
    cfg.work_dir = str(tmp_path)
    with pytest.raises(KeyError) as info:
        build_runner(cfg)
    assert info.value.__cause__ is None
    assert 'while building the runner' not in str(info.value)
