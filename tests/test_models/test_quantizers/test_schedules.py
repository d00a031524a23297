"""Progress schedules (IR-Net/RBNN t and k, ReCU tau, FDA n) against values
computed by hand from the IR-Net, ReCU and FDA papers and released code."""
import math

import pytest

from cmim_dense.models.quantizers.noise_adaptation import NoiseAdaptation
from cmim_dense.models.quantizers.schedules import (ede_t_k, fda_noise_alpha,
                                                    fda_terms, recu_tau)

E = math.e
A_RECU = (0.99 - 0.85) / (E - 1)
B_RECU = 0.85 - A_RECU


@pytest.mark.parametrize(
    'p,t,k',
    [
        (0.0, 1e-2, 1e2),
        (1 / 3, 1e-1, 1e1),  # 10^(1/3 * 3) = 10
        (0.5, 10**-0.5, 10**0.5),
        (2 / 3, 1.0, 1.0),
        (5 / 6, 10**0.5, 1.0),  # k = max(1/t, 1) = 1 once t > 1
        (1.0, 1e1, 1.0),
    ])
def test_ede_t_k_default(p, t, k):
    got_t, got_k = ede_t_k(p)
    assert got_t == pytest.approx(t, rel=1e-12)
    assert got_k == pytest.approx(k, rel=1e-12)


def test_ede_t_k_cifar_resnet20_range():
    # T_min = 1e-3, T_max = 1e1: four decades
    assert ede_t_k(0.0, 1e-3, 1e1) == pytest.approx((1e-3, 1e3), rel=1e-12)
    assert ede_t_k(0.25, 1e-3, 1e1) == pytest.approx((1e-2, 1e2), rel=1e-12)
    assert ede_t_k(0.75, 1e-3, 1e1) == pytest.approx((1.0, 1.0), rel=1e-12)
    assert ede_t_k(1.0, 1e-3, 1e1) == pytest.approx((1e1, 1.0), rel=1e-12)


def test_ede_t_is_log_linear_and_monotone():
    ps = [i / 20 for i in range(21)]
    ts = [ede_t_k(p)[0] for p in ps]
    logs = [math.log10(t) for t in ts]
    for a, b in zip(logs, logs[1:]):
        assert b - a == pytest.approx(3 / 20, rel=1e-9)
    ks = [ede_t_k(p)[1] for p in ps]
    assert all(b <= a for a, b in zip(ks, ks[1:]))


def test_ede_t_k_equal_bounds():
    assert ede_t_k(0.3, 0.5, 0.5) == pytest.approx((0.5, 2.0))


@pytest.mark.parametrize('t_min,t_max', [(0.0, 1.0), (-1.0, 1.0), (10.0, 1.0)])
def test_ede_t_k_rejects_bad_range(t_min, t_max):
    with pytest.raises(ValueError):
        ede_t_k(0.5, t_min, t_max)


@pytest.mark.parametrize('p', [0.0, 0.25, 0.5, 0.75, 1.0])
def test_recu_tau(p):
    assert recu_tau(p) == pytest.approx(
        A_RECU * math.exp(p) + B_RECU, rel=1e-14)


def test_recu_tau_end_points_and_hand_value():
    assert recu_tau(0.0) == pytest.approx(0.85, abs=1e-15)
    assert recu_tau(1.0) == pytest.approx(0.99, abs=1e-15)
    # A = 0.14 / (e - 1) = 0.0814760..., tau(0.5) = A * (sqrt(e) - 1) + 0.85
    assert recu_tau(0.5) == pytest.approx(
        0.85 + 0.14 * (math.sqrt(E) - 1) / (E - 1), rel=1e-14)
    assert recu_tau(0.5) == pytest.approx(0.9028557, abs=1e-7)
    # exponential, hence below the straight line between the end points
    assert recu_tau(0.5) < 0.92


def test_recu_tau_custom_range():
    assert recu_tau(0.0, 0.6, 0.9) == pytest.approx(0.6)
    assert recu_tau(1.0, 0.6, 0.9) == pytest.approx(0.9)


@pytest.mark.parametrize('tau_min,tau_max', [(0.4, 0.9), (0.9, 0.8),
                                             (0.85, 1.0)])
def test_recu_tau_rejects_bad_range(tau_min, tau_max):
    with pytest.raises(ValueError):
        recu_tau(0.5, tau_min, tau_max)


@pytest.mark.parametrize('p,n', [(0.0, 9), (0.1, 9), (1 / 9, 10), (0.2, 10),
                                 (0.5, 13), (0.55, 13), (0.99, 17), (1.0, 18)])
def test_fda_terms(p, n):
    assert fda_terms(p) == n
    assert isinstance(fda_terms(p), int)


def test_fda_terms_every_step_hits_its_integer():
    # p = j / 9 must give exactly 9 + j despite rounding in j / 9 * 9
    for j in range(10):
        assert fda_terms(j / 9) == 9 + j


def test_fda_terms_custom_and_errors():
    assert fda_terms(0.5, 0, 3) == 1
    assert fda_terms(1.0, 0, 3) == 3
    with pytest.raises(ValueError):
        fda_terms(0.5, 5, 3)
    with pytest.raises(ValueError):
        fda_terms(0.5, -1, 3)


@pytest.mark.parametrize('p,alpha', [(0.0, 0.1), (0.25, 0.0853553390593),
                                     (0.5, 0.05), (0.75, 0.0146446609407),
                                     (1.0, 0.0)])
def test_fda_noise_alpha_is_the_cosine_of_the_released_code(p, alpha):
    """FDA's re-implementation: alpha = 0.05 (1 + cos(pi p)); p = 0.25 and
    0.75 tell the cosine from a linear decay (equal at 0, 0.5, 1)."""
    assert fda_noise_alpha(p) == pytest.approx(alpha, abs=1e-12)
    module = NoiseAdaptation(8, 'activation')
    module.set_progress(p)
    assert module.alpha.item() == pytest.approx(alpha, abs=1e-7)
