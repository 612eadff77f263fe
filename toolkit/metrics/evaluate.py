"""Scoring a generator against real data, with the real side computed once and cached on disk.

* :func:`real_features`: features of a dataset split, cached as ``.npy`` under ``$TOOLKIT_CACHE``
  (default ``~/.cache/gan-toolkit``) by dataset, split, resolution, extractor (name and a hash of its
  weights: re-trained weights never reuse stale features) and count.
* :func:`generated_features`: n samples from seeded latents, batched, ``no_grad``, eval mode.
* :func:`score`: FID, KID and optionally precision/recall/density/coverage on two feature sets.
* :class:`MetricsCallback`: logs ``fid``/``kid`` (and ``features``, the extractor's name) into
  metrics.jsonl every K steps of training, from the EMA generator when there is one.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ToolkitError
from ..files import atomic_write
from .extractors import Extractor, load_extractor
from .fid import frechet_distance
from .kid import kernel_inception_distance
from .prdc import prdc


def cache_dir() -> Path:
    return Path(os.environ.get("TOOLKIT_CACHE", Path.home() / ".cache" / "gan-toolkit")).expanduser()


def folder_fingerprint(path: Path) -> str:
    """A short hash of a folder's (or zip's) path and of every file's name, size and modification time, so
    cached features are recomputed when a file is added, removed, replaced or edited."""
    h = hashlib.sha1(str(path.resolve()).encode())
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    for f in files:
        if f.is_file():
            st = f.stat()
            h.update(
                f"{f.relative_to(path) if path.is_dir() else f.name}|{st.st_size}|{st.st_mtime_ns}\n".encode()
            )
    return h.hexdigest()[:12]


def default_extractor(data_name: str) -> tuple[str, str]:
    """The feature network ``eval`` uses when none is named, and a line saying why. The toolkit's own
    network knows Fashion-MNIST only; on anything else the standard Inception features are used when their
    weights are on this machine, else 8x8 pixels (a crude but neutral measure)."""
    from .extractors import inception_weights_path

    if data_name == "fashion-mnist":
        return (
            "fmnist-cnn",
            "fmnist-cnn: features of the toolkit's Fashion-MNIST classifier, made for this data",
        )
    try:
        inception_weights_path()
    except ToolkitError:
        return "pixels8", (
            f"pixels8: no InceptionV3 weights on this machine, so {data_name} is scored on images pooled to "
            "8x8 pixels (colours and layout, not detail or texture); for the standard FID add the weights "
            "and --extractor inception (see --help)"
        )
    return "inception", "inception: the standard FID features (InceptionV3 weights found)"


def feature_fit_warning(extractor: str, data_name: str, flag: str = "--extractor") -> str | None:
    """A one-line warning when the features do not fit the data (None when they do); ``flag``: the option
    of the command that chose them (``eval --extractor``, ``train --eval-features``)."""
    if extractor == "fmnist-cnn" and data_name != "fashion-mnist":
        return (
            f"fmnist-cnn features come from a Fashion-MNIST classifier; on {data_name} they do not measure "
            f"what a person sees (a sharper run can score worse than a blurrier one): prefer {flag} "
            "inception (the standard FID) or pixels8"
        )
    return None


def class_proportions(
    data_name: str, split: str | None = None, resolution: int | None = None
) -> torch.Tensor:
    """The share of each class in the real images a conditional generator is compared with."""
    from ..data import load_dataset

    data = load_dataset(data_name, split=split or real_split(data_name), resolution=resolution)
    if data.labels is None:
        raise ToolkitError(f"{data_name} has no classes, but the generator is conditional")
    counts = torch.bincount(data.labels, minlength=data.num_classes).double()
    return counts / counts.sum()


def proportional_labels(proportions: torch.Tensor, n: int) -> torch.Tensor:
    """n labels in exactly these proportions (up to rounding), in class order: label i is the class whose
    cumulative share first exceeds (i + 0.5) / n."""
    cumulative = torch.cumsum(proportions.double(), 0)
    return torch.searchsorted(cumulative, (torch.arange(n, dtype=torch.float64) + 0.5) / n).clamp_(
        max=len(proportions) - 1
    )


def real_split(data_name: str) -> str:
    """Generated samples are compared with held-out images where the dataset has them."""
    return "test" if data_name == "fashion-mnist" else "train"


def real_features(
    data_name: str,
    extractor: Extractor,
    n: int = 10_000,
    split: str | None = None,
    resolution: int | None = None,
) -> np.ndarray:
    from ..data import load_dataset

    split = split or real_split(data_name)
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", data_name)[-40:]
    if Path(data_name).expanduser().exists():  # a user folder or zip: the key includes what is in it
        slug += "-" + folder_fingerprint(Path(data_name).expanduser())
    key = f"{slug}-{split}-r{resolution or 'default'}-{extractor.name}-{extractor.fingerprint}-n{n}"
    path = cache_dir() / "features" / f"{key}.npy"
    if path.is_file():
        try:
            return np.load(path)
        except (OSError, ValueError):
            pass  # damaged cache file: recompute and replace it
    data = load_dataset(data_name, split=split, resolution=resolution)
    if data.kind != "images":
        raise ToolkitError(
            f"{data_name} holds 2-D points, not images; score it with toolkit.data.mode_quality"
        )
    images = data.images(n)  # a streamed folder decodes only these
    feats = extractor(images).numpy().astype(np.float32)
    try:
        atomic_write(path, lambda f: np.save(f, feats))
    except OSError:
        warnings.warn(f"could not cache real features in {path.parent}; they will be recomputed next time")
    return feats


@torch.no_grad()
def generated_features(
    generator: nn.Module,
    z_dim: int,
    extractor: Extractor,
    n: int = 5000,
    seed: int = 0,
    batch_size: int = 250,
    labels: torch.Tensor | None = None,
) -> np.ndarray:
    """Features of n generated images from seeded latents (its own RNG: training is not disturbed). A
    conditional generator gets ``labels`` (n of them), else its default, balanced classes."""
    was_training = generator.training
    generator.eval()
    device = next(generator.parameters()).device
    g = torch.Generator().manual_seed(seed)
    feats = []
    for i in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - i), z_dim, generator=g).to(device)
        if labels is None:
            feats.append(extractor(generator(z)))
        else:
            feats.append(extractor(generator(z, labels[i : i + len(z)].to(device))))
    generator.train(was_training)
    return torch.cat(feats).numpy().astype(np.float32)


def score(
    real: np.ndarray,
    fake: np.ndarray,
    features: str,
    with_prdc: bool = True,
    kid_subset_size: int = 1000,
    seed: int = 2020,
) -> dict:
    """All scores on one pair of feature sets; ``features`` names the extractor they came from."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KID's subset shrinking on small n is reported via kid_subset
        kid_mean, kid_std = kernel_inception_distance(real, fake, subset_size=kid_subset_size, seed=seed)
    out = {
        "features": features,
        "n_real": len(real),
        "n_fake": len(fake),
        "fid": frechet_distance(real, fake),
        "kid": kid_mean,
        "kid_std": kid_std,
        "kid_subset": min(kid_subset_size, len(real), len(fake)),
    }
    if with_prdc:
        out.update(prdc(real, fake).as_dict())
    return out


def format_scores(s: dict) -> str:
    f = s["features"]
    text = f"fid[{f}] {s['fid']:.3f} | kid[{f}] {s['kid']:.5f} ± {s['kid_std']:.5f}"
    if "precision" in s:
        text += (
            f" | precision {s['precision']:.3f} recall {s['recall']:.3f} density {s['density']:.3f} "
            f"coverage {s['coverage']:.3f}"
        )
    return text + f" ({s['n_fake']} generated vs {s['n_real']} real)"


def evaluate_generator(
    generator: nn.Module,
    z_dim: int,
    data_name: str = "fashion-mnist",
    extractor: str = "fmnist-cnn",
    n: int = 5000,
    n_real: int = 10_000,
    seed: int = 0,
    resolution: int | None = None,
    with_prdc: bool = True,
    device: str | torch.device = "cpu",
    weights: str | None = None,
) -> dict:
    """Scores of ``generator`` against ``data_name``'s real images. A conditional generator draws its classes
    in the real images' proportions (``class_shares`` in the result), so an imbalanced set is matched."""
    from ..models import is_conditional

    ext = load_extractor(extractor, device, weights)
    real = real_features(data_name, ext, n_real, resolution=resolution)
    labels = shares = None
    if is_conditional(generator):
        shares = class_proportions(data_name, resolution=resolution)
        if float(shares.max() - shares.min()) > 1e-9:  # balanced data: the generator's own balanced labels
            labels = proportional_labels(shares, n)
    fake = generated_features(generator, z_dim, ext, n, seed, labels=labels)
    result = score(real, fake, ext.name, with_prdc)
    if shares is not None:
        result["class_shares"] = [round(float(p), 4) for p in shares]
    return result


class MetricsCallback:
    """Adds ``fid``, ``kid`` and ``features`` to the logged row every ``every`` steps."""

    def __init__(self, every: int, n: int = 2000, extractor: str = "fmnist-cnn", n_real: int = 10_000):
        if every < 1:
            raise ToolkitError(f"--eval-every must be >= 1, got {every}")
        self.every, self.n, self.extractor_name, self.n_real = every, n, extractor, n_real
        self._ext = self._real = None

    def on_log(self, trainer, row: dict) -> None:
        if trainer.step % self.every:
            return
        if self._ext is None:
            warning = feature_fit_warning(self.extractor_name, trainer.config.data, "--eval-features")
            if warning:
                import sys

                print(f"warning: --eval-features {warning}", file=sys.stderr)
            self._ext = load_extractor(self.extractor_name, trainer.device)
            self._real = real_features(
                trainer.config.data, self._ext, self.n_real, resolution=trainer.config.resolution
            )
        fake = self._fake_features(trainer)
        s = score(self._real, fake, self._ext.name, with_prdc=False)
        row.update(fid=s["fid"], kid=s["kid"], features=s["features"])

    def _fake_features(self, trainer) -> np.ndarray:
        """Features of ``n`` generated images. On several ranks each draws its share from its own seed and
        the features are gathered, so every rank scores the same n (the extraction is split N ways)."""
        from ..distributed import all_gather_rows

        world, cfg = trainer.world, trainer.config
        share = -(-self.n // world.size)  # ceil: equal shares (all_gather needs equal shapes)
        seed = cfg.seed + 7_919 * world.rank
        n = share if world.distributed else self.n
        fake = generated_features(trainer.family.generator, cfg.z_dim, self._ext, n, seed)
        if world.distributed:
            rows = torch.from_numpy(fake).to(trainer.device)
            fake = all_gather_rows(rows, world)[: self.n].cpu().numpy()
        return fake

    def on_sample(self, trainer, step, images) -> None: ...

    def on_end(self, trainer) -> None: ...
