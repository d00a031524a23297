"""Depth losses: hand-computed values, masking of invalid pixels, mmseg."""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
import math

import pytest
import torch
from mmseg.models.losses import SiLogLoss

from cmim_dense.models.losses import BerHuLoss, DepthL1Loss, DepthSiLogLoss
from cmim_dense.registry import MODELS

LN2, LN3 = math.log(2.0), math.log(3.0)


def _t(rows):
    """(1, 1, H, W) float64 tensor from nested rows."""
    return torch.tensor(rows, dtype=torch.float64)[None, None]


def test_registered_names():
    for name, cls in (('DepthSiLogLoss', DepthSiLogLoss),
                      ('DepthL1Loss', DepthL1Loss), ('BerHuLoss', BerHuLoss)):
        assert MODELS.get(name) is cls
    assert DepthSiLogLoss().loss_name == 'loss_silog'
    assert DepthL1Loss().loss_name == 'loss_l1'
    assert BerHuLoss().loss_name == 'loss_berhu'


def test_l1_hand_values_and_masking():
    pred = _t([[1., 2.], [3., 4.]])
    gt = _t([[1.5, 0.], [2., 5.]])  # 0 is invalid
    assert DepthL1Loss()(pred, gt).item() == pytest.approx(2.5 / 3)
    # 5 m is beyond max_depth: excluded
    assert DepthL1Loss(max_depth=4.5)(pred, gt).item() == pytest.approx(0.75)
    assert DepthL1Loss(reduction='sum')(pred, gt).item() == pytest.approx(2.5)
    assert DepthL1Loss(loss_weight=2.)(pred, gt).item() == pytest.approx(5 / 3)
    loss_map = DepthL1Loss(reduction='none')(pred, gt)
    assert loss_map.squeeze().tolist() == [[0.5, 0.0], [1.0, 1.0]]
    # NaN and negative GT are invalid too; avg_factor replaces the count
    gt_bad = _t([[1.5, float('nan')], [-2., 5.]])
    assert DepthL1Loss()(pred, gt_bad).item() == pytest.approx(1.5 / 2)
    assert DepthL1Loss()(pred, gt, avg_factor=5).item() == \
        pytest.approx(0.5)


def test_invalid_pixels_get_no_gradient():
    gt = _t([[1.5, 0.], [2., 5.]])
    for loss in (DepthL1Loss(), BerHuLoss(), DepthSiLogLoss(),
                 DepthSiLogLoss(variant='bts')):
        pred = _t([[1., 2.], [3., 4.]]).requires_grad_()
        value = loss(pred, gt)
        value.backward()
        assert pred.grad[0, 0, 0, 1] == 0
        assert torch.all(pred.grad[0, 0][gt[0, 0] > 0] != 0)
        # changing the prediction at the invalid pixel changes nothing
        other = pred.detach().clone()
        other[0, 0, 0, 1] = 123.
        assert loss(other, gt).item() == pytest.approx(value.item())


def test_berhu_hand_values():
    gt = _t([[2., 2., 2.], [2., 0., 2.]])
    # residuals 0.5, -1, 2, 0.1 on valid pixels; 9 on the invalid one
    pred = _t([[2.5, 1., 4.], [2.1, 9., 2.]])
    c = 0.2 * 2.0
    expected = [(0.25 + c * c) / (2 * c), (1 + c * c) / (2 * c),
                (4 + c * c) / (2 * c), 0.1, 0.0]
    got = BerHuLoss()(pred, gt).item()
    assert got == pytest.approx(sum(expected) / 5)
    assert BerHuLoss(threshold=0.5)(pred, gt).item() == pytest.approx(
        (0.5 + 1 + (4 + 1) / 2 + 0.1 + 0) / 5)
    # perfect prediction: c = 0 and the loss is 0 (no NaN)
    assert BerHuLoss()(gt.clone(), gt).item() == 0.0


def test_silog_mmseg_variant_hand_value():
    # image 1: e = (ln 2, 0); image 2: e = (ln 3) (second pixel invalid)
    pred = torch.tensor([[[[2., 4.]]], [[[3., 5.]]]], dtype=torch.float64)
    gt = torch.tensor([[[[1., 4.]]], [[[1., 0.]]]], dtype=torch.float64)
    img1 = math.sqrt(LN2**2 / 2 - 0.5 * (LN2 / 2)**2)
    img2 = math.sqrt(LN3**2 - 0.5 * LN3**2)
    loss = DepthSiLogLoss(variant='mmseg')
    assert loss(pred, gt).item() == pytest.approx((img1 + img2) / 2)
    per_image = DepthSiLogLoss(reduction='none')(pred, gt)
    assert per_image.tolist() == pytest.approx([img1, img2])


def test_silog_bts_variant_hand_value():
    pred = torch.tensor([[[[2., 4.]]], [[[3., 5.]]]], dtype=torch.float64)
    gt = torch.tensor([[[[1., 4.]]], [[[1., 0.]]]], dtype=torch.float64)
    errs = [LN2, 0.0, LN3]  # pooled over the batch
    mean = sum(errs) / 3
    mean_sq = sum(e * e for e in errs) / 3
    expected = 10 * math.sqrt(mean_sq - 0.85 * mean**2)
    assert DepthSiLogLoss(variant='bts')(pred, gt).item() == \
        pytest.approx(expected)
    custom = DepthSiLogLoss(
        variant='bts', variance_weight=1.0, scale=100.0, per_image=False)
    assert custom(pred, gt).item() == pytest.approx(
        100 * math.sqrt(mean_sq - mean**2))


def test_silog_matches_mmseg_silog_loss():
    gen = torch.Generator().manual_seed(0)
    pred = torch.rand(3, 1, 5, 6, generator=gen) * 9 + 0.5
    gt = torch.rand(3, 1, 5, 6, generator=gen) * 9 + 0.5
    ours = DepthSiLogLoss(variant='mmseg')(pred, gt)
    theirs = SiLogLoss()(pred, gt)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)


@pytest.mark.parametrize('variant', ['mmseg', 'bts'])
def test_silog_degenerate_batches(variant):
    loss = DepthSiLogLoss(variant=variant)
    pred = torch.full((2, 1, 3, 3), 2.0, requires_grad=True)
    empty = loss(pred, torch.zeros(2, 1, 3, 3))
    assert empty.item() == 0.0
    empty.backward()
    assert torch.all(pred.grad == 0)
    pred.grad = None
    perfect = loss(pred, torch.full((2, 1, 3, 3), 2.0))
    perfect.backward()
    assert perfect.item() == pytest.approx(0.0, abs=1e-4)
    assert torch.isfinite(pred.grad).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match='variant'):
        DepthSiLogLoss(variant='eigen')
    with pytest.raises(ValueError, match='variance_weight'):
        DepthSiLogLoss(variance_weight=1.5)
    with pytest.raises(ValueError, match='reduction'):
        DepthL1Loss(reduction='avg')
    with pytest.raises(ValueError, match='max_depth'):
        DepthL1Loss(min_depth=5, max_depth=1)
    with pytest.raises(ValueError, match='threshold'):
        BerHuLoss(threshold=0)
    with pytest.raises(ValueError, match='per_image'):
        DepthSiLogLoss(variant='bts')(
            torch.ones(2, 1, 2, 2),
            torch.ones(2, 1, 2, 2),
            weight=torch.ones(2))
    with pytest.raises(ValueError, match='shape'):
        DepthL1Loss()(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 3))


# ----------------------------------------------------------------------
# The protocols' losses, built from configs/_base_/models/nyudv2_heads.py
# ----------------------------------------------------------------------
def _heads_cfg():
    from pathlib import Path

    from mmengine.config import Config
    path = Path(__file__).resolve().parents[3] / 'configs' / '_base_' / \
        'models' / 'nyudv2_heads.py'
    return Config.fromfile(str(path))


def _seg_loss_head(cfg):
    """mmseg's decode head loss path on (N, C, H, W) logits."""
    from mmseg.models.decode_heads import FCNHead
    head = FCNHead(
        in_channels=1, channels=1, num_convs=0, concat_input=False,
        num_classes=3, loss_decode=cfg)
    return head


def test_protocol_ce_averages_over_valid_pixels():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    cfg = _heads_cfg()
    assert cfg.seg_loss.avg_non_ignore
    # 1x4 map; logits (0, ln 3, -1e4) at every pixel: p(class 1) = 3/4,
    # p(class 0) = 1/4 (class 2 has probability exp(-1e4) = 0)
    logits = torch.zeros(1, 3, 1, 4)
    logits[:, 1] = math.log(3.0)
    logits[:, 2] = -1e4
    labels = torch.tensor([[[1, 0, 255, 255]]])  # half the pixels ignored
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=labels)
    sample.set_metainfo(dict(img_shape=(1, 4), pad_shape=(1, 4)))
    # by hand: -log(3/4) for the class-1 pixel, -log(1/4) for the class-0
    # one; mean over the 2 valid pixels, vs over all 4 (mmseg's default)
    hand_valid = (-math.log(0.75) - math.log(0.25)) / 2
    head = _seg_loss_head(cfg.seg_loss)
    got = head.loss_by_feat(logits, [sample])['loss_ce']
    assert float(got) == pytest.approx(hand_valid, rel=1e-6)
    head = _seg_loss_head(dict(cfg.seg_loss, avg_non_ignore=False))
    got = head.loss_by_feat(logits, [sample])['loss_ce']
    assert float(got) == pytest.approx(hand_valid / 2, rel=1e-6)


def test_protocol_depth_losses_hand_values():
    losses = _heads_cfg().depth_losses
    assert set(losses) == {'l1', 'silog_mmseg', 'silog_bts', 'berhu'}
    pred = _t([[2.0, 2.0], [1.0, 5.0]])
    gt = _t([[1.0, 4.0], [0.0, 0.05]])  # 0 invalid; 0.05 < BTS's 0.1
    # L1 over the valid pixels (0.05 is valid for L1: gt > 0)
    l1 = MODELS.build(losses.l1)
    assert float(l1(pred, gt)) == pytest.approx((1 + 2 + 4.95) / 3)
    # BTS: only gt > 0.1 m counts: e = (ln 2, -ln 2), mean 0, mean e^2 =
    # ln2^2 -> 10 * sqrt(ln2^2 - 0.85 * 0) = 10 ln 2
    bts = MODELS.build(losses.silog_bts)
    assert float(bts(pred, gt)) == pytest.approx(10 * LN2, rel=1e-6)
