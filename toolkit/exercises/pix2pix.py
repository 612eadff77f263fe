"""Checks for lesson 09 (pix2pix). Each takes the learner's function and raises WrongAnswer on a mistake."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..losses import bce_d_loss, l1_loss, lsgan_g_loss, nonsaturating_g_loss
from ..models.pix2pix import PatchDiscriminator
from . import expect, refuses


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


@refuses(
    lsgan_g_loss,
    nonsaturating_g_loss,
    l1_loss,
    hint="write both terms yourself, the squared error and .abs().mean(): toolkit.losses' versions are what "
    "the check compares with",
)
def check_generator_loss(pix2pix_g_loss) -> None:
    """``pix2pix_g_loss(D, a, fake, b, l1_weight)``: G's loss with pix2pix's least-squares GAN term
    (``--gan_mode lsgan``), the mean of (D(a, fake) - 1)^2 on the conditional D's outputs, plus
    ``l1_weight`` times the mean absolute error between fake and b."""
    D = _RecordingD()
    a, b, fake = _pairs(90)
    fake = fake.clone().requires_grad_(True)
    loss = pix2pix_g_loss(D, a, fake, b, 100.0)
    expect(isinstance(loss, torch.Tensor) and loss.dim() == 0, "return one number: a 0-d tensor (a mean)")
    expect(len(D.calls) > 0, "the GAN term is missing: call D on the input and G's output")
    with torch.no_grad():
        l1 = (fake - b).abs().mean()
        out = D(torch.cat([a, fake], 1))
        gan = (out - 1).pow(2).mean()
        want = gan + 100.0 * l1
        candidates = {
            "bce": F.softplus(-out).mean() + 100.0 * l1,
            "swapped": (D(torch.cat([fake, a], 1)) - 1).pow(2).mean() + 100.0 * l1,
            "real": (D(torch.cat([a, b], 1)) - 1).pow(2).mean() + 100.0 * l1,
            "target0": out.pow(2).mean() + 100.0 * l1,
            "halved": 0.5 * gan + 100.0 * l1,
            "l2": gan + 100.0 * (fake - b).pow(2).mean(),
            "unweighted": gan + l1,
            "l1_only": 100.0 * l1,
            "summed": gan + 100.0 * (fake - b).abs().sum(),
        }
    close = lambda x: torch.allclose(loss.detach(), x, rtol=1e-4, atol=1e-5)  # noqa: E731
    if not close(want):
        hints = {
            "bce": "that is section 4's cross-entropy GAN term; here it is least squares, the mean of "
            "(D(cat([a, fake])) - 1) ** 2",
            "swapped": "put the input first: D was built for torch.cat([a, fake], dim=1), not [fake, a]",
            "real": "the GAN term judges G's output: feed D torch.cat([a, fake]), not the real target b",
            "target0": "G pulls D's output on its pair towards 1 (real), not 0: (D(a, fake) - 1) ** 2",
            "halved": "only D's loss is halved; G's GAN term is the plain mean of (D(a, fake) - 1) ** 2",
            "l2": "the reconstruction term is L1, the mean of |fake - b|, not the squared error",
            "unweighted": "multiply the L1 term by l1_weight (lambda = 100 in the paper)",
            "l1_only": "the GAN term is missing: add ((D(cat([a, fake])) - 1) ** 2).mean()",
            "summed": "average the absolute error over pixels (.mean()), do not sum it",
        }
        for name, value in candidates.items():
            expect(not close(value), hints[name])
        expect(
            False,
            "the loss should be ((D(cat([a, fake], 1)) - 1) ** 2).mean() + l1_weight * |fake - b|.mean()",
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


REAL_LABEL = 0.9  # one-sided label smoothing (Salimans et al. 2016, section 3.4)


def _smoothed_bce(real_logits, fake_logits, real_label=REAL_LABEL):
    """Half the cross-entropy with real pairs labelled ``real_label`` and generated pairs 0."""
    real = real_label * F.softplus(-real_logits) + (1 - real_label) * F.softplus(real_logits)
    return 0.5 * (real.mean() + F.softplus(fake_logits).mean())


def _weight_gradient(D: nn.Module, loss: torch.Tensor) -> torch.Tensor:
    return torch.autograd.grad(loss, D.conv.weight, retain_graph=True)[0]


@refuses(
    bce_d_loss,
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy",
    hint="write both terms yourself with F.softplus: toolkit.losses.bce_d_loss and "
    "F.binary_cross_entropy_with_logits are what the check compares with",
)
def check_discriminator_loss(pix2pix_d_loss) -> None:
    """``pix2pix_d_loss(D, a, b, fake)``: half the binary cross-entropy of the conditional D with one-sided
    label smoothing, real pairs (a, b) labelled 0.9 and generated pairs (a, fake) labelled 0. D must learn
    from both terms (its weights get gradient from each), and no gradient may reach G through fake."""
    D = _RecordingD(19)
    a, b, fake = _pairs(91)
    fake = fake.clone().requires_grad_(True)
    loss = pix2pix_d_loss(D, a, b, fake)
    expect(isinstance(loss, torch.Tensor) and loss.dim() == 0, "return one number: a 0-d tensor (a mean)")
    with torch.no_grad():
        real_logits, fake_logits = D(torch.cat([a, b], 1)), D(torch.cat([a, fake], 1))
        candidates = {
            "unsmoothed": _smoothed_bce(real_logits, fake_logits, 1.0),
            "both": _smoothed_bce(real_logits, fake_logits)
            + 0.05 * (F.softplus(-fake_logits).mean() - F.softplus(fake_logits).mean()),  # fake label 0.1
            "unhalved": 2 * _smoothed_bce(real_logits, fake_logits),
            "flipped": _smoothed_bce(-real_logits, -fake_logits),
            "swapped": _smoothed_bce(D(torch.cat([b, a], 1)), D(torch.cat([fake, a], 1))),
        }
    close = lambda x: torch.allclose(loss.detach(), x, rtol=1e-4, atol=1e-5)  # noqa: E731
    if not close(_smoothed_bce(real_logits, fake_logits)):
        hints = {
            "unsmoothed": "that is section 4's loss with real label 1; smooth it: a real pair costs "
            "0.9 * softplus(-logit) + 0.1 * softplus(logit)",
            "both": "smooth only the real label (one-sided): generated pairs keep label 0, softplus(logit)",
            "unhalved": "halve D's loss (0.5 * (real term + fake term)): the paper slows D down this way",
            "flipped": "the labels are the wrong way round: real pairs are 0.9, generated pairs 0",
            "swapped": "put the input first in both pairs: torch.cat([a, b], 1) and torch.cat([a, fake], 1)",
        }
        for name, value in candidates.items():
            expect(not close(value), hints[name])
        expect(
            False,
            "D's loss should be 0.5 * ((0.9 * softplus(-r) + 0.1 * softplus(r)).mean() + softplus(f).mean()) "
            "with r = D(cat([a, b])) and f = D(cat([a, fake]))",
        )
    expect(
        loss.requires_grad, "no gradient reaches D's weights: do not compute D's loss under torch.no_grad()"
    )
    real_logits, fake_logits = D(torch.cat([a, b], 1)), D(torch.cat([a, fake.detach()], 1))
    want = _weight_gradient(D, _smoothed_bce(real_logits, fake_logits))
    got = _weight_gradient(D, loss)
    if not torch.allclose(got, want, rtol=1e-4, atol=1e-6):
        real_only = _weight_gradient(D, _smoothed_bce(real_logits, fake_logits.detach()))
        expect(
            not torch.allclose(got, real_only, rtol=1e-4, atol=1e-6),
            "D never learns from the generated pairs: the fake term sends no gradient to D's weights (detach "
            "fake itself, fake.detach(), but do not compute D's output on it under torch.no_grad())",
        )
        expect(
            False,
            "D's weights do not get the gradient of both terms: compute both D outputs with gradient on, "
            "detaching only fake",
        )
    loss.backward()
    expect(
        fake.grad is None or fake.grad.abs().sum() == 0,
        "D's loss sends gradients into G's output: use fake.detach() in D's step",
    )


@refuses(
    PatchDiscriminator.forward,
    "conv2d",
    hint="work the size out with the convolution formula instead of running the network: that is what "
    "the check compares with",
)
def check_patch_output_size(patch_output_size) -> None:
    """``patch_output_size(size, n_layers)``: the side of the PatchGAN's logit map for a size x size input."""

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
