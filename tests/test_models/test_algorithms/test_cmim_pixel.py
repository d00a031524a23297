"""CMIM's dense form: location sampling, the pixel-level InfoNCE against a
reference written with 1x1 convs, and the location-level bank's keys."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from cmim_dense.models.algorithms.location_sampler import (gather_locations,
                                                           sample_locations)

from test_cmim import ARCH, batch  # noqa: E402  (the tiny segmentor)

LAYER = 'backbone.layer4.1.conv2'


@pytest.fixture(autouse=True)
def _mmseg_scope():
    init_default_scope('mmseg')


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='CMIM',
            architecture=copy.deepcopy(ARCH),
            **{
                'granularity': 'pixel',
                'embed_dim': 8,
                **kwargs
            }))


def test_sample_locations_without_replacement():
    loc = sample_locations(3, 5, 7, 10)
    assert loc.shape == (3, 10)
    assert int(loc.min()) >= 0 and int(loc.max()) < 35
    assert all(len(set(row.tolist())) == 10 for row in loc)
    assert not torch.equal(loc[0], loc[1])  # drawn per image
    assert torch.equal(sample_locations(2, 2, 3, 6)[1], torch.arange(6))
    assert sample_locations(2, 2, 3, 100).shape == (2, 6)


def test_gather_locations_picks_the_pixels():
    n, c, h, w = 2, 3, 4, 6
    x = torch.zeros(n, c, h, w)
    for i in range(n):
        for k in range(c):
            for r in range(h):
                for q in range(w):
                    x[i, k, r, q] = 1000 * i + 100 * k + 10 * r + q
    index = torch.tensor([[0, 7, 23], [5, 6, 18]])  # (r, q) = divmod(., 6)
    rows = gather_locations(x, index, (h, w))
    expected = [[1000 * i + 100 * k + 10 * (j // w) + j % w for k in range(c)]
                for i, loc in enumerate(index.tolist()) for j in loc]
    assert rows.tolist() == expected
    # a map at half the resolution: the pixel holding the location's centre
    half = x[:, :, ::2, ::2]
    rows = gather_locations(half, index, (h, w))
    expected = [[
        1000 * i + 100 * k + 10 * (2 * ((j // w) // 2)) + 2 * ((j % w) // 2)
        for k in range(c)
    ] for i, loc in enumerate(index.tolist()) for j in loc]
    assert rows.tolist() == expected
    with pytest.raises(ValueError, match="granularity='pixel' needs"):
        gather_locations(torch.zeros(2, 3), index, (h, w))


def test_pixel_infonce_equals_a_1x1_conv_reference():
    """Every location used (P >= H * W): the loss is the InfoNCE over all
    N * H * W locations, embeddings computed as 1x1 convs of the maps
    (recorded here by a hook of the test's own)."""
    model = build(layers=[LAYER], num_locations=10**6)
    model.train()
    seen = {}

    def hook(module, args, output):
        seen['latent'], seen['binary'] = args[0].detach(), output.detach()

    quantizer = model.architecture.get_submodule(LAYER).input_quantizer
    handle = quantizer.register_forward_hook(hook)
    losses = model(**model.data_preprocessor(batch(2), True), mode='loss')
    handle.remove()
    head = model.embeddings[LAYER.replace('.', '__')]

    def embed(linear, x):
        z = F.conv2d(x, linear.weight[:, :, None, None], linear.bias)
        return F.normalize(
            z, dim=1).permute(0, 2, 3, 1).reshape(-1, z.shape[1])

    z_b = embed(head.binary, seen['binary'])
    z_f = embed(head.latent, seen['latent'])
    assert z_b.shape[0] == 2 * seen['binary'].shape[2] * \
        seen['binary'].shape[3] > 8
    s = z_b @ z_f.t() / 0.1
    diag = s.diagonal()
    expected = -0.5 * ((diag - s.logsumexp(1)).mean() +
                       (diag - s.logsumexp(0)).mean())
    assert float(losses[f'cmim_nce.{LAYER}']) == pytest.approx(
        float(expected.detach()), rel=1e-4)


def test_pixel_loss_trains_the_network_and_heads():
    model = build(layers=['backbone.layer2.0.conv1'], num_locations=5)
    model.train()
    losses = model(**model.data_preprocessor(batch(), True), mode='loss')
    losses['loss_cmim'].backward()
    backbone = model.architecture.backbone
    assert backbone.layer1[0].conv1.weight.grad.abs().sum() > 0
    head = model.embeddings['backbone__layer2__0__conv1']
    assert head.binary.weight.grad.abs().sum() > 0


def test_location_bank_keys():
    """Bank of M * P rows keyed sample_idx * P + slot: a batch of images 0
    and 1 with P = 3 updates rows 0..5 and only those."""
    model = build(
        layers=[LAYER],
        num_locations=3,
        memory_bank=dict(size=4, num_negatives=5, momentum=0.3))
    model.train()
    memory = model.critics[LAYER.replace('.', '__')].memory
    assert memory.size == 12
    before = memory.bank_binary.clone()
    losses = model(**model.data_preprocessor(batch(2), True), mode='loss')
    changed = (memory.bank_binary != before).any(1)
    assert changed.tolist() == [True] * 6 + [False] * 6
    assert torch.isfinite(losses['loss_cmim'])


def test_bad_pixel_configs():
    with pytest.raises(ValueError, match='granularity must be one of'):
        build(granularity='patch')
    with pytest.raises(ValueError, match='num_locations must be >= 1'):
        build(num_locations=0)


def test_memory_hook_sizes_and_checks_a_location_bank():
    """The runtime's CMIMMemoryHook sizes a location bank (size=None) to
    training-set length x P rows, and refuses a size that disagrees."""
    from types import SimpleNamespace

    from mmengine.logging import MMLogger

    from cmim_dense.engine.hooks import CMIMMemoryHook

    def runner(model, length):
        return SimpleNamespace(
            model=model,
            train_dataloader=SimpleNamespace(dataset=list(range(length))),
            logger=MMLogger.get_instance('cmim_pixel_bank_test'))

    model = build(
        layers=[LAYER],
        num_locations=3,
        memory_bank=dict(size=None, num_negatives=5, momentum=0.3))
    memory = model.critics[LAYER.replace('.', '__')].memory
    CMIMMemoryHook().before_train(runner(model, 4))
    assert memory.size == 12 and memory.rows_per_sample == 3
    sized = build(
        layers=[LAYER],
        num_locations=3,
        memory_bank=dict(size=4, num_negatives=5, momentum=0.3))
    CMIMMemoryHook().before_train(runner(sized, 4))  # 4 x 3 rows: accepted
    with pytest.raises(ValueError, match='size is 4 but the training set'):
        CMIMMemoryHook().before_train(runner(sized, 5))
