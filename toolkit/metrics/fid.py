"""Fréchet distance between two sets of features (Heusel et al. 2017, eq. in section 3):

    d^2 = ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2))

computed in float64. Tr((S_a S_b)^(1/2)) is taken exactly through symmetric eigendecompositions:
with R = S_a^(1/2) (symmetric), S_a S_b is similar to R S_b R, which is symmetric positive
semi-definite, so its square root's trace is the sum of the square roots of its eigenvalues. This
avoids scipy's general (slow, sometimes complex-valued) ``sqrtm``.

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


def _sqrtm_psd(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance_from_stats(mu_a, sigma_a, mu_b, sigma_b) -> float:
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    sigma_a, sigma_b = np.atleast_2d(sigma_a).astype(np.float64), np.atleast_2d(sigma_b).astype(np.float64)
    if mu_a.shape != mu_b.shape or sigma_a.shape != sigma_b.shape:
        raise ToolkitError(f"feature dimensions differ: {mu_a.shape} vs {mu_b.shape}; use the same extractor for both sets")
    root_a = _sqrtm_psd(sigma_a)
    m = root_a @ sigma_b @ root_a
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2 * tr_covmean)


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between (N, D) feature arrays a and b (see module docstring)."""
    return frechet_distance_from_stats(*feature_statistics(feats_a), *feature_statistics(feats_b))
