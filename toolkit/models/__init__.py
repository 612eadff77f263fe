"""Generators and discriminators, one module per family, built by name.

``build_models(name, sample_shape, ...)`` returns ``(generator, discriminator)``; the training loop
knows nothing else about them. Every discriminator returns one raw logit per sample, shape (B,).
"""
from __future__ import annotations

from torch import nn

from ..errors import ToolkitError
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator

MODELS = {
    "mlp": "fully connected G and D (Goodfellow et al. 2014): 2-D points or flattened images",
    "dcgan": "DCGAN (Radford et al. 2015): 32x32 or 64x64 images, 1 or 3 channels",
}


def build_models(name: str, sample_shape: tuple[int, ...], z_dim: int = 64, width: int = 64,
                 kind: str = "images") -> tuple[nn.Module, nn.Module]:
    sample_shape = tuple(sample_shape)
    if name == "mlp":
        hidden = max(width, 32) * 4 if kind == "images" else max(width, 32) * 2
        return (MLPGenerator(z_dim, sample_shape, hidden=hidden, tanh_output=kind == "images"),
                MLPDiscriminator(sample_shape, hidden=hidden))
    if name == "dcgan":
        if kind != "images" or len(sample_shape) != 3 or sample_shape[1] != sample_shape[2]:
            raise ToolkitError(f"dcgan needs square images, but the data has samples of shape {sample_shape}; "
                               "use --model mlp for 2-D points")
        channels, resolution = sample_shape[0], sample_shape[1]
        return (DCGANGenerator(z_dim, channels, resolution, width),
                DCGANDiscriminator(channels, resolution, width))
    raise ToolkitError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


__all__ = ["MODELS", "build_models", "DCGANGenerator", "DCGANDiscriminator", "MLPGenerator", "MLPDiscriminator"]
