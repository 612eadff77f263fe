"""Lesson 06's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.ada import check_ada_update, check_overfitting_rt, check_rotate90

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("06_ada", SOLUTIONS / "06_ada.py")
ADA = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ADA)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_overfitting_rt, ADA.overfitting_rt),
        (check_ada_update, ADA.ada_update),
        (check_rotate90, ADA.rotate90),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda d: (d > 0).float().mean(), "accuracy on the reals"),
        (lambda d: torch.sigmoid(d).mean(), "not the sigmoid"),
        (lambda d: d.mean(), "not D\\(x\\) itself"),
        (lambda d: torch.sign(d.mean()), "sign of each output, then the mean"),
        (lambda d: 0.6, "r_t should be"),
        (lambda d: torch.sign(d), "one number"),
    ],
)
def test_overfitting_rt_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_overfitting_rt(wrong)


def step(n, kimg):
    return n / (kimg * 1000)


def sign(rt, target):
    return (rt > target) - (rt < target)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda p, rt, t, n, k: min(1.0, max(0.0, p - sign(rt, t) * step(n, k))), "wrong direction"),
        (lambda p, rt, t, n, k: p + sign(rt, t) * step(n, k), "outside \\[0, 1\\].*clamp it"),
        (lambda p, rt, t, n, k: min(1.0, max(0.0, p + (rt - t) * step(n, k))), "not proportionally"),
        (lambda p, rt, t, n, k: min(1.0, max(0.0, p + sign(rt, t) * n / k)), "kimg counts thousands"),
        (
            lambda p, rt, t, n, k: min(1.0, max(0.0, p + (1 if rt >= t else -1) * step(n, k))),
            "equals the target, p stays",
        ),
        (lambda p, rt, t, n, k: 0.5, "should become"),
    ],
)
def test_ada_update_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_ada_update(wrong)


def rotate_by(k_of):
    """A rotate90 answer whose angle per image (in quarter turns) is ``k_of(batch, p)``."""

    def answer(x, p):
        k = k_of(x.shape[0], p)
        return torch.stack([img.rot90(int(q), (1, 2)) for img, q in zip(x, k)])

    return answer


def drawn(b, p):
    return torch.rand(b) < p


@pytest.mark.parametrize(
    "wrong, message",
    [
        # forgets that a drawn op may pick 0 degrees: too few upright images at p = 1
        (
            rotate_by(lambda b, p: torch.where(drawn(b, p), torch.randint(1, 4, (b,)), 0)),
            "0 degrees included",
        ),
        # one draw for the whole batch
        (
            rotate_by(lambda b, p: torch.full((b,), int(torch.randint(4, ())) if torch.rand(()) < p else 0)),
            "drawn on its own",
        ),
        # always a quarter turn when drawn
        (rotate_by(lambda b, p: drawn(b, p).long()), "stayed upright"),
        # the probability applies to the identity (1 - p)
        (rotate_by(lambda b, p: torch.where(~drawn(b, p), torch.randint(4, (b,)), 0)), "at p = 0 no image"),
        # a vertical flip, or a flip of the channels, is not a rotation of the image
        (lambda x, p: torch.where(drawn(x.shape[0], p).view(-1, 1, 1, 1), x.flip(2), x), "nothing else"),
        (lambda x, p: torch.where(drawn(x.shape[0], p).view(-1, 1, 1, 1), x.flip(1), x), "image plane"),
        (lambda x, p: x[:, :1], "shape"),
        (lambda x, p: x, "no image was rotated"),
    ],
)
def test_rotate90_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_rotate90(wrong)


def test_rotate90_reference_matches_the_toolkit_statistics():
    """The reference keeps the upright share the toolkit's AdaptiveAugment(ops=('rotate90',)) keeps."""
    from toolkit.augment import AdaptiveAugment

    torch.manual_seed(0)
    x = torch.arange(16.0).view(1, 1, 4, 4).repeat(2000, 1, 1, 1)
    for p in (0.3, 1.0):
        ours = (ADA.rotate90(x, p) == x).flatten(1).all(1).float().mean()
        theirs = (
            (AdaptiveAugment(p=p, ops=("rotate90",))(x) - x).flatten(1).abs().amax(1).lt(1e-4).float().mean()
        )
        assert abs(ours - theirs) < 0.05


def test_grade_says_not_attempted_for_a_stub(capsys):
    def rotate90(x, p):
        raise NotImplementedError

    assert not grade(check_rotate90, rotate90)
    assert "not attempted" in capsys.readouterr().out
    show_solution("06_ada", "ada_update")
    assert "def ada_update" in capsys.readouterr().out
