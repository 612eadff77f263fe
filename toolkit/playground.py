"""The 2-D playground (the dashboard's GAN Lab page): a small MLP GAN on a mixture of Gaussians, trained
a few steps at a time so a page can draw it live.

It trains through the one training loop (:class:`~toolkit.training.Trainer`, the ``gan`` family's ``mlp``
model on 2-D points, on the CPU, with the page's thread count), a few steps per call of :meth:`train`.

What it shows, each as a plain function of the current nets:

* :meth:`Playground.decision_surface`: D's output over the plane (for the log-loss games the probability
  sigmoid(D(x)) that x is real; for WGAN-GP and hinge the raw score);
* :meth:`Playground.gradient_field`: where G's loss pushes each generated point, -d L_G / d x at x = G(z)
  (the generator moves its samples along these arrows, through its weights);
* :meth:`Playground.quality`: modes covered and the share of good samples (``toolkit.data.mode_quality``).

Losses: ``minimax`` and ``nonsaturating`` (Goodfellow et al. 2014), ``hinge``, and ``wgan-gp`` (the
Wasserstein critic with a gradient penalty of 10 and 5 critic steps per generator step, Adam(0, 0.9):
the wgan-gp preset, Gulrajani et al. 2017), all from ``toolkit.losses``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .data.toy import mixture_means, mode_quality, sample_mixture
from .errors import ToolkitError
from .families import config_for
from .training import Trainer

PLAYGROUND_LOSSES = ("nonsaturating", "minimax", "hinge", "wgan-gp")


@dataclass
class PlaygroundSettings:
    data: str = "ring"  # "ring" (8 Gaussians) or "grid" (25)
    loss: str = "nonsaturating"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    z_dim: int = 2
    hidden: int = 128  # units of each hidden layer of G and D (the mlp model's 2 x --width on points)
    batch_size: int = 256
    seed: int = 0


class Playground:
    def __init__(self, settings: PlaygroundSettings | None = None):
        s = self.settings = settings or PlaygroundSettings()
        if s.loss not in PLAYGROUND_LOSSES:
            raise ToolkitError(f"unknown loss {s.loss!r}; choose one of {', '.join(PLAYGROUND_LOSSES)}")
        mixture_means(s.data)  # validates the name
        game = {"model": "wgan-gp"} if s.loss == "wgan-gp" else {"model": "mlp", "loss": s.loss}
        config = config_for(
            game.pop("model"),
            **game,
            data=s.data,
            lr_g=s.lr_g,
            lr_d=s.lr_d,
            z_dim=s.z_dim,
            width=s.hidden // 2,
            batch_size=s.batch_size,
            seed=s.seed,
            steps=10**9,  # trained a few steps per call, for as long as the page is open
            ema=0.0,
            log_every=10**9,  # one row per train() call: the call's means
            sample_every=0,
            checkpoint_every=0,
            device="cpu",
            threads=torch.get_num_threads(),  # the page's; the loop would otherwise take every core
        )
        self.real = sample_mixture(s.data, 20_000, seed=s.seed)
        self.trainer = Trainer(config, data=self.real, progress=False)
        self.real = self.real.x
        self.G, self.D = self.trainer.family.nets["G"], self.trainer.family.nets["D"]
        self.fixed_z = torch.randn(512, s.z_dim, generator=torch.Generator().manual_seed(s.seed + 1))
        self.loss = self.trainer.family.loss
        self.history: list[dict] = []

    @property
    def step(self) -> int:
        return self.trainer.step

    def set_rates(self, lr_g: float, lr_d: float) -> None:
        if (lr_g, lr_d) != (self.settings.lr_g, self.settings.lr_d):
            self.trainer.steer(lr_g=lr_g, lr_d=lr_d)
        self.settings.lr_g, self.settings.lr_d = lr_g, lr_d

    def train(self, steps: int) -> dict:
        """``steps`` training steps of the loop (D, then G; WGAN-GP: 5 critic updates per G update); returns
        their mean losses, the modes covered and the share of good samples."""
        logged = self.trainer.fit(until=self.trainer.step + steps)[-1]
        q = self.quality()
        row = {
            "step": self.step,
            "loss_d": logged["loss_d"],
            "loss_g": logged["loss_g"],
            "modes": q.modes_covered,
            "good": q.high_quality,
        }
        self.history.append(row)
        return row

    def extent(self) -> float:
        return 3.5 if self.settings.data == "ring" else 6.0

    @torch.no_grad()
    def samples(self) -> torch.Tensor:
        return self.G(self.fixed_z)

    def quality(self):
        return mode_quality(self.samples(), self.settings.data)

    @torch.no_grad()
    def decision_surface(self, n: int = 60) -> tuple[torch.Tensor, torch.Tensor]:
        """(axis values (n,), D's output on the n x n grid (rows: y, columns: x))."""
        axis = torch.linspace(-self.extent(), self.extent(), n)
        ys, xs = torch.meshgrid(axis, axis, indexing="ij")
        out = self.D(torch.stack([xs.flatten(), ys.flatten()], 1)).view(n, n)
        return axis, (out if self.settings.loss in ("wgan-gp", "hinge") else torch.sigmoid(out))

    def gradient_field(self, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
        """(generated points (n, 2), -d L_G / d x at them (n, 2)): where G's loss moves each sample."""
        x = self.G(self.fixed_z[:n]).detach().requires_grad_(True)
        loss = self.loss.g_loss(self.D(x)) * n  # per-sample gradients (the loss is a mean over n)
        (grad,) = torch.autograd.grad(loss, x)
        return x.detach(), -grad
