"""Is the discriminator memorising its training set? (Karras et al. 2020, figure 1b.)

D's mean raw output on training images that it has seen many times, against the same on held-out
images of the same distribution that it has never seen. A healthy D scores both alike; an overfitting
D calls its training images "real" ever more confidently while held-out reals drift towards "fake":
the gap ``d_gap = d_train - d_heldout`` grows. The ADA paper's r_t = E[sign(D(x_train))] is the cheap
signal that needs no held-out data; this gap is what it stands in for.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ToolkitError


@torch.no_grad()
def discriminator_outputs(
    D: nn.Module, x: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 500
) -> torch.Tensor:
    """D's raw outputs on un-augmented images, in eval mode (batch norm on running statistics,
    dropout off); a Diffusion-GAN D sees t = 0, a conditional D the images' own labels."""
    was_training = D.training
    D.eval()
    device = next(D.parameters()).device
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(device)
        if getattr(D, "num_classes", 0) and not hasattr(D, "t_max"):
            if labels is None:
                raise ToolkitError("a conditional discriminator needs the images' labels")
            o = D(xb, labels[i : i + batch_size].to(device))
        else:
            o = D(xb)
        out.append((o[0] if isinstance(o, tuple) else o).float().cpu())
    D.train(was_training)
    return torch.cat(out)


def overfitting_gap(
    D: nn.Module, train_x, heldout_x, train_labels=None, heldout_labels=None
) -> dict[str, float]:
    """``d_train``, ``d_heldout`` (mean raw outputs) and ``d_gap`` (their difference)."""
    a = discriminator_outputs(D, train_x, train_labels).mean().item()
    b = discriminator_outputs(D, heldout_x, heldout_labels).mean().item()
    return {"d_train": a, "d_heldout": b, "d_gap": a - b}


class OverfittingCallback:
    """Adds ``d_train``, ``d_heldout`` and ``d_gap`` to the logged row every ``every`` steps, on up to
    ``n`` training images and ``n`` held-out images (the dataset's test split)."""

    def __init__(self, every: int, n: int = 1000):
        self.every, self.n = every, n
        self._held = None

    def on_log(self, trainer, row: dict) -> None:
        if trainer.step % self.every:
            return
        if self._held is None:
            from ..data import load_dataset

            held = load_dataset(trainer.config.data, split="test", resolution=trainer.config.resolution)
            self._held = held.subset(
                torch.randperm(len(held), generator=torch.Generator().manual_seed(0))[: self.n]
            )
        data = trainer.data
        row.update(
            overfitting_gap(
                trainer.family.nets["D"],
                data.images(self.n),  # the same call for in-memory and streamed folders
                self._held.images(self.n),
                None if data.labels is None else data.labels[: self.n],
                self._held.labels,
            )
        )

    def on_sample(self, trainer, step, images) -> None: ...

    def on_end(self, trainer) -> None: ...
