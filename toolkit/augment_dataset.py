"""More images of chosen classes from a trained conditional GAN: ``python -m toolkit augment-dataset``.

    python -m toolkit augment-dataset --run-dir RUN --classes Dress,Coat --per-class 500 --out generated/
        [--filter none|discriminator|classifier] [--candidates 3] [--seed 0]

writes ``generated/<class>/gen_000000.png ...`` (one sub-folder per chosen class, named like the run's class,
with characters other than letters, digits, ``_ . -`` replaced by ``-``), plus ``generated/augment.json``
(the run, its step, the settings and the counts), so that ``load_dataset("generated/", resolution=...)``
reads them back as a labelled set, and the folder can be merged with the user's own class folders (the
files are named ``gen_*``: generated images stay recognisable).

Filters (lesson 13): draw ``candidates`` x N images per class and keep the N that score best:

* ``discriminator``: the run's own conditional D. cGAN's projection D gives one logit for "a real image of
  class y"; ACGAN's D gives a real/fake logit and class logits, scored log sigmoid(real) + log p(y | x). A
  Diffusion-GAN run's D is conditioned on the timestep, not the class, so it cannot filter by class.
* ``classifier``: a :class:`toolkit.classifier.SmallCNN` trained (``classifier_epochs``, class-balanced
  batches) on the run's training data as config.json names it; the score is its p(y | x). In Python any
  trained classifier can be passed instead. A run trained on data passed in from Python (config.json's
  ``data_passed_in``) is refused unless that data is passed back (``data=``, checked against the SHA-256
  config.json recorded of it): its ``data`` names only the default set, not the subset it trained on.

The whole folder is written under a hidden name beside ``out`` and renamed into place at the end, so an
interrupted call never leaves a half-filled ``out`` (a stop removes the hidden folder; one left by a killed
call is removed by the next call to the same ``out``); an ``out`` that exists and is not empty, lies in the
run's data folder or in a run directory's own files is refused before any work (``toolkit/outputs.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ToolkitError
from .generate import class_index, load_nets
from .outputs import Staging, check_outputs
from .viz import to_uint8

FILTERS = ("none", "discriminator", "classifier")
CANDIDATES = 3  # images drawn per kept one by a filter


def folder_name(class_name: str) -> str:
    """A class name as a folder name: ``T-shirt/top`` -> ``T-shirt-top``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", class_name).strip("-") or "class"


def parse_classes(spec: str | list, class_names: list[str]) -> list[int]:
    """``"Dress,Coat"``, ``"3,4"`` or a list of names/indices -> class indices (each once)."""
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [str(s) for s in spec]
    items = [s for s in items if s]
    if not items:
        raise ToolkitError("--classes is empty; name one or more classes, e.g. --classes Dress,Coat")
    indices = [class_index(s, class_names) for s in items]
    if len(set(indices)) != len(indices):
        raise ToolkitError(f"--classes names a class twice: {', '.join(items)}")
    return indices


def load_conditional(run_dir: str | Path, device="cpu") -> tuple[nn.Module, dict[str, nn.Module], dict]:
    """The run's generator (EMA weights), all its nets (D for the filter) and its config, in eval mode; a
    one-line error unless it is a conditional image GAN."""
    from .families import family_for
    from .models import is_conditional

    nets, config, state = load_nets(run_dir, device)
    try:
        G = family_for(config["model"]).sampler(nets, config, state)
    except (ToolkitError, KeyError):  # translation runs: no generator from noise
        G = None
    if G is None or not is_conditional(G) or not config.get("class_names"):
        raise ToolkitError(
            f"{run_dir} is a {config.get('model')} run without classes; augment-dataset needs a conditional "
            "run (--model cgan or acgan, trained on data with classes, e.g. one sub-folder per class)"
        )
    if config.get("kind") != "images":
        raise ToolkitError(f"{run_dir} generates 2-D points, not images")
    return G, nets, config


def discriminator_scorer(D: nn.Module, augment: str = "none") -> Callable:
    """images, labels -> scores (higher = D finds it more like a real image of that class)."""
    if augment == "diffusion":
        raise ToolkitError(
            "this run's D is conditioned on Diffusion-GAN's timestep, not on the class, so it cannot judge "
            "class membership; use --filter classifier"
        )

    @torch.no_grad()
    def score(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        out = D(images, labels)
        if isinstance(out, tuple):  # ACGAN: (real/fake logit, class logits)
            logit, class_logits = out
            return (
                F.logsigmoid(logit.view(-1)) + F.log_softmax(class_logits, 1).gather(1, labels[:, None])[:, 0]
            )
        return F.logsigmoid(out.view(-1))

    return score


def classifier_scorer(net: nn.Module) -> Callable:
    """images, labels -> the classifier's probability of the intended label."""

    @torch.no_grad()
    def score(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        was_training = net.training
        net.eval()
        p = F.softmax(net(images), 1).gather(1, labels[:, None])[:, 0]
        net.train(was_training)
        return p

    return score


@torch.no_grad()
def generate_classes(
    G: nn.Module,
    z_dim: int,
    classes: list[int],
    per_class: int,
    seed: int = 0,
    scorer: Callable | None = None,
    candidates: int = 1,
    batch_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``per_class`` images of each class in ``classes`` from seeded latents: (images, labels, scores).

    With a ``scorer`` (see :func:`discriminator_scorer`, :func:`classifier_scorer`), ``candidates`` x
    ``per_class`` images are drawn per class and the ``per_class`` best-scoring kept (scores returned)."""
    from .generate import generate

    if per_class < 1:
        raise ToolkitError(f"--per-class must be >= 1, got {per_class}")
    if candidates < 1:
        raise ToolkitError(f"--candidates must be >= 1, got {candidates}")
    draw = per_class * (candidates if scorer is not None else 1)
    images, labels, kept_scores = [], [], []
    for i, c in enumerate(classes):
        y = torch.full((draw,), int(c), dtype=torch.long)
        x = generate(G, draw, z_dim, seed=seed * 1_000 + i, batch_size=batch_size, labels=y)
        if scorer is not None:
            device = next(G.parameters()).device
            s = torch.cat(
                [
                    scorer(x[j : j + batch_size].to(device), y[j : j + batch_size].to(device)).float().cpu()
                    for j in range(0, draw, batch_size)
                ]
            )
            best = torch.argsort(s, descending=True)[:per_class]
            x, y = x[best], y[best]
            kept_scores.append(s[best])
        images.append(x)
        labels.append(y[:per_class])
    return torch.cat(images), torch.cat(labels), (torch.cat(kept_scores) if kept_scores else None)


def _check_out(out: Path, inputs: tuple = ()) -> None:
    if out.exists() and not out.is_dir():
        raise ToolkitError(f"--out {out} is a file; give a folder (it gets one sub-folder per class)")
    if out.is_dir() and any(out.iterdir()):
        raise ToolkitError(
            f"--out {out} exists and is not empty; choose a new folder (nothing is overwritten)"
        )
    check_outputs(out, folder=True, inputs=inputs)


def write_class_folders(
    images: torch.Tensor,
    labels: torch.Tensor,
    class_names: list[str],
    out: str | Path,
    manifest: dict | None = None,
) -> dict[str, int]:
    """One PNG per image into ``out/<class folder>/gen_NNNNNN.png`` (and ``augment.json`` when a manifest is
    given), built in a temporary folder beside ``out`` and renamed into place. Returns the counts by class."""
    from PIL import Image

    out = Path(out).expanduser()
    _check_out(out)
    counts: dict[str, int] = {}
    try:
        with Staging(out) as stage:
            arr = to_uint8(images)
            for img, label in zip(arr, labels.tolist()):
                name = folder_name(class_names[label])
                k = counts.get(name, 0)
                counts[name] = k + 1
                pil = Image.fromarray(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0))
                stage.write(out / name / f"gen_{k:06d}.png", lambda f, pil=pil: pil.save(f, format="PNG"))
            if manifest is not None:
                text = json.dumps({**manifest, "counts": counts}, indent=1) + "\n"
                stage.write(out / "augment.json", lambda f: f.write(text), mode="w")
    except OSError as exc:
        raise ToolkitError(f"cannot write to {out} ({exc.strerror or exc}); choose another --out") from None
    return counts


def filter_training_data(config: dict, run_dir, data=None):
    """The data the classifier filter trains on: exactly the run's own training data. A run trained on data
    passed in from Python (e.g. lesson 13's imbalanced subset) records only a fingerprint of it
    (``toolkit/runs.py``), not how to rebuild it, while config.json's ``data`` still names the default set:
    such a run needs ``data`` passed back (checked against the fingerprint), else a one-line error. Checked
    before any work."""
    from .data.fingerprint import check_same_data, describe_passed_in_data

    if data is not None:
        check_same_data(config, data, run_dir, "augment_dataset")
        return data
    if config.get("data_passed_in"):
        raise ToolkitError(
            f"{run_dir} trained on {describe_passed_in_data(config)}, not on {config['data']} as "
            "config.json's data says, so the classifier filter cannot rebuild its training data: use "
            "--filter discriminator, or in Python pass the run's data (augment_dataset(..., data=...)) "
            "or a trained classifier"
        )
    return None


def train_filter_classifier(
    config: dict, epochs: int = 3, seed: int = 0, progress=None, data=None
) -> nn.Module:
    """A SmallCNN trained on the run's own training data, class-balanced batches: ``data`` when given (see
    :func:`filter_training_data`), else the data config.json names."""
    from .classifier import train_classifier
    from .data import load_dataset

    if data is None:
        data = load_dataset(
            config["data"],
            resolution=config.get("resolution"),
            limit=config.get("limit"),
            seed=config.get("seed", 0),
        )
    if data.labels is None:
        raise ToolkitError(f"the run's data {config['data']} have no labels to train a classifier on")
    if not hasattr(data, "x"):
        raise ToolkitError(
            f"the run's data {config['data']} are too large for memory (streamed from disk); the classifier "
            "filter trains on them in memory: use --filter discriminator, or the run's --limit"
        )
    return train_classifier(
        data.x,
        data.labels,
        data.num_classes,
        epochs=epochs,
        seed=seed,
        balance="oversample",
        progress=progress,
    )


def augment_dataset(
    run_dir: str | Path,
    classes: str | list,
    per_class: int,
    out: str | Path,
    filter: str = "none",
    candidates: int = CANDIDATES,
    seed: int = 0,
    device="cpu",
    classifier: nn.Module | None = None,
    classifier_epochs: int = 3,
    data=None,
) -> dict[str, int]:
    """Write ``per_class`` generated images of each of ``classes`` (names or indices) from the conditional run
    in ``run_dir`` into class sub-folders of ``out`` (see the module docstring). Returns counts by folder.
    ``data``: the run's training data, for the classifier filter of a run trained on data passed in from
    Python (checked to be exactly that data)."""
    if filter not in FILTERS:
        raise ToolkitError(f"--filter must be one of {', '.join(FILTERS)}, got {filter!r}")
    if per_class < 1:
        raise ToolkitError(f"--per-class must be >= 1, got {per_class}")
    if candidates < 1:
        raise ToolkitError(f"--candidates must be >= 1, got {candidates}")
    out = Path(out).expanduser()
    _check_out(out)  # before any work
    G, nets, config = load_conditional(run_dir, device)
    _check_out(out, (config["data"],) if Path(str(config["data"])).expanduser().exists() else ())
    names = list(config["class_names"])
    wanted = parse_classes(classes, names)
    if filter == "classifier" and classifier is None:
        data = filter_training_data(config, run_dir, data)
    from .data.base import check_memory

    check_memory(
        per_class * len(wanted) * (candidates if filter != "none" else 1),
        tuple(config["sample_shape"]),
        f"--per-class {per_class}",
        "use a smaller --per-class" + (" or --candidates" if filter != "none" else ""),
    )
    scorer = None
    if filter == "discriminator":
        scorer = discriminator_scorer(nets["D"], config.get("augment", "none"))
    elif filter == "classifier":
        net = (
            classifier
            if classifier is not None
            else train_filter_classifier(config, classifier_epochs, seed, data=data)
        )
        scorer = classifier_scorer(net.to(device))
    images, labels, _ = generate_classes(
        G, config["z_dim"], wanted, per_class, seed, scorer, candidates if scorer is not None else 1
    )
    manifest = {
        "source": "generated",
        "run_dir": str(run_dir),
        "model": config["model"],
        "checkpoint_step": config.get("checkpoint_step"),
        "classes": [names[c] for c in wanted],
        "per_class": per_class,
        "filter": filter,
        "candidates": candidates if scorer is not None else 1,
        "seed": seed,
    }
    return write_class_folders(images, labels, names, out, manifest)
