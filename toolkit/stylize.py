"""Optimisation-based style transfer (Gatys, Ecker & Bethge 2016): ``python -m toolkit stylize``, lesson 12.

No network is trained. The *pixels* of the output are the parameters: starting from the content image,
gradient steps lower

    w_content * l_feat(output, content)  at the backbone's content layer      (what is where)
  + w_style   * l_style(output, style)   at its style layers (Gram matrices) (which textures, colours)
  + w_tv      * l_TV(output)                                                  (no pixel noise)

(the losses of ``toolkit/perceptual.py``). The content and style targets are computed once. Adam on the
pixels (lr 0.05 in [-1, 1] units, clamped back to [-1, 1] after each step) is used rather than the
tutorial's L-BFGS: every step costs the same and the loss curve is easy to read. Adam divides each
gradient by its own running size, so only the *ratio* of the weights matters, not their scale.
Defaults (content 1, style 1e5, TV 0.1, 200 steps) were chosen on the toolkit's backbone at 160 px: the
style loss falls about 1,000-fold while the content stays recognisable; ImageNet VGG's features are larger,
and the PyTorch tutorial's ratio 1e6 : 1 is the place to start there.
At these defaults the content term barely acts: the content survives because the pixels start from the
content image and the run is short. ``experiments/perceptual_weights.py`` measured it on the toolkit's
backbone at 48 px (``results/perceptual/``, read by lesson 12): after 25 steps, content weights up to 1e2
leave the content loss within 1% of no content term at all; over 300 steps the content loss at weight 1
keeps growing, and weights of 1e4 and more hold it below its 25-step value.

Which backbone decides what "style" means: ImageNet VGG (when its weights are on this machine) knows
photographs' textures; the toolkit's own Fashion-MNIST network knows cloth, stripes and edges, sees colour
one channel at a time, and transfers colour and coarse texture more than brush strokes. The command says
which one it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .backbones import Backbone
from .errors import ToolkitError
from .outputs import stop_point
from .perceptual import perceptual_loss, style_grams, style_loss, total_variation_loss


@dataclass
class StyleTransferResult:
    image: torch.Tensor  # (1, C, H, W) in [-1, 1]
    history: list[dict] = field(default_factory=list)  # one row per step: step, content, style, tv, total


def style_transfer(
    content: torch.Tensor,
    style: torch.Tensor,
    backbone: Backbone,
    steps: int = 200,
    content_weight: float = 1.0,
    style_weight: float = 1e5,
    tv_weight: float = 0.1,
    lr: float = 0.05,
    content_layer: str | None = None,
    style_layers: tuple[str, ...] | None = None,
    init: torch.Tensor | None = None,
    callback: Callable[[int, torch.Tensor], None] | None = None,
) -> StyleTransferResult:
    """Optimise an image to have ``content``'s features and ``style``'s Gram matrices; (1, C, H, W) inputs
    in [-1, 1] (the style image may have another size). ``init``: the starting image (default: content)."""
    if steps < 1:
        raise ToolkitError(f"--steps must be >= 1, got {steps}")
    for name, weight in (("content", content_weight), ("style", style_weight), ("tv", tv_weight)):
        if not math.isfinite(weight) or weight < 0:
            raise ToolkitError(f"--{name}-weight must be a finite number >= 0, got {weight}")
    content_layer = content_layer or backbone.content
    style_layers = tuple(style_layers or backbone.style)
    with torch.no_grad():
        content_target = backbone(content, [content_layer])
        style_target = style_grams(backbone(style, list(style_layers)))
    image = (content if init is None else init).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=lr)
    history = []
    for step in range(1, steps + 1):
        stop_point()  # Ctrl-C / SIGTERM from the command line
        optimizer.zero_grad(set_to_none=True)
        feats = backbone(image, list(dict.fromkeys([content_layer, *style_layers])))
        lc = perceptual_loss({content_layer: feats[content_layer]}, content_target)
        ls = style_loss({n: feats[n] for n in style_layers}, style_target)
        ltv = total_variation_loss(image)
        loss = content_weight * lc + style_weight * ls + tv_weight * ltv
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(-1, 1)
        row = {
            "step": step,
            **{
                k: float(v.detach())
                for k, v in (("content", lc), ("style", ls), ("tv", ltv), ("total", loss))
            },
        }
        history.append(row)
        if callback is not None:
            callback(step, image.detach())
    return StyleTransferResult(image.detach(), history)


def read_image(path: str | Path, max_side: int, channels: int = 3) -> torch.Tensor:
    """An image file -> (1, channels, H, W) in [-1, 1], shrunk (Lanczos) so its longer side is at most
    ``max_side``; a one-line error when it is missing or does not decode."""
    from PIL import Image

    from .data.decode import read_images, to_8_bit, to_tensor

    path = Path(path).expanduser()
    if path.is_dir():
        raise ToolkitError(f"{path} is a folder; give one image file")
    if not path.is_file():
        raise ToolkitError(f"{path} does not exist; give an image file")
    _, img = next(read_images([(path.name, path.read_bytes)], path.parent))
    img = to_8_bit(img)
    w, h = img.size
    if max(w, h) > max_side:
        k = max_side / max(w, h)
        img = img.resize((max(1, round(w * k)), max(1, round(h * k))), Image.LANCZOS)
    if min(img.size) < 16:
        raise ToolkitError(f"{path} is {w}x{h} pixels; style transfer needs at least 16x16")
    return to_tensor([img], channels)


def png_writer(image: torch.Tensor) -> Callable:
    """(1, C, H, W) in [-1, 1] -> a function writing it as a PNG into an open binary file."""
    from PIL import Image

    arr = ((image[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
    pil = Image.fromarray(arr[0] if arr.shape[0] == 1 else np.ascontiguousarray(arr.transpose(1, 2, 0)))
    return lambda f: pil.save(f, format="PNG")


def save_image(image: torch.Tensor, path: str | Path) -> Path:
    """(1, C, H, W) in [-1, 1] -> a PNG, written atomically."""
    from .files import atomic_write

    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, png_writer(image))
    return path
