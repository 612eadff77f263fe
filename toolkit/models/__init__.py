"""Generators and discriminators, one module per family, built by name.

``build_models(name, sample_shape, ...)`` returns ``(generator, discriminator)``; the training loop
knows nothing else about them. Every discriminator returns one raw logit (or critic score) per
sample, shape (B,); conditional ones take ``D(x, y)``, and ACGAN's also returns class logits.
A conditional generator has a ``num_classes`` attribute and is called as ``G(z, y)``.
"""

from __future__ import annotations

from torch import nn

from ..errors import ToolkitError
from .conditional import ACGANDiscriminator, ConditionalDiscriminator, ConditionalGenerator
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator

MODELS = {
    "mlp": "fully connected G and D (Goodfellow et al. 2014): 2-D points or flattened images",
    "dcgan": "DCGAN (Radford et al. 2015): 32x32 or 64x64 images, 1 or 3 channels",
    "cgan": "class-conditional DCGAN: G with conditional batch norm (or concat), projection (or concat) D",
    "acgan": "ACGAN (Odena et al. 2017): label-concat G, D with an auxiliary classifier head",
    "wgan": "WGAN (Arjovsky et al. 2017): DCGAN G, critic without batch norm, weight clipping",
    "wgan-gp": "WGAN-GP (Gulrajani et al. 2017): DCGAN G, layer-norm critic, gradient penalty",
    "sngan": "SN-GAN (Miyato et al. 2018): DCGAN G, D without batch norm, spectral norm, hinge loss",
}
CONDITIONAL = ("cgan", "acgan")


def is_conditional(module: nn.Module) -> bool:
    return getattr(module, "num_classes", 0) > 0


def build_models(
    name: str,
    sample_shape: tuple[int, ...],
    z_dim: int = 64,
    width: int = 64,
    kind: str = "images",
    num_classes: int = 0,
    g_condition: str = "cbn",
    d_condition: str = "projection",
) -> tuple[nn.Module, nn.Module]:
    sample_shape = tuple(sample_shape)
    if name not in MODELS:
        raise ToolkitError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if name == "mlp" or (kind == "points" and name in ("wgan", "wgan-gp")):
        hidden = max(width, 32) * 4 if kind == "images" else max(width, 32) * 2
        return (
            MLPGenerator(z_dim, sample_shape, hidden=hidden, tanh_output=kind == "images"),
            MLPDiscriminator(sample_shape, hidden=hidden),
        )
    if kind != "images" or len(sample_shape) != 3 or sample_shape[1] != sample_shape[2]:
        raise ToolkitError(
            f"{name} needs square images, but the data has samples of shape {sample_shape}; "
            "use --model mlp (or wgan/wgan-gp) for 2-D points"
        )
    channels, resolution = sample_shape[0], sample_shape[1]
    if name in CONDITIONAL and num_classes < 2:
        raise ToolkitError(
            f"{name} is class-conditional, but the data has no labels (or one class); "
            "use a labelled dataset such as fashion-mnist, or an unconditional model"
        )
    if name == "cgan":
        return (
            ConditionalGenerator(z_dim, channels, resolution, width, num_classes, g_condition),
            ConditionalDiscriminator(channels, resolution, width, num_classes, d_condition),
        )
    if name == "acgan":
        return (
            ConditionalGenerator(z_dim, channels, resolution, width, num_classes, "concat"),
            ACGANDiscriminator(channels, resolution, width, num_classes),
        )
    G = DCGANGenerator(z_dim, channels, resolution, width)
    if name == "wgan":  # a critic: no batch norm (clipping is the only constraint), no dropout
        return G, DCGANDiscriminator(channels, resolution, width, dropout=0.0, norm="none")
    if name == "wgan-gp":  # the penalty is per sample: layer norm, never batch norm (paper, section 4)
        return G, DCGANDiscriminator(channels, resolution, width, dropout=0.0, norm="layer")
    if name == "sngan":  # spectral norm is the only constraint (added by the gan family's preset)
        return G, DCGANDiscriminator(channels, resolution, width, dropout=0.0, norm="none")
    return G, DCGANDiscriminator(channels, resolution, width)


__all__ = [
    "MODELS",
    "CONDITIONAL",
    "build_models",
    "is_conditional",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "MLPGenerator",
    "MLPDiscriminator",
    "ConditionalGenerator",
    "ConditionalDiscriminator",
    "ACGANDiscriminator",
]
