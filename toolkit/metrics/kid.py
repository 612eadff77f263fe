"""Kernel Inception Distance (Bińkowski et al. 2018): the squared maximum mean discrepancy (MMD)
between two feature sets under the polynomial kernel k(x, y) = (gamma <x, y> + coef0)^degree,
estimated without bias and averaged over random subsets.

Unlike FID, KID's estimate has no bias that depends on the number of samples, so scores from
small sample sets can be compared (and it can be slightly negative when the sets match).
Subsets are drawn exactly as torch-fidelity draws them (``numpy.random.RandomState(seed)``, set a
then set b, without replacement), so with the same seed the numbers are identical to its KID.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ToolkitError
from .fid import _as_features


def polynomial_kernel(
    x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> np.ndarray:
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx: np.ndarray, k_xy: np.ndarray, k_yy: np.ndarray) -> float:
    """Unbiased MMD^2 (Gretton et al. 2012, eq. 3) for equally sized sets: within-set kernel means
    leave out the diagonal (a sample compared with itself); the cross term keeps every pair."""
    m = k_xx.shape[0]
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def kernel_inception_distance(
    feats_a,
    feats_b,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 2020,
) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over ``subsets`` random subsets of ``subset_size`` from each set.

    With fewer samples than ``subset_size`` in a set, the subset size shrinks to the smaller set's
    size (with a warning): the estimate stays unbiased, only noisier. Fewer than 2 samples is an error.
    """
    a, b = _as_features(feats_a, "feats_a"), _as_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ToolkitError(
            f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}; use the same extractor for both sets"
        )
    if subsets < 1:
        raise ToolkitError(f"subsets must be >= 1, got {subsets}")
    size = min(subset_size, len(a), len(b))
    if size < subset_size:
        warnings.warn(
            f"KID: only {min(len(a), len(b))} samples, so subsets of {size} instead of {subset_size}",
            stacklevel=2,
        )
    rng = np.random.RandomState(seed)
    mmds = np.empty(subsets)
    for i in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        mmds[i] = mmd2_unbiased(
            polynomial_kernel(x, x, degree, gamma, coef0),
            polynomial_kernel(x, y, degree, gamma, coef0),
            polynomial_kernel(y, y, degree, gamma, coef0),
        )
    return float(mmds.mean()), float(mmds.std())
