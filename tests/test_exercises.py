"""Every exercise check accepts its reference solution and rejects plausible wrong answers, each with the
sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.pggan import check_fade_in, check_pixel_norm, check_stage

SOLUTIONS = Path(__file__).resolve().parents[1] / "lessons" / "solutions"


def solutions(lesson: str):
    spec = importlib.util.spec_from_file_location(lesson, SOLUTIONS / f"{lesson}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PGGAN = solutions("08_pggan")


@pytest.mark.parametrize(
    "check, answer",
    [(check_pixel_norm, PGGAN.pixel_norm), (check_fade_in, PGGAN.fade_in_output), (check_stage, PGGAN.stage)],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda x: x / torch.sqrt(x.pow(2).mean(dim=(1, 2, 3), keepdim=True) + 1e-8),
            "channels \\*and\\* pixels",
        ),
        (
            lambda x: (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-8),
            "mean square 1|not by the standard",
        ),
        (lambda x: x / torch.sqrt(x.pow(2).mean(dim=1, keepdim=True)), "epsilon"),
        (lambda x: x[:, :1], "shape"),
    ],
)
def test_pixel_norm_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_pixel_norm(wrong)


def up(x):
    return F.interpolate(x, scale_factor=2, mode="nearest")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda old, new, a: a * up(old) + (1 - a) * new, "weight of the \\*new\\* block"),
        (
            lambda old, new, a: (1 - a) * F.interpolate(old, scale_factor=2, mode="bilinear") + a * new,
            "nearest",
        ),
        (lambda old, new, a: (1 - a) * old + a * new[..., ::2, ::2], "new resolution"),
        (lambda old, new, a: (1 - a**2) * up(old) + a**2 * new, "blend linearly"),
    ],
)
def test_fade_in_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_fade_in(wrong)


def stage_without_stable_phases(kimg):
    if kimg < 600:
        return 4, 1.0
    r, t = 8, kimg - 600
    while t >= 600 and r < 32:
        r, t = r * 2, t - 600
    return r, min(t / 600, 1.0)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (stage_without_stable_phases, "should be at 8x8|should be at 16x16"),
        (lambda kimg: (PGGAN.stage(kimg)[0], 1 - PGGAN.stage(kimg)[1]), "alpha should be"),
        (lambda kimg: PGGAN.stage(kimg)[0], "pair"),
    ],
)
def test_stage_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_stage(wrong)


def test_grade_prints_the_verdict_and_a_stub_is_not_an_error(capsys):
    def pixel_norm(x):
        raise NotImplementedError

    assert grade(check_pixel_norm, pixel_norm) is False
    assert "not attempted" in capsys.readouterr().out
    assert grade(check_pixel_norm, lambda x: x) is False
    assert capsys.readouterr().out.startswith("x ")
    assert grade(check_pixel_norm, PGGAN.pixel_norm) is True
    show_solution("08_pggan", "stage")
    assert "def stage(kimg)" in capsys.readouterr().out
