"""``python -m toolkit project``, ``directions`` and ``edit`` end to end on the user's own PNG files, on small
runs of two families (dcgan, and cgan with its class): a projection of G's own sample saved as a PNG is
recovered, a stored direction raises its attribute, edit writes the moved image and a strip, and nothing is
written over an input."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from toolkit.cli import main
from toolkit.directions import brightness, load_direction
from toolkit.families import config_for
from toolkit.generate import load_generator
from toolkit.training import Trainer

SMALL = dict(
    data="digits", resolution=32, batch_size=16, steps=30, log_every=10, sample_every=0, threads=1, seed=0
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("editing")
    for name in ("dcgan", "cgan"):
        Trainer(config_for(name, width=8, z_dim=16, **SMALL), run_dir=root / name, progress=False).fit()
    return {name: root / name for name in ("dcgan", "cgan")}


def own_png(G, path, seed=5, label=None):
    """G's own sample for a seeded z, saved as a grey PNG (what a user would have on disk)."""
    z = torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        image = G(z, torch.tensor([label])) if label is not None else G(z)
    pixels = ((image[0, 0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def read_png(path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.float64)


def psnr_of(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


@pytest.mark.parametrize("model", ["dcgan", "cgan"])
def test_project_recovers_gs_own_sample_from_a_png_and_writes_its_files(runs, tmp_path, capsys, model):
    G, config = load_generator(runs[model])
    label = 1 if model == "cgan" else None
    photos = tmp_path / "photos"
    own_png(G, photos / "mine.png", label=label)
    before = (photos / "mine.png").read_bytes()
    argv = ["project", "--run-dir", str(runs[model]), "--input", str(photos), "--out", str(tmp_path / "proj")]
    argv += ["--steps", "60"] + (["--class", config["class_names"][1]] if label is not None else [])
    assert main(argv) == 0
    err = capsys.readouterr().err
    out = tmp_path / "proj"
    assert sorted(p.name for p in out.iterdir()) == ["mine.loss.csv", "mine.loss.png", "mine.png", "mine.pt"]
    # measured (30-step digits runs, 60 steps): 43-50 dB; a projector that does not move stays near 10-15 dB
    quality = psnr_of(read_png(out / "mine.png"), read_png(photos / "mine.png"))
    assert quality > 30, quality
    printed = float(err.split("mine.png: PSNR ")[1].split(" dB")[0])
    assert abs(printed - quality) < 1.5, (printed, quality)  # the printed PSNR is the written image's
    rows = list(csv.DictReader(open(out / "mine.loss.csv")))
    assert len(rows) == 60 and float(rows[-1]["loss"]) < float(rows[0]["loss"]) / 5
    state = torch.load(out / "mine.pt", weights_only=True)
    assert state["latent"].shape == (16,) and state["space"] == "z" and state["label"] == label
    assert (photos / "mine.png").read_bytes() == before


def test_directions_stores_a_direction_that_edit_follows_and_brightness_rises(runs, tmp_path, capsys):
    run = runs["dcgan"]
    G, _ = load_generator(run)
    own_png(G, tmp_path / "photos" / "mine.png")
    argv = ["project", "--run-dir", str(run), "--input", str(tmp_path / "photos" / "mine.png")]
    assert main([*argv, "--out", str(tmp_path / "proj"), "--steps", "30"]) == 0
    assert main(["directions", "--run-dir", str(run), "--attribute", "brightness", "--n", "400"]) == 0
    out = capsys.readouterr().out
    assert "change per unit step" in out and "brightness" in out.splitlines()[-1]
    direction = load_direction(run, "brightness", z_dim=16)
    assert abs(float(direction.normal.norm()) - 1) < 1e-5 and direction.accuracy > 0.7

    latent = tmp_path / "proj" / "mine.pt"
    strip = tmp_path / "strip.png"
    edit = ["edit", "--run-dir", str(run), "--latent", str(latent), "--direction", "brightness"]
    assert main([*edit, "--strength", "-4", "0", "4", "--out", str(strip)]) == 0
    pixels = read_png(strip)
    assert pixels.shape == (36, 3 * 34 + 2)  # three 32x32 images, 2-pixel padding
    panels = [pixels[2:34, 2 + 34 * i : 34 + 34 * i] for i in range(3)]
    means = [p.mean() for p in panels]
    # the direction raises brightness on average (below); this one image is darker at -4 than at +4
    assert means[0] < means[2] - 0.5, means
    # strength 0 is the projection itself; a single strength writes G(z + s n) exactly
    assert np.abs(panels[1] - read_png(tmp_path / "proj" / "mine.png")).max() <= 1
    assert main([*edit, "--strength", "4", "--out", str(tmp_path / "one.png")]) == 0
    z = torch.load(latent, weights_only=True)["latent"] + 4 * direction.normal
    with torch.no_grad():
        want = ((G(z[None])[0, 0].clamp(-1, 1) + 1) * 127.5).round().numpy()
    assert np.abs(read_png(tmp_path / "one.png") - want).max() <= 1
    with torch.no_grad():  # and the raise is the library's measured one: edit moved along it
        zs = torch.randn(200, 16, generator=torch.Generator().manual_seed(3))
        rise = brightness(G(zs + 2 * direction.normal)) - brightness(G(zs))
    assert float(rise.mean()) > 0


def test_a_conditional_run_keeps_the_projected_class_when_edited(runs, tmp_path, capsys):
    run = runs["cgan"]
    G, config = load_generator(run)
    own_png(G, tmp_path / "photos" / "mine.png", label=2)
    argv = ["project", "--run-dir", str(run), "--input", str(tmp_path / "photos"), "--class", "2"]
    assert main([*argv, "--out", str(tmp_path / "proj"), "--steps", "20"]) == 0
    assert main(["directions", "--run-dir", str(run), "--attribute", "area", "--n", "200"]) == 0
    edit = ["edit", "--run-dir", str(run), "--latent", str(tmp_path / "proj" / "mine.pt"), "--direction"]
    assert main([*edit, "area", "--strength", "0", "--out", str(tmp_path / "same.png")]) == 0
    # strength 0 redraws the projection with its class 2 (another class would draw another image)
    assert np.abs(read_png(tmp_path / "same.png") - read_png(tmp_path / "proj" / "mine.png")).max() <= 1


def test_ctrl_c_stops_project_between_steps_and_leaves_no_partial_output(runs, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from conftest import CHILD_ENV

    G, _ = load_generator(runs["dcgan"])
    own_png(G, tmp_path / "in" / "mine.png")
    out = tmp_path / "proj"
    line = [sys.executable, "-m", "toolkit", "project", "--run-dir", str(runs["dcgan"])]
    line += ["--input", str(tmp_path / "in"), "--out", str(out), "--steps", "1000000"]
    proc = subprocess.Popen(line, env=CHILD_ENV, stderr=subprocess.PIPE, text=True)
    assert proc.stderr.readline().startswith("projecting 1 image(s)")
    deadline = time.time() + 60
    while not list(tmp_path.glob(".proj.*.partial")) and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # optimising
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert err.strip() == "stopped by Ctrl-C: project did not finish, and left no partial output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no --out, no hidden staging folder
