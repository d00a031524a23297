"""BackboneInitHook: every run says where its backbone's weights came from,
loudly when from scratch."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import logging
from types import SimpleNamespace

from mmengine.logging import MessageHub
from torch import nn

from cmim_dense.engine.hooks import BackboneInitHook
from cmim_dense.engine.hooks.backbone_init_hook import backbone_init_sources
from cmim_dense.engine.hooks import backbone_init_hook as hook_module


class _Net(nn.Module):

    def __init__(self, init_cfg):
        super().__init__()
        self.init_cfg = init_cfg


def _model(backbone_init, teacher_init=None):
    model = nn.Module()
    model.architecture = nn.Module()
    model.architecture.backbone = _Net(backbone_init)
    model.teacher = nn.Module()
    model.teacher.backbone = _Net(teacher_init)
    return model


def _run(model, load_from=None, monkeypatch=None):
    logs = []
    monkeypatch.setattr(
        hook_module,
        'print_log',
        lambda msg, logger=None, level=logging.INFO: logs.append(
            (level, str(msg))))
    hub = MessageHub.get_instance('test_backbone_init_hook')
    runner = SimpleNamespace(
        model=model, message_hub=hub, _load_from=load_from)
    BackboneInitHook().before_train(runner)
    return logs, hub.get_info('backbone_init')


def test_sources_skip_the_teacher():
    model = _model(
        dict(type='PretrainedBackbone', checkpoint='c.pth'),
        dict(type='Pretrained', checkpoint='t.pth'))
    assert backbone_init_sources(model) == {
        'architecture.backbone': 'checkpoint:c.pth'
    }


def test_checkpoint_is_logged_and_recorded(monkeypatch):
    logs, record = _run(
        _model([
            dict(type='Kaiming'),
            dict(type='PretrainedBackbone', checkpoint='c.pth')
        ]),
        monkeypatch=monkeypatch)
    assert record == {'architecture.backbone': 'checkpoint:c.pth'}
    assert logs == [(logging.INFO,
                     'backbone_init: architecture.backbone from c.pth')]


def test_scratch_is_loud(monkeypatch):
    logs, record = _run(_model(None), monkeypatch=monkeypatch)
    assert record == {'architecture.backbone': 'scratch'}
    ((level, message), ) = logs
    assert level == logging.WARNING
    assert 'BACKBONE TRAINED FROM SCRATCH: architecture.backbone' in message
    assert 'not comparable' in message


def test_scratch_with_load_from_says_where_weights_come_from(monkeypatch):
    logs, record = _run(
        _model(None), load_from='run/iter_4000.pth', monkeypatch=monkeypatch)
    assert record['load_from'] == 'run/iter_4000.pth'
    ((level, message), ) = logs
    assert level == logging.WARNING and 'load_from=run/iter_4000.pth' in \
        message and 'FROM SCRATCH' not in message
