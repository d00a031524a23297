"""Latent-weight constraints (BNN's clip, XNOR-Net's centring and clip): in
place, without autograd, and held by the weight quantizers that ask."""
import pytest
import torch

from cmim_dense.models.quantizers import WeightClip, build_binarizer
from cmim_dense.models.quantizers.weight_constraints import (
    ConstraintSequence, InputChannelCentering, latent_weight_constraint)
from cmim_dense.models.quantizers.weight_quantizers import (ScaledSignWeight,
                                                            SteSignWeight)
from cmim_dense.registry import QUANTIZERS


def test_weight_clip_in_place_on_a_parameter():
    weight = torch.nn.Parameter(torch.tensor([-3.0, -0.5, 0.0, 0.75, 2.0]))
    address = weight.data_ptr()
    WeightClip(1.0)(weight)
    assert weight.data_ptr() == address  # in place
    assert weight.tolist() == [-1.0, -0.5, 0.0, 0.75, 1.0]
    assert weight.grad is None and weight.requires_grad
    WeightClip(0.5)(weight)
    assert weight.tolist() == [-0.5, -0.5, 0.0, 0.5, 0.5]


@pytest.mark.parametrize('bad, error', [(0.0, ValueError), (-1.0, ValueError),
                                        (None, TypeError), (True, TypeError),
                                        ('1', TypeError)])
def test_weight_clip_refuses_a_bad_bound(bad, error):
    with pytest.raises(error, match='clip_value'):
        WeightClip(bad)


def test_input_channel_centering():
    weight = torch.tensor([[[[3.0]], [[-0.5]]], [[[1.0]], [[2.0]]]])
    InputChannelCentering()(weight)
    assert weight.flatten().tolist() == [1.75, -1.75, -0.5, 0.5]
    vector = torch.tensor([1.0, 2.0])  # no input channels: unchanged
    InputChannelCentering()(vector)
    assert vector.tolist() == [1.0, 2.0]


def test_latent_weight_constraint_order_and_none():
    assert latent_weight_constraint() is None
    assert latent_weight_constraint(1.0) == WeightClip(1.0)
    assert latent_weight_constraint(latent_center=True) == \
        InputChannelCentering()
    both = latent_weight_constraint(1.0, latent_center=True)
    assert both == ConstraintSequence([InputChannelCentering(), WeightClip()])
    # centre first, then clip: [3, -0.5] -> [1.75, -1.75] -> [1, -1]
    weight = torch.tensor([[[[3.0]], [[-0.5]]]])
    both(weight)
    assert weight.flatten().tolist() == [1.0, -1.0]
    assert repr(WeightClip(2)) == 'WeightClip(clip_value=2.0)'


def test_quantizers_hold_the_constraint_of_their_hyper_parameters():
    assert SteSignWeight().weight_constraint is None
    assert SteSignWeight(latent_clip=1.0).weight_constraint == WeightClip(1.0)
    q = ScaledSignWeight(latent_center=True, latent_clip=0.5)
    assert q.weight_constraint == ConstraintSequence(
        [InputChannelCentering(), WeightClip(0.5)])
    q.latent_clip = None  # follows the attribute
    assert q.weight_constraint == InputChannelCentering()
    weight = torch.nn.Parameter(torch.full((2, 3), 4.0))
    assert not SteSignWeight().constrain(weight)
    assert weight.eq(4.0).all()
    assert SteSignWeight(latent_clip=1.0).constrain(weight)
    assert weight.eq(1.0).all()


def test_default_constraints_of_bnn_and_xnor():
    """BNN clips by default; XNOR-Net's released preparation is an option
    (released-code defaults, see docs/methods.md)."""
    bnn = QUANTIZERS.build(build_binarizer('bnn')['weight_quantizer'])
    assert bnn.weight_constraint == WeightClip(1.0)
    xnor = QUANTIZERS.build(build_binarizer('xnor')['weight_quantizer'])
    assert xnor.weight_constraint is None
    released = QUANTIZERS.build(
        build_binarizer(
            dict(type='xnor', latent_center=True,
                 latent_clip=1.0))['weight_quantizer'])
    assert released.weight_constraint == ConstraintSequence(
        [InputChannelCentering(), WeightClip(1.0)])
