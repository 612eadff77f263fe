"""Lesson 10's exercise checks accept their reference solutions and reject plausible wrong answers, each
with the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch

from toolkit.exercises import WrongAnswer, grade
from toolkit.exercises.cyclegan import (
    check_cycle_loss,
    check_identity_loss,
    check_lsgan_losses,
    check_pool_query,
)

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("solutions_10", SOLUTIONS / "10_cyclegan.py")
CYCLEGAN = importlib.util.module_from_spec(spec)
spec.loader.exec_module(CYCLEGAN)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_cycle_loss, CYCLEGAN.cycle_loss),
        (check_identity_loss, CYCLEGAN.identity_term),
        (check_lsgan_losses, CYCLEGAN.lsgan_losses),
        (check_pool_query, CYCLEGAN.pool_query),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def test_not_attempted_is_not_an_error(capsys):
    def cycle_loss(a, b, G_AB, G_BA):
        raise NotImplementedError

    assert not grade(check_cycle_loss, cycle_loss)
    assert "not attempted" in capsys.readouterr().out


def l1(x, y):
    return (x - y).abs().mean()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda a, b, G_AB, G_BA: l1(G_BA(G_AB(a)), a), "one direction only"),
        (
            lambda a, b, G_AB, G_BA: (G_BA(G_AB(a)) - a).pow(2).mean() + (G_AB(G_BA(b)) - b).pow(2).mean(),
            "L1",
        ),
        (lambda a, b, G_AB, G_BA: l1(G_AB(a), a) + l1(G_BA(b), b), "and back"),
        (lambda a, b, G_AB, G_BA: l1(G_AB(G_AB(a)), a) + l1(G_BA(G_BA(b)), b), "other generator"),
        (lambda a, b, G_AB, G_BA: l1(G_AB(G_BA(a)), a) + l1(G_BA(G_AB(b)), b), "G_AB first"),
        (
            lambda a, b, G_AB, G_BA: (G_BA(G_AB(a)) - a).abs().sum() + (G_AB(G_BA(b)) - b).abs().sum(),
            "mean over pixels",
        ),
        (lambda a, b, G_AB, G_BA: (l1(G_BA(G_AB(a)), a) + l1(G_AB(G_BA(b)), b)) / 2, "do not average"),
        (lambda a, b, G_AB, G_BA: 10 * (l1(G_BA(G_AB(a)), a) + l1(G_AB(G_BA(b)), b)), "expected"),
        (lambda a, b, G_AB, G_BA: float(l1(G_BA(G_AB(a)), a) + l1(G_AB(G_BA(b)), b)), "one-number tensor"),
    ],
)
def test_cycle_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_cycle_loss(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda a, b, G_AB, G_BA: l1(G_AB(a), a) + l1(G_BA(b), b), "target\\* domain"),
        (lambda a, b, G_AB, G_BA: l1(G_AB(b), b), "a term for each generator"),
        (lambda a, b, G_AB, G_BA: (G_AB(b) - b).pow(2).mean() + (G_BA(a) - a).pow(2).mean(), "L1"),
        (lambda a, b, G_AB, G_BA: 5 * (l1(G_AB(b), b) + l1(G_BA(a), a)), "plain term"),
        (lambda a, b, G_AB, G_BA: l1(G_BA(G_AB(a)), a) + l1(G_AB(G_BA(b)), b), "expected"),
    ],
)
def test_identity_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_identity_loss(wrong)


bce = torch.nn.functional.binary_cross_entropy_with_logits


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda r, f: ((r - 1).pow(2).mean() + f.pow(2).mean(), (f - 1).pow(2).mean()), "halve"),
        (
            lambda r, f: (
                bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)),
                bce(f, torch.ones_like(f)),
            ),
            "cross-entropy",
        ),
        (lambda r, f: (0.5 * (r.pow(2).mean() + (f - 1).pow(2).mean()), (f - 1).pow(2).mean()), "other way"),
        (lambda r, f: (0.5 * ((r - 1).pow(2).mean() + f.pow(2).mean()), f.pow(2).mean()), "target is 1"),
        (lambda r, f: (0.5 * ((r - 1).pow(2).mean() + f.pow(2).mean()), (r - 1).pow(2).mean()), "generated"),
        (lambda r, f: (0.5 * ((r - 1).pow(2).mean() + f.pow(2).mean()), -f.pow(2).mean()), "negated"),
        (lambda r, f: (0.5 * ((r - 1).pow(2).mean() + f.pow(2).mean()),), "pair"),
    ],
)
def test_lsgan_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_lsgan_losses(wrong)


def pool_not_detached(stored, fakes, size):
    if size == 0:
        return fakes
    out = CYCLEGAN.pool_query(stored, fakes, size)
    return out + 0 * fakes  # back in the graph


def pool_never_returns_old(stored, fakes, size):
    fakes = fakes.detach()
    for image in fakes:
        if len(stored) < size:
            stored.append(image.clone())
    return fakes


def pool_grows_forever(stored, fakes, size):
    fakes = fakes.detach()
    if size == 0:
        return fakes
    stored.extend(f.clone() for f in fakes)
    return fakes


def pool_always_swaps(stored, fakes, size):
    fakes = fakes.detach()
    if size == 0:
        return fakes
    out = []
    for image in fakes:
        if len(stored) < size:
            stored.append(image.clone())
            out.append(image)
        else:
            i = int(torch.randint(0, size, ()))
            out.append(stored[i])
            stored[i] = image.clone()
    return torch.stack(out)


def pool_swaps_without_storing(stored, fakes, size):
    fakes = fakes.detach()
    if size == 0:
        return fakes
    out = []
    for image in fakes:
        if len(stored) < size:
            stored.append(image.clone())
            out.append(image)
        elif torch.rand(()) < 0.5:
            out.append(stored[int(torch.randint(0, size, ()))])
        else:
            out.append(image)
    return torch.stack(out)


def pool_returns_old_while_filling(stored, fakes, size):
    fakes = fakes.detach()
    if size == 0:
        return fakes
    out = []
    for image in fakes:
        if stored and torch.rand(()) < 0.5:
            i = int(torch.randint(0, len(stored), ()))
            out.append(stored[i])
            if len(stored) < size:
                stored.append(image.clone())
            else:
                stored[i] = image.clone()
        else:
            if len(stored) < size:
                stored.append(image.clone())
            out.append(image)
    return torch.stack(out)


def pool_size_zero_stores(stored, fakes, size):
    return CYCLEGAN.pool_query(stored, fakes, max(size, 1))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (pool_not_detached, "detach"),
        (pool_never_returns_old, "about half the time"),
        (pool_grows_forever, "never hold more"),
        (pool_always_swaps, "about half"),
        (pool_swaps_without_storing, "in its place"),
        (pool_returns_old_while_filling, "while the pool is filling"),
        (pool_size_zero_stores, "size 0"),
    ],
)
def test_pool_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_pool_query(wrong)


def identity_without_gradient(a, b, G_AB, G_BA):
    with torch.no_grad():
        return (G_AB(b) - b).abs().mean() + (G_BA(a) - a).abs().mean()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (identity_without_gradient, "both generators must learn"),
        (lambda a, b, G_AB, G_BA: (G_AB(b) - b).abs().mean() + (G_BA(a) - a).abs().mean().detach(), "G_BA's"),
    ],
)
def test_identity_check_requires_gradient_to_both_generators(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_identity_loss(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda r, f: (
                0.5 * ((r - 1).pow(2).mean() + f.pow(2).mean()).detach(),
                (f - 1).pow(2).mean().detach(),
            ),
            "keep their gradient",
        ),
        (
            lambda r, f: (
                0.5 * ((r - 1).pow(2).mean() + f.detach().pow(2).mean()),
                (f - 1).pow(2).mean(),
            ),
            "real \\*and\\* on the generated",
        ),
        (
            lambda r, f: (
                0.5 * ((r - 1).pow(2).mean() + f.pow(2).mean()),
                (f.detach() - 1).pow(2).mean() + 0 * f.sum(),
            ),
            "and only to those",
        ),
    ],
)
def test_lsgan_check_looks_at_the_gradients(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_lsgan_losses(wrong)
