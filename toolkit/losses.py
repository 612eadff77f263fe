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


# --- Mao et al. 2017: least squares (LSGAN; CycleGAN's choice, Zhu et al. 2017 section 4) ---------------
def lsgan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """(Not in ``LOSSES``: D's outputs are regression targets, not logits, so the gan family's sign-based
    accuracy and ADA would misread them.)

    D regresses its output to 1 on real and 0 on generated: E[(D(x) - 1)^2] + E[D(G(z))^2]."""
    return (real - 1).pow(2).mean() + fake.pow(2).mean()


def lsgan_g_loss(fake: Tensor) -> Tensor:
    """G pulls D's output on its images to 1: E[(D(G(z)) - 1)^2]. D = 0.5 everywhere gives 0.25."""
    return (fake - 1).pow(2).mean()


# --- translation losses (pix2pix, CycleGAN) ---------------------------------------------------------
def l1_loss(output: Tensor, target: Tensor) -> Tensor:
    """pix2pix's reconstruction term E[|y - G(x)|_1] (Isola et al. eq. 3), a mean over pixels."""
    return (output - target).abs().mean()


def cycle_consistency_loss(real: Tensor, reconstructed: Tensor) -> Tensor:
    """CycleGAN's eq. 2 for one direction: E[|F(G(x)) - x|_1], x translated there and back."""
    return (reconstructed - real).abs().mean()


def identity_loss(real: Tensor, same: Tensor) -> Tensor:
    """CycleGAN's identity term (section 5.2): a generator fed an image already of its target domain
    should leave it alone, E[|G(y) - y|_1]. It keeps colours from drifting."""
    return (same - real).abs().mean()


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
