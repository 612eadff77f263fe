"""Lesson 03's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.evaluation import check_frechet_distance, check_mmd2, check_precision_recall

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("03_evaluating_gans", SOLUTIONS / "03_evaluating_gans.py")
EVAL = importlib.util.module_from_spec(spec)
spec.loader.exec_module(EVAL)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_frechet_distance, EVAL.frechet_distance),
        (check_mmd2, EVAL.mmd2),
        (check_precision_recall, EVAL.precision_recall_knn),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def test_the_lessons_one_dimensional_example():
    assert EVAL.frechet_distance(np.zeros(1), np.eye(1), np.full(1, 3.0), 4 * np.eye(1)) == pytest.approx(
        10.0
    )


def fd_with(
    mean_term=lambda d: d @ d, cross=lambda s1, s2: np.trace(scipy.linalg.sqrtm(s1 @ s2).real), factor=2
):
    def frechet_distance(mu1, sigma1, mu2, sigma2):
        return float(mean_term(mu1 - mu2) + np.trace(sigma1 + sigma2) - factor * cross(sigma1, sigma2))

    return frechet_distance


@pytest.mark.parametrize(
    "wrong, message",
    [
        (fd_with(mean_term=lambda d: np.sqrt(d @ d)), "\\*squared\\* distance between the means"),
        (fd_with(factor=1), "left out the factor 2"),
        (
            fd_with(cross=lambda s1, s2: np.sqrt(np.abs(s1 * s2)).sum()),
            "right for diagonal covariances but not for full",
        ),
        (
            fd_with(cross=lambda s1, s2: np.trace(scipy.linalg.sqrtm(s1).real @ scipy.linalg.sqrtm(s2).real)),
            "right for diagonal covariances but not for full",
        ),
        (fd_with(cross=lambda s1, s2: np.trace(s1 @ s2)), "matrix square root"),
        (
            lambda m1, s1, m2, s2: (
                np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2)) + (m1 - m2) @ (m1 - m2) + 1j
            ),
            "complex",
        ),
        (lambda m1, s1, m2, s2: 10.0, "the distance is"),
        (lambda m1, s1, m2, s2: np.zeros(2), "one number"),
    ],
)
def test_frechet_distance_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_frechet_distance(wrong)


def mmd2_with(gamma=None, degree=3, biased=False, cross_off_diagonal=False, sign=1, same_size=False):
    def mmd2(x, y):
        m, n, d = len(x), len(y), x.shape[1]
        g = 1 / d if gamma is None else gamma
        k = lambda a, b: (a @ b.T * g + 1) ** degree  # noqa: E731
        kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
        if biased:
            within = kxx.sum() / m**2 + kyy.sum() / n**2
        else:
            n_y = m if same_size else n
            within = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (
                n_y * (n_y - 1)
            )
        c = (kxy.sum() - np.trace(kxy)) / (m * n - min(m, n)) if cross_off_diagonal else kxy.mean()
        return sign * float(within - 2 * c)

    return mmd2


@pytest.mark.parametrize(
    "wrong, message",
    [
        (mmd2_with(same_size=True), "n \\(n - 1\\) off-diagonal pairs"),
        (mmd2_with(biased=True), "biased estimate"),
        (mmd2_with(gamma=1.0), "1/D"),
        (mmd2_with(degree=2), "cubic"),
        (mmd2_with(cross_off_diagonal=True), "cross term keeps every pair"),
        (mmd2_with(sign=-1), "wrong sign"),
        (lambda x, y: 0.0, "MMD\\^2 is"),
    ],
)
def test_mmd2_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_mmd2(wrong)


def pr_nearest_ball_only(real, fake, k=3):
    real, fake = torch.as_tensor(real), torch.as_tensor(fake)
    rr = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    fr = torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values
    d_fr, d_rf = torch.cdist(fake, real), torch.cdist(real, fake)
    precision = (d_fr.min(1).values <= rr[d_fr.argmin(1)]).double().mean().item()
    recall = (d_rf.min(1).values <= fr[d_rf.argmin(1)]).double().mean().item()
    return precision, recall


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda r, f, k: EVAL.precision_recall_knn(r, f, k)[::-1], "swapped"),
        (lambda r, f, k: EVAL.precision_recall_knn(r, f, k - 1), "k-th \\*other\\* sample"),
        (pr_nearest_ball_only, "\\*any\\* ball of the other set"),
        (lambda r, f, k: (0.5, 0.5), "precision is"),
        (lambda r, f, k: (1.0, 1.0), "recall is"),
        (lambda r, f, k: (EVAL.precision_recall_knn(r, f, k)[0], 0.5), "recall is"),
        (lambda r, f, k: EVAL.precision_recall_knn(r, f, k)[0], "pair"),
    ],
)
def test_precision_recall_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_precision_recall(wrong)


def test_grade_on_a_stub_and_show_solution(capsys):
    def mmd2(x, y):
        raise NotImplementedError

    assert not grade(check_mmd2, mmd2)
    assert "not attempted" in capsys.readouterr().out
    assert grade(check_mmd2, EVAL.mmd2)
    show_solution("03_evaluating_gans", "frechet_distance")
    assert "sqrtm" in capsys.readouterr().out
