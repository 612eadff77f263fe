"""Diffusion-GAN's timestep-conditioned discriminator (Wang et al. 2022, section 3.2).

The discriminator is shown a noised image x_t and the timestep t it was noised to; knowing t, it can
judge a heavily noised image differently from a clean one. t enters the same way a class label enters
a projection discriminator (Miyato & Koyama 2018, eq. 3), through an embedding of sinusoidal features.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .dcgan import DCGANDiscriminator


def timestep_features(t: torch.Tensor, t_max: int, dim: int = 32) -> torch.Tensor:
    """Sinusoidal features of t / t_max (as the transformer's positional encoding), shape (B, dim)."""
    freqs = torch.exp(torch.arange(dim // 2, device=t.device) * (-math.log(1000.0) / (dim // 2)))
    angles = (t.float() / t_max * 1000.0)[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class TimestepDiscriminator(nn.Module):
    """Diffusion-GAN's D(y, t) (Wang et al. 2022): a DCGAN D that also knows the diffusion timestep,
    by projection as for class labels (see conditional.py), with the label embedding replaced by an
    embedding of t: D(x, t) = psi(phi(x)) + <embed(t), phi(x)>. It accepts timesteps 0..t_max.
    """

    def __init__(
        self, channels: int = 1, resolution: int = 32, width: int = 32, t_max: int = 500, dropout: float = 0.3
    ):
        super().__init__()
        self.t_max = t_max
        self.body = DCGANDiscriminator(channels, resolution, width, dropout)
        self.embed = nn.Sequential(
            nn.Linear(32, 128), nn.LeakyReLU(0.2), nn.Linear(128, self.body.feature_dim)
        )
        nn.init.normal_(self.embed[2].weight, 0.0, 0.02)  # starts close to the plain DCGAN D
        nn.init.zeros_(self.embed[2].bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        if t is None:
            t = torch.zeros(x.shape[0], device=x.device)  # t = 0: the clean image
        h = self.body.features(x)
        score = self.body.head(h).view(-1)
        return score + (self.embed(timestep_features(t, self.t_max)) * h.flatten(1)).sum(1)
