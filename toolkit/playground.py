"""The 2-D playground (the dashboard's GAN Lab page): a small MLP GAN on a mixture of Gaussians, trained
a few steps at a time so a page can draw it live.

What it shows, each as a plain function of the current nets:

* :meth:`Playground.decision_surface`: D's output over the plane (for the log-loss games the probability
  sigmoid(D(x)) that x is real; for WGAN-GP and hinge the raw score);
* :meth:`Playground.gradient_field`: where G's loss pushes each generated point, -d L_G / d x at x = G(z)
  (the generator moves its samples along these arrows, through its weights);
* :meth:`Playground.quality`: modes covered and the share of good samples (``toolkit.data.mode_quality``).

Losses: ``minimax`` and ``nonsaturating`` (Goodfellow et al. 2014), ``hinge``, and ``wgan-gp`` (the
Wasserstein critic with a gradient penalty of 10, Gulrajani et al. 2017), all from ``toolkit.losses``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .data.toy import mixture_means, mode_quality, sample_mixture
from .errors import ToolkitError
from .losses import LOSSES
from .models.mlp import MLPDiscriminator, MLPGenerator
from .regularizers import gradient_penalty

PLAYGROUND_LOSSES = ("nonsaturating", "minimax", "hinge", "wgan-gp")


@dataclass
class PlaygroundSettings:
    data: str = "ring"  # "ring" (8 Gaussians) or "grid" (25)
    loss: str = "nonsaturating"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    z_dim: int = 2
    hidden: int = 128
    batch_size: int = 256
    seed: int = 0


class Playground:
    def __init__(self, settings: PlaygroundSettings | None = None):
        s = self.settings = settings or PlaygroundSettings()
        if s.loss not in PLAYGROUND_LOSSES:
            raise ToolkitError(f"unknown loss {s.loss!r}; choose one of {', '.join(PLAYGROUND_LOSSES)}")
        mixture_means(s.data)  # validates the name
        torch.manual_seed(s.seed)
        self.G = MLPGenerator(s.z_dim, (2,), hidden=s.hidden, tanh_output=False)
        self.D = MLPDiscriminator((2,), hidden=s.hidden)
        betas = (0.0, 0.9) if s.loss == "wgan-gp" else (0.5, 0.999)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr_d, betas=betas)
        self.loss = LOSSES["wasserstein" if s.loss == "wgan-gp" else s.loss]
        self.real = sample_mixture(s.data, 20_000, seed=s.seed).x
        self.fixed_z = torch.randn(512, s.z_dim, generator=torch.Generator().manual_seed(s.seed + 1))
        self.step = 0
        self.history: list[dict] = []

    def set_rates(self, lr_g: float, lr_d: float) -> None:
        for opt, lr in ((self.opt_g, lr_g), (self.opt_d, lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
        self.settings.lr_g, self.settings.lr_d = lr_g, lr_d

    def train(self, steps: int) -> dict:
        """``steps`` updates of D then G (WGAN-GP: 5 critic updates per G update); returns the last losses."""
        n = self.settings.batch_size
        for _ in range(steps):
            for _ in range(5 if self.settings.loss == "wgan-gp" else 1):
                real = self.real[torch.randint(len(self.real), (n,))]
                with torch.no_grad():
                    fake = self.G(torch.randn(n, self.settings.z_dim))
                loss_d = self.loss.d_loss(self.D(real), self.D(fake))
                if self.settings.loss == "wgan-gp":
                    loss_d = loss_d + gradient_penalty(self.D, real, fake, 10.0)[0]
                self.opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                self.opt_d.step()
            loss_g = self.loss.g_loss(self.D(self.G(torch.randn(n, self.settings.z_dim))))
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
            self.step += 1
        q = self.quality()
        row = {
            "step": self.step,
            "loss_d": loss_d.item(),
            "loss_g": loss_g.item(),
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
