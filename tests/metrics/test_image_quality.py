"""PSNR and SSIM (torchmetrics) checked against scikit-image's; the detail ratio and perceptual distance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from toolkit.backbones import load_backbone
from toolkit.errors import ToolkitError
from toolkit.metrics.image_quality import detail_ratio, fine_detail, perceptual_distance, psnr, ssim


def _pair(channels: int, seed: int = 0, side: int = 32):
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(3, channels, side, side, generator=g) * 2 - 1
    output = (target + 0.2 * torch.randn(target.shape, generator=g)).clamp(-1, 1)
    return output, target


def _unit(x):
    return ((x + 1) / 2).numpy().astype(np.float64)


@pytest.mark.parametrize("channels", [1, 3])
def test_psnr_and_ssim_match_scikit_image(channels):
    """On 96 px images; at 28-32 px the two SSIMs differ by up to 0.006 (border handling)."""
    output, target = _pair(channels, side=96)
    ours_psnr, ours_ssim = psnr(output, target), ssim(output, target)
    assert ours_psnr.shape == ours_ssim.shape == (3,)
    for i in range(3):
        o, t = _unit(output[i]), _unit(target[i])
        assert float(ours_psnr[i]) == pytest.approx(peak_signal_noise_ratio(t, o, data_range=1.0), abs=1e-3)
        sk = structural_similarity(
            t,
            o,
            data_range=1.0,
            channel_axis=0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        assert float(ours_ssim[i]) == pytest.approx(sk, abs=1.5e-3)


def test_psnr_known_value_and_bad_shapes():
    target = torch.zeros(1, 1, 16, 16)
    output = target + 0.2  # 0.1 on [0, 1] pixels: MSE 0.01 -> 20 dB
    assert float(psnr(output, target)[0]) == pytest.approx(20.0, abs=1e-4)
    with pytest.raises(ToolkitError, match=r"one \(N, C, H, W\) shape"):
        psnr(output, torch.zeros(1, 1, 8, 8))
    with pytest.raises(ToolkitError, match="at least 11x11"):
        ssim(torch.zeros(1, 1, 7, 7), torch.zeros(1, 1, 7, 7))


def test_detail_ratio_tells_blur_from_the_original():
    _, target = _pair(1)
    blurred = torch.nn.functional.avg_pool2d(target, 3, 1, 1)
    assert torch.allclose(detail_ratio(target, target), torch.ones(3))
    assert (detail_ratio(blurred, target) < 0.6).all()
    assert float(fine_detail(torch.full((1, 1, 8, 8), 0.3))[0]) == 0.0


def test_perceptual_distance_is_zero_for_identical_and_grows_with_noise():
    b = load_backbone("fmnist-cnn")
    output, target = _pair(1)
    assert torch.allclose(perceptual_distance(b, target, target), torch.zeros(3))
    noisier = (target + 0.6 * torch.randn_like(target)).clamp(-1, 1)
    assert (perceptual_distance(b, noisier, target) > perceptual_distance(b, output, target)).all()
