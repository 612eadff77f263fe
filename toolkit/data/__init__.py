"""Datasets by name. Everything loads into memory as a :class:`TensorData`.

========================  =================================================================
name                      what
========================  =================================================================
``fashion-mnist``         Fashion-MNIST, 1x32x32 (or 28, 64), 10 classes; see fashion_mnist.py
``digits``                scikit-learn's 1,797 8x8 handwritten digits, upsampled; always there
``ring`` / ``grid``       2-D mixtures of 8 / 25 Gaussians with exact quality measures
a folder or ``.zip``      your own images, validated; see folder.py
========================  =================================================================

``limit=N`` keeps a seeded, class-balanced subset of N samples (``--limit`` on the command line).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import ToolkitError
from .base import BatchSampler, TensorData, check_memory
from .fashion_mnist import CLASS_NAMES as FASHION_MNIST_CLASSES
from .fashion_mnist import load_fashion_mnist, require_fashion_mnist
from .folder import load_image_folder
from .subsets import balanced_subset, imbalanced_subset, per_class_holdout
from .toy import ModeQuality, mixture_means, mode_quality, sample_mixture

DATASETS = {
    "fashion-mnist": "Fashion-MNIST clothing, 60k train / 10k test, 10 classes (grey)",
    "digits": "scikit-learn's 8x8 handwritten digits (1,797, 10 classes), upsampled; always available",
    "ring": "8 Gaussians on a ring (2-D points), for mode collapse",
    "grid": "25 Gaussians on a grid (2-D points), for mode collapse",
}
TOY_SIZE = 20_000


def _resize(x: torch.Tensor, resolution: int) -> torch.Tensor:
    if x.shape[-1] == resolution:
        return x
    return F.interpolate(
        x, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True
    ).clamp_(-1, 1)


def load_digits(resolution: int = 32) -> TensorData:
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x = torch.from_numpy(d.images).float().div_(8.0).sub_(1.0).unsqueeze(1)  # values 0..16 -> [-1, 1]
    return TensorData(
        "digits",
        _resize(x, resolution),
        torch.from_numpy(d.target).long(),
        [str(i) for i in range(10)],
        "images",
        {"source": "scikit-learn (built in)"},
    )


def load_dataset(
    name: str,
    split: str = "train",
    resolution: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    channels: int | None = None,
    stream: bool | None = None,
) -> TensorData:
    """Load a dataset by name (see the table above) or from a folder/zip path. A folder too large for memory
    (or any folder, with ``stream=True``) is streamed from disk: toolkit/data/streaming.py."""
    if resolution is not None and not 4 <= resolution:
        raise ToolkitError(f"--resolution must be at least 4 pixels, got {resolution}")
    if name == "fashion-mnist":
        if resolution is not None:
            check_memory(70_000, (1, resolution, resolution), f"Fashion-MNIST at {resolution}x{resolution}")
        data = load_fashion_mnist(split, pad_to_32=resolution != 28)
        if resolution not in (None, 28, 32):
            data.x = _resize(data.x, resolution)
    elif name == "digits":
        if resolution is not None:
            check_memory(1797, (1, resolution, resolution), f"the digits at {resolution}x{resolution}")
        data = load_digits(resolution or 32)
    elif name in ("ring", "grid"):
        data = sample_mixture(name, TOY_SIZE, seed=0 if split == "train" else 1)
    elif Path(name).expanduser().exists():
        data = load_image_folder(name, resolution=resolution or 64, channels=channels, stream=stream)
    else:
        known = ", ".join(DATASETS)
        raise ToolkitError(
            f"unknown dataset {name!r}: use one of {known}, or the path of an image folder or .zip"
        )
    if limit is not None:
        if data.labels is None:
            g = torch.Generator().manual_seed(seed)
            if not 1 <= limit <= len(data):
                raise ToolkitError(f"--limit must be between 1 and {len(data)}, got {limit}")
            idx = torch.sort(torch.randperm(len(data), generator=g)[:limit]).values
        else:
            idx = balanced_subset(data.labels, limit, seed)
        data = data.subset(idx)
        data.info["limit"] = limit
    return data


__all__ = [
    "BatchSampler",
    "TensorData",
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "ModeQuality",
    "balanced_subset",
    "imbalanced_subset",
    "per_class_holdout",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_image_folder",
    "mixture_means",
    "require_fashion_mnist",
    "mode_quality",
    "sample_mixture",
]
