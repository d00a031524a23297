"""``tools/model_converters/bnn2cmim.py``: an authors' checkpoint -> ours."""
import argparse
import importlib.util
from pathlib import Path

import pytest
import torch

from cmim_dense.models.backbones import IRNetResNet

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bnn2cmim = _load('bnn2cmim',
                 ROOT / 'tools' / 'model_converters' / 'bnn2cmim.py')
original_bnns = _load(
    'original_bnns',
    ROOT / 'tests' / 'test_models' / 'test_backbones' / 'original_bnns.py')


@pytest.fixture(scope='module')
def irnet_state():
    return original_bnns.random_original_state('irnet-r18')


def _save_original(state, path, **extra):
    """As the authors' scripts save: DataParallel keys under 'state_dict'."""
    torch.save(
        dict(
            epoch=3,
            state_dict={
                f'module.{k}': v
                for k, v in state.items()
            },
            **extra), path)


def test_convert_and_load_with_init_cfg(tmp_path, irnet_state, capsys):
    src, dst = tmp_path / 'model_best.pth.tar', tmp_path / 'irnet18.pth'
    _save_original(irnet_state, src, best_prec1=58.1)
    assert bnn2cmim.main([str(src), str(dst), '--arch', 'irnet-r18']) == 0
    out = capsys.readouterr().out
    # 120 tensors of the backbone; BatchNorm1d bn2, fc, bn3 of the head
    assert '120 keys matched; 0 missing' in out
    assert '12 unexpected' in out and 'fc.weight' in out
    assert '12 of the unexpected keys are the classifier head' in out
    saved = torch.load(dst, weights_only=True)
    assert saved['meta']['arch'] == 'irnet-r18'
    assert not list(tmp_path.glob('.*.tmp'))  # atomic write, no leftovers
    model = IRNetResNet(
        18, init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    model.init_weights()
    report = model.pretrained_report
    assert report.missing == [] and report.unexpected == []
    torch.testing.assert_close(model.layer2[0].downsample.conv.weight,
                               irnet_state['layer2.0.downsample.0.weight'])
    torch.testing.assert_close(model.layer4[1].bn2.running_var,
                               irnet_state['layer4.1.bn2.running_var'])


def test_shape_mismatch_is_refused(tmp_path, irnet_state, capsys):
    src, dst = tmp_path / 'src.pth', tmp_path / 'dst.pth'
    state = dict(irnet_state)
    state['layer3.1.bn1.weight'] = torch.ones(128)
    _save_original(state, src)
    assert bnn2cmim.main([str(src), str(dst), '--arch', 'irnet-r18']) == 1
    err = capsys.readouterr().err
    assert "original 'layer3.1.bn1.weight'" in err
    assert '(128,) vs model (256,)' in err
    assert not dst.exists()


def test_missing_keys_need_allow_missing(tmp_path, irnet_state, capsys):
    src, dst = tmp_path / 'src.pth', tmp_path / 'dst.pth'
    state = {k: v for k, v in irnet_state.items() if not k.startswith('bn1.')}
    _save_original(state, src)
    args = [str(src), str(dst), '--arch', 'irnet-r18']
    assert bnn2cmim.main(args) == 1
    captured = capsys.readouterr()
    assert '4 missing in the checkpoint: [bn1.weight' in captured.out
    assert '--allow-missing' in captured.err and not dst.exists()
    assert bnn2cmim.main(args + ['--allow-missing']) == 0
    assert dst.exists()


def test_unsafe_checkpoint_is_refused(tmp_path, capsys):
    """The safe loader refuses pickled objects; the message names the
    file."""
    src, dst = tmp_path / 'unsafe.pth.tar', tmp_path / 'dst.pth'
    torch.save(dict(state_dict={}, args=argparse.Namespace(lr=0.1)), src)
    assert bnn2cmim.main([str(src), str(dst), '--arch', 'bireal-r18']) == 1
    err = capsys.readouterr().err
    assert str(src) in err and 'refused to load' in err
    assert not dst.exists()


def test_unknown_arch_is_an_argument_error(tmp_path):
    with pytest.raises(SystemExit):
        bnn2cmim.main(['a.pth', 'b.pth', '--arch', 'xnor-r18'])
