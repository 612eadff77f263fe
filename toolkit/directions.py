"""Latent directions: a line through latent space along which one attribute of G's images changes
(Shen, Gu, Tang & Zhou 2020, "Interpreting the Latent Space of GANs for Semantic Face Editing",
InterFaceGAN).

The method, section 3 of the paper:

1. **sample and label**: draw many z ~ N(0, I), draw G(z), and score every image for the attribute with a
   predictor that is independent of G (here the toolkit's Fashion-MNIST classifier ``fmnist-cnn`` for a
   class, or an attribute computed from the pixels: ``brightness``, ``area``);
2. **fit a linear boundary**: keep the most confident samples (the top and bottom ``share`` of the scores;
   the paper keeps the top and bottom 2 % of 500,000) as positives and negatives and fit a linear classifier
   (the paper a linear SVM; here logistic regression, in torch) on z. Its hyperplane n.z + b = 0 separates
   "has the attribute" from "has not"; the unit normal n points towards "has it";
3. **edit**: z' = z + strength * n (the paper's section 3.3) moves the image towards more of the attribute,
   the further the stronger; a negative strength removes it.

If two attributes' normals are not orthogonal, moving along one changes the other too (entanglement). The
paper's *conditional manipulation* (section 3.3) removes that part: n1 - (n1.n2) n2, renormalised, moves
along n1 without moving across boundary 2 (:func:`conditional_direction`). :func:`manipulation_table`
measures it: for each direction, the mean change of every attribute over the same z's, in units of that
attribute's standard deviation over G's samples, so the diagonal is what the edit was for and the rest is
what came along.

A direction is stored in its run directory (``directions/<attribute>.pt``, file name owned by
``toolkit/runs.py``) by :func:`save_direction` and read back by :func:`load_direction`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .errors import ToolkitError
from .files import atomic_write
from .models import is_conditional
from .runs import direction_path

COMPUTED = {
    "brightness": "mean pixel value of the image, 0 (black) .. 1 (white)",
    "area": "share of the image the object covers (pixels brighter than 10 % grey)",
}
BACKGROUND = 0.1  # a pixel above this (on 0..1) belongs to the object: Fashion-MNIST's background is black


def brightness(images: torch.Tensor) -> torch.Tensor:
    """(N,) mean pixel value on 0..1 (images in [-1, 1])."""
    return ((images + 1) / 2).mean(dim=(1, 2, 3))


def area(images: torch.Tensor, soft: bool = True) -> torch.Tensor:
    """(N,) share of pixels brighter than BACKGROUND (on 0..1): how much of the image the object covers.
    ``soft`` counts each pixel with a steep sigmoid instead of a hard step, so gradients reach the image."""
    unit = (images + 1) / 2
    inside = torch.sigmoid((unit - BACKGROUND) * 50) if soft else (unit > BACKGROUND).float()
    return inside.mean(dim=(1, 2, 3))


def class_score(classifier: nn.Module, c: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """images -> (N,) log p(class c | image) under ``classifier`` (logits out): the attribute "is a c"."""

    def score(images: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(classifier(images), dim=1)[:, c]

    return score


def attribute(name: str, class_names: list[str] | None = None, G: nn.Module | None = None, classifier=None):
    """The scoring function images -> (N,) for ``name``: a computed attribute (``COMPUTED``) or a class of the
    run's data (its name or index), scored by ``classifier`` (default: the toolkit's fmnist-cnn). One-line
    errors for a name that is neither, for a run whose data have no classes, and for a conditional generator
    (its class is an input, not a direction)."""
    from .generate import class_index

    key = str(name).strip().lower()
    if key in COMPUTED:
        return brightness if key == "brightness" else area
    if not class_names:
        raise ToolkitError(
            f"{name!r} is not a computed attribute and this run's data have no classes, so there are no "
            f"class directions; use one of: {', '.join(COMPUTED)}"
        )
    if G is not None and is_conditional(G):
        raise ToolkitError(
            f"this generator is conditional: its class is an input (give the label), not a direction in z; "
            f"find a direction for {' or '.join(COMPUTED)} instead"
        )
    c = class_index(name, class_names)
    if classifier is None:
        from .data import FASHION_MNIST_CLASSES
        from .metrics.fmnist_cnn import load_fmnist_cnn

        if list(class_names) != list(FASHION_MNIST_CLASSES):
            raise ToolkitError(
                "the toolkit's classifier knows Fashion-MNIST's classes only; this run's data have other "
                f"classes, so pass a classifier of your own or use one of: {', '.join(COMPUTED)}"
            )
        classifier = load_fmnist_cnn(device=next(G.parameters()).device if G is not None else "cpu")
    return class_score(classifier, c)


@torch.no_grad()
def sample_and_score(
    G: nn.Module, score: Callable, n: int, seed: int = 0, label=None, batch_size: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """Step 1: ``n`` latents z from N(0, I) (seeded) and the attribute score of each G(z) (G(z, label) for a
    conditional generator)."""
    if n < 10:
        raise ToolkitError(f"fit a direction on at least 10 samples (a few thousand is usual), got {n}")
    device = next(G.parameters()).device
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    scores = []
    for i in range(0, n, batch_size):
        zb = z[i : i + batch_size].to(device)
        images = G(zb, torch.full((len(zb),), int(label), device=device)) if label is not None else G(zb)
        scores.append(score(images).float().cpu())
    return z, torch.cat(scores)


@dataclass
class Direction:
    """A unit normal in latent space and where the boundary crosses it: n.z + bias = 0 (n.z = -bias)."""

    attribute: str
    normal: torch.Tensor  # (d,), unit length, pointing towards more of the attribute
    bias: float
    accuracy: float  # the boundary's accuracy on held-out positives and negatives
    samples: int  # latents labelled to find it
    share: float  # the top and bottom share of the scores used as positives and negatives


def fit_direction(
    z: torch.Tensor,
    scores: torch.Tensor,
    attribute: str = "",
    share: float = 0.3,
    steps: int = 200,
    seed: int = 0,
) -> Direction:
    """Step 2: logistic regression of "top ``share`` of the scores" against "bottom ``share``" on z; the unit
    normal of its boundary. A fifth of the labelled latents is held out to measure the boundary's accuracy."""
    if z.dim() != 2 or scores.shape != (len(z),):
        raise ToolkitError(
            f"give latents (N, d) and one score per latent; got {tuple(z.shape)} and {tuple(scores.shape)}"
        )
    if not 0 < share <= 0.5:
        raise ToolkitError(f"share must be in (0, 0.5] (the top and the bottom share are used), got {share}")
    order = scores.argsort()
    k = max(2, int(len(z) * share))
    negatives, positives = order[:k], order[-k:]
    if scores[positives].min() <= scores[negatives].max():
        raise ToolkitError(f"attribute {attribute!r} barely varies over these samples; nothing to separate")
    x = torch.cat([z[negatives], z[positives]]).float()
    y = torch.cat([torch.zeros(k), torch.ones(k)])
    held_out = torch.zeros(2 * k, dtype=torch.bool)
    held_out[torch.randperm(2 * k, generator=torch.Generator().manual_seed(seed))[: (2 * k) // 5]] = True
    weight = torch.zeros(z.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        logits = x[~held_out] @ weight + bias
        # a little weight decay: separable data would otherwise push |weight| to infinity
        loss = (
            nn.functional.binary_cross_entropy_with_logits(logits, y[~held_out])
            + 1e-3 * weight.square().sum()
        )
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        norm = weight.norm()
        accuracy = float(((x[held_out] @ weight + bias > 0).float() == y[held_out]).float().mean())
        return Direction(
            attribute, (weight / norm).detach().clone(), float(bias / norm), accuracy, len(z), share
        )


def edit(z: torch.Tensor, direction, strength: float) -> torch.Tensor:
    """Step 3: z + strength * n (``direction``: a :class:`Direction` or a unit vector of z's size)."""
    normal = direction.normal if isinstance(direction, Direction) else direction
    if z.shape[-1] != normal.shape[-1]:
        raise ToolkitError(
            f"this direction is for latents of size {normal.shape[-1]}, got latents of size {z.shape[-1]}: "
            "was it found for another run?"
        )
    return z + strength * normal.to(z.device, z.dtype)


def conditional_direction(primary: torch.Tensor, *conditions: torch.Tensor) -> torch.Tensor:
    """The paper's conditional manipulation: ``primary`` with its components along every condition removed
    (Gram-Schmidt over the conditions first), renormalised: moving along it leaves the conditions' scores
    unchanged to first order."""
    basis: list[torch.Tensor] = []
    for c in conditions:
        for b in basis:
            c = c - (c @ b) * b
        if c.norm() > 1e-6:
            basis.append(c / c.norm())
    n = primary.clone()
    for b in basis:
        n = n - (n @ b) * b
    if n.norm() < 1e-6:
        raise ToolkitError(
            "the primary direction lies in the span of the conditions: nothing is left to move along"
        )
    return n / n.norm()


@torch.no_grad()
def manipulation_table(
    G: nn.Module,
    directions: dict[str, torch.Tensor],
    attributes: dict[str, Callable],
    z: torch.Tensor,
    strength: float,
    label=None,
) -> dict[str, dict[str, float]]:
    """{direction: {attribute: mean change}}: every latent of ``z`` moved by ``strength`` along each
    direction, each attribute's mean change in units of its standard deviation over G(z)."""
    device = next(G.parameters()).device
    y = None if label is None else torch.full((len(z),), int(label), device=device)

    def draw(latents):
        return G(latents.to(device), y) if y is not None else G(latents.to(device))

    before = draw(z)
    base = {a: f(before).float() for a, f in attributes.items()}
    table = {}
    for name, normal in directions.items():
        after = draw(edit(z, normal, strength))
        table[name] = {
            a: float((f(after).float() - base[a]).mean() / base[a].std().clamp_min(1e-8))
            for a, f in attributes.items()
        }
    return table


def save_direction(run_dir: str | Path, direction: Direction) -> Path:
    """Write ``direction`` into the run directory (``directions/<attribute>.pt``), atomically."""
    path = direction_path(run_dir, direction.attribute)
    state = {k: v for k, v in asdict(direction).items()}
    atomic_write(path, lambda f: torch.save(state, f))
    return path


def load_direction(run_dir: str | Path, attribute: str, z_dim: int | None = None) -> Direction:
    """The direction for ``attribute`` stored in the run directory; with ``z_dim``, checked to fit."""
    path = direction_path(run_dir, attribute)
    if not path.is_file():
        raise ToolkitError(
            f"no direction for {attribute!r} in {run_dir}; find one first (fit_direction, save_direction)"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        direction = Direction(**state)
    except Exception as exc:
        raise ToolkitError(
            f"{path} is not a direction file ({type(exc).__name__}); find the direction again"
        ) from None
    if z_dim is not None and direction.normal.shape != (z_dim,):
        raise ToolkitError(
            f"{path} is for latents of size {direction.normal.shape[0]} but this generator takes {z_dim}; "
            "find the direction again for this run"
        )
    return direction
