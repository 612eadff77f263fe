"""Ways to keep the discriminator (critic) smooth, each a small pure function.

* :func:`clip_weights_`: WGAN (Arjovsky et al. 2017, Algorithm 1 line 7): after every critic update
  clamp every weight to [-c, c]; a crude way to make the critic K-Lipschitz.
* :func:`gradient_penalty`: WGAN-GP (Gulrajani et al. 2017, eq. 3):
  lambda * E[(||grad_x C(x_hat)||_2 - 1)^2] at x_hat = eps * x + (1 - eps) * G(z), eps ~ U[0, 1].
* :func:`r1_penalty`: R1 (Mescheder et al. 2018, eq. 9): gamma / 2 * E[||grad_x D(x)||^2] on real
  images only; the penalty StyleGAN2 and most modern GANs use.

Each returns the penalty term, to be *added* to the critic's loss; ``weight`` is lambda or gamma.
The penalties build a graph (``create_graph=True``) so that their own gradient reaches D's weights.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

Tensor = torch.Tensor


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float = 0.01) -> None:
    """Clamp every parameter of ``module`` to [-c, c] in place (the trailing _ says: in place)."""
    for p in module.parameters():
        p.clamp_(-c, c)


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    weight: float = 10.0,
    eps: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """WGAN-GP's two-sided penalty; returns ``(penalty, grad_norms)``.

    ``critic`` maps a batch to one score per sample (wrap it in a lambda to pass labels).
    ``eps``: one mixing weight per sample, shape (B,); drawn from U[0, 1] when not given.
    ``grad_norms`` (detached, shape (B,)) is what the lessons plot: GP pushes it towards 1.
    """
    b = real.shape[0]
    if eps is None:
        eps = torch.rand(b, device=real.device)
    eps = eps.view(b, *([1] * (real.dim() - 1)))
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)  # points between the two
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return weight * ((norms - 1) ** 2).mean(), norms.detach()


def r1_penalty(d_real: Tensor, real: Tensor, weight: float = 10.0) -> Tensor:
    """gamma/2 * E||grad_x D(x)||^2 for real images. ``real`` must have had ``requires_grad_(True)``
    set *before* ``d_real = D(real)`` was computed."""
    (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
    return 0.5 * weight * grad.flatten(1).pow(2).sum(1).mean()
