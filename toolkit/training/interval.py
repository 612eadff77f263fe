"""The numbers of one logging interval, summed on the device, and the NaN guard.

Every step adds its stats (tensors on the device, e.g. ``loss_d``); nothing is copied to the host until
the interval ends, when :meth:`IntervalStats.take_means` copies all sums at once (one host sync per
``log_every`` steps). The loop refuses NaN/inf values (:func:`non_finite`) before anything is logged or
saved.
"""

from __future__ import annotations

import math

import torch


def non_finite(values: dict[str, float]) -> list[str]:
    return [k for k, v in values.items() if not math.isfinite(v)]


class IntervalStats:
    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        for k, v in stats.items():
            v = v.detach().float()
            self.sums[k] = self.sums[k] + v if k in self.sums else v
        self.count += 1

    def host_sums(self) -> dict[str, float]:
        """The sums, copied to the host in one transfer."""
        if not self.sums:
            return {}
        return dict(zip(self.sums, torch.stack(list(self.sums.values())).cpu().tolist()))

    def take_means(self) -> dict[str, float]:
        """The interval's means; the next interval starts empty."""
        means = {k: v / self.count for k, v in self.host_sums().items()}
        self.sums, self.count = {}, 0
        return means

    def state_dict(self) -> dict:
        return {"log_sums": {k: v.cpu() for k, v in self.sums.items()}, "log_count": self.count}

    def load_state_dict(self, state: dict, device) -> None:
        self.sums = {k: v.to(device) for k, v in state["log_sums"].items()}
        self.count = int(state["log_count"])
