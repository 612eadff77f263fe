"""Checks for lesson 11 (SRResNet and SRGAN). Each takes the learner's function and raises WrongAnswer on a
mistake, with one sentence saying what is wrong."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..losses import nonsaturating_g_loss
from ..metrics.image_quality import psnr
from . import expect, refuses


# --- 1. pixel unshuffle by hand (the inverse of section 3's pixel shuffle) ------------------------------
@refuses(
    "pixel_unshuffle",
    "pixel_shuffle",
    hint="build it from reshape (view) and permute: nn.PixelUnshuffle / F.pixel_unshuffle is what the check "
    "compares with",
)
def check_pixel_unshuffle(pixel_unshuffle) -> None:
    """``pixel_unshuffle(x, r)``: the inverse of pixel shuffle, (N, C, H*r, W*r) -> (N, C*r*r, H, W), with
    sub-pixel (i, j) of every r x r patch of channel c going to channel ``c*r*r + i*r + j``, as
    ``nn.PixelUnshuffle(r)``; ``nn.PixelShuffle(r)`` of the result gives x back."""
    cases = [(1, 1, 2, 2, 2), (2, 3, 3, 5, 2), (2, 2, 4, 3, 3), (1, 1, 2, 2, 4)]
    for n, c, h, w, r in cases:
        x = torch.arange(n * c * h * r * w * r, dtype=torch.float32).view(n, c, h * r, w * r)
        got = pixel_unshuffle(x, r)
        want = F.pixel_unshuffle(x, r)
        expect(isinstance(got, torch.Tensor), f"return a tensor, got {type(got).__name__}")
        expect(
            tuple(got.shape) == tuple(want.shape),
            f"a {tuple(x.shape)} input with r={r} becomes {tuple(want.shape)}, not {tuple(got.shape)}: "
            "the channels grow by r*r and each side shrinks by r (section 3's pixel shuffle, run backwards)",
        )
        if torch.equal(got, want):
            continue
        patches = x.view(n, c, h, r, w, r)  # (N, C, H, i, W, j)
        transposed = patches.permute(0, 1, 5, 3, 2, 4).reshape(want.shape)  # j before i
        grouped = patches.permute(0, 3, 5, 1, 2, 4).reshape(want.shape)  # (i, j, C): sub-pixel first
        tiles = x.view(n, c, r, h, r, w).permute(0, 1, 2, 4, 3, 5).reshape(want.shape)  # r x r whole tiles
        expect(
            not torch.equal(got, transposed),
            "rows and columns of the sub-pixels are swapped: row i, column j of each r x r patch goes to "
            "channel c*r*r + i*r + j (view as (N, C, H, i, W, j), then permute to (N, C, i, j, H, W))",
        )
        expect(
            not torch.equal(got, grouped),
            "the channels are grouped the wrong way: the r*r sub-pixels of input channel c become the "
            "consecutive output channels c*r*r ... c*r*r + r*r - 1 (C before i and j)",
        )
        expect(
            not torch.equal(got, tiles),
            "you cut the image into r x r tiles of H x W pixels; each r x r *patch* of neighbouring pixels "
            "is spread over the channels: view as (N, C, H, i, W, j), not (N, C, i, H, j, W)",
        )
        expect(
            sorted(got.flatten().tolist()) == sorted(x.flatten().tolist()),
            "pixel unshuffle only moves values: every input value must appear exactly once in the output",
        )
        expect(False, f"for r={r} and input {tuple(x.shape)} the values land in the wrong places")
    x = torch.randn(2, 3, 8, 12)
    expect(
        torch.equal(nn.PixelShuffle(2)(pixel_unshuffle(x, 2)), x),
        "pixel shuffle of your result must give the input back",
    )


# --- 2. ESRGAN's relativistic generator loss ----------------------------------------------------------
class _Features(nn.Module):
    """A fixed, frozen stand-in for the backbone: conv 3x3 (1 -> 3 channels), ReLU, 2x2 average pool."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(11)
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(3, 1, 3, 3, generator=g))
            self.conv.bias.copy_(torch.randn(3, generator=g) * 0.1)
        self.requires_grad_(False)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return F.avg_pool2d(F.relu(self.conv(x)), 2)


class _D(nn.Module):
    """A fixed discriminator: one logit per image from a linear map of its pixels."""

    def __init__(self, side: int = 8):
        super().__init__()
        g = torch.Generator().manual_seed(12)
        self.w = torch.randn(side * side, generator=g) / side
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        expect(x.dim() == 4 and x.shape[1] == 1, f"D takes a batch of images; it got shape {tuple(x.shape)}")
        return x.flatten(1) @ self.w + 0.4


def _sr_batch(seed: int):
    g = torch.Generator().manual_seed(seed)
    fake = (torch.rand(4, 1, 8, 8, generator=g) * 2 - 1).requires_grad_(True)
    # the target comes from something that tracks gradients (say, a data pipeline that is itself trained),
    # so a missing detach shows
    real = (torch.rand(4, 1, 8, 8, generator=g) * 2 - 1).requires_grad_(True)
    return fake, real


def _relativistic(real_logits, fake_logits):
    """ESRGAN's relativistic average G loss (Wang et al. 2018, eq. 2): -E log(1 - D_Ra(real, fake))
    - E log D_Ra(fake, real), D_Ra(a, b) = sigmoid(C(a) - mean C(b)), written with softplus."""
    return (
        F.softplus(real_logits - fake_logits.mean()).mean()
        + F.softplus(real_logits.mean() - fake_logits).mean()
    )


@refuses(
    nonsaturating_g_loss,
    "binary_cross_entropy_with_logits",
    hint="write the adversarial term yourself with F.softplus: toolkit.losses and "
    "F.binary_cross_entropy_with_logits are what the check compares with",
)
def check_generator_loss(relativistic_g_loss) -> None:
    """``relativistic_g_loss(features, D, fake, real, adversarial_weight)``: SRGAN's content loss, the mean
    squared difference of ``features(fake)`` and ``features(real)`` (the target's features detached), plus
    ``adversarial_weight`` times ESRGAN's relativistic average adversarial term, softplus(D(real) -
    mean D(fake)).mean() + softplus(mean D(real) - D(fake)).mean(), with D's logits on the real images
    taken as constants (no gradient reaches the target)."""
    features, D = _Features(), _D()
    fake, real = _sr_batch(110)
    w = 0.5  # large enough that the adversarial term's slips show next to the content loss
    loss = relativistic_g_loss(features, D, fake, real, w)
    expect(
        isinstance(loss, torch.Tensor) and loss.numel() == 1,
        f"return the loss as a one-number tensor (a mean), got "
        f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__}",
    )
    loss = loss.reshape(())
    if features.calls == 0:
        expect(False, "the content loss is missing: compare features(fake) with features(real), not pixels")

    def reference(w, fake=fake, real=real):
        content = (features(fake) - features(real).detach()).pow(2).mean()
        return content + w * _relativistic(D(real).detach(), D(fake)), content

    with torch.no_grad():
        want, content = reference(w)
        r, f = D(real), D(fake)
        adv = _relativistic(r, f)
        candidates = {
            "standard": content + w * F.softplus(-f).mean(),
            "content_only": content,
            "fake_term_only": content + w * F.softplus(r.mean() - f).mean(),
            "real_term_only": content + w * F.softplus(r - f.mean()).mean(),
            "pairwise": content + w * (F.softplus(r - f).mean() + F.softplus(r - f).mean()),
            "d_roles": content + w * _relativistic(-r, -f),
            "halved": content + 0.5 * w * adv,
            "unweighted": content + adv,
            "fixed": content + 1e-3 * adv,
            "l1": (features(fake) - features(real)).abs().mean() + w * adv,
            "summed": (features(fake) - features(real)).pow(2).sum() + w * adv,
            "swapped_weight": w * content + adv,
        }
    close = lambda x: torch.allclose(loss.detach(), x, rtol=1e-4, atol=1e-7)  # noqa: E731
    if not close(want):
        hints = {
            "standard": "that is SRGAN's adversarial term (section 6); ESRGAN's compares each fake with the "
            "*average* real logit and each real with the average fake one",
            "content_only": "the adversarial term is missing: add adversarial_weight times the relativistic "
            "term",
            "fake_term_only": "the relativistic G loss has a term for the real images too: add "
            "softplus(D(real) - D(fake).mean()).mean()",
            "real_term_only": "the relativistic G loss has a term for the fakes too: add "
            "softplus(D(real).mean() - D(fake)).mean()",
            "pairwise": "subtract the *mean* logit of the other set (relativistic average), not the logit of "
            "the image at the same index",
            "d_roles": "the signs are D's: G wants its fakes to look more real than the average real, so "
            "the fakes' term is softplus(mean D(real) - D(fake))",
            "halved": "add the two terms as the paper's eq. 2 does; do not average them",
            "unweighted": "multiply the adversarial term by adversarial_weight",
            "fixed": "use the adversarial_weight argument, not a fixed 1e-3",
            "l1": "the content loss is a squared difference of features (MSE), not an absolute one",
            "summed": "average the squared feature difference (.mean()), do not sum it",
            "swapped_weight": "the weight belongs on the adversarial term: content + adversarial_weight * "
            "adversarial",
        }
        for name, value in candidates.items():
            expect(not close(value), hints[name])
        expect(
            False,
            "the loss should be (features(fake) - features(real).detach()).pow(2).mean() + "
            "adversarial_weight * (softplus(r - f.mean()).mean() + softplus(r.mean() - f).mean()), "
            "r = D(real), f = D(fake)",
        )
    expect(
        loss.requires_grad and loss.grad_fn is not None,
        "the loss passes no gradient: it was rebuilt as a new tensor (like torch.Tensor([loss]) or "
        "torch.tensor(loss.item()), the bug of a popular SRGAN port); return the expression itself",
    )
    loss.backward()
    expect(
        real.grad is None or real.grad.abs().sum() == 0,
        "gradient reaches the target: detach the real image's features and D's logits on it (or compute "
        "them under torch.no_grad()); G's loss should move G's output, not the target",
    )
    fake2, real2 = _sr_batch(110)
    want2, content2 = reference(w, fake2, real2)
    want2.backward()
    expect(fake.grad is not None, "no gradient reaches G's output: do not detach fake")
    if not torch.allclose(fake.grad, fake2.grad, rtol=1e-3, atol=1e-9):
        fake3, real3 = _sr_batch(110)
        (w * _relativistic(D(real3).detach(), D(fake3))).backward()
        expect(
            not torch.allclose(fake.grad, fake3.grad, rtol=1e-3, atol=1e-9),
            "the content term passes no gradient to G's output: it was detached or rebuilt as a new tensor "
            "(like torch.Tensor([content]), the bug of a popular SRGAN port); keep it in the graph",
        )
        expect(False, "the gradient that reaches G's output is not that of content + weight * adversarial")
    with torch.no_grad():
        other = relativistic_g_loss(features, D, fake, real, 0.05).reshape(())
        expect(
            torch.allclose(other, reference(0.05)[0], rtol=1e-4, atol=1e-7),
            "use the adversarial_weight argument, not a fixed 1e-3",
        )


# --- 3. PSNR by hand ---------------------------------------------------------------------------------
@refuses(
    psnr,
    hint="write it yourself from the mean squared error: the toolkit's psnr is what the check compares with",
)
def check_psnr(my_psnr) -> None:
    """``my_psnr(output, target)``: (N,) PSNR in dB of each image, 10 log10(1 / MSE) with both images mapped
    from [-1, 1] to [0, 1] pixels first; equal to ``toolkit.metrics.image_quality.psnr``."""

    g = torch.Generator().manual_seed(13)
    target = torch.rand(5, 1, 6, 6, generator=g) * 2 - 1
    noise = torch.tensor([0.02, 0.05, 0.1, 0.2, 0.4]).view(5, 1, 1, 1)
    output = (target + noise * torch.randn(5, 1, 6, 6, generator=g)).clamp(-1, 1)
    got = my_psnr(output, target)
    want = psnr(output, target)
    expect(isinstance(got, torch.Tensor), f"return a tensor of one PSNR per image, got {type(got).__name__}")
    got = got.float()
    if got.numel() == 1:
        expect(
            False,
            "return one PSNR per image, shape (N,): average the squared error over each image's pixels "
            "(dim=(1, 2, 3)), not over the whole batch",
        )
    expect(tuple(got.shape) == (5,), f"return shape (N,) = (5,), one PSNR per image; got {tuple(got.shape)}")
    if torch.allclose(got, want, atol=1e-3):
        color = torch.rand(2, 3, 8, 8, generator=g) * 2 - 1
        out2 = (color + 0.1 * torch.randn(2, 3, 8, 8, generator=g)).clamp(-1, 1)
        expect(
            torch.allclose(my_psnr(out2, color).float(), psnr(out2, color), atol=1e-3),
            "colour images: average the squared error over channels and pixels, dim=(1, 2, 3)",
        )
        return
    mse_pm1 = (output - target).pow(2).mean(dim=(1, 2, 3))
    mse01 = mse_pm1 / 4
    near = lambda x: torch.allclose(got, x.float(), atol=1e-3)  # noqa: E731
    expect(
        not near(10 * torch.log10(1 / mse_pm1)),
        "map the images to [0, 1] first ((x + 1) / 2): on [-1, 1] the squared error is 4x larger, "
        "so the PSNR comes out 6.02 dB too low (or use a peak of 2: 10 log10(2^2 / MSE))",
    )
    expect(
        not near(20 * torch.log10(1 / mse01)),
        "PSNR is 10 log10(1 / MSE) (or 20 log10(1 / RMSE)), not 20 log10(1 / MSE)",
    )
    expect(not near(10 * torch.log(1 / mse01)), "use log base 10 (torch.log10), not the natural log")
    expect(
        not near(10 * torch.log10(mse01)),
        "the sign is the other way round: 10 log10(1 / MSE), higher is closer",
    )
    expect(
        not near(10 * torch.log10(1 / ((output - target).abs() / 2).mean(dim=(1, 2, 3)))),
        "PSNR uses the squared error (MSE), not the absolute one",
    )
    expect(not near(10 * torch.log10(1 / mse01.sqrt())), "10 log10 of 1 / MSE, not of 1 / RMSE")
    expect(
        False,
        f"PSNRs should be {[round(v, 2) for v in want.tolist()]} dB, "
        f"got {[round(v, 2) for v in got.tolist()]}",
    )
