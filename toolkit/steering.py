"""Controllable generation with a classifier's gradient: move z until G(z) scores higher for a class.

A trained, frozen classifier C tells how much an image looks like class c (its log-probability
log p_C(c | image)); everything between z and that number is differentiable, so gradient *ascent* on z,

    z <- z + lr * d/dz [ log p_C(c | G(z)) - keep_weight * sum_k (a_k(G(z)) - a_k(G(z_0)))^2 - prior(z) ],

changes the image towards class c (the approach of deeplearning.ai's GAN course, "controllable generation",
after Nguyen et al. 2016's activation maximisation through a generator). G and C stay fixed; only z moves.

Two things go wrong without care, and both are measured in lesson 15:

* **entanglement**: other attributes a_k (brightness, area covered, other classes) change along with the
  target, because the directions that raise the score in Z are not orthogonal to theirs. The optional
  penalty ``keep`` holds them at their starting values (squared change, weighted by ``keep_weight``);
* **leaving the prior**: z can grow off the shell |z|^2 ~ d where G was trained and the images break while
  the classifier's score still rises (an adversarial example for C through G). The same regulariser as the
  projector's, (|z|^2 / d - 1)^2, weighted by ``prior_weight``, keeps it there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from .errors import ToolkitError
from .projection import check_label, latent_penalty


@dataclass
class Steering:
    """What :func:`steer` did: the latents before and after, their images, and per step the mean target score
    (``scores``) and the mean squared change of the kept attributes (``kept_change``)."""

    z_start: torch.Tensor
    z: torch.Tensor
    before: torch.Tensor
    after: torch.Tensor
    scores: list[float] = field(default_factory=list)
    kept_change: list[float] = field(default_factory=list)


def steer(
    G: nn.Module,
    z: torch.Tensor,
    score: Callable[[torch.Tensor], torch.Tensor],
    steps: int = 50,
    lr: float = 0.05,
    keep: Callable[[torch.Tensor], torch.Tensor] | None = None,
    keep_weight: float = 0.0,
    prior_weight: float = 0.1,
    label=None,
) -> Steering:
    """Gradient ascent on ``z`` (N, d) to raise ``score(images)`` (N,), e.g.
    ``toolkit.directions.class_score(classifier, c)``; ``keep(images)`` -> (N, K) attributes held near their
    starting values with weight ``keep_weight``. Adam on z, ``steps`` steps of ``lr``."""
    if steps < 1 or lr <= 0:
        raise ToolkitError(f"steering needs steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    if keep_weight < 0 or prior_weight < 0:
        raise ToolkitError("keep_weight and prior_weight must be >= 0")
    if keep_weight > 0 and keep is None:
        raise ToolkitError("keep_weight > 0 needs keep=: the attributes to hold fixed")
    if z.dim() != 2 or z.shape[1] != G.z_dim:
        raise ToolkitError(f"this generator takes z of shape (batch, {G.z_dim}), got {tuple(z.shape)}")
    device = next(G.parameters()).device
    y = check_label(G, label, len(z))
    y = None if y is None else y.to(device)
    G.requires_grad_(False)

    def draw(latent):
        return G(latent, y) if y is not None else G(latent)

    z_start = z.detach().to(device).clone()
    with torch.no_grad():
        before = draw(z_start)
        kept_start = keep(before) if keep is not None else None
    latent = z_start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([latent], lr=lr)
    result = Steering(z_start=z_start, z=z_start, before=before, after=before)
    for _ in range(steps):
        images = draw(latent)
        target = score(images)
        change = (
            (keep(images) - kept_start).square().reshape(len(images), -1).sum(1)
            if keep is not None
            else torch.zeros_like(target)
        )
        objective = target - keep_weight * change - prior_weight * latent_penalty(latent, "z")
        optimizer.zero_grad(set_to_none=True)
        (-objective.sum()).backward()  # ascent: minimise the negative; each latent gets its own gradient
        optimizer.step()
        result.scores.append(float(target.detach().mean()))
        result.kept_change.append(float(change.detach().mean()))
    with torch.no_grad():
        result.z = latent.detach().clone()
        result.after = draw(result.z)
    return result
