"""SRResNet and the SRGAN discriminator (Ledig et al. 2017, "Photo-realistic single image super-resolution
using a generative adversarial network"), lesson 11.

**SRResNet** (the generator, paper fig. 4): a 9x9 conv and PReLU; ``blocks`` residual blocks
(conv3-BN-PReLU-conv3-BN, plus the block's input); conv3-BN plus the output of the first conv (the global
skip); then, for each factor 2 of the scale, conv3 to 4x the channels, ``PixelShuffle(2)`` and PReLU; a
final 9x9 conv to the image's channels. All the work happens at the low resolution; only the last blocks
run at the high one, so a x4 net is cheap. The paper uses 16 blocks of 64 channels.

Pixel shuffle (Shi et al. 2016) turns (N, C*r*r, H, W) into (N, C, H*r, W*r): channel ``c*r*r + i*r + j``
becomes the sub-pixel (i, j) of each output pixel of channel c. It learns the upsampling filter instead of
fixing it (bicubic) and has none of a transposed convolution's checkerboard overlap.

The output has no activation, as in the paper; images live in [-1, 1] and the lesson clamps for display.

**The discriminator** (paper fig. 4): eight 3x3 convs (64, 64, 128, 128, 256, 256, 512, 512 channels, stride
2 on every second one, batch norm on all but the first, LeakyReLU 0.2), then Dense(1024), LeakyReLU, Dense(1)
(a logit). The paper's D takes 96x96 crops and flattens a 6x6 map; this one average-pools the last map to
1x1 first (as leftthomas/SRGAN), so it takes any size: 28 px garments as well as 128 px photographs.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """x + BN(conv(PReLU(BN(conv(x))))): the block learns a correction to its input."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.PReLU(width),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpsampleBlock(nn.Module):
    """conv3 to 4x the channels, PixelShuffle(2) (each group of 4 channels -> a 2x2 patch), PReLU."""

    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv2d(width, width * 4, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        self.act = nn.PReLU(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.shuffle(self.conv(x)))


class SRResNet(nn.Module):
    """(N, C, h, w) low-resolution images in [-1, 1] -> (N, C, h*scale, w*scale); ``scale`` a power of 2."""

    def __init__(self, channels: int = 3, scale: int = 4, blocks: int = 16, width: int = 64):
        super().__init__()
        if scale < 2 or scale & (scale - 1):
            raise ValueError(f"scale must be a power of 2 (2, 4, 8), got {scale}")
        self.scale, self.in_channels = scale, channels
        self.multiple = 1  # fully convolutional: any input size (``upscale`` tiles large images)
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU(width))
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.body_end = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width)
        )
        self.upsample = nn.Sequential(*[UpsampleBlock(width) for _ in range(int(math.log2(scale)))])
        self.tail = nn.Conv2d(width, channels, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.head(x)
        features = head + self.body_end(self.body(head))  # the global skip
        return self.tail(self.upsample(features))


class SRDiscriminator(nn.Module):
    """(N, C, H, W) high-resolution images -> (N,) logits "real high-resolution image"."""

    def __init__(self, channels: int = 3, width: int = 64, dense: int = 1024):
        super().__init__()
        layers, cin = [], channels
        for i in range(8):
            cout = width * 2 ** (i // 2)  # 64, 64, 128, 128, 256, 256, 512, 512
            layers.append(nn.Conv2d(cin, cout, 3, stride=1 + i % 2, padding=1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(cin, dense),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(dense, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)
