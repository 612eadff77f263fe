"""Lesson 01's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.vanilla_gan import (
    check_bce_with_logits,
    check_generator_gradients,
    check_mode_counts,
    check_optimal_discriminator,
)

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("01_vanilla_gan", SOLUTIONS / "01_vanilla_gan.py")
VANILLA = importlib.util.module_from_spec(spec)
spec.loader.exec_module(VANILLA)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_optimal_discriminator, VANILLA.optimal_discriminator),
        (check_bce_with_logits, VANILLA.bce_with_logits),
        (check_generator_gradients, VANILLA.generator_gradients),
        (check_mode_counts, VANILLA.mode_counts),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


# --- 1. optimal discriminator -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda p, q: q / (p + q), "that is 1 - D\\*"),
        (lambda p, q: torch.full_like(p, 0.5), "1/2 only where p_data = p_g"),
        (lambda p, q: p / q, "not by p_g alone"),
        (lambda p, q: (p / (p + q)).mean(), "point by point"),
    ],
)
def test_optimal_discriminator_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_optimal_discriminator(wrong)


# --- 2. BCE on logits -----------------------------------------------------------------------------------
def naive_bce(logits, target):
    d = torch.sigmoid(logits)
    return -(target * torch.log(d) + (1 - target) * torch.log(1 - d)).mean()


def epsilon_bce(logits, target):
    d = torch.sigmoid(logits)
    return -(target * torch.log(d + 1e-8) + (1 - target) * torch.log(1 - d + 1e-8)).mean()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (naive_bce, "sigmoid underflows to 0"),
        (epsilon_bce, "caps it at -log\\(eps\\)"),
        (lambda x, t: VANILLA.bce_with_logits(x, 1 - t), "labels are swapped"),
        (lambda x, t: VANILLA.bce_with_logits(x, t) * len(x), "not .sum\\(\\)"),
        (lambda x, t: -VANILLA.bce_with_logits(x, t), "sign is flipped"),
        (lambda x, t: t * F.softplus(-x) + (1 - t) * F.softplus(x), "one number"),
        (lambda x, t: F.binary_cross_entropy_with_logits(x, t), "build it from F.softplus"),
        (lambda x, t: torch.nn.BCEWithLogitsLoss()(x, t), "build it from F.softplus"),
        (lambda x, t: F.softplus(-x).mean() + F.softplus(x).mean(), "the loss is mean"),
    ],
)
def test_bce_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_bce_with_logits(wrong)


def test_bce_check_restores_the_library():
    with pytest.raises(WrongAnswer):
        check_bce_with_logits(lambda x, t: F.binary_cross_entropy_with_logits(x, t))
    x, t = torch.tensor([0.0]), torch.tensor([1.0])
    assert torch.isclose(F.binary_cross_entropy_with_logits(x, t), torch.log(torch.tensor(2.0)))


def test_bce_reference_gives_the_toolkit_losses():
    from toolkit import losses

    r, f = torch.randn(32), torch.randn(32)
    ones, zeros = torch.ones(32), torch.zeros(32)
    bce = VANILLA.bce_with_logits
    assert torch.allclose(bce(r, ones) + bce(f, zeros), losses.bce_d_loss(r, f))
    assert torch.allclose(bce(f, ones), losses.nonsaturating_g_loss(f))


# --- 3. generator gradients -----------------------------------------------------------------------------
def autograd_pair(minimax_loss, non_saturating_loss, reduce=torch.sum):
    def answer(fake_logits):
        x = fake_logits.detach().requires_grad_(True)
        (a,) = torch.autograd.grad(reduce(minimax_loss(x)), x)
        (b,) = torch.autograd.grad(reduce(non_saturating_loss(x)), x)
        return a, b

    return answer


@pytest.mark.parametrize(
    "wrong, message",
    [
        (autograd_pair(lambda x: -F.softplus(x), lambda x: F.softplus(-x), torch.mean), "batch mean"),
        (lambda x: (-torch.sigmoid(-x), -torch.sigmoid(x)), "swapped"),
        (autograd_pair(lambda x: F.softplus(x), lambda x: F.softplus(-x)), "sign is flipped"),
        (
            autograd_pair(lambda x: torch.log(1 - torch.sigmoid(x)), lambda x: -torch.log(torch.sigmoid(x))),
            "nan or inf",
        ),
        (lambda x: (-torch.sigmoid(-x), -torch.sigmoid(-x)), "minimax gradient is wrong"),
        (lambda x: (-torch.sigmoid(x), -torch.sigmoid(x)), "non-saturating gradient is wrong"),
        (lambda x: -torch.sigmoid(x), "pair"),
    ],
)
def test_generator_gradients_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_generator_gradients(wrong)


def test_generator_gradients_reference_shows_the_saturation():
    minimax, non_saturating = VANILLA.generator_gradients(torch.tensor([-10.0]))
    ratio = (non_saturating / minimax).item()
    assert abs(ratio - torch.exp(torch.tensor(10.0)).item()) / ratio < 1e-3  # e^10: minimax saturates


# --- 4. mode counts -------------------------------------------------------------------------------------
def counts_with(n_std=3.0, squared=False, filter_good=True, dim=1):
    def answer(samples, means, std):
        dist = torch.cdist(samples, means)
        if squared:
            dist = dist**2
        nearest_dist, nearest = dist.min(dim=dim)
        if filter_good:
            nearest = nearest[nearest_dist <= n_std * std]
        return torch.bincount(nearest, minlength=len(means))

    return answer


@pytest.mark.parametrize(
    "wrong, message",
    [
        (counts_with(filter_good=False), "counted every sample"),
        (counts_with(squared=True), "not the squared distance"),
        (counts_with(n_std=1.0), "not 1"),
        (counts_with(dim=0), "one count per mode"),
        (lambda s, m, std: torch.full((len(m),), 3), "differ from mode_quality's"),
    ],
)
def test_mode_counts_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_mode_counts(wrong)


def test_mode_counts_reference_equals_mode_quality():
    from toolkit.data import load_dataset, mode_quality
    from toolkit.data.toy import mixture_means, mixture_std

    x = load_dataset("ring").x[:500] * 1.01
    assert (
        VANILLA.mode_counts(x, mixture_means("ring"), mixture_std("ring")).tolist()
        == mode_quality(x, "ring").counts
    )


def test_grade_and_show_solution(capsys):
    def not_yet(p_data, p_g):
        # YOUR CODE HERE
        raise NotImplementedError

    assert not grade(check_optimal_discriminator, not_yet)
    assert "not attempted" in capsys.readouterr().out
    assert not grade(check_bce_with_logits, naive_bce)
    assert capsys.readouterr().out.startswith("x naive_bce: at logit -200")
    assert grade(check_mode_counts, VANILLA.mode_counts)
    show_solution("01_vanilla_gan", "bce_with_logits")
    assert "def bce_with_logits(logits, target)" in capsys.readouterr().out
