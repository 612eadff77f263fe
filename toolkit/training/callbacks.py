"""Callbacks: hooks a notebook, the dashboard or a measurement attaches to the loop (a family adds its own
measurements through ``Family.callbacks``)."""

from __future__ import annotations

import torch


class Callback:
    """Every method is optional. ``on_log`` may add entries to the row before it is written."""

    def on_log(self, trainer, row: dict) -> None: ...

    def on_sample(self, trainer, step: int, images: torch.Tensor) -> None: ...

    def on_end(self, trainer) -> None: ...
