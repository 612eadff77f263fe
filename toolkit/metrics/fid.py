"""Fréchet distance between two sets of features (Heusel et al. 2017, eq. in section 3):

    d^2 = ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2))

computed in float64. Tr((S_a S_b)^(1/2)) is taken exactly through a symmetric eigenproblem: with
any factor S_a = R R^T, S_a S_b is similar to R^T S_b R, which is symmetric positive semi-definite,
so the trace of its square root is the sum of the square roots of its eigenvalues. R is the
Cholesky factor (fast) or, when S_a is singular (fewer samples than dimensions, dead features),
the symmetric square root from an eigendecomposition. This avoids scipy's general ``sqrtm``
(slow, and sometimes complex-valued from round-off). N=10,000, D=2,048 takes a few seconds
(benchmarks/bench_metrics.py).

"FID" is this distance on InceptionV3 features; on other features (pixels, a domain classifier) it
is a Fréchet distance in *those* features, and every score here carries the extractor's name.
"""

from __future__ import annotations

import numpy as np

from ..errors import ToolkitError


def _as_features(x, name: str) -> np.ndarray:
    x = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
    if x.ndim != 2:
        raise ToolkitError(f"{name} must be an (N, D) feature array, got shape {x.shape}")
    if len(x) < 2:
        raise ToolkitError(f"{name} needs at least 2 samples to estimate a covariance, got {len(x)}")
    return x


def feature_statistics(feats) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, N-1) covariance in float64, as pytorch-fid computes them."""
    x = _as_features(feats, "features")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _factor(s: np.ndarray) -> np.ndarray:
    """Some R with R R^T = s: Cholesky when s is positive definite, else the symmetric square root."""
    try:
        return np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(s)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance_from_stats(mu_a, sigma_a, mu_b, sigma_b) -> float:
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    sigma_a, sigma_b = np.atleast_2d(sigma_a).astype(np.float64), np.atleast_2d(sigma_b).astype(np.float64)
    if mu_a.shape != mu_b.shape or sigma_a.shape != sigma_b.shape:
        raise ToolkitError(
            f"feature dimensions differ: {mu_a.shape} vs {mu_b.shape}; use the same extractor for both sets"
        )
    r = _factor(sigma_a)
    m = r.T @ sigma_b @ r
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2 * tr_covmean)


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between (N, D) feature arrays a and b (see module docstring)."""
    return frechet_distance_from_stats(*feature_statistics(feats_a), *feature_statistics(feats_b))
