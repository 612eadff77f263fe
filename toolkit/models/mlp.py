"""Fully connected generator and discriminator: the original GAN (Goodfellow et al. 2014).

Used for 2-D toy mixtures (output is a point) and for flattened images (output reshaped).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class MLPGenerator(nn.Module):
    """z (B, z_dim) -> sample of shape ``out_shape``.

    ``tanh_output``: squash to [-1, 1] for images scaled that way; leave False for 2-D points.
    """

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        hidden: int = 256,
        layers: int = 2,
        tanh_output: bool = True,
    ):
        super().__init__()
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        blocks: list[nn.Module] = []
        width = z_dim
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        blocks.append(nn.Linear(width, math.prod(self.out_shape)))
        if tanh_output:
            blocks.append(nn.Tanh())
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """sample -> one raw logit per sample (B,). LeakyReLU(0.2) keeps gradients less sparse."""

    def __init__(self, in_shape: tuple[int, ...], hidden: int = 256, layers: int = 2):
        super().__init__()
        blocks: list[nn.Module] = [nn.Flatten()]
        width = math.prod(in_shape)
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        blocks.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
