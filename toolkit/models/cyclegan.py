"""CycleGAN's generator (Zhu et al. 2017, appendix 7.2; Johnson et al. 2016's architecture): residual blocks
between a small encoder and decoder. Its discriminator is pix2pix's PatchGAN (``toolkit/models/pix2pix.py``).

Layers, as the reference implementation (junyanz ``networks.py`` ``ResnetGenerator``), with ``w = width``::

    ReflectionPad(3), Conv 7x7 (w), norm, ReLU                  c7s1-w
    Conv 3x3 stride 2 (2w), norm, ReLU; again (4w)              d2w, d4w: H/4
    n_blocks x  [ReflPad(1) Conv3 norm ReLU ReflPad(1) Conv3 norm] + x     R4w (no ReLU after the add)
    ConvTranspose 3x3 stride 2 (2w), norm, ReLU; again (w)     u2w, uw: back to H
    ReflectionPad(3), Conv 7x7 (out channels), Tanh            c7s1-3

The paper uses w = 64 with 9 blocks for 256x256 images and 6 for 128x128. Unlike the U-Net there is no
skip across the whole network, and the bottleneck keeps a spatial map (H/4), so the input's layout
flows through the residual blocks. H and W must be multiples of 4.
"""

from __future__ import annotations

import torch
from torch import nn

from .pix2pix import norm_layer


class ResnetBlock(nn.Module):
    """x + F(x), F = pad, conv 3x3, norm, ReLU, pad, conv 3x3, norm."""

    def __init__(self, channels: int, norm: str):
        super().__init__()
        bias = norm == "instance"
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_layer(norm, channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_layer(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """One direction of a CycleGAN (e.g. A -> B); H and W must be multiples of :attr:`multiple` (4)."""

    multiple = 4

    def __init__(
        self, in_channels: int, out_channels: int, width: int = 64, n_blocks: int = 9, norm: str = "instance"
    ):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        bias = norm == "instance"
        w = width
        layers = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, w, 7, bias=bias),
            norm_layer(norm, w),
            nn.ReLU(True),
        ]
        for mult in (1, 2):  # two downsamplings: w -> 2w -> 4w
            layers += [
                nn.Conv2d(w * mult, w * mult * 2, 3, stride=2, padding=1, bias=bias),
                norm_layer(norm, w * mult * 2),
                nn.ReLU(True),
            ]
        layers += [ResnetBlock(w * 4, norm) for _ in range(n_blocks)]
        for mult in (4, 2):  # two upsamplings: 4w -> 2w -> w
            layers += [
                nn.ConvTranspose2d(
                    w * mult, w * mult // 2, 3, stride=2, padding=1, output_padding=1, bias=bias
                ),
                norm_layer(norm, w * mult // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
