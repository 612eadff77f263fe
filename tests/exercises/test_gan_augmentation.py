"""Lesson 13's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.gan_augmentation import check_class_weights, check_keep_confident, check_macro_f1

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("13_gan_augmentation", SOLUTIONS / "13_gan_augmentation.py")
SOL = importlib.util.module_from_spec(spec)
spec.loader.exec_module(SOL)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_macro_f1, SOL.macro_f1),
        (check_class_weights, SOL.class_weights),
        (check_keep_confident, SOL.keep_confident),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def _pr(cm):
    cm = cm.double()
    return cm.diagonal() / cm.sum(0), cm.diagonal() / cm.sum(1)


def micro(cm):
    return (cm.diagonal().sum() / cm.sum()).item()


def weighted(cm):
    p, r = _pr(cm)
    f1 = torch.nan_to_num(2 * p * r / (p + r))
    w = cm.sum(1).double() / cm.sum()
    return (f1 * w).sum().item()


def nan_f1(cm):
    p, r = _pr(cm)
    return (2 * p * r / (p + r)).mean().item()


def mean_recall(cm):
    return _pr(cm)[1].mean().item()


def f1_of_means(cm):
    p, r = (torch.nan_to_num(v).mean() for v in _pr(cm))
    return (2 * p * r / (p + r)).item()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (micro, "micro F1"),
        (weighted, "weighted by class size"),
        (nan_f1, "NaN"),
        (mean_recall, "mean recall"),
        (f1_of_means, "mean over classes of 2 P R"),
    ],
)
def test_macro_f1_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_macro_f1(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda y, k: torch.bincount(y, minlength=k).double() / len(y), "invert them"),
        (lambda y, k: 1.0 / torch.bincount(y, minlength=k).double(), "scale is not"),
        (lambda y, k: (w := 1.0 / torch.bincount(y, minlength=k).double()) / w.sum(), "scale is not"),
        (lambda y, k: len(y) / torch.bincount(y, minlength=k).double(), "scale is not"),
        (lambda y, k: torch.ones(k + 1), "one weight per class"),
        (lambda y, k: len(y) / (k * torch.bincount(y, minlength=k).double().sqrt()), "N / \\(K \\* N_c\\)"),
    ],
)
def test_class_weights_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_class_weights(wrong)


def top_overall(labels, probs, n):
    own = probs[torch.arange(len(labels)), labels]
    return own.argsort(descending=True)[: n * len(labels.unique())]


def top_by_max(labels, probs, n):
    score = probs.max(1).values
    return torch.cat(
        [
            (m := torch.nonzero(labels == c).view(-1))[score[m].argsort(descending=True)[:n]]
            for c in labels.unique()
        ]
    )


def least_confident(labels, probs, n):
    own = probs[torch.arange(len(labels)), labels]
    return torch.cat(
        [(m := torch.nonzero(labels == c).view(-1))[own[m].argsort()[:n]] for c in labels.unique()]
    )


@pytest.mark.parametrize(
    "wrong, message",
    [
        (top_overall, "n per class"),
        (top_by_max, "its own label"),
        (least_confident, "highest probs"),
        (lambda labels, probs, n: torch.arange(n), "12 indices"),
    ],
)
def test_keep_confident_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_keep_confident(wrong)


def test_stub_is_not_attempted_and_solutions_are_shown(capsys):
    def macro_f1(cm):
        raise NotImplementedError

    assert not grade(check_macro_f1, macro_f1)
    assert "not attempted" in capsys.readouterr().out
    assert grade(check_macro_f1, SOL.macro_f1)
    show_solution("13_gan_augmentation", "keep_confident")
    assert "argsort(descending=True)" in capsys.readouterr().out
