"""2-D mixtures of Gaussians, the standard mode-collapse test bed (Metz et al. 2016, unrolled GAN;
Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN).

* ``ring``: 8 Gaussians evenly spaced on a circle of radius 2, std 0.02;
* ``grid``: 25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, std 0.05.

Because the true modes are known, quality can be measured exactly (:func:`mode_quality`):
a sample is *high quality* if it lies within 3 standard deviations of its nearest mode, and a mode
is *covered* if at least ``min_count`` high-quality samples fall nearest to it (VEEGAN: 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import ToolkitError
from .base import TensorData

MIXTURES = {
    "ring": dict(std=0.02),
    "grid": dict(std=0.05),
}


def mixture_means(name: str) -> torch.Tensor:
    if name == "ring":
        angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        return torch.stack([2 * torch.cos(angles), 2 * torch.sin(angles)], dim=1).float()
    if name == "grid":
        axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
        return torch.cartesian_prod(axis, axis)
    raise ToolkitError(f"unknown toy mixture {name!r}; choose one of {', '.join(MIXTURES)}")


def mixture_std(name: str) -> float:
    mixture_means(name)  # validates the name
    return MIXTURES[name]["std"]


def sample_mixture(name: str, n: int, seed: int = 0) -> TensorData:
    """n points, each from a uniformly chosen mode; labels are the mode indices."""
    means, std = mixture_means(name), mixture_std(name)
    g = torch.Generator().manual_seed(seed)
    modes = torch.randint(len(means), (n,), generator=g)
    x = means[modes] + std * torch.randn(n, 2, generator=g)
    return TensorData(
        name, x, modes, [f"mode {i}" for i in range(len(means))], "points", {"source": "built in", "std": std}
    )


@dataclass
class ModeQuality:
    modes_covered: int
    num_modes: int
    high_quality: float  # share of samples within 3 std of their nearest mode
    counts: list[int]  # high-quality samples per mode

    def __str__(self) -> str:
        return (
            f"{self.modes_covered}/{self.num_modes} modes covered, "
            f"{100 * self.high_quality:.1f}% high-quality samples"
        )


def mode_quality(samples: torch.Tensor, name: str, min_count: int = 1, n_std: float = 3.0) -> ModeQuality:
    """Exact quality of 2-D samples against the known mixture ``name`` (see module docstring)."""
    samples = torch.as_tensor(samples).detach().float().cpu()
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ToolkitError(f"mode_quality needs (N, 2) points, got shape {tuple(samples.shape)}")
    means, std = mixture_means(name), mixture_std(name)
    dist = torch.cdist(samples, means)  # (N, modes)
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= n_std * std
    counts = torch.bincount(nearest[good], minlength=len(means))
    return ModeQuality(
        int((counts >= min_count).sum()), len(means), float(good.float().mean()), counts.tolist()
    )
