"""Tests that fail on the faults CMIM can silently have: the recorder pairing
the wrong tensors, the wrapper misaligning images, the plain export losing
weights, heads that learn nothing, a memory-bank loss without Z.

Each reference here is computed without the code under test: the recorded
layer's input from a pre-forward hook of the layer itself, the quantizer
applied by hand, pooling as a plain mean, the plain model built and loaded
from the exported file."""
import copy
import importlib.util
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from test_cmim import ARCH, NUM_CLASSES, batch, build
from torch import nn

from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.models.losses.cmim_nce_loss import info_nce_loss
from cmim_dense.models.quantizers.base import ProgressDependent
from cmim_dense.models.quantizers.binarizers import available_binarizers
from cmim_dense.models.utils.activation_recorder import ActivationRecorder

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _mmseg_scope():
    init_default_scope('mmseg')


class OneLayer(nn.Module):
    """An FP conv feeding the binary layer under test."""

    def __init__(self, binarizer: str) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.conv = BinaryConv2d(4, 5, 3, padding=1, binarizer=binarizer)

    def forward(self, x):
        return self.conv(self.stem(x))


def capture_inputs(module: nn.Module, store: list):
    """Pre-forward hook keeping a copy of the module's input."""
    return module.register_forward_pre_hook(
        lambda mod, args: store.append(args[0].detach().clone()))


@pytest.mark.parametrize('binarizer', available_binarizers())
def test_recorded_pair_is_layer_input_and_its_quantization(binarizer):
    torch.manual_seed(0)
    model = OneLayer(binarizer)
    quantizer = model.conv.input_quantizer
    for p in quantizer.parameters():  # e.g. RSign's shifts, not all zero
        p.data.uniform_(-0.3, 0.3)
    if isinstance(quantizer, ProgressDependent):
        quantizer.set_progress(0.5)
    recorder = ActivationRecorder(model, 'conv')
    inputs = []
    handle = capture_inputs(model.conv, inputs)
    x = torch.randn(3, 3, 6, 6)
    with recorder.recording():
        model(x)
    handle.remove()
    latent, binary = recorder.get('conv')
    (layer_input, ) = inputs
    # the latent side is the layer's own input, sample by sample
    assert torch.equal(latent.detach(), layer_input)
    # the binary side is its quantization (same mode, same sample order)
    with torch.no_grad():
        expected = quantizer(layer_input)
    assert torch.equal(binary.detach(), expected)
    # its values are the quantizer's levels ({-1, 1}, DoReFa's {0, 1});
    # FDA adds its noise-adaptation term in training, so check it in eval
    levels = set(quantizer.levels)
    if getattr(quantizer, 'noise', None) is None:
        assert set(binary.detach().unique().tolist()) <= levels
    quantizer.eval()
    with torch.no_grad():
        assert set(quantizer(layer_input).unique().tolist()) <= levels
    assert not torch.equal(binary.detach(), latent.detach())


def test_wrapper_pairs_each_image_with_itself():
    """The critic receives (z_B,i, z_F,i) of the same image i, computed here
    from the layer's input with the heads applied by hand."""
    layers = ['backbone.layer3.1.conv2', 'backbone.layer4.1.conv2']
    model = build(layers=layers)
    model.train()
    inputs = {name: [] for name in layers}
    handles = [
        capture_inputs(model.architecture.get_submodule(n), inputs[n])
        for n in layers
    ]
    received = {}
    for name in layers:
        critic = model.critics[name.replace('.', '__')]

        def spy(z_binary,
                z_latent,
                sample_idx=None,
                _name=name,
                _fw=critic.forward):
            received[_name] = (z_binary.detach(), z_latent.detach())
            return _fw(z_binary, z_latent, sample_idx)

        critic.forward = spy
    data = model.data_preprocessor(batch(4), True)
    model(**data, mode='loss')
    for h in handles:
        h.remove()
    for name in layers:
        layer = model.architecture.get_submodule(name)
        head = model.embeddings[name.replace('.', '__')]
        (x, ) = inputs[name]
        with torch.no_grad():
            binary = layer.input_quantizer(x)
            z_b = F.normalize(head.binary(binary.mean((2, 3))), dim=1)
            z_f = F.normalize(head.latent(x.mean((2, 3))), dim=1)
        got_b, got_f = received[name]
        assert torch.allclose(got_b, z_b, atol=1e-6), name
        assert torch.allclose(got_f, z_f, atol=1e-6), name


def run_tool(path: Path, argv):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(a) for a in argv])


def test_cmim_to_plain_round_trip_on_a_trained_checkpoint(tmp_path):
    model = build(memory_bank=dict(size=4, num_negatives=3))
    model.train()
    initial = copy.deepcopy(model.architecture.state_dict())
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    for _ in range(3):
        model.train_step(batch(4), optim)
    trained = model.architecture.state_dict()
    # trained: weights and BN statistics moved away from the initial ones
    assert not torch.equal(trained['backbone.layer1.0.conv1.weight'],
                           initial['backbone.layer1.0.conv1.weight'])
    assert not torch.equal(trained['backbone.bn1.running_mean'],
                           initial['backbone.bn1.running_mean'])
    cfg = Config(dict(model=dict(type='CMIM', architecture=ARCH)))
    ckpt, out = tmp_path / 'cmim.pth', tmp_path / 'plain.pth'
    torch.save(
        dict(meta=dict(cfg=cfg.pretty_text), state_dict=model.state_dict()),
        ckpt)
    run_tool(REPO / 'tools' / 'model_converters' / 'cmim_to_plain.py',
             [ckpt, out])

    plain_ckpt = torch.load(out, weights_only=True)
    plain_cfg = Config.fromstring(plain_ckpt['meta']['cfg'], '.py')
    assert plain_cfg.model.type == ARCH['type']
    plain = MODELS.build(plain_cfg.model)
    plain.load_state_dict(plain_ckpt['state_dict'], strict=True)
    model.eval()
    plain.eval()
    data = batch(3)
    with torch.no_grad():
        ours = model.test_step(copy.deepcopy(data))
        theirs = plain.test_step(copy.deepcopy(data))
        inputs = model.data_preprocessor(copy.deepcopy(data))['inputs']
        assert torch.equal(
            model(inputs, mode='tensor'), plain(inputs, mode='tensor'))
    for a, b in zip(ours, theirs):
        assert torch.equal(a.seg_logits.data, b.seg_logits.data)
        assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)


def images(num: int, seed: int, offset: int = 0) -> dict:
    """Images with per-image colour and contrast, so that what a layer sees
    differs from image to image; ``sample_idx`` from ``offset``."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(num):
        mean = torch.rand(3, 1, 1, generator=gen) * 4 - 2
        scale = torch.rand(1, generator=gen) * 2 + 0.2
        inputs.append(mean + scale * torch.randn(3, 32, 32, generator=gen))
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, NUM_CLASSES, (1, 32, 32), generator=gen))
        sample.set_metainfo(
            dict(
                img_shape=(32, 32),
                ori_shape=(32, 32),
                pad_shape=(32, 32),
                sample_idx=offset + i))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize(
    'memory_bank', [None, dict(size=32, num_negatives=16, momentum=0.5)],
    ids=['in_batch', 'memory_bank'])
def test_trained_heads_tell_aligned_from_rolled_held_out_pairs(memory_bank):
    """After training only the heads through the wrapper's loss, held-out
    aligned pairs score a lower InfoNCE than pairs rolled by one image.

    (Recorded at layer2.0.conv1: at layer4 of this untrained toy network the
    pooled features of all images are nearly collinear, and the bank form
    then settles in the uninformative optimum, about log(K + 1) + 1.)"""
    layer = 'backbone.layer2.0.conv1'
    model = build(layers=[layer], embed_dim=16, memory_bank=memory_bank)
    model.architecture.eval()  # frozen features: only the heads learn
    model.architecture.requires_grad_(False)
    heads = model.embeddings[layer.replace('.', '__')]
    critic = model.critics[layer.replace('.', '__')]
    optimizer = torch.optim.Adam(heads.parameters(), lr=1e-2)
    train = [images(8, seed=s, offset=8 * s) for s in range(4)]

    def record(data):
        data = model.data_preprocessor(copy.deepcopy(data), False)
        with torch.no_grad(), model.recorder.recording():
            model.architecture(data['inputs'], mode='tensor')
        return data['data_samples']

    def held_out_losses():
        record(images(8, seed=99, offset=0))
        latent, binary = model.recorder.get(layer)
        with torch.no_grad():
            z_b, z_f = heads(binary, latent)
            aligned = info_nce_loss(z_b, z_f, 0.1)[0]
            rolled = info_nce_loss(z_b, z_f.roll(1, 0), 0.1)[0]
        return float(aligned), float(rolled)

    before = held_out_losses()
    for step in range(48):
        samples = record(train[step % 4])
        loss = model.cmim_losses(samples)['loss_cmim']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.recorder.clear()
    aligned, rolled = held_out_losses()
    assert aligned < rolled - 1.0, (before, aligned, rolled)
    # learnt: the margin grew, the aligned loss fell below chance (log 8)
    assert rolled - aligned > before[1] - before[0] + 0.5
    assert aligned < math.log(8) - 0.5


def test_quickstart_memory_bank_loss_at_initialisation_is_of_order_log_n():
    """The quickstart model with a bank of its 53 training frames: each
    layer's NCE is about log K plus a few nats, not hundreds (Z applied)."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'quickstart.py'))
    cfg.model.memory_bank = dict(size=53)  # N = 4096 -> all 52 others
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(4):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, 40, (1, 48, 64), generator=gen))
        sample.gt_depth_map = PixelData(
            data=torch.rand(1, 48, 64, generator=gen) * 9 + 0.5)
        sample.set_metainfo(
            dict(
                img_shape=(48, 64),
                ori_shape=(48, 64),
                pad_shape=(48, 64),
                sample_idx=3 * i))
        samples.append(sample)
    data = dict(
        inputs=[
            torch.randint(
                0, 256, (3, 48, 64), generator=gen, dtype=torch.uint8)
            for _ in range(4)
        ],
        data_samples=samples)
    with torch.no_grad():
        losses = model(**model.data_preprocessor(data, True), mode='loss')
    log_k = math.log(52)
    for name in model.layers:
        nce = float(losses[f'cmim_nce.{name}'])
        assert log_k < nce < log_k + 5, (name, nce)
        assert -5 < float(losses[f'cmim_mi_lb.{name}']) < 0
