"""Pairs of (low-resolution, high-resolution) images for super-resolution (SRResNet, SRGAN; lesson 11).

A :class:`SuperResolutionData` is a paired :class:`~toolkit.data.translation.TranslationData` whose A side
(the input) is ``scale`` times smaller than its B side (the target). Batches are ``{"A": low, "B": high}``.

The low-resolution images are made from the high-resolution ones by **bicubic downscaling with
antialiasing** (``F.interpolate(mode="bicubic", antialias=True)``, close to MATLAB's ``imresize``, the
SRGAN paper's degradation), so a network trained here learns to invert that one degradation; photographs
shrunk some other way (a phone's pipeline, JPEG) are a different problem, which is why ``upscale`` on your
own files works best on images downscaled the same way.

========================  ===========================================================================
name                      what (high resolution; low = high / scale)
========================  ===========================================================================
``fashion-mnist``         the 28x28 garments (x4: from 7x7; x2: from 14x14), grey; test split held out
``photos``                random crops (default 128x128; x4: from 32x32) of scikit-image's six colour
                          photographs, at full size; train crops from the left 70% of each photo, test
                          crops from the right 30%, so they never overlap
a folder or ``.zip``      your own images, any layout (class sub-folders are ignored): random crops of
                          ``--resolution`` at the images' own size (an image smaller than that is scaled
                          up to it first); every 10th image is held out for the sample grids (with fewer
                          than 10 images, the grids show training images)
========================  ===========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import ToolkitError
from .base import check_memory
from .translation import PHOTOS, TranslationData

SR_DATASETS = {
    "fashion-mnist": "Fashion-MNIST garments, 28x28 (x4: from 7x7), grey",
    "photos": "128x128 crops of scikit-image's colour photographs (x4: from 32x32)",
}
PHOTO_TEST_FRACTION = 0.3


def downscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, C, H / scale, W / scale): bicubic with antialiasing, clamped."""
    h, w = images.shape[-2:]
    if h % scale or w % scale:
        raise ToolkitError(
            f"{h}x{w} images cannot be shrunk {scale}x exactly; use sides that {scale} divides"
        )
    small = F.interpolate(
        images, size=(h // scale, w // scale), mode="bicubic", antialias=True, align_corners=False
    )
    return small.clamp_(-1, 1)


def bicubic_upscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """The classic baseline: (N, C, h, w) -> (N, C, h * scale, w * scale) by bicubic interpolation."""
    return F.interpolate(images.float(), scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


@dataclass
class SuperResolutionData(TranslationData):
    """``a``: (N, C, h, w) low-resolution inputs; ``b``: (N, C, h*scale, w*scale) their originals."""

    scale: int = 4
    kind: str = "super-resolution"

    def __post_init__(self):  # replaces TranslationData's: here the two sides' sizes differ by the scale
        if len(self.a) != len(self.b):
            raise ToolkitError(
                f"{self.name}: {len(self.a)} low-resolution images but {len(self.b)} high-resolution ones; "
                "each image needs its pair"
            )
        if tuple(self.b.shape[-2:]) != (self.a.shape[-2] * self.scale, self.a.shape[-1] * self.scale):
            raise ToolkitError(
                f"{self.name}: high-resolution images {tuple(self.b.shape[-2:])} are not {self.scale}x the "
                f"low-resolution {tuple(self.a.shape[-2:])}"
            )

    @classmethod
    def from_high(cls, name: str, high: torch.Tensor, scale: int, info: dict) -> "SuperResolutionData":
        return cls(name, downscale(high, scale), high, True, {**info, "scale": scale}, scale=scale)


def _crops(image: torch.Tensor, count: int, size: int, columns: tuple[int, int], g) -> list[torch.Tensor]:
    h = image.shape[1]
    lo, hi = columns
    ys = torch.randint(0, h - size + 1, (count,), generator=g).tolist()
    xs = torch.randint(lo, hi - size + 1, (count,), generator=g).tolist()
    return [image[:, y : y + size, x : x + size] for y, x in zip(ys, xs)]


def photo_crops(split: str, n: int, size: int, seed: int) -> torch.Tensor:
    """``n`` random ``size`` crops of scikit-image's photographs at full size: (n, 3, size, size)."""
    from skimage import data as photos

    g = torch.Generator().manual_seed(seed if split == "train" else seed + 1)
    out = []
    for i, name in enumerate(PHOTOS):
        img = torch.from_numpy(getattr(photos, name)()[..., :3].copy()).permute(2, 0, 1).float()
        img = img.div_(127.5).sub_(1.0)
        h, w = img.shape[1:]
        cut = int(w * (1 - PHOTO_TEST_FRACTION))
        columns = (0, cut) if split == "train" else (cut, w)
        if min(h, columns[1] - columns[0]) < size:
            raise ToolkitError(
                f"photos: --resolution {size} is too large for the photo {name}; use 128 or less"
            )
        out += _crops(img, n // len(PHOTOS) + (i < n % len(PHOTOS)), size, columns, g)
    return torch.stack(out)


def folder_crops(path: str | Path, size: int, n: int, seed: int, held_out: bool) -> tuple[torch.Tensor, dict]:
    """Random ``size`` crops of a folder's images at their own size (every 10th image is the held-out part
    when ``held_out``, the rest otherwise), spread evenly over the images."""
    from .decode import GREY_MODES, list_entries, read_images, to_8_bit, to_tensor

    path = Path(path).expanduser()
    entries, skipped = list_entries(path)
    if not entries:
        raise ToolkitError(f"no images found in {path}; put your high-resolution images in it")
    if len(entries) >= 10:
        entries = [e for i, e in enumerate(entries) if (i % 10 == 9) == held_out]
    images, modes = [], set()
    for _, img in read_images(entries, path):
        img = to_8_bit(img)
        modes.add(img.mode)
        w, h = img.size
        if min(w, h) < size:  # too small for one crop: scale it up so its shorter side is `size`
            img = img.resize((max(size, round(w * size / min(w, h))), max(size, round(h * size / min(w, h)))))
        images.append(img)
    channels = 1 if modes <= GREY_MODES else 3
    check_memory(n, (channels, size, size), f"{n:,} crops of {size}x{size}")
    g = torch.Generator().manual_seed(seed + held_out)
    crops = []
    for i, img in enumerate(images):
        x = to_tensor([img], channels)[0]
        crops += _crops(x, n // len(images) + (i < n % len(images)), size, (0, x.shape[-1]), g)
    info = {"source": str(path), "skipped": skipped, "images": len(images), "crops": len(crops)}
    return torch.stack(crops), info


def load_super_resolution(
    name: str,
    split: str = "train",
    resolution: int | None = None,
    scale: int = 4,
    limit: int | None = None,
    seed: int = 0,
) -> SuperResolutionData:
    """A super-resolution set by name (table above) or from a folder/zip of your images.

    ``resolution``: the high-resolution side (fashion-mnist: 28 only; photos and folders: a multiple of
    ``scale``, default 128 for photos and 96 for folders, the paper's crop); ``limit``: how many images
    (crops) to keep. A training split's grid inputs are held-out images."""
    if scale not in (2, 4, 8):
        raise ToolkitError(f"--scale must be 2, 4 or 8, got {scale}")
    if name == "fashion-mnist":
        from .fashion_mnist import load_fashion_mnist

        if resolution not in (None, 28):
            raise ToolkitError(
                "fashion-mnist super-resolution works on the 28x28 garments; leave --resolution out"
            )
        if 28 % scale:
            raise ToolkitError(f"28x28 garments cannot be shrunk {scale}x exactly; use --scale 2 or 4")
        high = load_fashion_mnist(split, pad_to_32=False).x
        if limit is not None and limit < len(high):
            g = torch.Generator().manual_seed(seed)
            high = high[torch.sort(torch.randperm(len(high), generator=g)[:limit]).values]
        data = SuperResolutionData.from_high(
            "fashion-mnist", high, scale, {"source": f"Fashion-MNIST {split}"}
        )
        if split == "train":
            data.held_out = _held_out(load_super_resolution(name, "test", None, scale, 64, seed))
        return data
    size = resolution or (128 if name == "photos" else 96)
    if size % scale or size < 4 * scale:
        raise ToolkitError(
            f"--resolution {size} must be a multiple of --scale {scale} and at least {4 * scale} pixels"
        )
    if name == "photos":
        n = limit or (1000 if split == "train" else 64)
        high = photo_crops(split, n, size, seed)
        info = {"source": f"scikit-image photographs {', '.join(PHOTOS)} ({split} part)"}
        data = SuperResolutionData.from_high("photos", high, scale, info)
        if split == "train":
            data.held_out = _held_out(load_super_resolution(name, "test", size, scale, 64, seed))
        return data
    if Path(name).expanduser().exists():
        high, info = folder_crops(name, size, limit or 2000, seed, held_out=split != "train")
        data = SuperResolutionData.from_high(Path(name).stem, high, scale, info)
        if split == "train":
            held, _ = folder_crops(name, size, 64, seed, held_out=True)
            data.held_out = (downscale(held, scale), held)
        return data
    raise ToolkitError(
        f"unknown super-resolution dataset {name!r}: use {', '.join(SR_DATASETS)}, or a folder/.zip of images"
    )


def _held_out(data: SuperResolutionData) -> tuple[torch.Tensor, torch.Tensor]:
    return data.a, data.b
