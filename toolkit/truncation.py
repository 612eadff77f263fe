"""The truncation trick (Brock et al. 2019, BigGAN): draw G's latent from a normal truncated at ±threshold.

Values with |z| > threshold are redrawn from N(0, 1) until none is left, so the latent stays normal-shaped
near 0 but never reaches the tails, where G saw few samples. Smaller thresholds trade diversity for
typical, cleaner images. Lesson 04 asks the learner to write this (``toolkit.exercises.conditional``).
"""

from __future__ import annotations

import torch


def truncated_normal(
    n: int, z_dim: int, threshold: float | None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """An (n, z_dim) latent from N(0, 1) truncated at ±threshold (None: not truncated)."""
    z = torch.randn(n, z_dim, generator=generator)
    if threshold is None:
        return z
    if threshold <= 0:
        raise ValueError(f"the truncation threshold must be positive, got {threshold}")
    beyond = z.abs() > threshold
    while beyond.any():
        z[beyond] = torch.randn(int(beyond.sum()), generator=generator)
        beyond = z.abs() > threshold
    return z
