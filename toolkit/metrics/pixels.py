"""The simplest feature extractor: the image itself, average-pooled to a few pixels.

``pixel_features(images, size=8)`` turns (N, C, H, W) images into (N, C*size*size) vectors. A
Fréchet distance on them (reported as ``fd[pixels8]``) sees layout and brightness - enough to tell
noise from garments, blind to texture and detail. It needs no trained network, so the first lessons
can measure progress with it; lesson 03 introduces learned features (and why they are better).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_features(images: torch.Tensor, size: int = 8) -> torch.Tensor:
    x = images.detach().float().cpu()
    return F.adaptive_avg_pool2d(x, size).flatten(1)
