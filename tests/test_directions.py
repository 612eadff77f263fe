"""Latent directions (toolkit/directions.py) and controllable generation by a classifier's gradient
(toolkit/steering.py): a planted linear boundary is found, a direction raises its attribute by a measured
amount, the conditional direction is orthogonal to its conditions, directions round-trip through the run
directory, steering raises a class score, and bad inputs are one-line errors."""

from __future__ import annotations

import pytest
import torch

from toolkit import directions as D
from toolkit.data import FASHION_MNIST_CLASSES
from toolkit.errors import ToolkitError
from toolkit.families import config_for
from toolkit.generate import load_generator
from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
from toolkit.runs import direction_path
from toolkit.steering import steer
from toolkit.training import Trainer

SMALL = dict(
    data="digits", resolution=32, batch_size=16, steps=30, log_every=10, sample_every=0, threads=1, seed=0
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for model in ("dcgan", "cgan"):
        Trainer(config_for(model, width=8, z_dim=16, **SMALL), run_dir=root / model, progress=False).fit()
        out[model] = (root / model, *load_generator(root / model))
    return out


def test_fit_direction_finds_a_planted_boundary():
    g = torch.Generator().manual_seed(0)
    truth = torch.randn(32, generator=g)
    truth /= truth.norm()
    z = torch.randn(3000, 32, generator=g)
    scores = z @ truth + 0.3 * torch.randn(3000, generator=g)
    found = D.fit_direction(z, scores, "planted")
    assert found.normal.norm().item() == pytest.approx(1.0, abs=1e-5)
    assert (found.normal @ truth).item() > 0.95  # measured 0.98
    assert found.accuracy > 0.95 and found.samples == 3000 and found.share == 0.3
    flipped = D.fit_direction(z, -scores, "planted")  # the normal points towards *more* of the attribute
    assert (flipped.normal @ truth).item() < -0.95


def test_a_brightness_direction_raises_brightness_by_a_measured_amount(runs):
    _, G, _ = runs["dcgan"]
    z, scores = D.sample_and_score(G, D.brightness, 2000, seed=0)
    direction = D.fit_direction(z, scores, "brightness")
    fresh = torch.randn(200, G.z_dim, generator=torch.Generator().manual_seed(5))  # not the fitting samples
    with torch.no_grad():
        before = D.brightness(G(fresh))
        up, down = (
            D.brightness(G(D.edit(fresh, direction, 2.0))),
            D.brightness(G(D.edit(fresh, direction, -2.0))),
        )
    # measured (30-step run): strength 2 raises brightness by 1.2 standard deviations of G's samples, and
    # for 96 % of the latents; a random unit direction moves it by about 0 on average
    assert (up - before).mean() > 0.5 * scores.std()
    assert (up > before).float().mean() > 0.8
    assert (down - before).mean() < -0.5 * scores.std()
    table = D.manipulation_table(
        G, {"brightness": direction.normal}, {"brightness": D.brightness}, fresh, 2.0
    )
    assert table["brightness"]["brightness"] == pytest.approx(
        float((up - before).mean() / before.std()), rel=1e-4
    )


def test_the_conditional_direction_is_orthogonal_to_its_conditions():
    g = torch.Generator().manual_seed(1)
    n1, n2, n3 = (v / v.norm() for v in torch.randn(3, 16, generator=g))
    n = D.conditional_direction(n1, n2, n3)
    assert n.norm().item() == pytest.approx(1.0, abs=1e-5)
    assert abs((n @ n2).item()) < 1e-5 and abs((n @ n3).item()) < 1e-5
    assert (n @ n1).item() > 0  # still goes the primary's way
    with pytest.raises(ToolkitError, match="lies in the span of the conditions"):
        D.conditional_direction(0.6 * n2 + 0.8 * n3, n2, n3)


def test_a_direction_round_trips_through_the_run_directory(runs):
    run_dir, G, _ = runs["dcgan"]
    direction = D.Direction(
        "T-shirt/top", torch.nn.functional.normalize(torch.randn(16), dim=0), -0.5, 0.9, 100, 0.3
    )
    path = D.save_direction(run_dir, direction)
    assert path == direction_path(run_dir, "T-shirt/top") == run_dir / "directions" / "t-shirt-top.pt"
    back = D.load_direction(run_dir, "t-shirt/top", z_dim=G.z_dim)
    assert (
        torch.equal(back.normal, direction.normal) and back.bias == -0.5 and back.attribute == "T-shirt/top"
    )
    with pytest.raises(ToolkitError, match="is for latents of size 16 but this generator takes 64"):
        D.load_direction(run_dir, "T-shirt/top", z_dim=64)
    with pytest.raises(ToolkitError, match="no direction for 'area'"):
        D.load_direction(run_dir, "area")
    direction_path(run_dir, "broken").write_bytes(b"not a torch file")
    with pytest.raises(ToolkitError, match="is not a direction file"):
        D.load_direction(run_dir, "broken")


def test_steering_raises_the_class_score_and_keep_holds_brightness(runs):
    _, G, _ = runs["dcgan"]
    cnn = load_fmnist_cnn()
    z = torch.randn(8, G.z_dim, generator=torch.Generator().manual_seed(1))
    free = steer(G, z, D.class_score(cnn, 2), steps=30)
    # measured: log p(Pullover) rises from -4.4 to -2.6 on average over 30 steps
    assert free.scores[-1] > free.scores[0] + 1.0
    with torch.no_grad():
        assert D.class_score(cnn, 2)(free.after).mean() > D.class_score(cnn, 2)(free.before).mean() + 1.0
    assert torch.equal(free.z_start, z) and not torch.equal(free.z, z)

    def keep(images):
        return D.brightness(images)[:, None] * 10

    held = steer(G, z, D.class_score(cnn, 2), steps=30, keep=keep, keep_weight=100.0)
    loose = steer(G, z, D.class_score(cnn, 2), steps=30, keep=keep, keep_weight=0.0)
    # measured: the penalty cuts the squared brightness change by ~10x and still raises the score
    assert held.kept_change[-1] < 0.5 * loose.kept_change[-1]
    assert held.scores[-1] > held.scores[0]


def test_steering_a_conditional_generator_needs_its_label(runs):
    _, G, _ = runs["cgan"]
    cnn = load_fmnist_cnn()
    z = torch.randn(4, G.z_dim)
    with pytest.raises(ToolkitError, match="conditional: give the class"):
        steer(G, z, D.class_score(cnn, 0), steps=2)
    assert steer(G, z, D.class_score(cnn, 0), steps=2, label=3).after.shape == (4, 1, 32, 32)


FASHION = FASHION_MNIST_CLASSES  # the names a Fashion-MNIST run records


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda G, cG: D.attribute("Dress", class_names=[], G=G), "data have no classes, so there are no"),
        (
            lambda G, cG: D.attribute("Dress", FASHION, G=cG),
            "this generator is conditional: its class is an input",
        ),
        (lambda G, cG: D.attribute("Hat", FASHION, G=G), "unknown class 'Hat'; choose one of"),
        (
            lambda G, cG: D.attribute("7", [str(i) for i in range(10)], G=G),
            "knows Fashion-MNIST's classes only",
        ),
        (
            lambda G, cG: D.edit(torch.zeros(2, 8), torch.ones(16) / 4, 1.0),
            "for latents of size 16, got latents",
        ),
        (
            lambda G, cG: D.fit_direction(torch.zeros(20, 4), torch.arange(20.0), share=0.7),
            "share must be in",
        ),
        (lambda G, cG: D.fit_direction(torch.zeros(20, 4), torch.ones(20)), "barely varies"),
        (lambda G, cG: D.sample_and_score(G, D.brightness, 5), "at least 10 samples"),
        (lambda G, cG: steer(G, torch.zeros(2, 16), D.brightness, keep_weight=1.0), "needs keep="),
        (lambda G, cG: steer(G, torch.zeros(2, 8), D.brightness), "takes z of shape \\(batch, 16\\)"),
        (lambda G, cG: steer(G, torch.zeros(2, 16), D.brightness, steps=0), "steps >= 1"),
    ],
)
def test_bad_inputs_are_one_line_errors(runs, call, message):
    with pytest.raises(ToolkitError, match=message) as err:
        call(runs["dcgan"][1], runs["cgan"][1])
    assert "\n" not in str(err.value)


def test_attributes_by_name():
    assert D.attribute("Brightness") is D.brightness and D.attribute("area") is D.area
    score = D.attribute("Dress", FASHION)
    images = torch.zeros(3, 1, 32, 32)
    expected = torch.log_softmax(load_fmnist_cnn()(images), dim=1)[:, 3]
    assert torch.allclose(score(images), expected)
    black, white = -torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 4)
    assert D.brightness(black).item() == 0 and D.brightness(white).item() == 1
    half = torch.cat([-torch.ones(1, 1, 4, 2), torch.ones(1, 1, 4, 2)], dim=3)
    assert D.area(half, soft=False).item() == 0.5 and D.area(half).item() == pytest.approx(0.5, abs=0.01)
