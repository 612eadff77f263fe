"""Lesson 07's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.diffusion_gan import check_alpha_bar, check_diffuse, check_next_T

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("07_diffusion_gan", SOLUTIONS / "07_diffusion_gan.py")
DGAN = importlib.util.module_from_spec(spec)
spec.loader.exec_module(DGAN)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_alpha_bar, DGAN.alpha_bar_from_betas),
        (check_diffuse, DGAN.diffuse),
        (check_next_T, DGAN.next_T),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def one_first(values):
    return torch.cat([torch.ones(1, dtype=values.dtype), values])


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda b: torch.cumprod(1 - b, 0), "alpha_bar\\[0\\] = 1 .* comes first"),
        (lambda b: one_first(torch.cumprod(1 - b, 0)).sqrt(), "sqrt\\(alpha_bar\\)"),
        (lambda b: one_first(torch.cumprod(b, 0)), "not the beta_s"),
        (lambda b: one_first(1 - b.cumsum(0)), "not 1 minus their sum"),
        (lambda b: one_first(1 - b), "cumulative"),
        (lambda b: torch.ones(b.numel() + 1), "should start"),
        (lambda b: [1.0] * (b.numel() + 1), "return a tensor"),
    ],
)
def test_alpha_bar_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_alpha_bar(wrong)


def per_image(alpha_bar, t):
    return alpha_bar[t].view(-1, 1, 1, 1)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x, t, ab, s, e: ab[t] ** 0.5 * x + (1 - ab[t]) ** 0.5 * s * e, "broadcast"),
        (
            lambda x, t, ab, s, e: per_image(ab, t) * x + (1 - per_image(ab, t)).sqrt() * s * e,
            "not alpha_bar",
        ),
        (lambda x, t, ab, s, e: per_image(ab, t).sqrt() * x + (1 - per_image(ab, t)) * s * e, "variance"),
        (lambda x, t, ab, s, e: per_image(ab, t).sqrt() * x + (1 - per_image(ab, t)).sqrt() * e, "by sigma"),
        (
            lambda x, t, ab, s, e: (
                per_image(ab, t).sqrt() * x + (1 - per_image(ab, t)).sqrt() * s * torch.randn_like(x)
            ),
            "noise. you are given",
        ),
        (
            lambda x, t, ab, s, e: (
                per_image(ab, t - 1).sqrt() * x + (1 - per_image(ab, t - 1)).sqrt() * s * e
            ),
            "t = 0 the image must come back unchanged",
        ),
        (
            lambda x, t, ab, s, e: (
                per_image(ab, t + 1).sqrt() * x + (1 - per_image(ab, t + 1)).sqrt() * s * e
            ),
            "index alpha_bar by t itself",
        ),
        (
            lambda x, t, ab, s, e: (
                ab[t].view(1, 1, 1, -1).sqrt() * x + (1 - ab[t].view(1, 1, 1, -1)).sqrt() * s * e
            ),
            "broadcast over the image's width",
        ),
        (lambda x, t, ab, s, e: x, "x_t should be"),
    ],
)
def test_diffuse_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_diffuse(wrong)


def the_step(n, kimg):
    return n / (kimg * 1000)


def sign(rt, target):
    return (rt > target) - (rt < target)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda T, rt, tg, n, k, lo, hi: min(hi, max(lo, T - sign(rt, tg) * the_step(n, k) * (hi - lo))),
            "wrong direction",
        ),
        (
            lambda T, rt, tg, n, k, lo, hi: min(hi, max(lo, T + sign(rt, tg) * the_step(n, k))),
            "times \\(t_max",
        ),
        (
            lambda T, rt, tg, n, k, lo, hi: T + sign(rt, tg) * the_step(n, k) * (hi - lo),
            "left \\[t_min, t_max\\]",
        ),
        (
            lambda T, rt, tg, n, k, lo, hi: min(hi, max(0, T + sign(rt, tg) * the_step(n, k) * (hi - lo))),
            "fell below t_min",
        ),
        (
            lambda T, rt, tg, n, k, lo, hi: min(hi, max(lo, T + (rt - tg) * the_step(n, k) * (hi - lo))),
            "not proportionally",
        ),
        (
            lambda T, rt, tg, n, k, lo, hi: min(
                hi, max(lo, T + (1 if rt >= tg else -1) * the_step(n, k) * (hi - lo))
            ),
            "equals the target",
        ),
        (lambda T, rt, tg, n, k, lo, hi: (T, rt), "one number"),
    ],
)
def test_next_T_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_next_T(wrong)


def test_grade_says_not_attempted_for_a_stub(capsys):
    def diffuse(x, t, alpha_bar, sigma, noise):
        raise NotImplementedError

    assert not grade(check_diffuse, diffuse)
    assert "not attempted" in capsys.readouterr().out
    show_solution("07_diffusion_gan", "next_T")
    assert "def next_T" in capsys.readouterr().out
