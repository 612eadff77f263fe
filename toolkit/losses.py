"""Adversarial losses as pure functions of the discriminator's raw outputs (logits).

Notation: ``real`` = D(x) on real images, ``fake`` = D(G(z)) on generated ones, both raw logits
(no sigmoid applied). With D(x) = sigmoid(logit), log D = -softplus(-logit) and
log(1 - D) = -softplus(logit); writing the losses with softplus keeps them finite where
log(sigmoid) would underflow.

Each pair (discriminator loss, generator loss) is exposed as an :class:`AdversarialLoss` in
``LOSSES`` so the training loop can pick one by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


# --- Goodfellow et al. 2014, eq. 1: min_G max_D E[log D(x)] + E[log(1 - D(G(z)))] -------------
def bce_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """D maximises eq. 1, i.e. minimises -log D(x) - log(1 - D(G(z))) (binary cross-entropy)."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def minimax_g_loss(fake: Tensor) -> Tensor:
    """G minimises E[log(1 - D(G(z)))] exactly as in eq. 1. Saturates: when D confidently
    rejects fakes (logit << 0) the gradient vanishes, which is why nobody trains with it."""
    return -F.softplus(fake).mean()


def nonsaturating_g_loss(fake: Tensor) -> Tensor:
    """The 'non-saturating' fix from the same paper: G maximises log D(G(z)) instead."""
    return F.softplus(-fake).mean()


# --- Lim & Ye 2017 / Miyato et al. 2018: hinge loss ------------------------------------------
def hinge_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g_loss(fake: Tensor) -> Tensor:
    return -fake.mean()


# --- Arjovsky et al. 2017: Wasserstein (the critic's outputs are scores, not logits) ----------
def wasserstein_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """The critic maximises E[C(x)] - E[C(G(z))], the Kantorovich-Rubinstein estimate."""
    return fake.mean() - real.mean()


def wasserstein_g_loss(fake: Tensor) -> Tensor:
    return -fake.mean()


@dataclass(frozen=True)
class AdversarialLoss:
    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    description: str


LOSSES: dict[str, AdversarialLoss] = {
    "nonsaturating": AdversarialLoss(
        "nonsaturating", bce_d_loss, nonsaturating_g_loss, "BCE for D, -log D(G(z)) for G (the default)"
    ),
    "minimax": AdversarialLoss(
        "minimax", bce_d_loss, minimax_g_loss, "eq. 1 of Goodfellow et al. as written"
    ),
    "hinge": AdversarialLoss("hinge", hinge_d_loss, hinge_g_loss, "hinge loss (SAGAN, BigGAN)"),
    "wasserstein": AdversarialLoss(
        "wasserstein",
        wasserstein_d_loss,
        wasserstein_g_loss,
        "WGAN critic loss (needs a Lipschitz constraint)",
    ),
}


def get_loss(name: str) -> AdversarialLoss:
    from .errors import ToolkitError

    try:
        return LOSSES[name]
    except KeyError:
        raise ToolkitError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
