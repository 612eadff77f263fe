"""Checks for lesson 06 (ADA). Each takes the learner's function and raises WrongAnswer on a mistake."""

from __future__ import annotations

import torch

from ..augment import AdaptiveAugment, ada_adjust
from . import WrongAnswer, expect, refuses


def _float(value, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise WrongAnswer(
            f"return {what} as one number (a float or a 0-d tensor), got {type(value).__name__}"
        )


@refuses(
    AdaptiveAugment.observe,
    hint="take the signs and their mean yourself: the toolkit's AdaptiveAugment.observe is what the check "
    "compares with",
)
def check_overfitting_rt(overfitting_rt) -> None:
    """``overfitting_rt(d_real)``: r_t = E[sign(D(x_real))] from D's raw outputs (logits) on real images."""
    g = torch.Generator().manual_seed(6)
    cases = [
        torch.randn(64, generator=g) * 3 + 1.5,  # a confident D: mostly positive, large logits
        torch.randn(100, generator=g) * 0.2 - 0.1,  # a D near chance: small logits around 0
        torch.tensor([4.0, 0.0, -2.0, 9.0, 0.5]),  # a zero logit counts 0, as sign(0) = 0
        torch.randn(32, 1, generator=g) * 2,  # D's output as a column (B, 1)
    ]
    for d_real in cases:
        want = torch.sign(d_real).mean().item()
        got = _float(overfitting_rt(d_real.clone()), "r_t")
        if abs(got - want) < 1e-5:
            continue
        if abs(got - (d_real > 0).float().mean().item()) < 1e-5:
            expect(
                False,
                "that is D's accuracy on the reals, in [0, 1]; r_t is the mean of sign(D(x)), in [-1, 1] "
                "(accuracy a gives r_t = 2a - 1)",
            )
        expect(
            abs(got - torch.sigmoid(d_real).mean().item()) > 1e-5,
            "take the sign of the raw outputs, not the sigmoid: r_t counts how many reals D calls real, "
            "not how sure it is",
        )
        expect(
            abs(got - d_real.mean().item()) > 1e-5,
            "average sign(D(x)), not D(x) itself: a few huge logits must not dominate r_t",
        )
        expect(
            abs(got - torch.sign(d_real.mean()).item()) > 1e-5,
            "take the sign of each output, then the mean (sign of the mean is only ever -1, 0 or 1)",
        )
        expect(
            False, f"r_t should be {want:.4f} for these outputs, got {got:.4f}: the mean of sign(D(x_real))"
        )


@refuses(
    ada_adjust,
    hint="write the update yourself with plain Python numbers: the toolkit's ada_adjust is what the check "
    "compares with",
)
def check_ada_update(ada_update) -> None:
    """``ada_update(p, rt, target, n_images, kimg)`` -> the new p (a float): one step of ADA's controller,
    p + sign(rt - target) * n_images / (kimg * 1000), clamped to [0, 1]."""
    cases = [
        (0.0, 0.9, 0.6, 256, 5.0),
        (0.3, 0.2, 0.6, 256, 5.0),
        (0.5, 0.75, 0.7, 64, 2.0),
        (0.99, 1.0, 0.6, 256, 5.0),
        (0.01, -1.0, 0.6, 256, 5.0),
        (0.4, 0.6, 0.6, 256, 5.0),
        (0.2, 0.1, 0.0, 1024, 500.0),
    ]
    for p, rt, target, n, kimg in cases:
        want = ada_adjust(torch.tensor(p), torch.tensor(rt), target, n, kimg).item()
        got = _float(ada_update(p, rt, target, n, kimg), "the new p")
        if abs(got - want) < 1e-6:
            continue
        step = n / (kimg * 1000)
        sign = (rt > target) - (rt < target)
        where = f"(p = {p}, r_t = {rt}, target = {target}, {n} images, kimg = {kimg})"

        def gives(unclamped: float) -> bool:  # the learner computed this, clamped or not
            return any(abs(got - v) < 1e-6 for v in (unclamped, min(1.0, max(0.0, unclamped))))

        expect(
            not gives(p - sign * step),
            f"wrong direction {where}: r_t above the target means D overfits, so p must go *up*",
        )
        expect(
            not gives(p + (rt - target) * step),
            f"p moves by a fixed step in the direction sign(r_t - target), not proportionally to "
            f"r_t - target {where}",
        )
        expect(
            not gives(p + sign * n / kimg),
            f"the step is n_images / (kimg * 1000): kimg counts thousands of images {where}",
        )
        expect(
            not gives(p + sign * step),
            f"p = {got:.4f} is outside [0, 1] {where}: clamp it, p is a probability",
        )
        if sign == 0:
            expect(False, f"when r_t equals the target, p stays where it is {where} (sign(0) = 0)")
        expect(False, f"p should become {want:.4f} {where}, got {got:.4f}")


@refuses(
    AdaptiveAugment.forward,
    hint="rotate the images yourself with torch.rot90: AdaptiveAugment is what the check compares with",
)
def check_rotate90(rotate90) -> None:
    """``rotate90(x, p)``: for each image independently, with probability p the op is drawn, and a drawn op
    rotates by k * 90 degrees with k uniform in {0, 1, 2, 3} (the identity included), in the image plane."""
    torch.manual_seed(60)
    n = 4000
    base = torch.arange(16.0).view(1, 1, 4, 4) / 8 - 1  # no two of its rotations are alike
    x = base + torch.linspace(0, 0.01, n).view(n, 1, 1, 1)  # every image different
    x = torch.cat([x, -x], 1)  # and its two channels too
    rotations = torch.stack([x.rot90(k, (2, 3)) for k in range(4)])  # (4, N, C, H, W)

    def angles(p: float) -> torch.Tensor:
        out = rotate90(x.clone(), p)
        expect(
            isinstance(out, torch.Tensor) and out.shape == x.shape,
            f"return a tensor of x's shape {tuple(x.shape)}",
        )
        match = (out.unsqueeze(0) - rotations).flatten(2).abs().amax(2) < 1e-5  # (4, N)
        expect(
            bool(match.any(0).all()),
            "every output must be its own input rotated by 0, 90, 180 or 270 degrees in the image plane "
            "(dims 2 and 3 of (B, C, H, W)), nothing else",
        )
        return match.float().argmax(0)  # k of each image

    k0 = angles(0.0)
    expect(bool((k0 == 0).all()), "at p = 0 no image may change")
    kh = angles(0.5)
    expect(bool((kh != 0).any()), "at p = 0.5 no image was rotated: rotate the images whose op is drawn")
    expect(
        kh.unique().numel() > 1,
        "each image must be drawn on its own (one random number per image), not the whole batch at once",
    )
    k1 = angles(1.0)
    share = torch.bincount(k1, minlength=4).float() / n
    expect(
        abs(share[0].item() - 0.25) < 0.04,
        f"at p = 1, {share[0]:.0%} of the images stayed upright; a drawn op picks one of the four rotations "
        "uniformly, 0 degrees included, so 25% should",
    )
    expect(
        bool((share - 0.25).abs().max() < 0.04),
        f"at p = 1 the four rotations should each come out 25% of the time, got {share.numpy().round(2)}",
    )
    upright = (kh == 0).float().mean().item()
    expect(
        abs(upright - 0.625) < 0.04,
        f"at p = 0.5, {upright:.0%} of the images stayed upright; the op is drawn with probability p and "
        "then keeps 0 degrees with probability 1/4, so 1 - p * 3/4 = 62.5% should",
    )
    expect(
        bool(angles(torch.tensor(0.0)).eq(0).all()), "p may come as a 0-d tensor (ADA keeps it as a buffer)"
    )
