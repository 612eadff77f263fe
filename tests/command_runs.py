"""Tiny trained runs of every kind the commands around training use (a few seconds in all), and the user's
own files for them, shared by the command battery (tests/integration/test_reliability.py) and the fault
injection tests."""

from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.training import Trainer, config_for

TINY = dict(threads=1, batch_size=8, log_every=1)
PAIRS = {**TINY, "batch_size": 2}  # four pairs


def write_images(folder: Path, n: int, size: int = 32, channels: int = 1, seed: int = 0, ext: str = "png"):
    """``n`` random images named img0.png ... in ``folder`` (created)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    shape = (size, size) if channels == 1 else (size, size, channels)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(folder / f"img{i}.{ext}")
    return folder


def make_runs(base: Path) -> dict[str, Path]:
    """dcgan (with a sample grid), cgan (3 classes, --grid-size 4), pix2pix and srresnet runs in ``base``,
    each trained for a step or two on small folders of random images."""
    images = write_images(base / "data" / "images", 16)
    classes = base / "data" / "classes"
    for k, name in enumerate(("circle", "line", "dot")):
        write_images(classes / name, 8, seed=k)
    pairs = base / "data" / "pairs"
    write_images(pairs / "A", 4, seed=1)
    write_images(pairs / "B", 4, seed=2)
    photos = write_images(base / "data" / "photos", 8, size=32, channels=3, seed=3)
    settings = {
        "dcgan": config_for(
            "dcgan", data=str(images), steps=2, width=8, z_dim=16, sample_every=2, grid_size=16, **TINY
        ),
        "cgan": config_for(
            "cgan", data=str(classes), resolution=32, steps=2, width=8, z_dim=16, grid_size=4, **TINY
        ),
        "pix2pix": config_for(
            "pix2pix", data=str(pairs), resolution=32, steps=1, width=4, d_width=4, **PAIRS
        ),
        "srresnet": config_for(
            "srresnet", data=str(photos), resolution=16, steps=1, blocks=1, width=8, sample_every=0, **TINY
        ),
    }
    runs = {}
    for name, config in settings.items():
        runs[name] = base / name
        Trainer(config, run_dir=runs[name], progress=False).fit()
    return runs
