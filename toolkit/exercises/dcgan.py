"""Checks for lesson 02 (DCGAN). Each takes the learner's function and raises WrongAnswer on a mistake."""

from __future__ import annotations

import torch
from torch import nn

from ..models.dcgan import dcgan_init
from . import expect, refuses


@refuses(
    "conv_transpose2d",
    hint="work the side out with the formula instead of running a ConvTranspose2d: that is what the check "
    "compares with",
)
def check_convtranspose_out(convtranspose_out) -> None:
    """``convtranspose_out(n, k, s, p)``: the side of a ConvTranspose2d's output, (n - 1) s - 2p + k."""
    cases = [
        (16, 4, 2, 1),
        (1, 4, 1, 0),
        (1, 7, 1, 0),
        (4, 4, 2, 1),
        (5, 3, 2, 1),
        (7, 5, 3, 2),
        (3, 6, 4, 0),
    ]
    for n, k, s, p in cases:
        want = nn.ConvTranspose2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1]
        got = convtranspose_out(n, k, s, p)
        expect(isinstance(got, (int, float)) or hasattr(got, "__int__"), "return the output size as a number")
        if got == want:
            continue
        expect(
            got != (n + 2 * p - k) // s + 1,
            "that is the size formula of an ordinary convolution, which shrinks; a transposed convolution "
            "runs it backwards: (n - 1) * s - 2 * p + k",
        )
        expect(
            got != n * s - 2 * p + k,
            "the stride spreads the n inputs over (n - 1) gaps, not n: use (n - 1) * s, not n * s",
        )
        expect(
            got != (n - 1) * s + 2 * p + k,
            "padding *removes* p pixels from each side of a transposed convolution's output: subtract 2 * p",
        )
        expect(False, f"for n={n}, k={k}, s={s}, p={p} the output side is {want}, you returned {got}")


def _fresh_layers() -> nn.Sequential:
    torch.manual_seed(2)
    return nn.Sequential(
        nn.ConvTranspose2d(64, 128, 4, 1, 0),
        nn.BatchNorm2d(128),
        nn.ReLU(),
        nn.Conv2d(128, 96, 4, 2, 1),
        nn.BatchNorm2d(96),
        nn.LeakyReLU(0.2),
        nn.Linear(96, 300),
    )


@refuses(
    dcgan_init,
    hint="set the weights yourself with nn.init.normal_ and nn.init.zeros_: the toolkit's dcgan_init is "
    "what the check compares with",
)
def check_dcgan_weights_init(dcgan_weights_init) -> None:
    """``dcgan_weights_init(module)``, used as ``model.apply(dcgan_weights_init)``: conv, transposed conv and
    linear weights from N(0, 0.02), their biases 0; batch-norm scales from N(1, 0.02), shifts 0."""
    net = _fresh_layers()
    net.apply(dcgan_weights_init)
    for i, kind in [(0, "ConvTranspose2d"), (3, "Conv2d"), (6, "Linear")]:
        w = net[i].weight.detach()
        std, mean = w.std().item(), w.mean().item()
        if abs(std - 0.02) > 0.002:
            expect(
                abs(std - 0.02**0.5) > 0.01,
                f"the {kind} weights have standard deviation {std:.3f}: N(0, 0.02) means a standard "
                "deviation of 0.02 (nn.init.normal_(w, 0.0, 0.02)), not a variance of 0.02",
            )
            expect(
                False,
                f"the {kind} weights have standard deviation {std:.4f}, not 0.02: initialise every conv, "
                "transposed conv and linear layer's weight with nn.init.normal_(w, 0.0, 0.02)",
            )
        expect(abs(mean) < 0.002, f"the {kind} weights should have mean 0, theirs is {mean:.3f}")
        expect(
            bool((w.flatten().abs() > 0.04).float().mean() > 0.02),
            f"the {kind} weights look uniform, not normal: use nn.init.normal_, not uniform_",
        )
        expect(
            net[i].bias is None or bool((net[i].bias == 0).all()),
            f"the {kind} biases should be set to 0 (nn.init.zeros_(m.bias)), not left at PyTorch's default",
        )
    for i in (1, 4):
        bn = net[i]
        scale = bn.weight.detach()
        expect(
            abs(scale.mean().item() - 1.0) < 0.01,
            f"the batch-norm scales have mean {scale.mean().item():.3f}: they come from N(1, 0.02), mean 1 "
            "(a scale near 0 would switch the layer's outputs off)",
        )
        expect(
            abs(scale.std().item() - 0.02) < 0.005,
            "the batch-norm scales should be drawn from N(1, 0.02) (nn.init.normal_(m.weight, 1.0, 0.02)), "
            "not left at exactly 1",
        )
        expect(bool((bn.bias == 0).all()), "the batch-norm shifts (bias) should be 0")


def check_generator_block(generator_block) -> None:
    """``generator_block(c_in, c_out)``: the resize-convolution block (Odena et al. 2016, "Deconvolution and
    checkerboard artifacts"), an nn.Module that doubles the side and maps c_in to c_out channels:
    Upsample(scale_factor=2, mode="nearest"), Conv2d(c_in, c_out, 3, 1, 1, bias=False), BatchNorm2d(c_out),
    ReLU. Every output pixel gets the same number of kernel taps, so there is no checkerboard."""
    torch.manual_seed(3)
    block = generator_block(24, 10)
    expect(isinstance(block, nn.Module), "return an nn.Module (e.g. an nn.Sequential of the four layers)")
    modules = list(block.modules())
    expect(
        not any(isinstance(m, nn.ConvTranspose2d) for m in modules),
        "that is section 3's transposed-convolution block; this one doubles the side with "
        "nn.Upsample(scale_factor=2, mode='nearest') and then convolves with nn.Conv2d(c_in, c_out, 3, 1, 1)",
    )
    x = torch.randn(5, 24, 6, 6)
    block.train()
    with torch.no_grad():
        out = block(x)
    expect(
        isinstance(out, torch.Tensor) and out.shape[:2] == (5, 10),
        "(5, 24, 6, 6) in should give 5 samples with c_out = 10 channels, "
        f"got {tuple(getattr(out, 'shape', ()))}",
    )
    expect(
        out.shape[-2:] == (12, 12),
        f"a 6x6 input should come out 12x12 (the block doubles the side), got {tuple(out.shape[-2:])}: "
        "upsample 2x, then a 3x3 convolution with stride 1 and padding 1 keeps that size",
    )
    ups = [m for m in modules if isinstance(m, nn.Upsample)]
    expect(len(ups) == 1, "double the side with one nn.Upsample(scale_factor=2, mode='nearest')")
    expect(
        ups[0].mode == "nearest", f"upsample with mode='nearest' (each pixel copied 2x2), not {ups[0].mode!r}"
    )
    convs = [m for m in modules if isinstance(m, nn.Conv2d)]
    expect(
        len(convs) == 1 and convs[0].kernel_size == (3, 3) and convs[0].stride == (1, 1),
        "after upsampling, one nn.Conv2d(c_in, c_out, 3, stride=1, padding=1) mixes the copied pixels",
    )
    expect(
        any(isinstance(m, nn.BatchNorm2d) for m in modules),
        "DCGAN puts batch norm (nn.BatchNorm2d(c_out)) after every generator convolution but the last",
    )
    expect(
        convs[0].bias is None,
        "the convolution's bias is wasted: the batch norm right after it subtracts the mean; use bias=False",
    )
    expect(
        not any(isinstance(m, nn.LeakyReLU) for m in modules),
        "the generator uses ReLU; LeakyReLU(0.2) is the discriminator's activation",
    )
    expect(
        any(isinstance(m, nn.ReLU) for m in modules) and bool((out >= 0).all()),
        "end the block with nn.ReLU (its outputs are never negative); tanh belongs only on G's output",
    )
    expect(
        not torch.equal(out[..., ::2, ::2], out[..., 1::2, 1::2]),
        "every 2x2 patch of the output is one copied pixel: upsample *before* the convolution, so that it "
        "mixes the copies",
    )
    # in training mode batch norm makes each channel's pre-activation mean 0 and variance 1, so after ReLU
    # each channel's mean is about E[max(0, N(0, 1))] = 0.40: this catches a block that skips or misplaces it
    channel_means = out.mean(dim=(0, 2, 3))
    expect(
        bool(((channel_means - 0.40).abs() < 0.1).all()),
        "apply the layers in the order upsample -> conv -> batch norm -> ReLU (batch norm normalises the "
        "convolution's output, before the ReLU)",
    )
