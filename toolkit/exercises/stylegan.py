"""Checks for lesson 14 (StyleGAN). Each takes the learner's function and raises WrongAnswer on a mistake.

While the learner's function runs, the toolkit's own answers (``toolkit.models.stylegan.modulated_conv2d``,
``modulate``, ``truncate``, ``mix_styles``) raise WrongAnswer (``refuses``): the exercise is to write them.
Exercise 1 asks for the *grouped* modulated convolution, one ``conv2d`` call for the whole batch: section 3
wrote the per-sample loop, so copying that cell is refused too.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F

from ..models import stylegan
from . import expect, refuses

REFUSED = "write it yourself: calling the toolkit's own function is not an answer"


@contextlib.contextmanager
def counting_conv2d():
    """Count the calls of conv2d (``F.conv2d`` and ``torch.conv2d``) and record their ``groups``."""
    calls: list[int] = []
    saved = F.conv2d, torch.conv2d

    def counted(original):
        def conv2d(*args, **kwargs):
            calls.append(kwargs.get("groups", args[6] if len(args) > 6 else 1))
            return original(*args, **kwargs)

        return conv2d

    F.conv2d, torch.conv2d = counted(saved[0]), counted(saved[1])
    try:
        yield calls
    finally:
        F.conv2d, torch.conv2d = saved


def _modconv_by_hand(x, weight, styles, demod_dims=(1, 2, 3), per_sample=True, on_inputs=True):
    """The modulated convolution written out per sample (padding 1), with switchable mistakes."""
    out = []
    for b in range(x.shape[0]):
        s = styles[b if per_sample else 0]
        w = weight * (s[None, :, None, None] if on_inputs else s[:, None, None, None])
        if demod_dims:
            w = w / torch.sqrt(w.square().sum(dim=demod_dims, keepdim=True) + 1e-8)
        out.append(F.conv2d(x[b : b + 1], w, padding=1))
    return torch.cat(out)


@refuses(stylegan.modulated_conv2d, stylegan.modulate, hint=REFUSED)
def check_modulated_conv(modulated_conv) -> None:
    """``modulated_conv(x, weight, styles)``: x (B, I, H, W), weight (O, I, 3, 3), styles (B, I) ->
    (B, O, H, W): each sample convolved (padding 1) with its weights modulated by its styles (eq. 1) and
    demodulated (eq. 3), the whole batch in *one* grouped convolution (groups = B)."""
    g = torch.Generator().manual_seed(14)
    x, weight = torch.randn(3, 4, 6, 6, generator=g), torch.randn(4, 4, 3, 3, generator=g)
    styles = torch.rand(3, 4, generator=g) * 3 + 0.2
    with counting_conv2d() as calls:
        out = modulated_conv(x.clone(), weight.clone(), styles.clone())
    expect(
        isinstance(out, torch.Tensor) and out.shape == (3, 4, 6, 6),
        "return a tensor (B, O, H, W) = (3, 4, 6, 6): a 3x3 convolution with padding 1",
    )
    want = _modconv_by_hand(x, weight, styles)
    if torch.allclose(out, want, atol=1e-4):
        expect(
            calls == [3],
            f"right values, but conv2d ran {len(calls)} time(s), groups {calls}: section 3 looped over "
            "the batch; fold the batch into the channels, x (1, B*I, H, W) and weights (B*O, I, 3, 3), "
            "and call conv2d once with groups = B",
        )
        return
    mistakes = [
        (
            dict(demod_dims=()),
            "you modulated but did not demodulate: divide each output channel's weights by "
            "sqrt(sum over input channels and kernel of w'^2 + 1e-8) (eq. 3)",
        ),
        (
            dict(demod_dims=(0, 2, 3)),
            "demodulate per *output* channel: sum w'^2 over the input channels and the "
            "kernel (dims 1, 2, 3 of a (O, I, k, k) weight), not over the output channels",
        ),
        (
            dict(per_sample=False),
            "each sample needs its own weights, from its own styles: a grouped convolution "
            "(groups = B) or a loop over the batch, not the first sample's styles for all",
        ),
        (
            dict(on_inputs=False),
            "a style scales the *input* channels of the weight (s_i * w_ijk, i the input "
            "channel): weight * styles[b][None, :, None, None]",
        ),
    ]
    for kwargs, message in mistakes:
        expect(not torch.allclose(out, _modconv_by_hand(x, weight, styles, **kwargs), atol=1e-4), message)
    expect(False, "each sample's output should be conv2d(x_b, w''_b, padding=1) with w'' from eq. 1 and 3")


@refuses(stylegan.truncate, hint=REFUSED)
def check_truncate(truncate) -> None:
    """``truncate(w, w_avg, psi)``: the truncation trick in W, w_avg + psi * (w - w_avg), for w (B, D)."""
    g = torch.Generator().manual_seed(140)
    w, w_avg = torch.randn(4, 6, generator=g), torch.randn(6, generator=g)
    outs = {psi: truncate(w.clone(), w_avg.clone(), psi) for psi in (0.0, 0.3, 1.0, 1.5)}
    expect(
        all(isinstance(o, torch.Tensor) and o.shape == w.shape for o in outs.values()),
        "return a tensor of w's shape (B, D): w_avg broadcasts over the batch",
    )
    swapped = w + 0.3 * (w_avg - w)
    expect(
        not torch.allclose(outs[0.3], swapped, atol=1e-5),
        "psi is the weight of w: psi = 1 leaves w as it is and psi = 0 gives w_avg",
    )
    expect(torch.allclose(outs[1.0], w, atol=1e-6), "psi = 1 must leave w unchanged")
    expect(
        torch.allclose(outs[0.0], w_avg.expand_as(w), atol=1e-6), "psi = 0 must give w_avg for every sample"
    )
    expect(
        torch.allclose(outs[0.3], w_avg + 0.3 * (w - w_avg), atol=1e-5),
        "move from w_avg towards w by psi: w_avg + psi * (w - w_avg)",
    )
    expect(
        torch.allclose(outs[1.5], w_avg + 1.5 * (w - w_avg), atol=1e-5),
        "psi > 1 extrapolates away from w_avg (w_avg + psi * (w - w_avg)); do not clamp psi",
    )


@refuses(stylegan.mix_styles, hint=REFUSED)
def check_mix_styles(mix_styles) -> None:
    """``mix_styles(ws1, ws2, crossover)``: ws (B, L, D); layers 0 .. crossover-1 from ws1, the rest from
    ws2."""
    g = torch.Generator().manual_seed(1400)
    ws1, ws2 = torch.randn(2, 6, 3, generator=g), torch.randn(2, 6, 3, generator=g)
    outs = {c: mix_styles(ws1.clone(), ws2.clone(), c) for c in (0, 2, 6)}
    expect(
        all(isinstance(o, torch.Tensor) and o.shape == ws1.shape for o in outs.values()),
        "return a tensor of the same shape (B, L, D): one w per layer",
    )
    out = outs[2]
    expect(
        not (torch.equal(out[:, :2], ws2[:, :2]) and torch.equal(out[:, 2:], ws1[:, 2:])),
        "the layers *before* the crossover (coarse styles) come from the first latent, ws1",
    )
    expect(
        not (torch.equal(out[:, :3], ws1[:, :3]) and torch.equal(out[:, 3:], ws2[:, 3:])),
        "off by one: layer `crossover` itself is the first layer of ws2 "
        "(ws1[:, :crossover], ws2[:, crossover:])",
    )
    expect(
        not (torch.equal(out[:, :1], ws1[:, :1]) and torch.equal(out[:, 1:], ws2[:, 1:])),
        "off by one: layers 0 .. crossover - 1 come from ws1 (ws1[:, :crossover])",
    )
    expect(
        torch.equal(out[:, :2], ws1[:, :2]) and torch.equal(out[:, 2:], ws2[:, 2:]),
        "take layers [0, crossover) from ws1 and [crossover, L) from ws2",
    )
    expect(torch.equal(outs[0], ws2), "crossover 0 must give ws2 at every layer")
    expect(torch.equal(outs[6], ws1), "crossover L (the number of layers) must give ws1 at every layer")
