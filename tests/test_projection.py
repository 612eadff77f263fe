"""Projection (toolkit/projection.py) on generators loaded from run directories of three families (dcgan,
stylegan in W, cgan with its label): G's own samples are recovered, the schedule is the reference's, and bad
inputs are one-line errors before any work."""

from __future__ import annotations

import math

import pytest
import torch
from PIL import Image

from toolkit.errors import ToolkitError
from toolkit.families import config_for
from toolkit.generate import load_generator
from toolkit.metrics.image_quality import psnr
from toolkit.projection import (
    check_target,
    exploration_noise,
    latent_penalty,
    learning_rate,
    project,
    read_image,
    synthesize,
)
from toolkit.training import Trainer

SMALL = dict(
    data="digits", resolution=32, batch_size=16, steps=30, log_every=10, sample_every=0, threads=1, seed=0
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three briefly trained runs, loaded as a user would: ``load_generator(run_dir)``."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("runs")
    configs = {
        "dcgan": config_for("dcgan", width=8, z_dim=16, **SMALL),
        "cgan": config_for("cgan", width=8, z_dim=16, **SMALL),
        "stylegan": config_for(
            "stylegan", width=8, z_dim=16, w_dim=16, mapping_layers=2, **{**SMALL, "resolution": 16}
        ),
    }
    out = {}
    for name, config in configs.items():
        Trainer(config, run_dir=root / name, progress=False).fit()
        out[name] = (root / name, *load_generator(root / name))
    return out


def own_samples(G, n=3, seed=11, space="z"):
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        if space == "w":  # StyleGAN's output is linear: these overshoot [-1, 1] (up to 2.7 here)
            return synthesize(G, G.mapping(z), "w")
        return G(z, torch.arange(n) % G.num_classes) if getattr(G, "num_classes", 0) else G(z)


def mean_gap(images):
    """Mean squared pixel distance between different images of the batch: what 'not recovered' looks like."""
    d = (images[:, None] - images[None]).square().mean(dim=(2, 3, 4))
    return float(d.sum() / (len(images) * (len(images) - 1)))


@pytest.mark.parametrize("model", ["dcgan", "stylegan", "cgan"])
def test_projecting_gs_own_sample_recovers_it(runs, model):
    _, G, config = runs[model]
    space = "w" if model == "stylegan" else "z"
    target = own_samples(G, space=space)
    label = torch.arange(3) % G.num_classes if model == "cgan" else None
    result = project(G, target, steps=150, label=label, seed=0)
    error = float((result.reconstruction - target).square().mean(dim=(1, 2, 3)).max())
    gap = mean_gap(target)
    # measured (30-step runs, 150 projection steps, seed 0): the worst image's squared error is 0.08 %
    # (dcgan), 0.15 % (cgan), 0.27 % (stylegan, in W) of the mean squared distance between two different
    # samples; a projector that does not move (lr 1e-9) stays at its start: 50-220 % of it
    assert error < 0.01 * gap, (model, error, gap)
    assert psnr(result.reconstruction, target).min() > 25
    assert result.space == space and result.latent.shape == (3, G.w_dim if space == "w" else G.z_dim)
    assert len(result.losses) == 150 and result.losses[-1] < result.losses[0]


def test_projection_is_seeded(runs):
    _, G, _ = runs["dcgan"]
    target = own_samples(G, n=2)
    a, b = project(G, target, steps=5, seed=3), project(G, target, steps=5, seed=3)
    assert torch.equal(a.latent, b.latent) and a.losses == b.losses


def test_schedule_is_the_reference_projectors():
    steps, lr = 1000, 0.1
    assert learning_rate(0, steps, lr) == 0.0  # warm-up starts at 0
    assert learning_rate(25, steps, lr) == pytest.approx(
        0.05 * (0.5 - 0.5 * math.cos(math.pi))
    )  # half-way up
    assert learning_rate(500, steps, lr) == pytest.approx(lr)  # flat in the middle
    # cosine ramp-down over the last quarter: at 7/8 of the way, half the rate
    assert learning_rate(875, steps, lr) == pytest.approx(lr * 0.5)
    assert exploration_noise(0, steps, 0.05) == 0.05
    assert exploration_noise(375, steps, 0.05) == pytest.approx(0.05 * 0.25)  # (1 - 0.5)^2
    assert exploration_noise(750, steps, 0.05) == 0.0 and exploration_noise(900, steps, 0.05) == 0.0


def test_latent_penalty_is_zero_on_the_shell_and_at_w_avg():
    z = torch.randn(4, 16)
    on_shell = z / z.norm(dim=1, keepdim=True) * 4  # |z|^2 = 16 = d
    assert torch.allclose(latent_penalty(on_shell, "z"), torch.zeros(4), atol=1e-6)
    assert torch.allclose(latent_penalty(torch.zeros(2, 16), "z"), torch.ones(2))  # the origin: (0 - 1)^2
    w_avg = torch.randn(16)
    assert torch.allclose(latent_penalty(w_avg.expand(3, 16), "w", w_avg, 0.5), torch.zeros(3))
    assert torch.allclose(latent_penalty((w_avg + 0.5)[None], "w", w_avg, 0.5), torch.ones(1))


@pytest.mark.parametrize(
    "target, kwargs, message",
    [
        (
            torch.zeros(1, 3, 32, 32),
            {},
            "the target is a colour image but this generator makes grey images; convert",
        ),
        (torch.zeros(1, 1, 28, 28), {}, "the target is 28x28 pixels but this generator makes only 32x32"),
        (torch.full((1, 1, 32, 32), 200.0), {}, "must be in \\[-1, 1\\]"),
        (torch.zeros(32, 32), {}, "give the target as an image tensor"),
        (torch.zeros(1, 1, 32, 32), {"label": 3}, "unconditional: it takes no label"),
        (torch.zeros(1, 1, 32, 32), {"space": "w"}, "only a StyleGAN generator has a w space"),
        (torch.zeros(1, 1, 32, 32), {"steps": 0}, "steps >= 1"),
        (torch.zeros(1, 1, 32, 32), {"backbone": "vgg99"}, "unknown backbone"),
    ],
)
def test_bad_inputs_are_one_line_errors(runs, target, kwargs, message):
    _, G, _ = runs["dcgan"]
    with pytest.raises(ToolkitError, match=message) as err:
        project(G, target, **kwargs)
    assert "\n" not in str(err.value)


def test_a_conditional_generator_needs_the_label(runs):
    _, G, _ = runs["cgan"]
    with pytest.raises(ToolkitError, match="conditional: give the class of the image"):
        project(G, torch.zeros(1, 1, 32, 32))
    with pytest.raises(ToolkitError, match="one label for all images or one per image"):
        project(G, torch.zeros(2, 1, 32, 32), label=[1, 2, 3])


def test_a_stylegan_target_must_have_its_size(runs):
    _, G, _ = runs["stylegan"]
    assert check_target(G, torch.zeros(1, 16, 16)).shape == (1, 1, 16, 16)
    with pytest.raises(ToolkitError, match="this generator makes only 16x16 images; resize"):
        project(G, torch.zeros(1, 1, 32, 32))


def test_read_image_gives_the_toolkits_range(tmp_path):
    pixels = (torch.arange(12 * 10) % 256).to(torch.uint8).view(10, 12)
    Image.fromarray(pixels.numpy()).save(tmp_path / "grey.png")
    image = read_image(tmp_path / "grey.png")
    assert image.shape == (1, 10, 12)
    assert torch.allclose(image[0], pixels.float() / 127.5 - 1)
    Image.new("RGB", (5, 4), (255, 0, 0)).save(tmp_path / "red.png")
    red = read_image(tmp_path / "red.png")
    assert red.shape == (3, 4, 5) and red[0].eq(1).all() and red[1].eq(-1).all()
    with pytest.raises(ToolkitError, match="does not exist"):
        read_image(tmp_path / "nothing.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ToolkitError, match="not an image file"):
        read_image(tmp_path / "text.png")
