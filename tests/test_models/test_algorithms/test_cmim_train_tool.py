"""The FP-teacher and pixel forms train through tools/train.py on the
quickstart data (shrunk), and a teacher-form run resumes."""
import importlib.util
import json
import math
import uuid
from pathlib import Path
from typing import Optional

import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from cmim_dense.models.algorithms.fp_teacher import teacher_model_config

REPO = Path(__file__).resolve().parents[3]
QUICKSTART = REPO / 'configs' / 'quickstart.py'


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tools():
    quickstart = _load(REPO / 'tests' / 'test_tools' / 'test_quickstart.py',
                       'quickstart_options')
    return quickstart.tiny_options, _load(REPO / 'tools' / 'train.py',
                                          'train_tool')


def train(tools,
          config: Path,
          tmp_path: Path,
          iters: int,
          options: Optional[dict] = None,
          *flags: str) -> Path:
    """tools/train.py on ``config`` shrunk to the tiny quickstart."""
    tiny_options, train_tool = tools
    all_options = tiny_options(tmp_path / 'data', tmp_path / 'work', iters)
    name = f'cmim_tool_{uuid.uuid4().hex}'
    all_options.update({'experiment_name': name, 'visualizer.name': name})
    all_options.update(options or {})
    train_tool.main([
        str(config), *flags, '--cfg-options',
        *[f'{k}={v}' for k, v in all_options.items()]
    ])
    return tmp_path / 'work'


def scalars(work: Path) -> str:
    return '\n'.join(p.read_text()
                     for p in sorted(work.glob('*/vis_data/scalars.json')))


def test_teacher_form_with_distillation_trains_and_resumes(tools, tmp_path):
    init_default_scope('mmseg')
    teacher_cfg = tmp_path / 'fp_teacher.py'
    teacher_cfg.write_text(
        f'_base_ = [{str(QUICKSTART)!r}]\n'
        'model = dict(architecture=dict(backbone=dict(binarizer=None)))\n')
    ckpt = tmp_path / 'fp_teacher.pth'
    torch.save(
        MODELS.build(teacher_model_config(str(teacher_cfg))).state_dict(),
        ckpt)
    student_cfg = tmp_path / 'student.py'
    student_cfg.write_text(
        f'_base_ = [{str(QUICKSTART)!r}]\n'
        'model = dict(layers="stages", teacher=dict(\n'
        f'    config={str(teacher_cfg)!r}, checkpoint={str(ckpt)!r}),\n'
        '    distill=[dict(student="heads.seg.conv_seg",\n'
        '                  loss=dict(type="PixelKLDistillLoss")),\n'
        '             dict(student="heads.depth.conv_depth",\n'
        '                  loss=dict(type="DepthDistillLoss"))])\n')
    work = train(tools, student_cfg, tmp_path, 1)
    state = torch.load(work / 'iter_1.pth', weights_only=True)['state_dict']
    assert not any('teacher' in k for k in state)
    work = train(tools, student_cfg, tmp_path, 2, None, '--resume')
    logs = scalars(work)
    for key in ('loss_cmim', 'loss_distill_seg', 'loss_distill_depth',
                'cmim_mi_lb.backbone.layer4'):
        assert key in logs, key
    second_log = sorted(work.glob('*/*.log'))[-1].read_text()
    assert 'resumed epoch: 0, iter: 1' in second_log
    # the student's checkpoint lacks the teacher, and nothing is reported
    assert 'missing keys' not in second_log
    assert (work / 'iter_2.pth').is_file()


def test_pixel_form_trains(tools, tmp_path):
    work = train(tools, QUICKSTART, tmp_path, 1, {
        'model.granularity': 'pixel',
        'model.num_locations': 16
    })
    assert 'cmim_nce.backbone.layer4' in scalars(work)
    # the bound's ceiling is log(B * P) = log(2 * 16) (image form: log 2)
    record = json.loads(scalars(work).splitlines()[0])
    key = next(k for k in record if k.startswith('cmim_mi_lb.'))
    nce = record[key.replace('cmim_mi_lb', 'cmim_nce')]
    assert record[key] == pytest.approx(math.log(32) - nce, abs=1e-3)
