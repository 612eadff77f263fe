"""Checks for lesson 08 (PGGAN). Each takes the learner's function and raises WrongAnswer on a mistake."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..families.pggan import stage_at
from ..models.pggan import PixelNorm, fade_in
from . import expect, refuses


@refuses(
    PixelNorm.forward,
    "normalize",
    hint="write it yourself from x.pow(2).mean(...): the toolkit's PixelNorm is what the check compares with",
)
def check_pixel_norm(pixel_norm) -> None:
    """``pixel_norm(x)``: x / sqrt(mean over channels of x^2 + 1e-8), per sample and pixel (paper eq. 2)."""
    g = torch.Generator().manual_seed(8)
    x = torch.randn(3, 5, 4, 4, generator=g) * torch.tensor([0.1, 1.0, 7.0]).view(3, 1, 1, 1)
    out = pixel_norm(x.clone())
    expect(
        isinstance(out, torch.Tensor) and out.shape == x.shape,
        f"return a tensor of x's shape {tuple(x.shape)}",
    )
    want = x / torch.sqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)
    rms = out.pow(2).mean(dim=1)
    if not torch.allclose(rms, torch.ones_like(rms), atol=1e-4):
        per_sample = out.pow(2).mean(dim=(1, 2, 3))
        expect(
            not torch.allclose(per_sample, torch.ones_like(per_sample), atol=1e-4),
            "you normalised over channels *and* pixels; the paper normalises each pixel's feature vector, "
            "i.e. the mean over dim=1 only",
        )
        expect(
            False,
            "after pixel norm every pixel's features should have mean square 1 (mean of x^2 over dim=1)",
        )
    expect(
        torch.allclose(out, want, atol=1e-5),
        "divide by sqrt(mean(x^2) + 1e-8), not by the standard deviation (do not subtract the mean)",
    )
    zeros = pixel_norm(torch.zeros(1, 4, 2, 2))
    expect(
        bool(torch.isfinite(zeros).all()),
        "an all-zero feature map gives NaN: add the epsilon 1e-8 inside the sqrt",
    )


@refuses(
    fade_in,
    hint="blend the two yourself with F.interpolate: the toolkit's fade_in is what the check compares with",
)
def check_fade_in(fade_in_output) -> None:
    """``fade_in_output(old_rgb, new_rgb, alpha)``: old_rgb (B, C, r/2, r/2) from the old toRGB, new_rgb
    (B, C, r, r) from the new block; blend nearest-upsampled old with new, alpha = weight of the new."""
    g = torch.Generator().manual_seed(80)
    old, new = torch.randn(2, 1, 4, 4, generator=g), torch.randn(2, 1, 8, 8, generator=g)
    up = F.interpolate(old, scale_factor=2, mode="nearest")
    out0 = fade_in_output(old, new, 0.0)
    expect(
        isinstance(out0, torch.Tensor) and out0.shape == new.shape,
        f"the output has the new resolution, shape {tuple(new.shape)}: upsample the old image 2x first",
    )
    out1 = fade_in_output(old, new, 1.0)
    if torch.allclose(out0, new, atol=1e-6) and torch.allclose(out1, up, atol=1e-6):
        expect(
            False,
            "alpha is the weight of the *new* block: at alpha = 0 the output is the old image upsampled",
        )
    bilinear = F.interpolate(old, scale_factor=2, mode="bilinear", align_corners=False)
    expect(
        not torch.allclose(out0, bilinear, atol=1e-5),
        "upsample with nearest neighbour (mode='nearest'), as the paper does; bilinear blurs the old image",
    )
    expect(
        torch.allclose(out0, up, atol=1e-6),
        "at alpha = 0 the output must equal the old image, upsampled 2x with nearest neighbour",
    )
    expect(torch.allclose(out1, new, atol=1e-6), "at alpha = 1 the output must equal the new block's image")
    expect(
        torch.allclose(fade_in_output(old, new, 0.3), 0.7 * up + 0.3 * new, atol=1e-6),
        "in between, blend linearly: (1 - alpha) * old_upsampled + alpha * new",
    )


@refuses(
    stage_at,
    hint="count the phases yourself: the toolkit's stage_at is what the check compares with",
)
def check_stage(stage) -> None:
    """``stage(kimg)`` -> (resolution, alpha) for the paper's schedule: 4x4 for 600 kimg, then for 8, 16, 32
    a 600-kimg fade-in (alpha 0 -> 1) and a 600-kimg stable phase."""
    cases = [
        (0, (4, 1.0)),
        (300, (4, 1.0)),
        (600, (8, 0.0)),
        (750, (8, 0.25)),
        (1200, (8, 1.0)),
        (1500, (8, 1.0)),
        (1800, (16, 0.0)),
        (2100, (16, 0.5)),
        (3300, (32, 0.5)),
        (9000, (32, 1.0)),
    ]
    for kimg, (res, alpha) in cases:
        got = stage(kimg)
        expect(isinstance(got, tuple) and len(got) == 2, "return a pair (resolution, alpha)")
        expect(int(got[0]) == res, f"at {kimg} kimg the network should be at {res}x{res}, got {got[0]}")
        if abs(float(got[1]) - alpha) > 1e-6:
            hint = (
                " (during a stable phase alpha stays 1)"
                if alpha == 1.0
                else " (alpha grows linearly over the 600-kimg fade-in)"
            )
            expect(False, f"at {kimg} kimg alpha should be {alpha}, got {got[1]}{hint}")
