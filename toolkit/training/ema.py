"""An exponential moving average (EMA) of a network's weights, used for samples."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """theta_ema <- beta * theta_ema + (1 - beta) * theta after every step (Karras et al. 2018;
    Yazici et al. 2019). Buffers (batch-norm running statistics) are copied as they are.

    Warm-up: beta = min(decay, (1 + step) / (10 + step)), so the average does not drag the random
    initial weights along for the first hundreds of steps (early samples would be blurry blends).
    """

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    def beta(self, step: int) -> float:
        return min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        weight = 1.0 - self.beta(step)
        for p_ema, p in zip(self.model.parameters(), model.parameters()):
            p_ema.lerp_(p, weight)
        for b_ema, b in zip(self.model.buffers(), model.buffers()):
            b_ema.copy_(b)
