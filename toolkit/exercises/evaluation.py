"""Checks for lesson 03 (evaluating GANs). Each takes the learner's function and raises WrongAnswer on a
mistake. The reference values come from the toolkit's own metrics (``toolkit.metrics``)."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from ..metrics import frechet_distance, frechet_distance_from_stats
from ..metrics.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel
from ..metrics.prdc import prdc, precision_recall
from . import expect, refuses


def _close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    return bool(abs(a - b) <= atol + rtol * abs(b))


def _number(got, what: str) -> float:
    expect(not isinstance(got, (tuple, list, dict)), f"return {what} as one number")
    value = complex(np.asarray(got).item()) if np.asarray(got).size == 1 else None
    expect(value is not None, f"return {what} as one number, not an array of shape {np.shape(got)}")
    expect(
        abs(value.imag) < 1e-6 * max(1.0, abs(value.real)),
        f"your {what} is complex: scipy.linalg.sqrtm can return tiny imaginary parts; keep the real part",
    )
    return float(value.real)


def _random_cov(rng: np.random.RandomState, d: int) -> np.ndarray:
    a = rng.randn(d, d)
    return a @ a.T / d + 0.1 * np.eye(d)


@refuses(
    frechet_distance_from_stats,
    frechet_distance,
    hint="write the formula yourself with scipy.linalg.sqrtm: the toolkit's frechet_distance_from_stats is "
    "what the check compares with",
)
def check_frechet_distance(frechet_distance) -> None:
    """``frechet_distance(mu1, sigma1, mu2, sigma2)``: the squared Fréchet distance of two Gaussians,
    ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)), for (D,) means and (D, D) covariances."""
    rng = np.random.RandomState(3)
    d = 6
    diag1, diag2 = np.diag(rng.uniform(0.5, 3, d)), np.diag(rng.uniform(0.5, 3, d))
    full1, full2 = _random_cov(rng, d), _random_cov(rng, d)
    mu1, mu2 = rng.randn(d), rng.randn(d) + 1.0
    cases = [
        ("two 1-D Gaussians with the same mean", np.zeros(1), np.eye(1), np.zeros(1), 4 * np.eye(1)),
        ("Gaussians with equal covariances", mu1, diag1, mu2, diag1),
        ("Gaussians with diagonal covariances", mu1, diag1, mu2, diag2),
        ("Gaussians with full (non-diagonal) covariances", mu1, full1, mu2, full2),
        ("a Gaussian and itself", mu2, full2, mu2, full2),
    ]
    for what, m1, s1, m2, s2 in cases:
        want = frechet_distance_from_stats(m1, s1, m2, s2)
        got = _number(frechet_distance(m1.copy(), s1.copy(), m2.copy(), s2.copy()), "the distance")
        if _close(got, want, rtol=1e-5, atol=1e-6):
            continue
        diff = m1 - m2
        trace = np.trace(s1 + s2)
        cross = np.trace(scipy.linalg.sqrtm(s1 @ s2).real)
        expect(
            not _close(got, np.sqrt(diff @ diff) + trace - 2 * cross, 1e-5, 1e-6),
            "the mean term is the *squared* distance between the means, ||mu1 - mu2||^2, not the distance",
        )
        expect(
            not _close(got, diff @ diff + trace - cross, 1e-5, 1e-6),
            "the cross term is -2 Tr((sigma1 sigma2)^(1/2)): you left out the factor 2",
        )
        expect(
            not _close(got, diff @ diff + trace - 2 * np.trace(s1 @ s2), 1e-5, 1e-6),
            "take the matrix square root of sigma1 @ sigma2 (scipy.linalg.sqrtm) before the trace",
        )
        if what.startswith("Gaussians with full"):
            expect(
                False,
                "right for diagonal covariances but not for full ones: the cross term needs the *matrix* "
                "square root of the matrix product sigma1 @ sigma2 (scipy.linalg.sqrtm), not an elementwise "
                "square root or the product of separate square roots",
            )
        expect(False, f"for {what} the distance is {want:.4f}, you returned {got:.4f}")


def _mmd2_variant(x, y, kernel, within="unbiased", cross="all", same_size=False):
    """MMD^2 of (m, D) x and (n, D) y and its usual slips: the biased within-set means, the cross term
    without its diagonal, or both within-set sums divided by m (m - 1) as if n were m."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    if within == "unbiased":
        n_y = m if same_size else n
        w = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n_y * (n_y - 1))
    else:
        w = kxx.sum() / (m * m) + kyy.sum() / (n * n)
    c = kxy.mean() if cross == "all" else (kxy.sum() - np.trace(kxy)) / (m * n - min(m, n))
    return float(w - 2 * c)


@refuses(
    mmd2_unbiased,
    polynomial_kernel,
    kernel_inception_distance,
    hint="write the kernel and the estimate yourself with numpy: the toolkit's mmd2_unbiased and "
    "polynomial_kernel are what the check compares with",
)
def check_mmd2(mmd2) -> None:
    """``mmd2(x, y)``: KID's unbiased MMD^2 between an (m, D) and an (n, D) feature array, m and n not
    necessarily equal (Gretton et al. 2012, eq. 3), under the kernel k(a, b) = (a.b / D + 1)^3; for m = n
    it is ``toolkit.metrics.kid``'s."""
    rng = np.random.RandomState(30)
    cases = [
        ("two samples of one distribution (40 and 25 of them)", rng.randn(40, 8), rng.randn(25, 8)),
        ("samples of different distributions (50 and 70)", rng.randn(50, 16), 1.5 * rng.randn(70, 16) + 0.5),
        (
            "ReLU-like features (30 of each)",
            np.maximum(rng.randn(30, 5), 0),
            np.maximum(rng.randn(30, 5) + 0.3, 0),
        ),
    ]
    for what, x, y in cases:
        dim = x.shape[1]
        poly = lambda a, b, g=1 / dim, deg=3: (a @ b.T * g + 1) ** deg  # noqa: E731
        want = _mmd2_variant(x, y, poly)
        if len(x) == len(y):  # the toolkit's estimate, for equal sizes, is the same number
            assert _close(want, mmd2_unbiased(poly(x, x), poly(x, y), poly(y, y)), 1e-9, 1e-12)
        got = _number(mmd2(x.copy(), y.copy()), "MMD^2")
        if _close(got, want, 1e-6, 1e-9):
            continue
        slips = [
            (
                _mmd2_variant(x, y, poly, same_size=True),
                "the fake-fake sum has n (n - 1) off-diagonal pairs, not m (m - 1): divide each within-set "
                "sum by its own set's count (section 3's cell assumed m = n)",
            ),
            (
                _mmd2_variant(x, y, poly, within="biased"),
                "that is the biased estimate: leave out the diagonal (i = j, a sample with itself) of the "
                "real-real and fake-fake kernel sums and divide by m (m - 1) and n (n - 1)",
            ),
            (-want, "wrong sign: MMD^2 adds the within-set means and subtracts twice the cross mean"),
            (
                _mmd2_variant(x, y, lambda a, b: poly(a, b, g=1.0)),
                "scale the dot product by 1/D, the feature dimension: k(a, b) = (a.b / D + 1)^3",
            ),
            (
                _mmd2_variant(x, y, lambda a, b: poly(a, b, deg=2)),
                "KID's kernel is cubic: (a.b / D + 1) ** 3",
            ),
            (
                _mmd2_variant(x, y, poly, cross="off-diagonal"),
                "the cross term keeps every pair (x_i, y_j), i = j included, and divides by m n: x_i and y_i "
                "are different samples",
            ),
        ]
        for value, hint in slips:
            expect(not _close(got, value, 1e-6, 1e-9), hint)
        expect(False, f"for {what} MMD^2 is {want:.6f}, you returned {got:.6f}")


@refuses(
    precision_recall,
    prdc,
    hint="write it yourself with torch.cdist and kthvalue: the toolkit's precision_recall (and prdc) is "
    "what the check compares with",
)
def check_precision_recall(precision_recall_knn) -> None:
    """``precision_recall_knn(real, fake, k)`` -> (precision, recall) via k-NN balls (Kynkäänniemi et al.
    2019), checked against ``toolkit.metrics.prdc.precision_recall``."""
    rng = np.random.RandomState(300)
    real = rng.randn(300, 4)
    cases = [
        ("a mode dropper (fakes from one corner of the real data)", real, real[real[:, 0] > 0.8] + 0.05, 3),
        ("a blurry generator (fakes spread wider than the real data)", real, 2.2 * rng.randn(200, 4), 3),
        ("a good generator", real, rng.randn(250, 4), 5),
    ]
    for what, r, f, k in cases:
        want = precision_recall(r, f, k)
        got = precision_recall_knn(r.copy(), f.copy(), k)
        expect(
            isinstance(got, (tuple, list)) and len(got) == 2,
            "return a pair (precision, recall)",
        )
        got = (float(got[0]), float(got[1]))
        if np.allclose(got, want, atol=1e-9):
            continue
        expect(
            not np.allclose(got, want[::-1], atol=1e-9),
            "precision and recall are swapped: precision is the share of *fakes* inside the real balls",
        )
        expect(
            not np.allclose(got, precision_recall(r, f, k - 1), atol=1e-9),
            "the nearest neighbour of a sample in its own set is itself, at distance 0: the radius is the "
            "distance to the k-th *other* sample (kthvalue(k + 1) of the distances)",
        )
        rt, ft = torch.from_numpy(r), torch.from_numpy(f)
        real_radii = torch.cdist(rt, rt).kthvalue(k + 1, dim=1).values
        d_fr, d_rf = torch.cdist(ft, rt), torch.cdist(rt, ft)
        fake_radii = torch.cdist(ft, ft).kthvalue(k + 1, dim=1).values
        nearest_only = (
            (d_fr.min(1).values <= real_radii[d_fr.argmin(1)]).double().mean().item(),
            (d_rf.min(1).values <= fake_radii[d_rf.argmin(1)]).double().mean().item(),
        )
        expect(
            not any(np.isclose(g, n) and not np.isclose(n, w) for g, n, w in zip(got, nearest_only, want)),
            "a sample counts if it lies in *any* ball of the other set, not only in the ball of its nearest "
            "neighbour there",
        )
        expect(
            np.isclose(got[0], want[0], atol=1e-9),
            f"for {what} with k = {k} precision is {want[0]:.3f}, you returned {got[0]:.3f}",
        )
        expect(False, f"for {what} with k = {k} recall is {want[1]:.3f}, you returned {got[1]:.3f}")
