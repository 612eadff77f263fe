"""Feature extractors by name. Each turns (N, C, H, W) images in [-1, 1] into (N, D) features.

==============  ======  ======================================================================
name            D       what
==============  ======  ======================================================================
``fmnist-cnn``  128     the toolkit's Fashion-MNIST classifier (offline default; fmnist_cnn.py)
``inception``   2048    the standard FID InceptionV3 (pytorch-fid's weights, pool3 features)
``pixels8``     C*64    the image average-pooled to 8x8 (no network; lessons 01-02)
==============  ======  ======================================================================

InceptionV3 weights cannot be downloaded here. They are taken, in order, from the ``path`` given,
``$TOOLKIT_INCEPTION_WEIGHTS``, or the torch hub cache (``$TORCH_HOME/hub/checkpoints/`` or
``~/.cache/torch/hub/checkpoints/``) under pytorch-fid's file name ``pt_inception-2015-12-05-6726825d.pth``.
Preprocessing is pytorch-fid's: [0, 1] images resized bilinearly to 299x299, scaled to [-1, 1];
grey images are repeated to 3 channels.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import nn

from ..errors import ToolkitError
from .fmnist_cnn import WEIGHTS, load_fmnist_cnn
from .pixels import pixel_features

INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + INCEPTION_FILE
EXTRACTORS = {
    "fmnist-cnn": "128-D features of the toolkit's Fashion-MNIST classifier (offline default)",
    "inception": "2048-D pool3 features of the standard FID InceptionV3 (weights from a local file)",
    "pixels8": "images average-pooled to 8x8 pixels (no network)",
}


class Extractor:
    """A named feature function, applied in batches without gradients. ``fingerprint`` identifies
    its weights (a hash of the weight file), so cached features of other weights are never reused."""

    def __init__(self, name: str, fn, device: torch.device, batch_size: int = 500, fingerprint: str = "none"):
        self.name, self._fn, self.device, self.batch_size = name, fn, device, batch_size
        self.fingerprint = fingerprint

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        out = [
            self._fn(images[i : i + self.batch_size].to(self.device)).float().cpu()
            for i in range(0, len(images), self.batch_size)
        ]
        return torch.cat(out)


def file_fingerprint(path: str | Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:10]


def inception_weights_path(path: str | Path | None = None) -> Path:
    candidates = []
    if path:
        candidates.append(Path(path))
    if os.environ.get("TOOLKIT_INCEPTION_WEIGHTS"):
        candidates.append(Path(os.environ["TOOLKIT_INCEPTION_WEIGHTS"]))
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"
    candidates.append(hub / INCEPTION_FILE)
    for c in candidates:
        if c.expanduser().is_file():
            return c.expanduser()
    raise ToolkitError(
        f"InceptionV3 FID weights not found (looked in {', '.join(str(c) for c in candidates)}): "
        f"download {INCEPTION_URL} "
        f"on a machine with internet and put it in {hub}/ or set TOOLKIT_INCEPTION_WEIGHTS to its path; "
        "or use the offline extractor fmnist-cnn"
    )


def build_fid_inception(weights: dict) -> nn.Module:
    """pytorch-fid's FID InceptionV3 (its patched blocks, 1008 classes, pool3 output), with ``weights``
    instead of a download: its constructor fetches the state dict through ``load_state_dict_from_url``,
    which we point at the already-loaded dictionary for the duration of the call."""
    from pytorch_fid import inception as pf

    original = pf.load_state_dict_from_url
    pf.load_state_dict_from_url = lambda *args, **kwargs: weights
    try:
        return pf.InceptionV3(
            [pf.InceptionV3.BLOCK_INDEX_BY_DIM[2048]],
            resize_input=True,
            normalize_input=True,
            use_fid_inception=True,
        )
    finally:
        pf.load_state_dict_from_url = original


def load_extractor(
    name: str = "fmnist-cnn", device: str | torch.device = "cpu", path: str | Path | None = None
) -> Extractor:
    device = torch.device(device)
    if name == "fmnist-cnn":
        net = load_fmnist_cnn(path, device)
        return Extractor(name, net.features, device, fingerprint=file_fingerprint(path or WEIGHTS))
    if name == "pixels8":
        return Extractor(name, pixel_features, device)
    if name == "inception":
        file = inception_weights_path(path)
        try:
            weights = torch.load(file, map_location="cpu", weights_only=True)
            net = build_fid_inception(weights)
        except ToolkitError:
            raise
        except Exception as exc:
            raise ToolkitError(
                f"{file} is not a usable FID InceptionV3 weight file ({type(exc).__name__}); "
                f"get {INCEPTION_FILE} again"
            ) from None
        net = net.to(device).eval().requires_grad_(False)

        def features(images: torch.Tensor) -> torch.Tensor:
            x = (images.float() + 1) / 2  # pytorch-fid expects [0, 1]; it resizes to 299 and rescales itself
            if x.shape[1] == 1:
                x = x.repeat(1, 3, 1, 1)
            return net(x)[0].flatten(1)

        return Extractor(name, features, device, batch_size=50, fingerprint=file_fingerprint(file))
    raise ToolkitError(f"unknown feature extractor {name!r}; choose one of {', '.join(EXTRACTORS)}")
