"""Each loss against values computed by hand (log and exp written out, no torch helpers)."""

import math

import pytest
import torch

from toolkit import losses

t = torch.tensor


def test_bce_d_loss_at_zero_logits_is_two_log_two():
    # D(x) = sigmoid(0) = 1/2 everywhere: -log(1/2) - log(1 - 1/2) = 2 log 2
    assert losses.bce_d_loss(t([0.0, 0.0]), t([0.0])).item() == pytest.approx(2 * math.log(2), rel=1e-6)


def test_bce_d_loss_hand_computed():
    # real logit 2 -> -log sigmoid(2) = log(1 + e^-2); fake logit -1 -> -log(1 - sigmoid(-1)) = log(1 + e^-1)
    expected = math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1))
    assert losses.bce_d_loss(t([2.0]), t([-1.0])).item() == pytest.approx(expected, rel=1e-6)
    # means over the batch: real [2, 0], fake [-1, 1]
    expected = (math.log(1 + math.exp(-2)) + math.log(2)) / 2 + (
        math.log(1 + math.exp(-1)) + math.log(1 + math.e)
    ) / 2
    assert losses.bce_d_loss(t([2.0, 0.0]), t([-1.0, 1.0])).item() == pytest.approx(expected, rel=1e-6)


def test_generator_losses_hand_computed():
    f = t([-1.0, 3.0])
    sig = [1 / (1 + math.exp(1)), 1 / (1 + math.exp(-3))]
    assert losses.nonsaturating_g_loss(f).item() == pytest.approx(
        -sum(math.log(s) for s in sig) / 2, rel=1e-6
    )
    assert losses.minimax_g_loss(f).item() == pytest.approx(sum(math.log(1 - s) for s in sig) / 2, rel=1e-6)


def test_hinge_hand_computed():
    real, fake = t([0.5, 2.0]), t([-0.5, 1.0])
    # relu(1 - 0.5) = 0.5, relu(1 - 2) = 0 -> 0.25; relu(1 - 0.5) = 0.5, relu(1 + 1) = 2 -> 1.25
    assert losses.hinge_d_loss(real, fake).item() == pytest.approx(1.5)
    assert losses.hinge_g_loss(fake).item() == pytest.approx(-0.25)


def test_wasserstein_hand_computed():
    real, fake = t([1.0, 3.0]), t([0.0, 2.0])
    assert losses.wasserstein_d_loss(real, fake).item() == pytest.approx(1.0 - 2.0)
    assert losses.wasserstein_g_loss(fake).item() == pytest.approx(-1.0)


def test_losses_stay_finite_for_extreme_logits():
    big = t([-200.0, 200.0])
    for fn in (losses.nonsaturating_g_loss, losses.minimax_g_loss):
        assert torch.isfinite(fn(big))
    assert losses.nonsaturating_g_loss(t([-200.0])).item() == pytest.approx(200.0)
    assert torch.isfinite(losses.bce_d_loss(big, big))


def test_minimax_generator_gradient_saturates_and_nonsaturating_does_not():
    # D confidently rejects the fake (logit -10): the minimax gradient all but vanishes
    f = t([-10.0], requires_grad=True)
    (g_minimax,) = torch.autograd.grad(losses.minimax_g_loss(f), f)
    f2 = t([-10.0], requires_grad=True)
    (g_ns,) = torch.autograd.grad(losses.nonsaturating_g_loss(f2), f2)
    assert abs(g_minimax.item()) == pytest.approx(1 / (1 + math.exp(10)), rel=1e-4)  # sigmoid(-10) ~ 4.5e-5
    assert abs(g_ns.item()) == pytest.approx(1 / (1 + math.exp(-10)), rel=1e-4)  # sigmoid(10) ~ 1


def test_registry_and_unknown_name():
    assert set(losses.LOSSES) == {"nonsaturating", "minimax", "hinge", "wasserstein"}
    with pytest.raises(ValueError, match="unknown loss 'lsgan'; choose one of nonsaturating, minimax, hinge"):
        losses.get_loss("lsgan")


def test_translation_losses_are_mean_absolute_differences():
    """pix2pix's L1 (eq. 3) and CycleGAN's cycle (eq. 2) and identity terms: mean |a - b| over pixels."""
    a, b = t([[1.0, -2.0], [0.5, 0.0]]), t([[0.0, 1.0], [0.5, 2.0]])  # |a - b| = 1, 3, 0, 2 -> mean 1.5
    for loss in (losses.l1_loss, losses.cycle_consistency_loss, losses.identity_loss):
        assert loss(a, b).item() == pytest.approx(1.5) and loss(b, a).item() == pytest.approx(1.5)
