"""Perceptual path length (Karras et al. 2019, section 4.2; stylegan2-ada's ``perceptual_path_length.py``).

How much does the image change when the latent moves a tiny step epsilon along an interpolation path?
For a pair of latents (z0, z1) and t ~ U(0, 1) ("full" paths):

    in Z:  l = d(G(slerp(z0, z1; t)), G(slerp(z0, z1; t + eps))) / eps^2     (slerp: z is Gaussian)
    in W:  l = d(g(lerp(w0, w1; t)), g(lerp(w0, w1; t + eps))) / eps^2      (w0 = f(z0), w1 = f(z1))

where f is the mapping network, g the synthesis network and d a perceptual distance. Both images of a pair
get the same noise maps. The path length is the mean of l over pairs, after dropping the pairs below the
1st and above the 99th percentile (the reference's trimming). The paper's d is the squared LPIPS distance
of VGG16 features; here d is the squared Euclidean distance of a feature network's outputs (the toolkit's
fmnist-cnn for Fashion-MNIST), so the numbers are comparable between Z and W and between runs scored with
the same features, not with the paper's.

A lower path length in W than in Z is the paper's evidence that W is less entangled: the mapping network
"unwarps" Z, so equal steps in W change the image by more equal amounts.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import ToolkitError

SPACES = ("z", "w")


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation on the unit sphere (the reference's): a and b are normalised, and the
    result is the unit vector at angle t * angle(a, b) from a, towards b. ``t`` (B, 1) or a number."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    cos = (a * b).sum(dim=-1, keepdim=True)
    angle = t * torch.acos(cos.clamp(-1, 1))
    towards = b - cos * a  # the part of b orthogonal to a
    towards = towards / towards.norm(dim=-1, keepdim=True)
    d = a * torch.cos(angle) + towards * torch.sin(angle)
    return d / d.norm(dim=-1, keepdim=True)


def pair_noises(synthesis: nn.Module, n: int, generator: torch.Generator) -> list[torch.Tensor]:
    """One noise map per conv layer for n pairs, each repeated for the pair's two images: (2n, 1, H, W),
    pair i at rows i and n + i."""
    maps = []
    for block in synthesis.blocks:
        for conv in block.convs:
            r = conv.resolution
            noise = torch.randn(n, 1, r, r, generator=generator)
            maps.append(torch.cat([noise, noise]))
    return maps


@torch.no_grad()
def path_lengths(
    G: nn.Module,
    features,
    space: str,
    n: int = 1000,
    epsilon: float = 1e-4,
    seed: int = 0,
    batch_size: int = 100,
) -> np.ndarray:
    """n per-pair lengths l (see the module text) for a StyleGAN generator ``G`` (``G.mapping``,
    ``G.synthesis``, ``G.z_dim``, ``G.num_ws``) and ``features`` (images -> (B, F) features).
    Seeded: the same seed draws the same z0, z1, t and noise in both spaces."""
    if space not in SPACES:
        raise ToolkitError(f"perceptual path length is measured in z or w, not {space!r}")
    if n < 1 or not 0 < epsilon < 1:
        raise ToolkitError(f"need n >= 1 pairs and 0 < epsilon < 1; got n={n}, epsilon={epsilon}")
    was_training = G.training
    G.eval()
    device = next(G.parameters()).device
    g = torch.Generator().manual_seed(seed)
    lengths = []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        z0, z1 = torch.randn(b, G.z_dim, generator=g), torch.randn(b, G.z_dim, generator=g)
        t = torch.rand(b, 1, generator=g)
        noises = [x.to(device) for x in pair_noises(G.synthesis, b, g)]
        if space == "w":
            w0, w1 = G.mapping(torch.cat([z0, z1]).to(device)).chunk(2)
            t = t.to(w0)
            w = torch.cat([w0.lerp(w1, t), w0.lerp(w1, t + epsilon)])
        else:
            zt = torch.cat([slerp(z0, z1, t), slerp(z0, z1, t + epsilon)])
            w = G.mapping(zt.to(device))
        images = G.synthesis(w.unsqueeze(1).repeat(1, G.num_ws, 1), noise_mode="none", noises=noises)
        f0, f1 = features(images).cpu().double().chunk(2)
        lengths.append((f0 - f1).square().sum(dim=1) / epsilon**2)
    G.train(was_training)
    return torch.cat(lengths).numpy()


def trimmed_mean(lengths: np.ndarray, low: float = 1, high: float = 99) -> float:
    """The mean of the lengths between the ``low``-th and the ``high``-th percentile, inclusive (the
    reference: numpy's percentile with 'lower' and 'higher' interpolation, so both ends are values)."""
    lengths = np.asarray(lengths, dtype=np.float64)
    if lengths.ndim != 1 or len(lengths) == 0:
        raise ToolkitError(f"need a non-empty 1-D array of path lengths, got shape {lengths.shape}")
    lo = np.percentile(lengths, low, method="lower")
    hi = np.percentile(lengths, high, method="higher")
    return float(lengths[(lengths >= lo) & (lengths <= hi)].mean())


def perceptual_path_length(
    G: nn.Module, features, space: str, n: int = 1000, epsilon: float = 1e-4, seed: int = 0
) -> float:
    """The perceptual path length of ``G`` in ``space`` ("z" or "w"): the trimmed mean of ``path_lengths``."""
    return trimmed_mean(path_lengths(G, features, space, n, epsilon, seed))
