"""Checks for lesson 01 (the vanilla GAN). Each takes the learner's function and raises WrongAnswer on a
mistake, with one sentence saying what is wrong."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import losses
from ..data.toy import mode_quality
from . import expect, refuses


def _close(a, b, atol=1e-5, rtol=1e-4) -> bool:
    return (
        isinstance(a, torch.Tensor)
        and a.shape == b.shape
        and torch.allclose(a.float(), b.float(), atol=atol, rtol=rtol)
    )


# --- 1. the optimal discriminator ------------------------------------------------------------------------
def check_optimal_discriminator(optimal_discriminator) -> None:
    """``optimal_discriminator(p_data, p_g)``: D*(x) = p_data(x) / (p_data(x) + p_g(x)) at every point, for
    tensors of densities of any shape (Goodfellow et al. 2014, proposition 1)."""
    g = torch.Generator().manual_seed(1)
    cases = [
        (torch.tensor([0.3]), torch.tensor([0.1])),
        (torch.rand(7, generator=g) * 2, torch.rand(7, generator=g) * 0.5),
        (torch.rand(3, 4, generator=g), torch.rand(3, 4, generator=g) * 3),
    ]
    for p_data, p_g in cases:
        got = optimal_discriminator(p_data.clone(), p_g.clone())
        want = p_data / (p_data + p_g)
        expect(
            isinstance(got, torch.Tensor) and got.shape == p_data.shape,
            f"compute D* point by point: densities of shape {tuple(p_data.shape)} give a D* of that shape "
            "(no mean or sum)",
        )
        if _close(got, want):
            continue
        expect(
            not _close(got, torch.full_like(want, 0.5)),
            "D* is 1/2 only where p_data = p_g; elsewhere it depends on both densities",
        )
        expect(
            not _close(got, p_g / (p_data + p_g)),
            "that is 1 - D*: D outputs the probability that x is *real*, so p_data goes in the numerator",
        )
        expect(
            not _close(got, p_data / p_g),
            "D* is a probability in [0, 1]: divide p_data by p_data + p_g, not by p_g alone",
        )
        expect(False, "D*(x) = p_data(x) / (p_data(x) + p_g(x)), computed at every point")
    got = optimal_discriminator(torch.tensor([0.5, 0.0]), torch.tensor([0.0, 0.4]))
    expect(
        _close(got, torch.tensor([1.0, 0.0])),
        "where only real data has mass D* is 1, where only the generator has mass it is 0",
    )


# --- 2. binary cross-entropy on logits ------------------------------------------------------------------
def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target)


@refuses(
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy",
    hint="build it from F.softplus (or F.logsigmoid): F.binary_cross_entropy_with_logits is what the check "
    "compares with",
)
def check_bce_with_logits(bce_with_logits) -> None:
    """``bce_with_logits(logits, target)``: the mean over the batch of -[t log D + (1 - t) log(1 - D)] with
    D = sigmoid(logit) and t = 1 for real, 0 for fake; finite for any logit."""
    g = torch.Generator().manual_seed(2)
    for n in (16, 40):
        logits = torch.randn(n, generator=g) * 3
        target = (torch.rand(n, generator=g) < 0.5).float()
        got = bce_with_logits(logits.clone(), target.clone())
        want = _bce(logits, target)
        expect(isinstance(got, torch.Tensor), f"return a tensor, got {type(got).__name__}")
        expect(
            got.numel() == 1,
            f"return one number, the mean over the batch, not a tensor of shape {tuple(got.shape)}",
        )
        got = got.reshape(())
        if _close(got, want):
            continue
        expect(
            not _close(got, want * n),
            "average over the batch (.mean()), not .sum(): the loss should not grow with the batch size",
        )
        expect(
            not _close(got, _bce(logits, 1 - target)),
            "the labels are swapped: a real point (target 1) costs -log D = softplus(-logit), a fake "
            "(target 0) costs -log(1 - D) = softplus(logit)",
        )
        expect(
            not _close(got, -want),
            "the sign is flipped: cross-entropy is -log of a probability, so it is never negative",
        )
        expect(False, "the loss is mean(-t * log D - (1 - t) * log(1 - D)) with D = sigmoid(logits)")
    extreme, labels = torch.tensor([-200.0, 200.0]), torch.tensor([1.0, 0.0])
    got = bce_with_logits(extreme.clone(), labels.clone()).reshape(())
    expect(
        bool(torch.isfinite(got)),
        "at logit -200 sigmoid underflows to 0 and log(0) = -inf: write -log D as softplus(-logit), "
        "which never takes the log of 0",
    )
    expect(
        _close(got, torch.tensor(200.0), rtol=1e-3),
        f"D is confidently wrong on both points (logits -200 real, +200 fake), so the loss is 200, not "
        f"{float(got):.4g}: an epsilon inside the log caps it at -log(eps); use softplus instead",
    )


# --- 3. the generator's gradient: minimax vs non-saturating ---------------------------------------------
@refuses(
    losses.minimax_g_loss,
    losses.nonsaturating_g_loss,
    hint="write the two losses yourself with F.softplus, as section 3 did: toolkit.losses' versions are what "
    "the check compares with",
)
def check_generator_gradients(generator_gradients) -> None:
    """``generator_gradients(fake_logits)`` -> (minimax, non_saturating): for each fake, the derivative of
    its own generator loss with respect to its logit, for log(1 - D) and for -log D."""
    logits = torch.tensor([-200.0, -10.0, -3.0, -0.5, 0.0, 1.0, 4.0])
    got = generator_gradients(logits.clone())
    expect(
        isinstance(got, (tuple, list)) and len(got) == 2,
        "return a pair (minimax gradient, non-saturating gradient)",
    )
    mm, ns = got
    expect(
        all(isinstance(t, torch.Tensor) and t.shape == logits.shape for t in (mm, ns)),
        f"return one gradient per logit: two tensors of shape {tuple(logits.shape)}",
    )
    mm, ns = mm.detach().float(), ns.detach().float()
    expect(
        bool(torch.isfinite(mm).all() and torch.isfinite(ns).all()),
        "a gradient is nan or inf at logit -200: log(sigmoid) underflows there, so write the losses "
        "with softplus (toolkit.losses does)",
    )
    want_mm, want_ns = -torch.sigmoid(logits), -torch.sigmoid(-logits)
    n = len(logits)
    if _close(mm, want_mm, atol=1e-6) and _close(ns, want_ns, atol=1e-6):
        return
    expect(
        not (_close(mm, want_ns, atol=1e-6) and _close(ns, want_mm, atol=1e-6)),
        "the two are swapped: return (minimax, non-saturating) in that order",
    )
    expect(
        not (_close(mm, want_mm / n, atol=1e-7) or _close(ns, want_ns / n, atol=1e-7)),
        "you differentiated the batch mean, which divides every gradient by the batch size: differentiate "
        "the sum of the per-sample losses",
    )
    expect(
        not (_close(mm, -want_mm, atol=1e-6) or _close(ns, -want_ns, atol=1e-6)),
        "a sign is flipped: G *minimises* log(1 - D) (minimax) and -log D (non-saturating), and raising "
        "the logit lowers both, so both gradients are negative",
    )
    expect(
        _close(mm, want_mm, atol=1e-6),
        "the minimax gradient is wrong: G minimises log(1 - sigmoid(logit)) = -softplus(logit)",
    )
    expect(False, "the non-saturating gradient is wrong: G minimises -log sigmoid(logit) = softplus(-logit)")


# --- 4. counting samples per mode -----------------------------------------------------------------------
def _counts(samples, means, std, n_std=3.0, squared=False):
    dist = torch.cdist(samples, means)
    if squared:
        dist = dist.pow(2)
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= n_std * std
    return torch.bincount(nearest[good], minlength=len(means))


def _mixture(means, std, n, g):
    """n points: most near a mode (within about 2 std), some between 2 and 6 std out, some far away."""
    idx = torch.randint(len(means), (n,), generator=g)
    idx[: n // 3] = 0  # uneven: the first mode gets a third of the points
    radius = (
        torch.cat([torch.rand(n // 2, generator=g) * 2, 2 + torch.rand(n - n // 2, generator=g) * 4]) * std
    )
    angle = torch.rand(n, generator=g) * 2 * math.pi
    x = means[idx] + radius[:, None] * torch.stack([angle.cos(), angle.sin()], 1)
    x[-n // 10 :] = (torch.rand(n // 10, 2, generator=g) - 0.5) * 8  # strays
    return x[torch.randperm(n, generator=g)]


@refuses(
    mode_quality,
    hint="count them yourself with torch.cdist and torch.bincount: mode_quality is what the check compares "
    "with",
)
def check_mode_counts(mode_counts) -> None:
    """``mode_counts(samples, means, std)``: for each of the M modes, how many of the (N, 2) samples are
    high quality on it, i.e. have it as their nearest mode and lie within 3 * std of it (mode_quality's
    ``counts``)."""
    from ..data.toy import mixture_means, mixture_std

    g = torch.Generator().manual_seed(4)
    for name, n in (("ring", 400), ("grid", 1000)):
        means, std = mixture_means(name), mixture_std(name)
        samples = _mixture(means, std, n, g)
        got = mode_counts(samples.clone(), means.clone(), std)
        want = _counts(samples, means, std)
        m = len(means)
        expect(
            isinstance(got, torch.Tensor) and tuple(got.shape) == (m,),
            f"return one count per mode, a tensor of shape ({m},) for {m} modes: for each *sample* find its "
            "nearest mode (the minimum over dim=1 of the (N, M) distances), then count per mode",
        )
        got = got.long()
        if torch.equal(got, want):
            continue
        expect(
            int(got.sum()) != n,
            "you counted every sample; count only the high-quality ones, within 3 * std of their "
            "nearest mode",
        )
        expect(
            not torch.equal(got, _counts(samples, means, std, squared=True)),
            "compare the distance itself with 3 * std, not the squared distance",
        )
        expect(
            not torch.equal(got, _counts(samples, means, std, n_std=1.0)),
            "high quality means within 3 standard deviations of the mode (distance <= 3 * std), not 1",
        )
        expect(
            False,
            "the counts differ from mode_quality's: a sample counts for its nearest mode when its distance "
            "to it is <= 3 * std",
        )
