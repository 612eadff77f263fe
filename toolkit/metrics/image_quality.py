"""Full-reference image quality: how close is a restored image (super-resolved, translated) to the truth?

* **PSNR** (dB): 10 log10(1 / MSE) on [0, 1] pixels. Higher is closer in pixels. It rewards the average of
  the plausible answers, so a blurry image can beat a sharp one (lesson 11).
* **SSIM** (Wang et al. 2004): local means, contrasts and correlations in 11x11 Gaussian windows (sigma 1.5),
  averaged; 1 is identical. Closer to what eyes notice than PSNR, still a pixel-aligned measure.
* **perceptual distance**: the mean squared difference of a frozen backbone's features (see
  ``toolkit/backbones.py``); small when the two images look alike to that network, even if pixels differ.
* **detail ratio**: the mean absolute Laplacian (the fine detail) of the images over that of the truth;
  1 = as much fine detail as the real image, below 1 = smoother (bicubic, a pixel-loss network), above 1 =
  noisier. It says nothing of whether the detail is right; read it beside PSNR.

PSNR and SSIM come from torchmetrics (its functional API, per image); a test checks both once against
scikit-image's ``peak_signal_noise_ratio`` and ``structural_similarity`` (Gaussian weights, sigma 1.5):
PSNR agrees to 1e-3 dB; SSIM to about 1e-3 on 96 px images, but on 28-32 px images the two libraries differ
by up to 0.006 because they treat the border differently, so compare SSIMs from one implementation only.
Every function takes images in [-1, 1], like the rest of the toolkit, and returns one value per image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ToolkitError


def _unit(x: torch.Tensor) -> torch.Tensor:
    return ((x.float() + 1) / 2).clamp(0, 1)


def _same_shape(output: torch.Tensor, target: torch.Tensor) -> None:
    if output.shape != target.shape or output.dim() != 4:
        raise ToolkitError(
            f"compare images of one (N, C, H, W) shape; got {tuple(output.shape)} and {tuple(target.shape)}"
        )


def psnr(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) PSNR in dB of each image, on [0, 1] pixels (inputs in [-1, 1])."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    _same_shape(output, target)
    return peak_signal_noise_ratio(
        _unit(output), _unit(target), data_range=1.0, reduction="none", dim=(1, 2, 3)
    )


def ssim(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) SSIM of each image (11x11 Gaussian window, sigma 1.5, on [0, 1] pixels; colour: channel mean).
    Images need sides of at least 11 pixels."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    _same_shape(output, target)
    if min(output.shape[-2:]) < 11:
        raise ToolkitError(f"SSIM needs images of at least 11x11 pixels, got {tuple(output.shape[-2:])}")
    return structural_similarity_index_measure(
        _unit(output), _unit(target), data_range=1.0, reduction="none", gaussian_kernel=True, sigma=1.5
    )


@torch.no_grad()
def perceptual_distance(backbone, output: torch.Tensor, target: torch.Tensor, layers=None) -> torch.Tensor:
    """(N,) mean squared feature difference at ``layers`` (default: the backbone's content layer), summed
    over the layers."""
    _same_shape(output, target)
    layers = list(layers or [backbone.content])
    fo, ft = backbone(output, layers), backbone(target, layers)
    return sum((fo[n] - ft[n]).pow(2).mean(dim=(1, 2, 3)) for n in layers)


LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def fine_detail(images: torch.Tensor) -> torch.Tensor:
    """(N,) mean absolute Laplacian of each image (on [0, 1] pixels, per channel, valid region)."""
    x = _unit(images)
    c = x.shape[1]
    kernel = LAPLACIAN.to(x.device).view(1, 1, 3, 3).repeat(c, 1, 1, 1)
    return F.conv2d(x, kernel, groups=c).abs().mean(dim=(1, 2, 3))


def detail_ratio(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) fine detail of each output over that of its target (1: as detailed as the real image)."""
    _same_shape(output, target)
    return fine_detail(output) / fine_detail(target).clamp_min(1e-8)
