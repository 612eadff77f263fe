"""Lesson 04's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.conditional import (
    check_class_cross_entropy,
    check_projection_scores,
    check_truncated_z,
)

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("04_conditional_gan", SOLUTIONS / "04_conditional_gan.py")
COND = importlib.util.module_from_spec(spec)
spec.loader.exec_module(COND)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_projection_scores, COND.projection_scores),
        (check_class_cross_entropy, COND.class_cross_entropy),
        (check_truncated_z, COND.truncated_z),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def test_other_correct_answers_pass():
    check_projection_scores(
        lambda D, x: (
            torch.stack([D(x, torch.full((len(x),), c)) for c in range(D.num_classes)], 1)
            - D.body.head(D.body.features(x)).view(-1, 1)
        )
    )
    check_class_cross_entropy(
        lambda logits, t: (logits.logsumexp(1) - logits.gather(1, t[:, None])[:, 0]).mean()
    )


def phi(D, x):
    return D.body.features(x).flatten(1)


def own_label_term(D, x):
    y = torch.arange(len(x)) % D.num_classes
    return (D.embed(y) * phi(D, x)).sum(1)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda D, x: torch.stack([D(x, torch.full((len(x),), c)) for c in range(D.num_classes)], 1),
            "whole",
        ),
        (lambda D, x: phi(D, x) @ D.embed.weight.T / phi(D, x).shape[1], "you averaged them"),
        (lambda D, x: (phi(D, x) @ D.embed.weight.T).softmax(1), "not a softmax"),
        (own_label_term, "every class"),
        (lambda D, x: D.embed.weight @ phi(D, x).T, "rows are the images"),
        (lambda D, x: (phi(D, x) @ D.embed.weight.T)[:, :-1], "shape \\(B, C\\)"),
        (lambda D, x: torch.zeros(len(x), D.num_classes), "should be"),
    ],
)
def test_projection_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_projection_scores(wrong)


def rows(t):
    return torch.arange(len(t))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda logits, t: F.cross_entropy(logits, t), "write the cross-entropy yourself"),
        (lambda logits, t: torch.nn.CrossEntropyLoss()(logits, t), "write the cross-entropy yourself"),
        (lambda logits, t: logits.log_softmax(1)[rows(t), t].mean(), "sign is flipped"),
        (lambda logits, t: -logits.log_softmax(1)[rows(t), t].sum(), "do not sum"),
        (lambda logits, t: -logits[rows(t), t].mean(), "not log-probabilities"),
        (lambda logits, t: -logits.log_softmax(0)[rows(t), t].mean(), "not over the batch \\(dim=0\\)"),
        (lambda logits, t: -logits.log_softmax(1).mean(), "\\*own\\* target class"),
        (lambda logits, t: -logits.softmax(1)[rows(t), t].mean(), "take the log"),
        (lambda logits, t: -logits.log_softmax(1)[rows(t), t], "one number"),
        (lambda logits, t: -torch.log(logits.softmax(1))[rows(t), t].mean(), "underflows"),
        (
            lambda logits, t: -torch.log(logits.exp() / logits.exp().sum(1, keepdim=True))[rows(t), t].mean(),
            "inf or nan",
        ),
    ],
)
def test_cross_entropy_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_class_cross_entropy(wrong)


def test_cross_entropy_check_restores_the_library():
    with pytest.raises(WrongAnswer):
        check_class_cross_entropy(lambda logits, t: F.cross_entropy(logits, t))
    logits, t = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    assert torch.isfinite(F.cross_entropy(logits, t)) and torch.isfinite(
        torch.nn.CrossEntropyLoss()(logits, t)
    )


def redraw_once(n, d, t):
    z = torch.randn(n, d)
    beyond = z.abs() > t
    z[beyond] = torch.randn(int(beyond.sum()))
    return z


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda n, d, t: torch.randn(n, d).clamp(-t, t), "clamping"),
        (redraw_once, "one redraw is not enough"),
        (lambda n, d, t: torch.randn(n, d) * t, "beyond"),
        (lambda n, d, t: (torch.rand(n, d) * 2 - 1) * t, "uniform"),
        (lambda n, d, t: torch.randn(n, d).abs() % t, "centred on 0"),
        (lambda n, d, t: torch.fmod(torch.randn(n, d), t), "standard deviation"),
        (lambda n, d, t: (lambda z: z[z.abs() < t])(torch.randn(n * d)), "do not drop them"),
        (lambda n, d, t: torch.zeros(n, d), "must be random"),
        (
            lambda n, d, t: (torch.manual_seed(0), COND.truncated_z(n, d, t))[1],
            "do not reseed",
        ),
    ],
)
def test_truncation_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_truncated_z(wrong)


def test_stubs_are_not_attempted_and_solutions_print(capsys):
    def projection_scores(D, x):
        raise NotImplementedError

    assert not grade(check_projection_scores, projection_scores)
    assert "not attempted" in capsys.readouterr().out
    assert grade(check_projection_scores, COND.projection_scores)
    show_solution("04_conditional_gan", "class_cross_entropy")
    assert "log_softmax" in capsys.readouterr().out


def test_toolkit_truncated_normal_respects_the_threshold():
    from toolkit.truncation import truncated_normal

    g = torch.Generator().manual_seed(0)
    z = truncated_normal(500, 8, 0.7, generator=g)
    assert z.shape == (500, 8) and z.abs().max() <= 0.7
    assert truncated_normal(3, 2, None).shape == (3, 2)
    with pytest.raises(ValueError, match="positive"):
        truncated_normal(3, 2, 0.0)
