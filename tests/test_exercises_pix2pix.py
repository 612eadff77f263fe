"""Lesson 09's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.pix2pix import check_discriminator_loss, check_generator_loss, check_patch_output_size

SOLUTIONS = Path(__file__).resolve().parents[1] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("09_pix2pix", SOLUTIONS / "09_pix2pix.py")
PIX2PIX = importlib.util.module_from_spec(spec)
spec.loader.exec_module(PIX2PIX)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_generator_loss, PIX2PIX.pix2pix_g_loss),
        (check_discriminator_loss, PIX2PIX.pix2pix_d_loss),
        (check_patch_output_size, PIX2PIX.patch_output_size),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def cat(*x):
    return torch.cat(x, dim=1)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda D, a, f, b, w: F.softplus(-D(f)).mean() + w * (f - b).abs().mean(), "conditional"),
        (lambda D, a, f, b, w: F.softplus(-D(cat(f, a))).mean() + w * (f - b).abs().mean(), "input first"),
        (lambda D, a, f, b, w: F.softplus(-D(cat(a, b))).mean() + w * (f - b).abs().mean(), "not the real"),
        (
            lambda D, a, f, b, w: F.softplus(-D(cat(a, f))).mean() + w * (f - b).pow(2).mean(),
            "not the squared",
        ),
        (lambda D, a, f, b, w: F.softplus(-D(cat(a, f))).mean() + (f - b).abs().mean(), "l1_weight"),
        (lambda D, a, f, b, w: -F.softplus(D(cat(a, f))).mean() + w * (f - b).abs().mean(), "non-saturating"),
        (lambda D, a, f, b, w: w * (f - b).abs().mean(), "GAN term is missing"),
        (lambda D, a, f, b, w: w * (f.detach() - b).abs().mean(), "GAN term is missing"),
        (lambda D, a, f, b, w: F.softplus(-D(cat(a, f))).mean() + w * (f - b).abs().sum(), "do not sum"),
        (
            lambda D, a, f, b, w: (
                F.softplus(-D(cat(a, f.detach()))).mean() + w * (f.detach() - b).abs().mean()
            ),
            "do not detach",
        ),
        (lambda D, a, f, b, w: F.softplus(-D(cat(a, f))).mean() + 100 * (f - b).abs().mean(), "l1_weight"),
        (lambda D, a, f, b, w: (f - b).abs().mean(dim=(1, 2, 3)), "0-d tensor"),
    ],
)
def test_generator_loss_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_generator_loss(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda D, a, b, f: F.softplus(-D(cat(a, b))).mean() + F.softplus(D(cat(a, f.detach()))).mean(),
            "halve",
        ),
        (
            lambda D, a, b, f: (
                0.5 * (F.softplus(D(cat(a, b))).mean() + F.softplus(-D(cat(a, f.detach()))).mean())
            ),
            "wrong way round",
        ),
        (
            lambda D, a, b, f: (
                0.5 * (F.softplus(-D(cat(b, a))).mean() + F.softplus(D(cat(f.detach(), a))).mean())
            ),
            "input first",
        ),
        (
            lambda D, a, b, f: 0.5 * (F.softplus(-D(b)).mean() + F.softplus(D(f.detach())).mean()),
            "conditional",
        ),
        (
            lambda D, a, b, f: 0.5 * (F.softplus(-D(cat(a, b))).mean() + F.softplus(D(cat(a, f))).mean()),
            "detach",
        ),
    ],
)
def test_discriminator_loss_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_discriminator_loss(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda size, n: size // 2**n, "stride 1"),
        (lambda size, n: size / 2**n - 2, "whole number"),
        (lambda size, n: size // 8 - 2, "depends on n_layers"),
        (lambda size, n: size // 2**n - 1, "gives a"),
    ],
)
def test_patch_output_size_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_patch_output_size(wrong)


def test_grade_and_show_solution(capsys):
    assert grade(check_patch_output_size, PIX2PIX.patch_output_size) is True
    assert grade(check_patch_output_size, lambda size, n: size // 2**n) is False
    assert capsys.readouterr().out.splitlines()[-1].startswith("x ")
    show_solution("09_pix2pix", "pix2pix_d_loss")
    assert "fake.detach()" in capsys.readouterr().out
