"""Perceptual losses (Johnson, Alahi & Fei-Fei 2016) and the total-variation regulariser; lessons 11-12.

Each loss is a small pure function of *features*: dicts ``{layer: (N, C, H, W)}`` from a frozen
:class:`~toolkit.backbones.Backbone` (``backbone(images, layers)``). Computing the target's features once
and reusing them is then the caller's choice (style transfer does; SRGAN's targets change every batch).

**Feature reconstruction** (Johnson eq. 2), at layer j with C_j x H_j x W_j activations phi_j:

    l_feat(y_hat, y) = ||phi_j(y_hat) - phi_j(y)||_2^2 / (C_j H_j W_j)        = the mean squared difference

Low layers keep the pixels; deep layers keep the content and let colour, texture and exact position go
(lesson 12 reconstructs an image from each layer to show it). SRGAN's content loss is this, on VGG19's
relu5_4.

**Style reconstruction** (Johnson eq. 3-4), with the Gram matrix of layer j

    G_j(x)[c, c'] = sum_{h, w} phi_j(x)[c, h, w] * phi_j(x)[c', h, w] / (C_j H_j W_j)
    l_style(y_hat, y) = ||G_j(y_hat) - G_j(y)||_F^2                           summed over the style layers

The Gram matrix keeps which features occur together and how strongly, and forgets *where*: it does not
change when the pixels are shuffled, which is why it describes a texture. The /(C H W) normalisation is the
paper's (and pytorch/examples'); the PyTorch tutorial also divides by the batch size, which makes its
weights incomparable. Losses are averaged over the batch.

**Total variation** (Johnson's and Mahendran & Vedaldi's smoothness prior): the mean squared difference
between vertical neighbours plus that between horizontal neighbours. A constant image scores 0, a
checkerboard of 0 and 1 scores 2. (leftthomas/SRGAN's ``TVLoss`` is twice this.)
"""

from __future__ import annotations

from typing import Mapping

import torch

Features = Mapping[str, torch.Tensor]


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C): F F^T / (C H W), F the features flattened to (C, H*W)."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def perceptual_loss(features: Features, target: Features, weights: Mapping[str, float] | None = None):
    """Feature reconstruction: sum over the layers of ``features`` of weight x mean squared difference."""
    loss = 0.0
    for name, f in features.items():
        loss = loss + (weights or {}).get(name, 1.0) * (f - target[name]).pow(2).mean()
    return loss


def style_loss(features: Features, target_grams: Features, weights: Mapping[str, float] | None = None):
    """Style reconstruction: sum over the layers of weight x squared Frobenius distance of Gram matrices.

    ``target_grams``: ``{layer: (1 or N, C, C)}``, e.g. ``style_grams(backbone(style_image, layers))``;
    one style image's Gram matrices are compared with every image of the batch."""
    loss = 0.0
    for name, f in features.items():
        diff = gram_matrix(f) - target_grams[name]
        loss = loss + (weights or {}).get(name, 1.0) * diff.pow(2).sum(dim=(1, 2)).mean()
    return loss


def style_grams(features: Features) -> dict[str, torch.Tensor]:
    """The Gram matrix of every layer (the targets of :func:`style_loss`)."""
    return {name: gram_matrix(f) for name, f in features.items()}


def total_variation_loss(images: torch.Tensor) -> torch.Tensor:
    """Mean squared vertical-neighbour difference + mean squared horizontal-neighbour difference."""
    dy = images[..., 1:, :] - images[..., :-1, :]
    dx = images[..., :, 1:] - images[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()
