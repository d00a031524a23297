"""CMIM's FP-teacher form: a frozen teacher, its pairs, its checkpoints, and
the distillation terms piled on it."""
import copy
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import get_state_dict, load_state_dict
from mmseg.registry import MODELS

from cmim_dense.models import CMIM
from cmim_dense.models.algorithms import extract_architecture_state

from test_cmim import ARCH, batch  # noqa: E402  (the tiny segmentor)

REPO = Path(__file__).resolve().parents[3]
STAGES = [f'backbone.layer{i}' for i in (1, 2, 3, 4)]


@pytest.fixture(autouse=True)
def _mmseg_scope():
    init_default_scope('mmseg')


def fp_arch() -> dict:
    """The tiny architecture with FP convs: the teacher."""
    arch = copy.deepcopy(ARCH)
    arch['backbone'] = dict(arch['backbone'], binarizer=None)
    return arch


@pytest.fixture
def teacher_ckpt(tmp_path) -> Path:
    """A 'trained' teacher: random weights and BN statistics moved away from
    their initial values (so that a BN left in train mode shows)."""
    torch.manual_seed(1)
    teacher = MODELS.build(fp_arch())
    teacher.train()
    with torch.no_grad():
        for _ in range(3):
            teacher(torch.randn(4, 3, 32, 32) * 3 + 1, mode='tensor')
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def build(ckpt, **kwargs) -> CMIM:
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='CMIM',
            architecture=copy.deepcopy(ARCH),
            teacher=dict(config=fp_arch(), checkpoint=str(ckpt)),
            embed_dim=8,
            **kwargs))


def test_teacher_stays_frozen_through_training_steps(teacher_ckpt):
    model = build(
        teacher_ckpt,
        distill=dict(
            student='decode_head.conv_seg',
            loss=dict(type='PixelKLDistillLoss')))
    saved = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    model.train()
    teacher = model.teacher.model
    assert not any(m.training for m in teacher.modules())
    assert not any(p.requires_grad for p in teacher.parameters())
    student_before = copy.deepcopy(model.architecture.state_dict())
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=0.1))
    for _ in range(2):
        model.train_step(batch(), optim)
    assert all(p.grad is None for p in teacher.parameters())
    state = teacher.state_dict()
    # weights and BN running statistics untouched
    for key, value in saved.items():
        assert torch.equal(state[key], value), key
    assert not torch.equal(
        model.architecture.state_dict()['decode_head.conv_seg.weight'],
        student_before['decode_head.conv_seg.weight'])
    model.teacher.train()  # even asked directly
    assert not model.teacher.training


def test_pairs_are_student_and_teacher_stage_outputs(teacher_ckpt):
    """Reference computed apart: both backbones run by hand on the batch,
    pooled, embedded by the heads, InfoNCE written out."""
    model = build(teacher_ckpt, layers=STAGES[2:])
    assert model.layers == STAGES[2:]
    model.train()
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    with torch.no_grad():
        torch.manual_seed(0)
        student = model.architecture.backbone(data['inputs'])
        teacher = model.teacher.model.backbone(data['inputs'])
    for stage, name in zip((2, 3), STAGES[2:]):
        head = model.embeddings[name.replace('.', '__')]
        z_b = F.normalize(head.binary(student[stage].mean((2, 3))), dim=1)
        z_f = F.normalize(head.latent(teacher[stage].mean((2, 3))), dim=1)
        s = z_b @ z_f.t() / 0.1
        n = s.shape[0]
        expected = 0.0
        for i in range(n):
            expected -= 0.5 * (s[i, i] - torch.logsumexp(s[i], 0))
            expected -= 0.5 * (s[i, i] - torch.logsumexp(s[:, i], 0))
        expected = float(expected.detach()) / n
        assert float(losses[f'cmim_nce.{name}']) == pytest.approx(
            expected, rel=1e-4)
        assert float(losses[f'cmim_mi_lb.{name}']) == pytest.approx(
            math.log(n) - expected, rel=1e-4, abs=1e-5)


def test_gradient_reaches_student_not_teacher(teacher_ckpt):
    model = build(teacher_ckpt, layers=['backbone.layer2'])
    model.train()
    losses = model(**model.data_preprocessor(batch(), True), mode='loss')
    losses['loss_cmim'].backward()
    backbone = model.architecture.backbone
    assert backbone.layer1[0].conv1.weight.grad.abs().sum() > 0
    assert backbone.layer4[1].conv2.weight.grad is None
    head = model.embeddings['backbone__layer2']
    assert head.latent.weight.grad.abs().sum() > 0  # trainable FP-side head
    assert all(p.grad is None for p in model.teacher.parameters())


def test_checkpoint_leaves_the_teacher_out_and_resumes(teacher_ckpt):
    model = build(teacher_ckpt, memory_bank=dict(size=4, num_negatives=3))
    model.train()
    model(**model.data_preprocessor(batch(), True), mode='loss')
    for state in (model.state_dict(), get_state_dict(model)):
        assert state and not any('teacher' in k for k in state)
        assert any(k.startswith('critics.') for k in state)
    # resume: a fresh model (teacher from its file) loads strictly, with
    # torch and with mmengine, also a state dict that holds teacher keys
    fresh = build(teacher_ckpt, memory_bank=dict(size=4, num_negatives=3))
    fresh.load_state_dict(model.state_dict(), strict=True)
    load_state_dict(fresh, get_state_dict(model), strict=True)
    with_teacher = dict(model.state_dict())
    with_teacher['teacher.model.decode_head.conv_seg.bias'] = torch.ones(3)
    fresh.load_state_dict(with_teacher, strict=True)
    assert torch.equal(fresh.teacher.model.decode_head.conv_seg.bias,
                       model.teacher.model.decode_head.conv_seg.bias)
    key = 'critics.backbone__layer4.memory.bank_binary'
    assert torch.equal(fresh.state_dict()[key], model.state_dict()[key])
    # the plain checkpoint of the student is as in the latent form
    plain = extract_architecture_state(model.state_dict())
    MODELS.build(copy.deepcopy(ARCH)).load_state_dict(plain, strict=True)


def test_teacher_from_a_cmim_checkpoint(tmp_path, teacher_ckpt):
    """A CMIM-trained FP model serves as teacher (its architecture.*)."""
    saved = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    wrapped = {f'architecture.{k}': v for k, v in saved.items()}
    wrapped['embeddings.x.binary.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=wrapped), tmp_path / 'cmim.pth')
    model = build(tmp_path / 'cmim.pth')
    loaded = model.teacher.model.state_dict()['backbone.conv1.weight']
    assert torch.equal(loaded, saved['backbone.conv1.weight'])


def test_bad_teacher_inputs(tmp_path, teacher_ckpt):
    # a teacher config names the missing checkpoint
    name = 'deeplabv3_irnet-r18-d8_cmim-teacher_adam-40k_nyudv2-480x640-seg'
    cfg = Config.fromfile(str(REPO / 'configs' / 'nyudv2' / f'{name}.py'))
    with pytest.raises(
            FileNotFoundError,
            match='deeplabv3_fp-r18-d8_adam-40k_nyudv2-480x640-seg'
            '/iter_40000.pth'):
        MODELS.build(cfg.model)
    with pytest.raises(FileNotFoundError, match='nothere.py'):
        CMIM(
            architecture=copy.deepcopy(ARCH),
            teacher=dict(
                config=str(tmp_path / 'nothere.py'),
                checkpoint=str(teacher_ckpt)))
    # a checkpoint of another model
    other = fp_arch()
    other['decode_head'] = dict(other['decode_head'], num_convs=2)
    torch.save(MODELS.build(other).state_dict(), tmp_path / 'other.pth')
    with pytest.raises(ValueError, match='other.pth.*does not match'):
        build(tmp_path / 'other.pth')
    wrong_classes = fp_arch()
    wrong_classes['decode_head'] = dict(
        wrong_classes['decode_head'], num_classes=5)
    torch.save(MODELS.build(wrong_classes).state_dict(), tmp_path / 'w.pth')
    with pytest.raises(ValueError, match='w.pth.*does not match'):
        build(tmp_path / 'w.pth')
    # a teacher normalising differently
    shifted = fp_arch()
    shifted['data_preprocessor'] = dict(
        shifted['data_preprocessor'], mean=[1., 2., 3.])
    with pytest.raises(ValueError, match='normalises its inputs differently'):
        MODELS.build(
            dict(
                type='CMIM',
                architecture=copy.deepcopy(ARCH),
                teacher=dict(config=shifted, checkpoint=str(teacher_ckpt))))
    with pytest.raises(ValueError, match='pairs layers one to one'):
        CMIM(
            architecture=copy.deepcopy(ARCH),
            layers=STAGES,
            teacher=dict(
                config=fp_arch(),
                checkpoint=str(teacher_ckpt),
                layers=STAGES[:2]))
    with pytest.raises(ValueError, match='distill needs a teacher'):
        MODELS.build(
            dict(
                type='CMIM',
                architecture=copy.deepcopy(ARCH),
                distill=dict(
                    student='decode_head.conv_seg',
                    loss=dict(type='PixelKLDistillLoss'))))
    with pytest.raises(ValueError, match='matches no module'):
        build(teacher_ckpt, layers=['backbone.nothing'])


def test_distill_terms_on_head_outputs(teacher_ckpt):
    """The KD term equals the loss of the two models' logits computed apart,
    and its gradient reaches the student's classifier only."""
    model = build(
        teacher_ckpt,
        loss_weight=0.0,
        distill=[
            dict(
                student='decode_head.conv_seg',
                loss=dict(type='PixelKLDistillLoss', temperature=2.0))
        ])
    model.train()
    model.architecture.decode_head.dropout = None  # a deterministic student
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    with torch.no_grad():
        s = model.architecture.decode_head(
            model.architecture.extract_feat(data['inputs']))
        t = model.teacher.model.decode_head(
            model.teacher.model.extract_feat(data['inputs']))
    p_t = F.softmax(t / 2, 1)
    expected = 4 * (p_t * (p_t.log() - F.log_softmax(s / 2, 1))).sum(1).mean()
    assert float(losses['loss_distill_seg']) == pytest.approx(
        float(expected), rel=1e-4)
    losses['loss_distill_seg'].backward()
    assert model.architecture.decode_head.conv_seg.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
