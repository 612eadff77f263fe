"""Precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al. 2020).

FID mixes two failures into one number: generating things that do not look real (low *fidelity*)
and failing to generate parts of the data (low *diversity*, e.g. dropped modes). These metrics
separate them using k-nearest-neighbour balls around samples in feature space:

* the real manifold is the union of balls around each real sample with radius = distance to its
  k-th nearest real neighbour;
* **precision**: share of generated samples inside the real manifold (fidelity);
* **recall**: share of real samples inside the generated manifold (diversity);
* **density**: how many real balls contain each generated sample, divided by k (about 1 for
  matching distributions; unlike precision, robust to real outliers);
* **coverage**: share of real samples whose ball contains at least one generated sample.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..errors import ToolkitError
from .fid import _as_features


def _distances(x: torch.Tensor, y: torch.Tensor, chunk: int = 2048):
    for i in range(0, len(x), chunk):
        yield i, torch.cdist(x[i : i + chunk], y)


def kth_neighbour_radius(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each sample to its k-th nearest *other* sample of the same set."""
    radii = torch.empty(len(x), dtype=x.dtype)
    for i, d in _distances(x, x):
        radii[i : i + len(d)] = d.kthvalue(k + 1, dim=1).values  # +1: the sample itself is at distance 0
    return radii


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """For each point, how many balls (centres, radii) contain it."""
    counts = torch.empty(len(points), dtype=torch.long)
    for i, d in _distances(points, centres):
        counts[i : i + len(d)] = (d <= radii[None, :]).sum(dim=1)
    return counts


@dataclass
class PRDC:
    precision: float
    recall: float
    density: float
    coverage: float

    def as_dict(self) -> dict:
        return asdict(self)


def precision_recall(real_feats, fake_feats, k: int = 3, real_radii=None) -> tuple[float, float]:
    """``real_radii``: ``kth_neighbour_radius(real, k)`` computed once, when many fake sets are scored against
    the same real set (the real-real distances are most of the work)."""
    real = torch.from_numpy(_as_features(real_feats, "real_feats"))
    fake = torch.from_numpy(_as_features(fake_feats, "fake_feats"))
    if real_radii is None:
        real_radii = kth_neighbour_radius(real, k)
    elif real_radii.shape != (len(real),):
        raise ToolkitError(
            f"real_radii needs one radius per real sample ({len(real)}), got {tuple(real_radii.shape)}"
        )
    precision = (_inside(fake, real, real_radii) > 0).double().mean().item()
    recall = (_inside(real, fake, kth_neighbour_radius(fake, k)) > 0).double().mean().item()
    return precision, recall


def density_coverage(real_feats, fake_feats, k: int = 5) -> tuple[float, float]:
    real = torch.from_numpy(_as_features(real_feats, "real_feats"))
    fake = torch.from_numpy(_as_features(fake_feats, "fake_feats"))
    radii = kth_neighbour_radius(real, k)
    density = _inside(fake, real, radii).double().sum().item() / (k * len(fake))
    # coverage: a real sample is covered if its nearest generated sample lies inside its ball
    nearest_fake = torch.empty(len(real), dtype=real.dtype)
    for i, d in _distances(real, fake):
        nearest_fake[i : i + len(d)] = d.min(dim=1).values
    coverage = (nearest_fake <= radii).double().mean().item()
    return density, coverage


def prdc(real_feats, fake_feats, k_pr: int = 3, k_dc: int = 5) -> PRDC:
    p, r = precision_recall(real_feats, fake_feats, k_pr)
    d, c = density_coverage(real_feats, fake_feats, k_dc)
    return PRDC(p, r, d, c)
