"""Checks for lesson 04 (conditional GANs). Each takes the learner's function and raises WrongAnswer on a
mistake, with one sentence saying what is wrong."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..models.conditional import ConditionalDiscriminator
from ..truncation import truncated_normal
from . import expect, refuses


# --- 1. the projection scores ---------------------------------------------------------------------------
def _projection_case(seed: int):
    torch.manual_seed(seed)  # the hidden D's initial weights
    D = ConditionalDiscriminator(1, 32, 4, num_classes=5, mode="projection").eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        D.embed.weight.copy_(torch.randn(D.embed.weight.shape, generator=g) * 0.2)
    x = torch.rand(6, 1, 32, 32, generator=g) * 2 - 1
    y = torch.tensor([0, 3, 3, 1, 4, 2])
    return D, x, y


def check_projection_scores(projection_scores) -> None:
    """``projection_scores(D, x)``: for a projection discriminator D (``D.body.features``, ``D.embed``), the
    label's part of D's output for *every* class, <embed(c), phi(x)> for each image and class c: a tensor of
    shape (B, C). Its row's argmax is the class D finds each image most real as."""
    for seed in (40, 41):
        D, x, _ = _projection_case(seed)
        b, num_classes = len(x), D.num_classes
        with torch.no_grad():
            h = D.body.features(x).flatten(1)
            want = h @ D.embed.weight.T
            whole = torch.stack([D(x, torch.full((b,), c)) for c in range(num_classes)], 1)
        got = projection_scores(D, x.clone())
        expect(isinstance(got, torch.Tensor), f"return a tensor, got {type(got).__name__}")
        got = got.detach()
        if got.shape != want.shape:
            expect(
                tuple(got.shape) != (b,),
                "return one number per image *and class*, shape (B, C): section 3's cell computed the term "
                "for each image's own label; here compute it for every class, phi(x) @ D.embed.weight.T",
            )
            expect(
                tuple(got.shape) != (num_classes, b),
                f"the rows are the images and the columns the classes: shape ({b}, {num_classes}), not "
                f"({num_classes}, {b})",
            )
            expect(
                False,
                f"return shape (B, C) = ({b}, {num_classes}), not {tuple(got.shape)}: flatten phi(x) to "
                "(B, F) and multiply by the embedding matrix D.embed.weight (C, F) transposed",
            )
        if torch.allclose(got, want, atol=1e-5, rtol=1e-4):
            continue
        expect(
            not torch.allclose(got, whole, atol=1e-5, rtol=1e-4),
            "that is D's whole output for every class; the projection term is only the label's part, "
            "without the unconditional score psi(phi(x)) that every class shares",
        )
        expect(
            not torch.allclose(got, want / h.shape[1], atol=1e-6, rtol=1e-4),
            "an inner product sums the products over the features; you averaged them",
        )
        expect(
            not torch.allclose(got, want.softmax(1), atol=1e-5, rtol=1e-4),
            "return the raw inner products, not a softmax over the classes: D's output is a score, not a "
            "probability over classes",
        )
        expect(False, "the scores should be D.body.features(x).flatten(1) @ D.embed.weight.T")
    D, x, _ = _projection_case(42)
    scores = projection_scores(D, x).detach()
    with torch.no_grad():
        change = D(x, torch.full((len(x),), 4)) - D(x, torch.zeros(len(x), dtype=torch.long))
    expect(
        torch.allclose(scores[:, 4] - scores[:, 0], change, atol=1e-5, rtol=1e-4),
        "changing an image's label from class 0 to class 4 must change D's output by exactly "
        "scores[:, 4] - scores[:, 0]",
    )


# --- 2. ACGAN's class loss -------------------------------------------------------------------------------
@refuses(
    "cross_entropy",
    "nll_loss",
    hint="write the cross-entropy yourself (log_softmax, or logsumexp minus the target's logit): "
    "F.cross_entropy / F.nll_loss are what the check compares with",
)
def check_class_cross_entropy(class_cross_entropy) -> None:
    """``class_cross_entropy(logits, targets)``: the mean over the batch of -log softmax(logits)[target],
    for logits (B, C) and integer targets (B,), without F.cross_entropy, and finite for large logits."""
    g = torch.Generator().manual_seed(44)
    cases = [
        (torch.randn(7, 5, generator=g) * 2, torch.tensor([1, 1, 4, 0, 2, 3, 1])),
        (torch.randn(3, 10, generator=g), torch.tensor([9, 0, 5])),
    ]
    for logits, targets in cases:
        got = class_cross_entropy(logits.clone(), targets.clone())
        want = F.cross_entropy(logits, targets)
        expect(
            isinstance(got, torch.Tensor) and got.numel() == 1,
            "return the mean loss, one number (a 0-dim tensor), not one loss per image",
        )
        got = got.reshape(())
        if torch.allclose(got, want, atol=1e-5, rtol=1e-4):
            continue
        logp = logits.log_softmax(1)
        rows = torch.arange(len(targets))
        candidates = [
            (-want, "the sign is flipped: the cross-entropy is *minus* the log-probability of the target"),
            (
                -logp[rows, targets].sum(),
                "average over the batch (.mean()), do not sum: the loss must not grow with the batch size",
            ),
            (
                -logits[rows, targets].mean(),
                "the logits are not log-probabilities: normalise first (log_softmax over the classes)",
            ),
            (
                -logits.log_softmax(0)[rows, targets].mean(),
                "normalise over the classes (dim=1, each row is one image), not over the batch (dim=0)",
            ),
            (
                -logp.mean(),
                "take each image's log-probability of its *own* target class, logp[arange(B), targets], "
                "not the mean over all classes",
            ),
            (
                -torch.softmax(logits, 1)[rows, targets].mean(),
                "take the log of the probability: -log softmax(logits)[target], not -softmax(logits)[target]",
            ),
        ]
        for value, hint in candidates:
            expect(not torch.allclose(got, value, atol=1e-5, rtol=1e-4), hint)
        expect(False, f"the mean cross-entropy here is {want.item():.4f}, got {got.item():.4f}")
    # a confident classifier: softmax underflows to 0 for the target, log(0) = -inf
    logits = torch.tensor([[0.0, -200.0, 3.0], [120.0, 0.0, -50.0], [1000.0, 999.0, 0.0]])
    targets = torch.tensor([1, 0, 1])
    got = class_cross_entropy(logits, targets)
    want = F.cross_entropy(logits, targets)
    expect(
        bool(torch.isfinite(got).all()),
        "for large logits your loss is inf or nan: log(softmax) underflows (and exp overflows); use "
        "log_softmax, or logsumexp(logits) - logits[target]",
    )
    expect(
        torch.allclose(got.reshape(()), want, rtol=1e-4),
        f"for large logits the loss should be {want.item():.4f}, got {got.reshape(()).item():.4f}: "
        "use log_softmax (it subtracts the largest logit before exp)",
    )


# --- 3. the truncation trick -----------------------------------------------------------------------------
def _truncated_normal_std(t: float) -> float:
    pdf = math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(t / math.sqrt(2))  # P(|z| < t)
    return math.sqrt(1 - 2 * t * pdf / mass)


@refuses(
    truncated_normal,
    nn.init.trunc_normal_,
    hint="draw with torch.randn and redraw the values beyond the threshold yourself: the toolkit's "
    "truncated_normal is what the check compares with",
)
def check_truncated_z(truncated_z) -> None:
    """``truncated_z(n, z_dim, threshold)``: an (n, z_dim) latent from N(0, 1) in which every value with
    |z| > threshold is redrawn (again, until none is left): the truncated normal of BigGAN's truncation
    trick."""
    for t in (0.5, 1.0, 2.0):
        torch.manual_seed(int(t * 10))
        z = truncated_z(4000, 16, t)
        expect(isinstance(z, torch.Tensor), f"return a tensor, got {type(z).__name__}")
        expect(
            tuple(z.shape) == (4000, 16),
            f"return shape (n, z_dim) = (4000, 16), got {tuple(z.shape)}: redraw the values beyond the "
            "threshold in place, do not drop them",
        )
        z = z.float()
        expect(bool(torch.isfinite(z).all()), "the latent has inf or nan values")
        beyond = (z.abs() > t + 1e-6).float().mean().item()
        expect(
            beyond == 0,
            f"{beyond:.2%} of the values are beyond ±{t}: redraw those, and again, until none is left "
            "(one redraw is not enough)",
        )
        at_edge = (z.abs() > t - 1e-6).float().mean().item()
        expect(
            at_edge < 0.01,
            f"{at_edge:.0%} of the values sit exactly at ±{t}: clamping piles them up at the threshold; "
            "redraw them from N(0, 1) instead",
        )
        expect(
            z.std().item() > 1e-3 and z[0].ne(z[1]).any().item(),
            "the latent must be random: every row is a different sample",
        )
        expect(
            abs(z.mean().item()) < 0.03,
            "the truncated normal is centred on 0: keep both signs",
        )
        std, want = z.std().item(), _truncated_normal_std(t)
        if abs(std - want) > 0.03 * want:
            uniform = t / math.sqrt(3)
            expect(
                abs(std - uniform) > 0.03 * uniform,
                f"the values look uniform on [-{t}, {t}]; draw from N(0, 1) and redraw those beyond the "
                "threshold, so the values near 0 stay the most likely",
            )
            expect(
                False,
                f"with threshold {t} the values should have standard deviation {want:.3f} (a normal "
                f"truncated at ±{t}), yours have {std:.3f}",
            )
    torch.manual_seed(1)
    a = truncated_z(200, 4, 1.0)
    b = truncated_z(200, 4, 1.0)
    expect(not torch.equal(a, b), "two calls must give different latents: do not reseed inside the function")
