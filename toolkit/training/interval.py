"""The numbers of one logging interval, summed on the device, and the NaN guard.

Every step adds its stats (tensors on the device, e.g. ``loss_d``); nothing is copied to the host until
the interval ends, when :meth:`IntervalStats.take_means` copies all sums at once (one host sync per
``log_every`` steps). The loop refuses NaN/inf values (:func:`stop_if_diverged`, the NaN guard) before
anything is logged or saved.
"""

from __future__ import annotations

import math

import torch

from ..errors import ToolkitError
from ..runs import LAST_CHECKPOINT


class TrainingDiverged(ToolkitError):
    """A logged value became NaN or infinite; the last good checkpoint is kept."""


def stop_if_diverged(values: dict[str, float], step: int, writer=None) -> None:
    """The NaN guard: stop with a clear error before a NaN/inf value is logged or checkpointed."""
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if not bad:
        return
    last = writer is not None and (writer.dir / LAST_CHECKPOINT).exists()
    kept = "the last good checkpoint is kept" if last else "no checkpoint was written"
    if writer is not None:
        writer.event("diverged", step=step, losses=bad)
        writer.close()
    raise TrainingDiverged(
        f"training diverged: {', '.join(bad)} became NaN/inf by step {step}; {kept}; "
        "lower the learning rates (--lr-g/--lr-d) or change the loss"
    )


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

    def load(self, sums: dict[str, torch.Tensor], count: int, device) -> None:
        """Continue a half-finished interval (from a checkpoint)."""
        self.sums = {k: v.to(device) for k, v in sums.items()}
        self.count = int(count)
