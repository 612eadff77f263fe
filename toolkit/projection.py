"""Projection (GAN inversion): find the latent whose image matches a given target image.

A trained generator G only draws; to *edit* a real image with it we first need a latent that G maps to
that image. Projection finds one by optimisation (Abdal, Qin & Wonka 2019, "Image2StyleGAN"; Karras et al.
2020, StyleGAN2 section 5, whose ``projector.py`` in NVlabs/stylegan2-ada-pytorch this follows):

    latent* = argmin_latent   pixel_weight   * mean (G(latent) - target)^2
                            + feature_weight * sum_layers mean (F_l(G(latent)) - F_l(target))^2
                            + latent_weight  * R(latent)

* **what is optimised**: z for every generator (the input drawn from N(0, I)); for a StyleGAN generator by
  default one w in W (``space="w"``), broadcast to every layer, as the reference projector does: W is the
  space the mapping network learnt, less curved than Z, so a gradient step there moves the image more evenly.
* **the feature distance** F: a frozen network's activations (``toolkit/backbones.py``). The reference
  uses LPIPS on VGG16; offline the toolkit's own Fashion-MNIST classifier (``fmnist-cnn``) is the default,
  VGG16/VGG19 when their ImageNet weights are on disk. Pixels alone favour a blurry average; features reward
  edges and textures in the right place.
* **the latent regulariser** R keeps the latent where G was trained, or G can fit anything with an image it
  never drew (the "overfit the latent" failure of Image2StyleGAN's extended W+ space):
  in Z, N(0, I) in d dimensions puts nearly all its mass near the sphere |z|^2 = d, so
  R(z) = (|z|^2 / d - 1)^2 (stay on that shell; a pull towards 0 would leave it);
  in W, R(w) = |w - w_avg|^2 / (d * w_std^2) (stay near the average w, in units of W's spread), off by
  default there (``latent_weight`` 0): a pull towards w_avg is a pull towards the average image, and the
  reference projector does not regularise w either (it regularises its noise maps, which here stay at their
  stored constants).
* **the schedule** (reference ``projector.py``): the learning rate ramps up over the first ``rampup`` share of
  the steps, then down with a half cosine over the last ``rampdown`` share; early on, Gaussian noise of
  ``noise`` x the latent's spread, shrinking quadratically to 0 by 75 % of the steps, is added to the latent
  the generator sees, so the first steps explore instead of falling into the nearest poor minimum.
* **the start**: the reference starts at w_avg; in Z, where 0 is not a typical latent, the best of
  ``candidates`` random draws (lowest loss) is the start instead.

:func:`project` does it for a batch of targets (each its own latent; the losses are summed, so each image's
gradient is its own) and returns the latents, the reconstructions and the loss curve. Every input is checked
first (:func:`check_target`): a target of the wrong size or channel count, or a missing label for a
conditional generator, is a one-line error before any work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from .errors import ToolkitError
from .models import is_conditional

SPACES = {
    "z": "the generator's input z ~ N(0, I)",
    "w": "StyleGAN's intermediate latent w (one for all layers)",
}
LATENT_WEIGHT = {"z": 0.01, "w": 0.0}  # the regulariser's default weight in each space (module docstring)
NOISE_RAMP = 0.75
# a target is refused beyond +-RANGE_LIMIT: real images are in [-1, 1], but G's own images may overshoot a
# little (StyleGAN's output layer is linear), and projecting them must work; 0..255 pixels are far beyond
RANGE_LIMIT = 3.0  # share of the steps over which the exploration noise shrinks to 0 (reference projector)


@dataclass
class Projection:
    """What :func:`project` found: ``latent`` (N, d) in ``space``, G's image of it ``reconstruction``
    (N, C, H, W, in [-1, 1], or a little beyond for a linear output layer), and the loss after every step
    (mean over the batch): ``losses``, with its parts ``pixel``, ``feature`` and ``latent_penalty``."""

    latent: torch.Tensor
    space: str
    reconstruction: torch.Tensor
    losses: list[float] = field(default_factory=list)
    pixel: list[float] = field(default_factory=list)
    feature: list[float] = field(default_factory=list)
    latent_penalty: list[float] = field(default_factory=list)


def is_stylegan(G: nn.Module) -> bool:
    return hasattr(G, "mapping") and hasattr(G, "synthesis") and hasattr(G, "num_ws")


def latent_size(G: nn.Module, space: str = "z") -> int:
    """The size of one latent of ``space`` for this generator."""
    if space == "w":
        return int(G.w_dim)
    if not hasattr(G, "z_dim"):
        raise ToolkitError(f"{type(G).__name__} has no z_dim: it is not a toolkit generator")
    return int(G.z_dim)


def choose_space(G: nn.Module, space: str | None) -> str:
    """``space`` checked against the generator: None picks w for StyleGAN, z for every other generator."""
    if space is None:
        return "w" if is_stylegan(G) else "z"
    if space not in SPACES:
        raise ToolkitError(f"unknown latent space {space!r}; choose one of {', '.join(SPACES)}")
    if space == "w" and not is_stylegan(G):
        raise ToolkitError(
            f"only a StyleGAN generator has a w space ({type(G).__name__} has not); use space='z'"
        )
    return space


def synthesize(
    G: nn.Module, latent: torch.Tensor, space: str, label: torch.Tensor | None = None
) -> torch.Tensor:
    """G's images of ``latent``: G(z) (G(z, y) for a conditional G), or StyleGAN's synthesis network of w
    repeated for every layer, with its stored (constant) noise maps."""
    if space == "w":
        ws = latent.unsqueeze(1).repeat(1, G.num_ws, 1)
        return G.synthesis(ws, noise_mode="const")
    return G(latent, label) if label is not None else G(latent)


def check_label(G: nn.Module, label, n: int) -> torch.Tensor | None:
    """The label tensor (n,) for a conditional generator, None for an unconditional one; else an error."""
    if not is_conditional(G):
        if label is not None:
            raise ToolkitError("this generator is unconditional: it takes no label; leave the label out")
        return None
    if label is None:
        raise ToolkitError(
            f"this generator is conditional: give the class of the image (label=0..{G.num_classes - 1})"
        )
    y = torch.as_tensor(label).long().view(-1)
    if y.numel() == 1:
        y = y.expand(n)
    if y.numel() != n or y.min() < 0 or y.max() >= G.num_classes:
        raise ToolkitError(f"give one label for all images or one per image, each in 0..{G.num_classes - 1}")
    return y.clone()


@torch.no_grad()
def output_shape(G: nn.Module) -> tuple[int, int, int]:
    """(C, H, W) of G's images, from one image drawn at z = 0."""
    device = next(G.parameters()).device
    z = torch.zeros(1, latent_size(G), device=device)
    y = torch.zeros(1, dtype=torch.long, device=device) if is_conditional(G) else None
    return tuple(synthesize(G, z, "z", y).shape[1:])


def check_target(G: nn.Module, target: torch.Tensor) -> torch.Tensor:
    """The target as an (N, C, H, W) float tensor G can draw, or a one-line error saying how to fix it."""
    if not torch.is_tensor(target) or target.dim() not in (3, 4):
        raise ToolkitError(
            "give the target as an image tensor (C, H, W) or a batch (N, C, H, W), values in [-1, 1]"
        )
    target = (target.unsqueeze(0) if target.dim() == 3 else target).float()
    c, h, w = output_shape(G)
    kind = {1: "grey", 3: "colour"}
    if target.shape[1] != c:
        have = kind.get(target.shape[1], f"{target.shape[1]}-channel")
        fix = (
            "convert it to grey (PIL: image.convert('L'))"
            if c == 1
            else "convert it to RGB (image.convert('RGB'))"
        )
        raise ToolkitError(
            f"the target is a {have} image but this generator makes {kind.get(c, f'{c}-channel')} images; "
            f"{fix}"
        )
    if target.shape[2:] != (h, w):
        raise ToolkitError(
            f"the target is {target.shape[3]}x{target.shape[2]} pixels but this generator makes only {w}x{h} "
            f"images; resize (or crop) the target to {w}x{h}"
        )
    low, high = target.min().item(), target.max().item()
    if low < -RANGE_LIMIT or high > RANGE_LIMIT:
        raise ToolkitError(
            f"target pixels must be in [-1, 1] (the toolkit's range), got {low:.3g}..{high:.3g}; "
            "map 0..255 with x / 127.5 - 1"
        )
    return target


def read_image(path: str | Path) -> torch.Tensor:
    """An image file as a (C, H, W) tensor in [-1, 1]: grey images get 1 channel, others 3 (no resizing:
    :func:`check_target` says when the size is not one the generator makes)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(Path(path).expanduser()) as image:
            image = image.convert("L" if image.mode in ("1", "L", "I;16", "I") else "RGB")
            pixels = torch.from_numpy(np.array(image, dtype=np.float32))  # (H, W) or (H, W, 3)
    except FileNotFoundError:
        raise ToolkitError(f"image {path} does not exist") from None
    except (UnidentifiedImageError, OSError):
        raise ToolkitError(f"{path} is not an image file PIL can read; give a .png or .jpg") from None
    pixels = pixels[:, :, None] if pixels.dim() == 2 else pixels
    return pixels.permute(2, 0, 1) / 127.5 - 1


def learning_rate(
    step: int, steps: int, initial: float, rampup: float = 0.05, rampdown: float = 0.25
) -> float:
    """The reference projector's schedule at ``step`` of ``steps``: a linear warm-up over the first
    ``rampup`` share of the steps, a half-cosine ramp-down over the last ``rampdown`` share."""
    t = step / steps
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp *= min(1.0, t / rampup) if rampup > 0 else 1.0
    return initial * ramp


def exploration_noise(step: int, steps: int, scale: float) -> float:
    """The standard deviation of the noise added to the latent at ``step``: ``scale`` shrinking
    quadratically to 0 at NOISE_RAMP of the steps (reference projector)."""
    return scale * max(0.0, 1.0 - step / (steps * NOISE_RAMP)) ** 2


@torch.no_grad()
def w_statistics(G: nn.Module, n: int = 2000, seed: int = 0) -> tuple[torch.Tensor, float]:
    """StyleGAN's average w (the one the generator tracked in training) and the spread of w around it,
    sqrt(E|w - w_avg|^2 / d), from ``n`` mapped z's (reference: 10,000)."""
    device = next(G.parameters()).device
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    w = G.mapping(z)
    w_avg = G.mapping.w_avg.detach().clone()
    return w_avg, float((w - w_avg).square().mean().sqrt())


def latent_penalty(latent: torch.Tensor, space: str, w_avg=None, w_std: float = 1.0) -> torch.Tensor:
    """(N,) the regulariser R of the module docstring: in Z, (|z|^2 / d - 1)^2; in W,
    |w - w_avg|^2 / (d w_std^2)."""
    d = latent.shape[1]
    if space == "w":
        return (latent - w_avg).square().sum(1) / (d * w_std**2)
    return (latent.square().sum(1) / d - 1).square()


def image_losses(images, target, backbone, layers, pixel_weight: float, feature_weight: float):
    """(N,) pixel and (N,) feature distances of each image to its target (unweighted), and their
    weighted sum."""
    pixel = (images - target).square().mean(dim=(1, 2, 3))
    feature = torch.zeros_like(pixel)
    if backbone is not None and feature_weight > 0:
        got, want = backbone(images, layers), backbone(target, layers)
        feature = sum((got[n] - want[n]).square().mean(dim=(1, 2, 3)) for n in layers)
    return pixel, feature, pixel_weight * pixel + feature_weight * feature


def project(
    G: nn.Module,
    target: torch.Tensor,
    steps: int = 300,
    label=None,
    space: str | None = None,
    lr: float = 0.1,
    pixel_weight: float = 1.0,
    feature_weight: float = 1.0,
    latent_weight: float | None = None,
    backbone="fmnist-cnn",
    layers: tuple[str, ...] | None = None,
    noise: float = 0.05,
    candidates: int = 32,
    seed: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> Projection:
    """Optimise a latent per target image so that G's image of it matches the target (module docstring).

    ``target``: (C, H, W) or (N, C, H, W) in [-1, 1], of G's size and channels; ``label``: the class, for a
    conditional generator (one for all or one per image); ``space``: "z" or "w" (default: w for StyleGAN,
    else z); ``backbone``: a name from ``toolkit.backbones`` (or a loaded backbone, or None for pixels only)
    and its ``layers`` (default: its style layers, shallow to deep); ``latent_weight``: the regulariser's
    weight (default LATENT_WEIGHT[space]); ``progress(step, loss)`` is called after every step."""
    from .backbones import Backbone, load_backbone

    if steps < 1 or lr <= 0:
        raise ToolkitError(f"projection needs steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    space = choose_space(G, space)
    latent_weight = LATENT_WEIGHT[space] if latent_weight is None else latent_weight
    if min(pixel_weight, feature_weight, latent_weight) < 0:
        raise ToolkitError("the loss weights must be >= 0")
    target = check_target(G, target)
    y = check_label(G, label, len(target))
    device = next(G.parameters()).device
    target = target.to(device)
    y = None if y is None else y.to(device)
    if backbone is not None and not isinstance(backbone, Backbone):
        backbone = load_backbone(backbone, device)
    layers = list(layers or (backbone.style if backbone is not None else ()))
    G.requires_grad_(False)
    g = torch.Generator().manual_seed(seed)
    n, d = len(target), latent_size(G, space)

    # the start: w_avg (reference), or in Z the best of `candidates` random draws per target
    w_avg, spread = w_statistics(G, seed=seed) if space == "w" else (None, 1.0)
    with torch.no_grad():
        if space == "w":
            start = w_avg.expand(n, d).clone()
        else:
            draws = torch.randn(candidates, n, d, generator=g).to(device)
            scores = torch.stack(
                [
                    image_losses(
                        synthesize(G, z, "z", y), target, backbone, layers, pixel_weight, feature_weight
                    )[2]
                    for z in draws
                ]
            )  # (candidates, n)
            start = draws[scores.argmin(0), torch.arange(n)]
    latent = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([latent], lr=lr, betas=(0.9, 0.999))
    result = Projection(latent=start, space=space, reconstruction=target)
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, lr)
        jitter = torch.randn(n, d, generator=g).to(device) * exploration_noise(step, steps, noise * spread)
        images = synthesize(G, latent + jitter, space, y)
        pixel, feature, image_loss = image_losses(
            images, target, backbone, layers, pixel_weight, feature_weight
        )
        penalty = latent_penalty(latent, space, w_avg, spread)
        loss = image_loss + latent_weight * penalty
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()  # each image's latent gets the gradient of its own loss only
        optimizer.step()
        result.losses.append(float(loss.detach().mean()))
        result.pixel.append(float(pixel.detach().mean()))
        result.feature.append(float(feature.detach().mean()))
        result.latent_penalty.append(float(penalty.detach().mean()))
        if progress is not None:
            progress(step, result.losses[-1])
    with torch.no_grad():
        result.latent = latent.detach().clone()
        result.reconstruction = synthesize(G, result.latent, space, y)
    return result
