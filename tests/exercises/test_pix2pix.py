"""Lesson 09's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.pix2pix import check_discriminator_loss, check_generator_loss, check_patch_output_size

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
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


def ls(logits, target=1.0):
    return (logits - target).pow(2).mean()


def l1(f, b):
    return (f - b).abs().mean()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda D, a, f, b, w: ls(D(f)) + w * l1(f, b), "conditional"),
        (lambda D, a, f, b, w: F.softplus(-D(cat(a, f))).mean() + w * l1(f, b), "cross-entropy GAN term"),
        (lambda D, a, f, b, w: ls(D(cat(f, a))) + w * l1(f, b), "input first"),
        (lambda D, a, f, b, w: ls(D(cat(a, b))) + w * l1(f, b), "not the real"),
        (lambda D, a, f, b, w: ls(D(cat(a, f)), 0.0) + w * l1(f, b), "towards 1"),
        (lambda D, a, f, b, w: 0.5 * ls(D(cat(a, f))) + w * l1(f, b), "only D's loss is halved"),
        (lambda D, a, f, b, w: ls(D(cat(a, f))) + w * (f - b).pow(2).mean(), "not the squared"),
        (lambda D, a, f, b, w: ls(D(cat(a, f))) + l1(f, b), "l1_weight"),
        (lambda D, a, f, b, w: w * l1(f, b), "GAN term is missing"),
        (lambda D, a, f, b, w: w * l1(f.detach(), b), "GAN term is missing"),
        (lambda D, a, f, b, w: ls(D(cat(a, f))) + w * (f - b).abs().sum(), "do not sum"),
        (lambda D, a, f, b, w: ls(D(cat(a, f.detach()))) + w * l1(f.detach(), b), "do not detach"),
        (lambda D, a, f, b, w: ls(D(cat(a, f))) + 100 * l1(f, b), "l1_weight"),
        (lambda D, a, f, b, w: (f - b).abs().mean(dim=(1, 2, 3)), "0-d tensor"),
    ],
)
def test_generator_loss_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_generator_loss(wrong)


def smoothed(real_logits, fake_logits, real_label=0.9):
    real = real_label * F.softplus(-real_logits) + (1 - real_label) * F.softplus(real_logits)
    return 0.5 * (real.mean() + F.softplus(fake_logits).mean())


def fake_branch_without_gradient(D, a, b, f):
    with torch.no_grad():
        fake_logits = D(cat(a, f))
    return smoothed(D(cat(a, b)), fake_logits)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda D, a, b, f: smoothed(D(cat(a, b)), D(cat(a, f.detach())), 1.0), "real label 1"),
        (
            lambda D, a, b, f: (
                smoothed(D(cat(a, b)), D(cat(a, f.detach())))
                + 0.05
                * (F.softplus(-D(cat(a, f.detach()))).mean() - F.softplus(D(cat(a, f.detach()))).mean())
            ),
            "one-sided",
        ),
        (lambda D, a, b, f: 2 * smoothed(D(cat(a, b)), D(cat(a, f.detach()))), "halve"),
        (lambda D, a, b, f: smoothed(-D(cat(a, b)), -D(cat(a, f.detach()))), "wrong way round"),
        (lambda D, a, b, f: smoothed(D(cat(b, a)), D(cat(f.detach(), a))), "input first"),
        (lambda D, a, b, f: smoothed(D(b), D(f.detach())), "conditional"),
        (lambda D, a, b, f: smoothed(D(cat(a, b)), D(cat(a, f))), "use fake.detach"),
        (fake_branch_without_gradient, "never learns from the generated pairs"),
        (lambda D, a, b, f: smoothed(D(cat(a, b)).detach(), D(cat(a, f.detach()))), "gradient of both"),
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
    assert grade(check_patch_output_size, PIX2PIX.patch_output_size)
    assert not grade(check_patch_output_size, lambda size, n: size // 2**n)
    assert capsys.readouterr().out.splitlines()[-1].startswith("x ")
    show_solution("09_pix2pix", "pix2pix_d_loss")
    assert "fake.detach()" in capsys.readouterr().out
