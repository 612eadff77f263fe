"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28x28 grey images of 10 kinds of clothing.

Looked for, in order, as the four original IDX files (``.gz`` or not):
1. ``$TOOLKIT_DATA`` (the files themselves, or torchvision's ``FashionMNIST/raw`` below it);
2. torchvision's usual download folders (``~/.cache/torchvision``, ``$TORCH_HOME/datasets``, ``./data``);
3. ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu: ``apt-get install dataset-fashion-mnist``);
4. finally a torchvision download into ``~/.cache/torchvision`` when the machine is online.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ToolkitError
from .base import TensorData

CLASS_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
TORCHVISION_CACHE = Path.home() / ".cache" / "torchvision"
HOW_TO_GET = (
    "Fashion-MNIST not found: run `make setup` (it downloads it with torchvision when online, or installs "
    "the Debian package as root), or `sudo apt-get install dataset-fashion-mnist`, or put its four IDX "
    "files in a folder and set TOOLKIT_DATA to it"
)


def candidate_dirs() -> list[Path]:
    dirs: list[Path] = []
    if os.environ.get("TOOLKIT_DATA"):
        root = Path(os.environ["TOOLKIT_DATA"]).expanduser()
        dirs += [root, root / "FashionMNIST" / "raw", root / "fashion-mnist"]
    roots = [TORCHVISION_CACHE, Path("data")]
    if os.environ.get("TORCH_HOME"):
        roots.insert(0, Path(os.environ["TORCH_HOME"]) / "datasets")
    dirs += [r / "FashionMNIST" / "raw" for r in roots]
    dirs.append(DEBIAN_DIR)
    return dirs


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def find_folder() -> Path | None:
    for folder in candidate_dirs():
        if all(_find_file(folder, stem) for pair in FILES.values() for stem in pair):
            return folder
    return None


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format): magic, dimension sizes (big-endian int32), uint8 data."""
    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ToolkitError(f"{path} is not an uint8 IDX file (bad header); delete it and get the data again")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)):
        raise ToolkitError(
            f"{path} is truncated ({len(raw) - offset} of {int(np.prod(dims))} bytes); get it again"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(*dims)


def download() -> Path | None:
    """Download with torchvision into ~/.cache/torchvision; None when offline (or without torchvision)."""
    return _download()


def _download() -> Path | None:
    try:
        import torchvision

        torchvision.datasets.FashionMNIST(str(TORCHVISION_CACHE), train=True, download=True)
        torchvision.datasets.FashionMNIST(str(TORCHVISION_CACHE), train=False, download=True)
    except Exception:  # offline, or torchvision missing: report the three ways instead
        return None
    return find_folder()


def load_raw(split: str = "train", download: bool = True) -> tuple[np.ndarray, np.ndarray, Path]:
    """uint8 images (N, 28, 28), uint8 labels (N,), and the folder they came from."""
    if split not in FILES:
        raise ToolkitError(f"Fashion-MNIST split must be 'train' or 'test', got {split!r}")
    folder = find_folder() or (_download() if download else None)
    if folder is None:
        raise ToolkitError(HOW_TO_GET)
    images_stem, labels_stem = FILES[split]
    images = read_idx(_find_file(folder, images_stem))
    labels = read_idx(_find_file(folder, labels_stem))
    return images, labels, folder


def load_fashion_mnist(split: str = "train", pad_to_32: bool = True) -> TensorData:
    """Images scaled to [-1, 1] as (N, 1, 32, 32) (zero-padded by 2 pixels: the background is
    black, so padding with -1 adds nothing) or (N, 1, 28, 28) with ``pad_to_32=False``."""
    images, labels, folder = load_raw(split)
    x = torch.from_numpy(images.astype(np.float32)).unsqueeze(1).div_(127.5).sub_(1.0)
    if pad_to_32:
        x = F.pad(x, (2, 2, 2, 2), value=-1.0)
    return TensorData(
        "fashion-mnist",
        x,
        torch.from_numpy(labels.astype(np.int64)),
        list(CLASS_NAMES),
        "images",
        {"source": str(folder), "split": split},
    )


def is_available() -> bool:
    return find_folder() is not None


def require_fashion_mnist() -> None:
    """A lesson's first cell: stop right there, with the one line that says how to get the data, when
    Fashion-MNIST is not on this machine (instead of a NameError ten cells later)."""
    if find_folder() is None:
        raise ToolkitError(HOW_TO_GET)
