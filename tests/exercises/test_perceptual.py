"""Lesson 12's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.perceptual import (
    check_centred_gram,
    check_gram_matrix,
    check_style_loss,
    check_total_variation,
)

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("12_perceptual_loss", SOLUTIONS / "12_perceptual_loss.py")
REF = importlib.util.module_from_spec(spec)
spec.loader.exec_module(REF)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_gram_matrix, REF.gram_matrix),
        (check_total_variation, REF.total_variation),
        (check_style_loss, REF.style_loss),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def flat(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h * w), (n, c, h, w)


def gram_unnormalised(x):
    f, _ = flat(x)
    return f @ f.transpose(1, 2)


def gram_hw(x):
    f, (n, c, h, w) = flat(x)
    return f @ f.transpose(1, 2) / (h * w)


def gram_tutorial(x):  # the PyTorch tutorial divides by the batch size too
    f, (n, c, h, w) = flat(x)
    return f @ f.transpose(1, 2) / (n * c * h * w)


def gram_transposed(x):
    f, (n, c, h, w) = flat(x)
    return f.transpose(1, 2) @ f / (c * h * w)


def gram_batch_mixed(x):
    n, c, h, w = x.shape
    f = x.view(c, -1)  # mixes the images (and the channels) of the batch
    return f @ f.T / (c * h * w)


def gram_mixed_expanded(x):
    n, c, h, w = x.shape
    f = x.transpose(0, 1).reshape(c, -1)
    return (f @ f.T / (n * c * h * w)).expand(n, c, c)


def gram_detached(x):
    return torch.from_numpy(REF.gram_matrix(x).detach().numpy())


def gram_wrong_reshape(x):
    n, c, h, w = x.shape
    f = x.reshape(n, h * w, c).transpose(1, 2)  # the wrong memory order
    return f @ f.transpose(1, 2) / (c * h * w)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (gram_unnormalised, "normalise"),
        (gram_hw, "not only by H"),
        (gram_tutorial, "batch size"),
        (gram_transposed, "F\\^T F"),
        (gram_batch_mixed, "one Gram matrix per image"),
        (gram_mixed_expanded, "do not mix"),
        (gram_detached, "gradient"),
        (gram_wrong_reshape, "f @ f.transpose"),
        (lambda x: REF.gram_matrix(x).numpy() if not x.requires_grad else REF.gram_matrix(x), "torch tensor"),
    ],
)
def test_gram_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_gram_matrix(wrong)


def dydx(x):
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x: 2 * (dydx(x)[0].pow(2).mean() + dydx(x)[1].pow(2).mean()), "twice"),
        (lambda x: dydx(x)[0].pow(2).sum() + dydx(x)[1].pow(2).sum(), "do not sum"),
        (lambda x: dydx(x)[0].abs().mean() + dydx(x)[1].abs().mean(), "square the differences"),
        (lambda x: dydx(x)[0].pow(2).mean(), "horizontal"),
        (lambda x: dydx(x)[1].pow(2).mean(), "vertical"),
        (lambda x: (dydx(x)[0].pow(2).mean() + dydx(x)[1].pow(2).mean()) / 2, "do not average"),
        (lambda x: (x.roll(1, -2) - x).pow(2).mean() + (x.roll(1, -1) - x).pow(2).mean(), "wraps"),
        (
            lambda x: (dydx(x)[0][..., :, :-1].pow(2) + dydx(x)[1][..., :-1, :].pow(2)).sqrt().mean(),
            "total variation =",
        ),
        (
            lambda x: dydx(x)[0].pow(2).mean(dim=(1, 2, 3)) + dydx(x)[1].pow(2).mean(dim=(1, 2, 3)),
            "one number",
        ),
        (lambda x: x.mean().abs(), "constant"),
        (lambda x: float(dydx(x)[0].pow(2).mean() + dydx(x)[1].pow(2).mean()), "torch tensor"),
        (lambda x: (dydx(x)[0].pow(2).mean() + dydx(x)[1].pow(2).mean()).detach(), "gradient"),
    ],
)
def test_total_variation_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_total_variation(wrong)


def per_layer(features, targets):
    return {k: (REF.gram_matrix(f) - targets[k]).pow(2).sum(dim=(1, 2)) for k, f in features.items()}


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda f, t: per_layer(f, t)["relu1"].mean(), "not only the first"),
        (lambda f, t: per_layer(f, t)["relu2"].mean(), "not only the last"),
        (lambda f, t: sum((REF.gram_matrix(v) - t[k]).pow(2).mean() for k, v in f.items()), "Frobenius"),
        (lambda f, t: sum(p.sqrt().mean() for p in per_layer(f, t).values()), "no square root"),
        (lambda f, t: sum(p.sum() for p in per_layer(f, t).values()), "do not sum"),
        (
            lambda f, t: sum((REF.gram_matrix(v) - t[k]).abs().sum(dim=(1, 2)).mean() for k, v in f.items()),
            "absolute",
        ),
        (
            lambda f, t: sum(p.mean() for p in per_layer({k: v.detach() for k, v in f.items()}, t).values()),
            "detach",
        ),
        (lambda f, t: sum(p for p in per_layer(f, t).values()), "0-d tensor"),
        (
            lambda f, t: sum(
                (REF.gram_matrix(v) * v.shape[1] * v.shape[2] * v.shape[3] - t[k])
                .pow(2)
                .sum(dim=(1, 2))
                .mean()
                for k, v in f.items()
            ),
            "the style loss is",
        ),
        (lambda f, t: np.float64(0.0), "torch tensor"),
    ],
)
def test_style_loss_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_style_loss(wrong)


def test_grade_and_show_solution(capsys):
    assert grade(check_gram_matrix, REF.gram_matrix)
    assert not grade(check_gram_matrix, gram_unnormalised)
    assert capsys.readouterr().out.splitlines()[-1].startswith("x ")

    def stub(x):
        raise NotImplementedError

    assert not grade(check_total_variation, stub)
    assert "not attempted" in capsys.readouterr().out
    show_solution("12_perceptual_loss", "gram_matrix")
    assert "c * h * w" in capsys.readouterr().out


def centred_with(mean_dims=(2,), divide=lambda c, hw: c * hw):
    def centred_gram(features):
        n, c, h, w = features.shape
        f = features.reshape(n, c, h * w)
        f = f - f.mean(dim=mean_dims, keepdim=True) if mean_dims else f
        return f @ f.transpose(1, 2) / divide(c, h * w)

    return centred_gram


@pytest.mark.parametrize(
    "wrong, message",
    [
        (centred_with(mean_dims=()), "section 2's Gram matrix"),
        (centred_with(mean_dims=(0, 2)), "each image's own channel means"),
        (centred_with(mean_dims=(1,)), "not the mean over the channels"),
        (centred_with(divide=lambda c, hw: 1), "normalise"),
        (centred_with(divide=lambda c, hw: hw - 1), "unbiased"),
        (lambda x: centred_with()(x).detach(), "keep its gradient"),
        (lambda x: centred_with()(x)[0], "return \\(3, 4, 4\\)"),
    ],
)
def test_centred_gram_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_centred_gram(wrong)


def test_centred_gram_reference_passes():
    check_centred_gram(REF.centred_gram)
