"""Checks for lesson 09 (pix2pix). Each takes the learner's function and raises WrongAnswer on a mistake."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import expect


class _RecordingD(nn.Module):
    """A fixed 2-channel 'discriminator' (one 3x3 conv, weights that tell the channels apart) that records
    the shapes it was called with, so a check can say what the learner fed it."""

    def __init__(self, seed: int = 9):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(2, 1, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(1, 2, 3, 3, generator=g))
            self.conv.weight[:, 1] *= -2.5  # so that swapping the two channels changes the logits
            self.conv.bias.fill_(0.3)
        self.calls: list[tuple[int, ...]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(x.shape))
        expect(
            x.dim() == 4 and x.shape[1] == 2,
            f"D got a tensor of shape {tuple(x.shape)}; pix2pix's D is conditional: give it the input "
            "and the image side by side on the channels, torch.cat([a, image], dim=1) (2 channels here)",
        )
        return self.conv(x)


def _pairs(seed: int):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(4, 1, 8, 8, generator=g).sign()  # an edge map: -1 / +1
    b = torch.randn(4, 1, 8, 8, generator=g).tanh()
    fake = torch.randn(4, 1, 8, 8, generator=g).tanh()
    return a, b, fake


def check_generator_loss(pix2pix_g_loss) -> None:
    """``pix2pix_g_loss(D, a, fake, b, l1_weight)``: G's loss, the non-saturating GAN term on the conditional
    D's logits for (a, fake) plus ``l1_weight`` times the mean absolute error between fake and b."""
    D = _RecordingD()
    a, b, fake = _pairs(90)
    fake = fake.clone().requires_grad_(True)
    loss = pix2pix_g_loss(D, a, fake, b, 100.0)
    expect(isinstance(loss, torch.Tensor) and loss.dim() == 0, "return one number: a 0-d tensor (a mean)")
    expect(len(D.calls) > 0, "the GAN term is missing: call D on the input and G's output")
    with torch.no_grad():
        l1 = (fake - b).abs().mean()
        gan = F.softplus(-D(torch.cat([a, fake], 1))).mean()
        want = gan + 100.0 * l1
        candidates = {
            "swapped": F.softplus(-D(torch.cat([fake, a], 1))).mean() + 100.0 * l1,
            "real": F.softplus(-D(torch.cat([a, b], 1))).mean() + 100.0 * l1,
            "l2": gan + 100.0 * (fake - b).pow(2).mean(),
            "unweighted": gan + l1,
            "minimax": -F.softplus(D(torch.cat([a, fake], 1))).mean() + 100.0 * l1,
            "l1_only": 100.0 * l1,
            "summed": gan + 100.0 * (fake - b).abs().sum(),
        }
    close = lambda x: torch.allclose(loss.detach(), x, rtol=1e-4, atol=1e-5)  # noqa: E731
    if not close(want):
        hints = {
            "swapped": "put the input first: D was built for torch.cat([a, fake], dim=1), not [fake, a]",
            "real": "the GAN term judges G's output: feed D torch.cat([a, fake]), not the real target b",
            "l2": "the reconstruction term is L1, the mean of |fake - b|, not the squared error",
            "unweighted": "multiply the L1 term by l1_weight (lambda = 100 in the paper)",
            "minimax": "use the non-saturating GAN loss, softplus(-logits).mean() (i.e. -log D(a, fake))",
            "l1_only": "the GAN term is missing: add softplus(-D(cat([a, fake]))).mean()",
            "summed": "average the absolute error over pixels (.mean()), do not sum it",
        }
        for name, value in candidates.items():
            expect(not close(value), hints[name])
        expect(
            False, "the loss should be softplus(-D(cat([a, fake], 1))).mean() + l1_weight * |fake - b|.mean()"
        )
    expect(loss.requires_grad, "no gradient reaches G's output: do not detach fake in G's loss")
    loss.backward()
    expect(
        fake.grad is not None and fake.grad.abs().sum() > 0,
        "no gradient reaches G's output: do not detach fake in G's loss",
    )
    with torch.no_grad():
        other = pix2pix_g_loss(D, a, fake, b, 7.0)
    expect(
        torch.allclose(other, gan + 7.0 * l1, rtol=1e-4, atol=1e-5),
        "use the l1_weight argument, not a fixed 100",
    )


def check_discriminator_loss(pix2pix_d_loss) -> None:
    """``pix2pix_d_loss(D, a, b, fake)``: half the binary cross-entropy of the conditional D, real pairs
    (a, b) labelled 1 and generated pairs (a, fake) labelled 0; no gradient may reach G through fake."""
    D = _RecordingD(19)
    a, b, fake = _pairs(91)
    fake = fake.clone().requires_grad_(True)
    loss = pix2pix_d_loss(D, a, b, fake)
    expect(isinstance(loss, torch.Tensor) and loss.dim() == 0, "return one number: a 0-d tensor (a mean)")
    with torch.no_grad():
        real_logits, fake_logits = D(torch.cat([a, b], 1)), D(torch.cat([a, fake], 1))
        bce = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        candidates = {
            "unhalved": bce,
            "flipped": 0.5 * (F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()),
            "swapped": 0.5
            * (F.softplus(-D(torch.cat([b, a], 1))).mean() + F.softplus(D(torch.cat([fake, a], 1))).mean()),
        }
    close = lambda x: torch.allclose(loss.detach(), x, rtol=1e-4, atol=1e-5)  # noqa: E731
    if not close(0.5 * bce):
        hints = {
            "unhalved": "halve D's loss (0.5 * (real term + fake term)): the paper slows D down this way",
            "flipped": "the labels are the wrong way round: real pairs are 1 (softplus(-logits)), "
            "generated pairs 0 (softplus(logits))",
            "swapped": "put the input first in both pairs: torch.cat([a, b], 1) and torch.cat([a, fake], 1)",
        }
        for name, value in candidates.items():
            expect(not close(value), hints[name])
        expect(
            False,
            "D's loss should be 0.5 * (softplus(-D(cat([a, b]))).mean() "
            "+ softplus(D(cat([a, fake]))).mean())",
        )
    if loss.requires_grad:
        loss.backward()
    expect(
        fake.grad is None or fake.grad.abs().sum() == 0,
        "D's loss sends gradients into G's output: use fake.detach() in D's step",
    )


def check_patch_output_size(patch_output_size) -> None:
    """``patch_output_size(size, n_layers)``: the side of the PatchGAN's logit map for a size x size input."""
    from ..models.pix2pix import PatchDiscriminator

    for n_layers in (1, 2, 3, 4):
        for size in (32, 48, 64, 100, 128, 256):
            if size < 2 ** (n_layers + 2):
                continue
            D = PatchDiscriminator(2, 2, n_layers).eval()
            with torch.no_grad():
                want = D(torch.zeros(1, 2, size, size)).shape[-1]
            got = patch_output_size(size, n_layers)
            if got == want:
                continue
            if got == size // 2**n_layers:
                expect(
                    False,
                    "after the stride-2 convolutions come two 4x4 convolutions at stride 1 with padding 1, "
                    "and each of those shrinks the map by one pixel",
                )
            expect(
                isinstance(got, int) or (isinstance(got, float) and got == want),
                f"return a whole number of patches (an int), got {got!r}: round down at each stride-2 conv",
            )
            if n_layers != 3 and got == size // 8 - 2:
                expect(False, "the map's size depends on n_layers: H/8 - 2 holds only for n_layers = 3")
            expect(
                False, f"a {size}x{size} input with n_layers={n_layers} gives a {want}x{want} map, not {got}"
            )
