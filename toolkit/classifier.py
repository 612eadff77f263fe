"""A small image classifier, its training recipes for imbalanced data, and the metrics of lesson 13.

Lesson 13 asks whether images from a conditional GAN help a classifier on rare classes. The classifier is
deliberately small (three conv blocks, ~25k parameters at width 16) so that one training run takes seconds
on a CPU, and its training function knows the usual answers to imbalance, so the GAN has fair rivals:

* ``augment="classic"``: random horizontal flips and shifts of up to 2 pixels (pad with background,
  crop back), drawn per image and per batch - the "flips and shifts" baseline;
* ``balance="reweight"``: the cross-entropy of class c weighted by N / (K * N_c) (rare classes count more);
* ``balance="oversample"``: batches drawn with replacement, each class equally likely (rare images repeat).

Metrics are computed from the confusion matrix, by hand (``tests/test_augment_dataset.py`` checks them
against scikit-learn): ``cm[i, j]`` = test images of true class i predicted as j; the recall of class c is
cm[c, c] / sum_j cm[c, j]; precision cm[c, c] / sum_i cm[i, c]; F1 their harmonic mean (0 when both are 0);
macro F1 the unweighted mean over classes, so a rare class counts as much as a common one.
"""

from __future__ import annotations

import copy
import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ToolkitError


class SmallCNN(nn.Module):
    """(N, C, H, W) images in [-1, 1] -> class logits: three conv-BN-ReLU-maxpool blocks, global average
    pooling, one linear layer. Any square input of at least 8 pixels."""

    def __init__(self, num_classes: int, channels: int = 1, width: int = 16):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(True),
                nn.MaxPool2d(2),
            )

        self.features = nn.Sequential(
            block(channels, width), block(width, 2 * width), block(2 * width, 4 * width)
        )
        self.head = nn.Linear(4 * width, num_classes)
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


def classic_augment(x: torch.Tensor, generator: torch.Generator, shift: int = 2) -> torch.Tensor:
    """Random horizontal flip (probability 1/2) and a random shift of up to ``shift`` pixels in each
    direction, per image; the border is filled with the background (-1)."""
    flip = torch.rand(len(x), generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    padded = F.pad(x, (shift, shift, shift, shift), value=-1.0)
    dx = torch.randint(0, 2 * shift + 1, (len(x),), generator=generator)
    dy = torch.randint(0, 2 * shift + 1, (len(x),), generator=generator)
    n, c, h, w = x.shape
    rows = (dy[:, None] + torch.arange(h)[None]).view(n, 1, h, 1).expand(n, c, h, w + 2 * shift)
    cols = (dx[:, None] + torch.arange(w)[None]).view(n, 1, 1, w).expand(n, c, h, w)
    return padded.gather(2, rows).gather(3, cols)  # rows dy..dy+h-1, then columns dx..dx+w-1


def class_weights(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """N / (K * N_c) for each class c (1 for every class of a balanced set); classes absent get 0."""
    counts = torch.bincount(labels, minlength=num_classes).float()
    w = torch.where(counts > 0, len(labels) / (num_classes * counts.clamp(min=1)), torch.zeros_like(counts))
    return w


def train_classifier(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    augment: str = "none",
    balance: str = "none",
    width: int = 16,
    progress: Callable | None = None,
    steps: int | None = None,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    patience: int = 5,
    eval_every: int | None = None,
) -> SmallCNN:
    """Train a :class:`SmallCNN` on images ``x`` (N, C, H, W) in [-1, 1] with labels ``y`` (N,).

    ``augment``: "none" or "classic" (see :func:`classic_augment`). ``balance``: "none", "reweight" (class
    weights in the loss) or "oversample" (class-balanced batches, drawn with replacement). An epoch is
    ceil(N / batch_size) batches either way; ``steps`` (when given) fixes the number of batches instead, so
    that training sets of different sizes get the same compute. Adam at ``lr`` with a cosine decay to 0,
    seeded. ``progress``: e.g. ``tqdm`` (called on the range of steps). Returns the network in eval mode.

    Early stopping: with ``val`` = (images, labels) held out from the training data, the number of steps
    (``epochs`` or ``steps``) is the most it trains. Every ``eval_every`` steps (default: one epoch) it
    measures the class-balanced validation loss (:func:`balanced_loss`: each class's mean cross-entropy,
    averaged over the classes, so a rare class counts as much as a common one), keeps the weights with the
    lowest, stops after ``patience`` measurements without a new lowest, and returns those weights. The
    returned network's ``early_stopping`` says what happened: ``best_step``, ``stopped_step`` and every
    ``val_losses`` entry (step, loss)."""
    if augment not in ("none", "classic"):
        raise ToolkitError(f"augment must be none or classic, got {augment!r}")
    if balance not in ("none", "reweight", "oversample"):
        raise ToolkitError(f"balance must be none, reweight or oversample, got {balance!r}")
    if len(x) != len(y) or len(x) == 0:
        raise ToolkitError(f"need as many labels as images (got {len(x)} images, {len(y)} labels)")
    if epochs < 1:
        raise ToolkitError(f"epochs must be >= 1, got {epochs}")
    if val is not None and (len(val[0]) != len(val[1]) or len(val[0]) == 0):
        raise ToolkitError(f"val needs as many labels as images, and some (got {len(val[0])}, {len(val[1])})")
    if patience < 1 or (eval_every is not None and eval_every < 1):
        raise ToolkitError(f"patience and eval_every must be >= 1, got {patience} and {eval_every}")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    y = torch.as_tensor(y, dtype=torch.long)
    net = SmallCNN(num_classes, x.shape[1], width)
    steps_per_epoch = math.ceil(len(x) / batch_size)
    total = epochs * steps_per_epoch if steps is None else int(steps)
    if total < 1:
        raise ToolkitError(f"steps must be >= 1, got {total}")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    weight = class_weights(y, num_classes) if balance == "reweight" else None
    if balance == "oversample":  # each image drawn with probability 1 / (K_present * N_c)
        per_image = (1.0 / torch.bincount(y, minlength=num_classes).float().clamp(min=1))[y]
    every = eval_every or steps_per_epoch
    best = {"loss": math.inf, "step": 0, "weights": None}
    val_losses, since_best = [], 0
    net.train()
    steps = range(total)
    for step in progress(steps) if progress else steps:
        if val is not None and step > 0 and step % every == 0:
            val_losses.append((step, balanced_loss(net, *val)))
            net.train()
            if val_losses[-1][1] < best["loss"]:
                best = {"loss": val_losses[-1][1], "step": step, "weights": copy.deepcopy(net.state_dict())}
                since_best = 0
            else:
                since_best += 1
                if since_best >= patience:
                    break
        if balance == "oversample":
            idx = torch.multinomial(per_image, batch_size, replacement=True, generator=g)
        else:
            if step % steps_per_epoch == 0:
                order = torch.randperm(len(x), generator=g)
            i = step % steps_per_epoch
            idx = order[i * batch_size : (i + 1) * batch_size]
        xb, yb = x[idx], y[idx]
        if augment == "classic":
            xb = classic_augment(xb, g)
        loss = F.cross_entropy(net(xb), yb, weight=weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    else:
        step = total
    if val is not None:
        stopped = step
        if stopped == total:  # ran to the end: the last weights are a candidate too
            val_losses.append((total, balanced_loss(net, *val)))
            if val_losses[-1][1] < best["loss"]:
                best = {"loss": val_losses[-1][1], "step": total, "weights": None}
        if best["weights"] is not None:
            net.load_state_dict(best["weights"])
        net.early_stopping = {"best_step": best["step"], "stopped_step": stopped, "val_losses": val_losses}
    return net.eval()


@torch.no_grad()
def balanced_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """The class-balanced cross-entropy of ``net`` on (x, y), in eval mode: each class's mean loss, averaged
    over the classes present, so the rare classes' few images count as much as the common classes'."""
    net.eval()
    losses = torch.cat(
        [
            F.cross_entropy(net(x[i : i + batch_size]), y[i : i + batch_size], reduction="none")
            for i in range(0, len(x), batch_size)
        ]
    )
    per_class = [losses[y == c].mean() for c in torch.unique(y).tolist()]
    return float(torch.stack(per_class).mean())


@torch.no_grad()
def predict_proba(net: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Softmax probabilities (N, K), in eval mode, batch by batch."""
    was_training = net.training
    net.eval()
    out = torch.cat([F.softmax(net(x[i : i + batch_size]), 1) for i in range(0, len(x), batch_size)])
    net.train(was_training)
    return out


def predict(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return predict_proba(net, x).argmax(1)


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) int64: entry [i, j] counts the samples of true class i predicted as class j."""
    y_true, y_pred = torch.as_tensor(y_true).long(), torch.as_tensor(y_pred).long()
    return torch.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).view(
        num_classes, num_classes
    )


def _safe_div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(b > 0, a / b.clamp(min=1e-12), torch.zeros_like(a))


def per_class_recall(cm: torch.Tensor) -> torch.Tensor:
    cm = cm.double()
    return _safe_div(cm.diagonal(), cm.sum(1))


def per_class_precision(cm: torch.Tensor) -> torch.Tensor:
    cm = cm.double()
    return _safe_div(cm.diagonal(), cm.sum(0))


def per_class_f1(cm: torch.Tensor) -> torch.Tensor:
    p, r = per_class_precision(cm), per_class_recall(cm)
    return _safe_div(2 * p * r, p + r)


def macro_f1(cm: torch.Tensor) -> float:
    """The unweighted mean of the per-class F1 scores (sklearn's ``f1_score(average="macro")``)."""
    return float(per_class_f1(cm).mean())


def accuracy(cm: torch.Tensor) -> float:
    return float(cm.diagonal().sum() / cm.sum())


def scores(net: nn.Module, x: torch.Tensor, y: torch.Tensor, class_names: list[str]) -> dict:
    """Accuracy, macro F1, per-class recall and F1 (by class name) and the confusion matrix (a list of
    lists) of ``net`` on the images ``x`` with true labels ``y``."""
    cm = confusion_matrix(y, predict(net, x), len(class_names))
    return {
        "accuracy": accuracy(cm),
        "macro_f1": macro_f1(cm),
        "recall": dict(zip(class_names, per_class_recall(cm).tolist())),
        "f1": dict(zip(class_names, per_class_f1(cm).tolist())),
        "confusion": cm.tolist(),
    }


def confusion_figure(cm, class_names: list[str], title: str = "confusion matrix (rows: true class)"):
    """A plotly heat map of a confusion matrix, each row normalised to 1 (the recall on the diagonal), with
    the counts written in the cells."""
    import plotly.graph_objects as go

    cm = torch.as_tensor(cm).double()
    share = (cm / cm.sum(1, keepdim=True).clamp(min=1)).numpy()
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=class_names,
            y=class_names,
            text=cm.round().long().numpy(),
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar=dict(title="share of row"),
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="predicted",
        yaxis_title="true",
        yaxis_autorange="reversed",
        height=480,
        width=560,
    )
    return fig


def confusion_png(cm, class_names: list[str], path, title: str = "") -> None:
    """The same heat map as a PNG (drawn with Pillow, no plotting library needed), written atomically."""
    from PIL import Image, ImageDraw

    from .files import atomic_write

    cm = torch.as_tensor(cm).double()
    share = cm / cm.sum(1, keepdim=True).clamp(min=1)
    k, cell, left, top = len(class_names), 44, 90, 40 if title else 16
    img = Image.new("RGB", (left + k * cell + 10, top + k * cell + 70), "white")
    draw = ImageDraw.Draw(img)
    if title:
        draw.text((8, 8), title, fill="black")
    for i in range(k):
        draw.text((4, top + i * cell + cell // 2 - 5), class_names[i][:13], fill="black")
        for j in range(k):
            v = float(share[i, j])
            colour = tuple(int(255 - v * (255 - c)) for c in (8, 48, 107))
            x0, y0 = left + j * cell, top + i * cell
            draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=colour, outline="white")
            draw.text((x0 + 6, y0 + cell // 2 - 5), f"{cm[i, j]:.0f}", fill="white" if v > 0.5 else "black")
    for j in range(k):
        draw.text((left + j * cell + 2, top + k * cell + 4 + 12 * (j % 2)), class_names[j][:7], fill="black")
    draw.text(
        (left, top + k * cell + 40),
        "rows: true class, columns: predicted; colour: share of the row",
        fill="black",
    )
    atomic_write(path, lambda f: img.save(f, format="PNG"))
