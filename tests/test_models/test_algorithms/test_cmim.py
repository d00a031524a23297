"""CMIM wrapper: recording, losses, gradients, predictions, training path."""
import copy
import math
import uuid
from pathlib import Path

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from cmim_dense.models import CMIM
from cmim_dense.models.algorithms import extract_architecture_state

CONFIGS = Path(__file__).resolve().parents[2] / 'data' / 'configs'
NUM_CLASSES = 3

ARCH = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[1., 1., 1.],
        size_divisor=8),
    backbone=dict(
        type='IRNetResNet',
        depth=18,
        stem_channels=8,
        base_channels=8,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4)),
    decode_head=dict(
        type='FCNHead',
        in_channels=64,
        channels=8,
        num_convs=1,
        num_classes=NUM_CLASSES,
        norm_cfg=dict(type='BN'),
        loss_decode=dict(type='CrossEntropyLoss')),
    train_cfg=dict(),
    test_cfg=ConfigDict(mode='whole'))


@pytest.fixture(autouse=True)
def _mmseg_scope():
    init_default_scope('mmseg')


def batch(n=4, size=32, with_idx=True):
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(n):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, NUM_CLASSES, (1, size, size), generator=gen))
        meta = dict(
            img_shape=(size, size),
            ori_shape=(size, size),
            pad_shape=(size, size))
        if with_idx:
            meta['sample_idx'] = i
        sample.set_metainfo(meta)
        samples.append(sample)
    inputs = [torch.randn(3, size, size, generator=gen) for _ in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='CMIM', architecture=copy.deepcopy(ARCH), **kwargs))


def run_loss(model, data=None):
    data = model.data_preprocessor(data or batch(), True)
    return model(**data, mode='loss')


def test_default_layers_are_last_binary_conv_of_each_stage():
    model = build()
    assert model.layers == [f'backbone.layer{i}.1.conv2' for i in (1, 2, 3, 4)]


def test_losses_logged_and_summed():
    model = build(loss_weight=2.0)
    losses = run_loss(model)
    for name in model.layers:
        assert f'cmim_nce.{name}' in losses
        assert f'cmim_mi_lb.{name}' in losses
        # bound = log(B) - L with B = 4 images
        assert float(losses[f'cmim_mi_lb.{name}']) == pytest.approx(
            math.log(4) - float(losses[f'cmim_nce.{name}']), abs=1e-5)
    total = sum(float(losses[f'cmim_nce.{n}']) for n in model.layers)
    assert float(losses['loss_cmim'].detach()) == pytest.approx(
        2.0 * total, rel=1e-5)
    loss, log_vars = model.parse_losses(losses)
    # only keys containing 'loss' are summed: the per-layer logs are not
    expected = sum(v for k, v in losses.items() if 'loss' in k)
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


def test_gradient_reaches_latent_weights_and_heads():
    model = build(layers=['backbone.layer2.0.conv1'])
    losses = run_loss(model)
    losses['loss_cmim'].backward()
    backbone = model.architecture.backbone
    # a_F is the recorded layer's input: the binary convs before it (their
    # latent weights, through the surrogate gradients) and the stem learn
    for conv in (backbone.layer1[0].conv1, backbone.layer1[1].conv2,
                 backbone.conv1):
        assert conv.weight.grad is not None and conv.weight.grad.abs().sum(
        ) > 0
    assert backbone.layer2[0].conv1.weight.grad is None
    head = model.embeddings['backbone__layer2__0__conv1']
    for side in (head.binary, head.latent):
        assert side.weight.grad.abs().sum() > 0
    # layers after the recorded one receive nothing from the CMIM term
    assert model.architecture.backbone.layer4[1].conv2.weight.grad is None


def test_hooks_removed_after_step_and_after_error():
    model = build()
    quantizers = [
        model.architecture.get_submodule(n).input_quantizer
        for n in model.layers
    ]
    run_loss(model)
    assert all(len(q._forward_hooks) == 0 for q in quantizers)
    assert not model.recorder.active

    def broken(*args, **kwargs):
        raise RuntimeError('boom')

    model.architecture.decode_head.loss = broken
    with pytest.raises(RuntimeError, match='boom'):
        run_loss(model)
    assert all(len(q._forward_hooks) == 0 for q in quantizers)


def test_predictions_and_steps_equal_the_bare_model():
    model = build()
    bare = model.architecture
    model.eval()
    data = batch(2)
    with torch.no_grad():
        ours = model.test_step(copy.deepcopy(data))
        theirs = bare.test_step(copy.deepcopy(data))
        assert all(
            torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)
            for a, b in zip(ours, theirs))
        inputs = model.data_preprocessor(copy.deepcopy(data))['inputs']
        assert torch.equal(
            model(inputs, mode='tensor'), bare(inputs, mode='tensor'))


def test_architecture_state_extracts_plain_checkpoint():
    model = build()
    plain = extract_architecture_state(model.state_dict())
    assert set(plain) == set(model.architecture.state_dict())
    fresh = MODELS.build(copy.deepcopy(ARCH))
    fresh.load_state_dict(plain, strict=True)
    with pytest.raises(ValueError, match='not a CMIM checkpoint'):
        extract_architecture_state(fresh.state_dict())


def test_memory_bank_form_and_resume(tmp_path):
    model = build(memory_bank=dict(size=4, num_negatives=3))
    model.train()
    critic = model.critics['backbone__layer4__1__conv2']
    before = critic.memory.bank_binary.clone()
    losses = run_loss(model)
    assert float(losses['cmim_mi_lb.backbone.layer4.1.conv2']) == \
        pytest.approx(math.log(3) - float(
            losses['cmim_nce.backbone.layer4.1.conv2']), abs=1e-5)
    assert not torch.equal(critic.memory.bank_binary, before)
    torch.save(model.state_dict(), tmp_path / 'm.pth')
    fresh = build(memory_bank=dict(size=4, num_negatives=3))
    fresh.load_state_dict(torch.load(tmp_path / 'm.pth', weights_only=True))
    assert torch.equal(
        fresh.critics['backbone__layer4__1__conv2'].memory.bank_binary,
        critic.memory.bank_binary)


def test_warmup_ramps_the_weight():
    # a fresh message hub without runner info: the model counts its steps
    MessageHub.get_instance('cmim_warmup_test')
    model = build(loss_weight=4.0, warmup_iters=4)
    weights = []
    for _ in range(5):
        weights.append(model.current_weight())
        model.steps += 1
    assert weights == pytest.approx([1.0, 2.0, 3.0, 4.0, 4.0])
    # inside a runner the runner's iteration counts
    MessageHub.get_current_instance().update_info('iter', 1)
    assert model.current_weight() == pytest.approx(2.0)


def test_layer_weights_by_name():
    model = build(
        layers=['backbone.layer3.1.conv2', 'backbone.layer4.1.conv2'],
        layer_weights={'backbone.layer4.1.conv2': 0.0})
    losses = run_loss(model)
    assert float(losses['loss_cmim']) == pytest.approx(
        float(losses['cmim_nce.backbone.layer3.1.conv2']), rel=1e-6)


def test_bad_configs():
    with pytest.raises(ValueError, match='matches no binary layer'):
        build(layers=['backbone.nothing*'])
    with pytest.raises(ValueError, match='not a binary layer'):
        build(layers=['backbone.conv1'])
    with pytest.raises(ValueError, match='2 entries for 4'):
        build(layer_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match='not recorded'):
        build(layer_weights={'backbone.layer1.0.conv1': 1.0})
    with pytest.raises(ValueError, match='at least 2 images'):
        run_loss(build(), batch(1))
    with pytest.raises(ValueError, match='sample_idx'):
        run_loss(build(memory_bank=dict(size=8)), batch(with_idx=False))
    with pytest.raises(ValueError, match='out of the memory bank'):
        run_loss(build(memory_bank=dict(size=2)), batch(4))


def test_layer_running_twice_is_refused():
    model = build(layers=['backbone.layer1.0.conv1'])
    decode_loss = model.architecture.decode_head.loss

    def twice(inputs, data_samples, train_cfg):
        model.architecture.backbone(torch.randn(1, 3, 32, 32))
        return decode_loss(inputs, data_samples, train_cfg)

    model.architecture.decode_head.loss = twice
    with pytest.raises(RuntimeError, match='ran 2 times'):
        run_loss(model)


def test_training_path_with_runner(tmp_path, tiny_seg_dataset):
    """tiny_seg_cmim.py (the tiny config + a few CMIM lines) trains with the
    mmengine runner and the schedule hook; its checkpoint becomes a plain
    one that the plain config loads."""
    root = tiny_seg_dataset.make(tmp_path / 'data')
    cfg = Config.fromfile(str(CONFIGS / 'tiny_seg_cmim.py'))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(root)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    cfg.default_hooks.checkpoint.interval = 2
    # mmengine keeps visualizers / loggers by name across runners: unique
    # names so that this run does not write into an earlier test's folders
    cfg.experiment_name = f'cmim_runner_{uuid.uuid4().hex}'
    cfg.visualizer.name = cfg.experiment_name
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert isinstance(runner.model, CMIM)
    scalars = next(Path(cfg.work_dir).glob('*/vis_data/scalars.json'))
    scalars = scalars.read_text()
    assert 'loss_cmim' in scalars and 'cmim_mi_lb.backbone.layer4' in scalars
    ckpt = torch.load(Path(cfg.work_dir) / 'iter_2.pth', weights_only=True)
    plain = extract_architecture_state(ckpt['state_dict'])
    model = MODELS.build(Config.fromfile(str(CONFIGS / 'tiny_seg.py')).model)
    model.load_state_dict(plain, strict=True)


def _tiny_dense_models():
    import importlib.util
    path = (Path(__file__).resolve().parents[1] / 'test_segmentors' /
            'tiny_dense_models.py')
    spec = importlib.util.spec_from_file_location('tiny_dense_models', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('kind', ['multi_task', 'depth_estimator'])
def test_piles_on_depth_and_multi_task_models(kind):
    """The same wrapper, by config, on the depth estimator and the
    multi-task model: their losses plus loss_cmim, their predictions."""
    tiny = _tiny_dense_models()
    arch = getattr(tiny, f'build_{kind}')()
    model = CMIM(architecture=arch, layers='last_per_stage', embed_dim=8)
    data = dict(
        inputs=[torch.randint(0, 256, (3, 32, 32)).float() for _ in range(2)],
        data_samples=tiny.make_samples(2))
    model.train()
    losses = model(**model.data_preprocessor(copy.deepcopy(data), True),
                   mode='loss')
    assert 'loss_cmim' in losses
    assert any(k.startswith('depth') or 'silog' in k for k in losses)
    loss, _ = model.parse_losses(losses)
    loss.backward()
    model.eval()
    with torch.no_grad():
        ours = model.test_step(copy.deepcopy(data))
        theirs = arch.test_step(copy.deepcopy(data))
    for a, b in zip(ours, theirs):
        assert torch.equal(a.pred_depth_map.data, b.pred_depth_map.data)
