"""Alarms for a run, with what to try: the dashboard shows them as banners.

Each check is a small pure function of the logged rows (or of samples) returning :class:`Alarm` or None.
Thresholds are written once here, each with its reason.

* **divergence** (:func:`divergence`): a non-finite loss, or the latest loss far above the run's own
  recent level (a spike of more than ``SPIKE`` times the median of the previous rows' absolute values).
* **D overfitting** (:func:`overfitting`): r_t = E[sign D(real)] near 1 for the last rows (D is certain
  about every training image: the ADA paper's overfitting signal), or a train vs held-out gap of D's
  outputs (``--gap-every``) that keeps growing.
* **mode collapse** (:func:`collapse`): samples much closer to each other than real images are (nearest-
  neighbour distances on 8x8-pooled pixels), or, for Fashion-MNIST, a generator whose samples the
  toolkit's classifier puts into few classes (normalised entropy of the class histogram). A fresh run's
  samples are blobs: close to each other and put into few classes, without being collapsed. So each
  absolute test waits until the samples have structure (edges as strong as half the real images'; the
  classifier as sure of them as ``SURE`` on average), and, given the run's earlier measures
  (:func:`collapse_measures` of its earlier checkpoints), the run is compared with itself: diversity or
  class coverage that fell to ``FALL`` of its own best since is collapse whatever the samples look like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

SPIKE = 5.0  # a loss 5x its recent median is not noise in these runs (typical wiggles are < 2x)
R_T_HIGH = 0.9  # ADA's target is 0.6; r_t above 0.9 for several rows means D has memorised the reals
GAP_HIGH = 1.0  # D's mean output on training reals minus held-out reals (lesson 06: 4.8 when overfitting)
RECENT = 5  # rows the overfitting checks look at
DUPLICATES = 0.35  # generated nn-distance / real nn-distance below this: samples are near-copies
CLASS_ENTROPY = 0.6  # normalised entropy of predicted classes below this: few classes are drawn
# A fresh 60-step DCGAN on Fashion-MNIST (blobs): edges 0.85x the reals', the classifier's mean top
# probability 0.48 (0.95 on real images), entropy 0.39 over 5 classes. Structure: both gates passed.
EDGES = 0.5  # mean absolute neighbour difference of the samples / of the real images: at least this
SURE = 0.7  # the classifier's mean top probability on the samples: at least this
FALL = 0.5  # a measure that fell to half of the same run's best earlier value has collapsed


@dataclass(frozen=True)
class Alarm:
    kind: str  # "divergence", "overfitting", "collapse"
    message: str  # what was seen, with its number
    advice: str  # what to try


def divergence(rows: list[dict]) -> Alarm | None:
    losses = [k for k in (rows[-1] if rows else {}) if k.startswith("loss")]
    for k in losses:
        v = rows[-1][k]
        if isinstance(v, float) and not math.isfinite(v):
            return Alarm(
                "divergence",
                f"{k} is {v} at step {rows[-1]['step']}",
                "Continue from the last checkpoint with the learning rates halved (from the command line: "
                "train --resume with --lr-g and --lr-d halved)",
            )
    for k in losses:
        past = [abs(r[k]) for r in rows[-21:-1] if isinstance(r.get(k), (int, float))]
        if len(past) >= 5:
            median = sorted(past)[len(past) // 2]
            if median > 0 and abs(rows[-1][k]) > SPIKE * median:
                return Alarm(
                    "divergence",
                    f"{k} jumped to {rows[-1][k]:.3g} at step {rows[-1]['step']}, "
                    f"{abs(rows[-1][k]) / median:.0f}x its recent level",
                    "lower the learning rates (Steer while the job runs, Continue after it ends); from the "
                    "command line: a new run with --gp-weight or --r1-weight",
                )
    return None


def digits_above(value: float, threshold: float) -> str:
    """``value`` (> ``threshold``) written with the fewest decimals, from 2, that still read above it:
    0.9004 against 0.9 is "0.9004", not "0.90"."""
    digits = 2
    while digits < 6 and round(value, digits) <= threshold:
        digits += 1
    return f"{value:.{digits}f}" if round(value, digits) > threshold else repr(value)  # repr: exact


def overfitting_advice(augment: str = "none") -> str:
    """What a dashboard user can do about an overfitting D: what Steer and Continue apply (lr_d, and the
    target r_t of a run whose p or T adapts), what the start form offers a new run, then the command line's
    flags."""
    if augment in ("ada", "diffusion"):
        now = "lower the target r_t or lr_d (Steer while the job runs; Continue after it ends takes lr_d)"
    else:
        now = "lower lr_d (Steer while the job runs, Continue after it ends)"
    return (
        f"{now}, or start a new run with augmentation (the form's 'What D sees': ada or diffaugment) or "
        "more training images; from the command line: --lr-d, --augment ada, --ada-target"
    )


def overfitting(rows: list[dict], augment: str = "none") -> Alarm | None:
    """``augment``: the run's --augment (its advice names what Steer can change for it)."""
    recent = rows[-RECENT:]
    signs = [r["d_real_sign"] for r in recent if isinstance(r.get("d_real_sign"), (int, float))]
    if len(signs) == RECENT and min(signs) > R_T_HIGH:
        return Alarm(
            "overfitting",
            f"r_t = E[sign D(real)] has stayed above {R_T_HIGH} (now {digits_above(signs[-1], R_T_HIGH)}): "
            "D is sure of every training image",
            overfitting_advice(augment),
        )
    gaps = [r["d_gap"] for r in rows if isinstance(r.get("d_gap"), (int, float))]
    if len(gaps) >= 2 and gaps[-1] > GAP_HIGH and gaps[-1] > gaps[0]:
        return Alarm(
            "overfitting",
            f"D scores training images {gaps[-1]:.2f} higher than held-out ones, and the gap is growing",
            overfitting_advice(augment),
        )
    return None


def _nn_distances(x: torch.Tensor) -> torch.Tensor:
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    return d.min(1).values


def _edges(x: torch.Tensor) -> float:
    x = x.float()
    return float(
        (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
    )


def collapse_measures(
    fake: torch.Tensor, real: torch.Tensor, class_probs: torch.Tensor | None = None
) -> dict[str, float]:
    """What :func:`collapse` judges, for one set of samples: ``spread`` (median nearest-neighbour distance
    of the samples / that of the real images, on 8x8-pooled pixels), ``edges`` (their edge strength / the
    real images'), and with the classifier's softmax ``class_probs``: ``coverage`` (normalised entropy of
    the predicted classes), ``classes`` (how many are seen) and ``sure`` (its mean top probability)."""
    pool = lambda x: F.adaptive_avg_pool2d(x.float(), 8).flatten(1)  # noqa: E731
    measures = {
        "spread": float(
            _nn_distances(pool(fake)).median() / _nn_distances(pool(real)).median().clamp_min(1e-8)
        ),
        "edges": _edges(fake) / max(_edges(real), 1e-8),
    }
    if class_probs is not None:
        counts = torch.bincount(class_probs.argmax(1), minlength=class_probs.shape[1]).double()
        p = counts[counts > 0] / counts.sum()
        measures["coverage"] = float(-(p * p.log()).sum() / math.log(class_probs.shape[1]))
        measures["classes"] = int((counts > 0).sum())
        measures["sure"] = float(class_probs.max(1).values.mean())
    return measures


def collapse(
    fake: torch.Tensor,
    real: torch.Tensor,
    class_probs: torch.Tensor | None = None,
    history: list[dict] = (),
) -> Alarm | None:
    """``fake`` and ``real``: images (N, C, H, W) in [-1, 1], the same N; ``class_probs``: the classifier's
    softmax on ``fake`` (N, classes), when the data has a classifier; ``history``: the same run's
    :func:`collapse_measures` at its earlier checkpoints, oldest first (empty: judged on structure alone)."""
    now = collapse_measures(fake, real, class_probs)
    for key, what in (("spread", "diversity (nearest-neighbour distance)"), ("coverage", "class coverage")):
        best = max((h[key] for h in history if key in h), default=None)
        if best is not None and key in now and now[key] < FALL * best:
            return Alarm(
                "collapse",
                f"the samples' {what} fell to {now[key]:.2f}, from {best:.2f} earlier in this run",
                "mode collapse: go back to an earlier checkpoint; try --loss wasserstein with --gp-weight "
                "10, a lower lr_g, or a larger batch",
            )
    if now["edges"] >= EDGES and now["spread"] < DUPLICATES:
        return Alarm(
            "collapse",
            "generated images are near-copies of each other: nearest-neighbour distance "
            f"{now['spread']:.2f}x that of real images",
            "mode collapse: try --loss wasserstein with --gp-weight 10, a lower lr_g, or a larger batch",
        )
    if "coverage" in now and now["sure"] >= SURE and now["coverage"] < CLASS_ENTROPY:
        return Alarm(
            "collapse",
            f"the classifier finds few classes in the samples (normalised entropy {now['coverage']:.2f}; "
            f"{now['classes']} classes seen)",
            "mode collapse: try a conditional model (cgan), --loss wasserstein with --gp-weight 10, or a "
            "lower lr_g",
        )
    return None


def run_alarms(rows: list[dict], augment: str = "none") -> list[Alarm]:
    """The alarms that follow from the logged rows (and the run's --augment, for the advice)."""
    return [a for a in (divergence(rows), overfitting(rows, augment)) if a is not None]
