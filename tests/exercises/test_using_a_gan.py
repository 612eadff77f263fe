"""Lesson 15's checks accept the reference solutions and reject plausible wrong answers with the sentence
that says what is wrong."""

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from toolkit.exercises import WrongAnswer
from toolkit.exercises.using_a_gan import check_projector_lr, check_remove_component, check_shell_penalty

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("15_using_a_gan", SOLUTIONS / "15_using_a_gan.py")
REFERENCE = importlib.util.module_from_spec(spec)
spec.loader.exec_module(REFERENCE)


def test_reference_solutions_pass():
    check_projector_lr(REFERENCE.projector_lr)
    check_shell_penalty(REFERENCE.shell_penalty)
    check_remove_component(REFERENCE.remove_component)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda step, steps, initial: initial, "warm-up"),
        (lambda step, steps, initial: initial * min(1.0, step / steps / 0.05), "last quarter"),
        (
            lambda step, steps, initial: (
                initial * min(1.0, step / steps / 0.05) * min(1.0, (1 - step / steps) / 0.25)
            ),  # linear ramp-down, not a cosine
            "0.5 - 0.5 cos",
        ),
    ],
)
def test_projector_lr_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_projector_lr(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda z: z.square().sum(1) / z.shape[1], "pulls z towards 0"),
        (lambda z: (z.norm(dim=1) - 1).square(), "divide \\|z\\|\\^2 by the dimension"),
        (lambda z: (z.square().sum() / z.numel() - 1).square(), "one value per latent"),
        (lambda z: (z.square().sum(1) / z.shape[1] - 1).abs(), "want \\(\\|z\\|\\^2 / d - 1\\)\\^2"),
    ],
)
def test_shell_penalty_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_shell_penalty(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda p, c: p - c, "orthogonal"),
        (lambda p, c: p - (p @ c) * c, "unit length"),
        (lambda p, c: -(p - (p @ c) * c) / (p - (p @ c) * c).norm(), "keep the primary's sign"),
        (lambda p, c: c - (c @ p) * p, "orthogonal"),
    ],
)
def test_remove_component_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_remove_component(wrong)


def test_the_schedule_the_check_wants_is_the_reference_projectors():
    assert REFERENCE.projector_lr(0, 100, 0.1) == 0.0
    assert REFERENCE.projector_lr(50, 100, 0.1) == pytest.approx(0.1)
    assert REFERENCE.projector_lr(875, 1000, 0.1) == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(math.pi / 2)))
    assert torch.equal(REFERENCE.shell_penalty(torch.zeros(2, 4)), torch.ones(2))
