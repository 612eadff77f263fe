"""Fast (feed-forward) style transfer: train a :class:`~toolkit.models.transform_net.TransformNet` with the
perceptual losses of ``toolkit/perceptual.py`` (Johnson, Alahi & Fei-Fei 2016); lesson 12.

Optimisation-based transfer (``toolkit/stylize.py``) runs hundreds of gradient steps *per image*. Johnson et
al. train a network once, for one style, on many content images, with the same losses:

    for a batch x of content images:   y_hat = T(x)
        w_content * l_feat(y_hat, x)      at the backbone's content layer (the content target is x itself)
      + w_style   * l_style(y_hat, s)     at its style layers, one style image s for every image
      + w_tv      * l_TV(y_hat)

Only T's parameters are optimised (Adam); the loss network (the backbone) is frozen and never changes.
Afterwards, stylising an image is one forward pass of T.

The paper (jcjohnson/fast-neural-style's defaults): VGG16, content relu2_2 in the paper (relu3_3 in the
code), style relu1_2, relu2_2, relu3_3, relu4_3, content 1, style 5, TV 1e-6, Adam lr 1e-3, batch 4 of
256x256 COCO crops, 40,000 iterations. pytorch/examples uses content 1e5, style 1e10 with its own scale.
The weights only mean something together with a backbone and a Gram normalisation; the defaults here
(content 1, style 1e5, TV 0.1, lr 1e-3) match ``style_transfer``'s on the toolkit's own backbone.

Also here: the built-in photographs as tensors (:func:`builtin_photo`) and random crops of them
(:func:`random_crops`), the content images of lesson 12.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import Backbone
from .errors import ToolkitError
from .perceptual import perceptual_loss, style_grams, style_loss, total_variation_loss

GREY_TEXTURES = ("brick", "grass", "gravel")


def builtin_photo(name: str, max_side: int | None = None) -> torch.Tensor:
    """One of scikit-image's sample images (``chelsea``, ``astronaut``, ``coffee``, ``rocket``,
    ``immunohistochemistry``, ``hubble_deep_field``, ``colorwheel``; grey ``brick``, ``grass``, ``gravel``)
    as (1, C, H, W) in [-1, 1], shrunk (area averaging, with antialiasing) so its longer side is at most
    ``max_side``. Grey textures have C = 1; repeat them to 3 channels for a colour network."""
    from skimage import data as photos

    loader = getattr(photos, name, None)
    if loader is None or name.startswith("_"):
        raise ToolkitError(f"scikit-image has no sample image {name!r}")
    arr = torch.from_numpy(loader().copy()).float()
    img = arr[None, None] if arr.dim() == 2 else arr[..., :3].permute(2, 0, 1)[None]
    img = img / 127.5 - 1
    h, w = img.shape[-2:]
    if max_side and max(h, w) > max_side:
        k = max_side / max(h, w)
        size = (max(1, round(h * k)), max(1, round(w * k)))
        img = F.interpolate(img, size=size, mode="bilinear", antialias=True, align_corners=False)
    return img.clamp(-1, 1)


def random_crops(images: Sequence[torch.Tensor], n: int, size: int, seed: int = 0) -> torch.Tensor:
    """``n`` random ``size`` x ``size`` crops spread evenly over ``images`` (each (1, C, H, W)):
    (n, C, size, size)."""
    g = torch.Generator().manual_seed(seed)
    crops = []
    for i, img in enumerate(images):
        h, w = img.shape[-2:]
        if min(h, w) < size:
            raise ToolkitError(f"an image of {h}x{w} pixels is too small for {size}x{size} crops")
        for _ in range(n // len(images) + (i < n % len(images))):
            y = int(torch.randint(0, h - size + 1, (1,), generator=g))
            x = int(torch.randint(0, w - size + 1, (1,), generator=g))
            crops.append(img[0, :, y : y + size, x : x + size])
    return torch.stack(crops)


def train_transform_net(
    net: nn.Module,
    content_images: torch.Tensor,
    style_image: torch.Tensor,
    backbone: Backbone,
    steps: int = 300,
    batch_size: int = 4,
    content_weight: float = 1.0,
    style_weight: float = 1e5,
    tv_weight: float = 0.1,
    lr: float = 1e-3,
    content_layer: str | None = None,
    style_layers: Sequence[str] | None = None,
    seed: int = 0,
    callback: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Train ``net`` (in place) to stylise ``content_images`` (N, C, H, W) in [-1, 1] like ``style_image``
    (1, C, h, w) under ``backbone``'s perceptual losses; Adam on ``net``'s parameters only.

    Returns one row per step: ``step``, ``content``, ``style``, ``tv`` (the unweighted losses), ``total``
    (weighted) and ``seconds`` since the start; ``callback(row)`` is called after each step."""
    if steps < 1 or batch_size < 1:
        raise ToolkitError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    content_layer = content_layer or backbone.content
    style_layers = tuple(style_layers or backbone.style)
    layers = list(dict.fromkeys([content_layer, *style_layers]))
    param = next(net.parameters())
    device = param.device
    with torch.no_grad():
        target_grams = style_grams(backbone(style_image.to(device), list(style_layers)))
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    net.train()
    history, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        index = torch.randint(0, len(content_images), (batch_size,), generator=g)
        x = content_images[index].to(device)
        with torch.no_grad():
            content_target = backbone(x, [content_layer])
        y = net(x)
        feats = backbone(y, layers)
        lc = perceptual_loss({content_layer: feats[content_layer]}, content_target)
        ls = style_loss({n: feats[n] for n in style_layers}, target_grams)
        ltv = total_variation_loss(y)
        loss = content_weight * lc + style_weight * ls + tv_weight * ltv
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        row = {
            "step": step,
            **{
                k: v.item()
                for k, v in (("content", lc), ("style", ls), ("tv", ltv), ("total", loss.detach()))
            },
        }
        row["seconds"] = time.perf_counter() - start
        history.append(row)
        if callback is not None:
            callback(row)
    return history


@torch.no_grad()
def stylize(net: nn.Module, images: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
    """One forward pass of a trained transformation network per image, in batches."""
    net.eval()
    device = next(net.parameters()).device
    out = [net(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out)
