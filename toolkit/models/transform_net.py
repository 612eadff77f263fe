"""Johnson et al.'s image transformation network (fast style transfer, lesson 12), scaled by two arguments.

Johnson, Alahi & Fei-Fei 2016, "Perceptual Losses for Real-Time Style Transfer and Super-Resolution" (ECCV),
supplementary material; the layer names are the paper's and jcjohnson/fast-neural-style's
(``c9s1-32,d64,d128,R128,R128,R128,R128,R128,u64,u32,c9s1-3``). With ``w = width`` and ``R = blocks``::

    c9s1-w     ReflectionPad(4), Conv 9x9 stride 1 (w),   InstanceNorm(affine), ReLU
    d2w        ReflectionPad(1), Conv 3x3 stride 2 (2w),  InstanceNorm, ReLU           H/2
    d4w        ReflectionPad(1), Conv 3x3 stride 2 (4w),  InstanceNorm, ReLU           H/4
    R x R4w    x + [ReflPad(1) Conv3 IN ReLU ReflPad(1) Conv3 IN]    (no ReLU after the add)
    u2w        Upsample x2 (nearest), ReflectionPad(1), Conv 3x3 (2w), InstanceNorm, ReLU   H/2
    uw         Upsample x2 (nearest), ReflectionPad(1), Conv 3x3 (w),  InstanceNorm, ReLU   H
    c9s1-3     ReflectionPad(4), Conv 9x9 stride 1 (out channels), tanh

The paper: w = 32, R = 5, batch norm, and the output ``150 * tanh`` on [0, 255]-scale pixels. This module
follows pytorch/examples' ``transformer_net.py`` where the two differ from the paper: instance norm with
affine parameters (Ulyanov et al. 2016 found it gives better stylisations; the paper's successors use it),
and upsampling by nearest-neighbour resizing then a convolution instead of a transposed convolution
(which avoids checkerboard artefacts; Odena et al. 2016). The output is ``tanh``, in [-1, 1] like every
image in the toolkit. Lesson 12 uses w = 8-16 and R = 2-3 so that it trains on a CPU in seconds.

Any image size works: the input is reflection-padded to a multiple of 4 and the output cropped back, so
the output always has the input's height and width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LAYOUT_PAPER = "c9s1-32, d64, d128, 5 x R128, u64, u32, c9s1-3"


def conv_in_relu(cin: int, cout: int, kernel: int, stride: int = 1, upsample: bool = False) -> nn.Sequential:
    """[nearest x2], reflection pad, conv, instance norm (affine), ReLU."""
    layers = [nn.Upsample(scale_factor=2, mode="nearest")] if upsample else []
    layers += [
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(cin, cout, kernel, stride),
        nn.InstanceNorm2d(cout, affine=True),
        nn.ReLU(inplace=True),
    ]
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """x + [pad, conv 3x3, IN, ReLU, pad, conv 3x3, IN] (Gross & Wilber's block, as the paper)."""

    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class TransformNet(nn.Module):
    """``TransformNet(width, blocks)(images)``: (N, C, H, W) in [-1, 1] -> (N, out, H, W) in [-1, 1].

    ``width=32, blocks=5`` is the paper's network (:data:`LAYOUT_PAPER`); :attr:`layout` names this one's."""

    multiple = 4  # two stride-2 convolutions

    def __init__(self, width: int = 32, blocks: int = 5, in_channels: int = 3, out_channels: int = 3):
        super().__init__()
        if width < 1 or blocks < 0:
            raise ValueError(f"width must be >= 1 and blocks >= 0, got width={width}, blocks={blocks}")
        w = width
        self.width, self.blocks = width, blocks
        self.in_channels, self.out_channels = in_channels, out_channels
        self.encoder = nn.Sequential(
            conv_in_relu(in_channels, w, 9), conv_in_relu(w, 2 * w, 3, 2), conv_in_relu(2 * w, 4 * w, 3, 2)
        )
        self.residuals = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(blocks)])
        self.decoder = nn.Sequential(
            conv_in_relu(4 * w, 2 * w, 3, upsample=True), conv_in_relu(2 * w, w, 3, upsample=True)
        )
        self.output = nn.Sequential(nn.ReflectionPad2d(4), nn.Conv2d(w, out_channels, 9), nn.Tanh())

    @property
    def layout(self) -> str:
        w, out = self.width, self.out_channels
        return f"c9s1-{w}, d{2 * w}, d{4 * w}, {self.blocks} x R{4 * w}, u{2 * w}, u{w}, c9s1-{out}"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h, w = images.shape[-2:]
        ph, pw = -h % self.multiple, -w % self.multiple
        x = F.pad(images, (0, pw, 0, ph), mode="reflect") if ph or pw else images
        x = self.output(self.decoder(self.residuals(self.encoder(x))))
        return x[..., :h, :w]
