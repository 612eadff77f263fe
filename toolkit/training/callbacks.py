"""Callbacks: hooks a notebook, the dashboard or a measurement attaches to the loop."""

from __future__ import annotations

import torch


class Callback:
    """Every method is optional. ``on_log`` may add entries to the row before it is written."""

    def on_log(self, trainer, row: dict) -> None: ...

    def on_sample(self, trainer, step: int, images: torch.Tensor) -> None: ...

    def on_end(self, trainer) -> None: ...


def measuring_callbacks(config) -> list[Callback]:
    """The measurements the config turns on: the overfitting gap (``gap_every``), FID/KID (``eval_every``)."""
    from ..metrics.evaluate import MetricsCallback  # imported here: metrics imports the training API
    from ..metrics.overfitting import OverfittingCallback

    callbacks = []
    if config.gap_every:
        callbacks.append(OverfittingCallback(config.gap_every))
    if config.eval_every:
        callbacks.append(MetricsCallback(config.eval_every, config.eval_n, config.eval_features))
    return callbacks
