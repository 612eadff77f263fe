"""Spectral normalisation (Miyato, Kataoka, Koyama & Yoshida, ICLR 2018, arXiv:1802.05957).

A discriminator is K-Lipschitz when each of its layers is: for a linear layer the Lipschitz constant is the
largest singular value sigma(W) of its weight (the spectral norm). SN divides every weight by it,

    W_SN = W / sigma(W),

so every layer is 1-Lipschitz (LeakyReLU is too) and so is D. sigma(W) is estimated by *power iteration*
(paper Algorithm 1): with u a running estimate of W's first left singular vector,

    v <- W^T u / ||W^T u||,   u <- W v / ||W v||,   sigma(W) ~ u^T W v,

one iteration per training step, u kept between steps (it changes little as W does). A conv's weight
(out, in, k, k) is treated as the matrix (out, in*k*k), as in the paper. This is the third way in the
toolkit to keep D Lipschitz, beside WGAN's weight clipping and WGAN-GP's gradient penalty (lesson 05), and
the cheapest: no extra forward or backward pass.

The implementation is PyTorch's ``torch.nn.utils.parametrizations.spectral_norm`` (u is a buffer, saved in
checkpoints, so a resumed run continues exactly; it is updated in training mode only).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

SPECTRAL_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral-normalise the weight of every conv and linear layer of ``module`` (in place); returns it."""
    for layer in list(module.modules()):
        if isinstance(layer, SPECTRAL_LAYERS) and not parametrize.is_parametrized(layer, "weight"):
            spectral_norm(layer)
    return module


def spectral_layers(module: nn.Module) -> list[nn.Module]:
    """The layers of ``module`` whose weight is spectral-normalised."""
    return [m for m in module.modules() if parametrize.is_parametrized(m, "weight")]
