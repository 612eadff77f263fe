"""The ``stylegan`` family on the one loop: lazy R1 (every k-th step, times k, Adam adjusted as the
reference), style mixing as a setting, ADA on D's inputs, exact resume, sample grids, ``train`` on
Fashion-MNIST and on a user's image folder at 32 and 64 px, ``sample --truncation``, one-line errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from toolkit.augment import AdaptiveAugment
from toolkit.cli import main
from toolkit.data.base import TensorData
from toolkit.errors import ToolkitError
from toolkit.families import StyleGANFamily, config_for, family_for
from toolkit.generate import load_generator
from toolkit.regularizers import r1_penalty
from toolkit.runs import Run
from toolkit.training import Trainer

TINY = dict(width=4, z_dim=8, w_dim=8, mapping_layers=2, batch_size=4, grid_size=4, threads=1, seed=2)


def tiny(**kw):
    return config_for("stylegan", **{**dict(data="digits", resolution=8, log_every=5), **TINY, **kw})


def family(**kw) -> StyleGANFamily:
    g = torch.Generator().manual_seed(0)
    data = TensorData("tiny", torch.rand(8, 1, 8, 8, generator=g) * 2 - 1)
    torch.manual_seed(0)
    return StyleGANFamily(tiny(**kw).validate(), data, torch.device("cpu"))


def batch(fam):
    return {"image": fam.data.x[:4]}


def test_registered_with_its_model():
    assert family_for("stylegan") is StyleGANFamily
    assert [p.name for p in family().phases()] == ["D", "Dreg", "G"]


def test_lazy_r1_runs_every_kth_step_times_k_and_leaves_D_alone_otherwise():
    fam = family(r1_interval=3, r1_gamma=0.5)
    opt = fam.optimizers["D"]
    for step in range(7):
        fam.d_step(batch(fam))
        before = [p.detach().clone() for p in fam.D.parameters()]
        opt.zero_grad(set_to_none=True)
        loss, stats = fam.d_reg_step(None)
        if step % 3 == 0:  # steps 0, 3, 6: R1 by hand, times the interval
            real = batch(fam)["image"].clone().requires_grad_(True)
            expected = r1_penalty(fam.D(real), real, 0.5)
            assert loss.item() == pytest.approx(3 * expected.item(), rel=1e-5)
            assert stats["r1"].item() == pytest.approx(expected.item(), rel=1e-5)
        else:
            assert loss.item() == 0.0
        loss.backward()
        opt.step()
        changed = any(not torch.equal(a, b) for a, b in zip(before, fam.D.parameters()))
        assert changed == (step % 3 == 0), step  # no gradient: Adam skips D's parameters
    assert fam.d_steps == 7


def test_lazy_r1_adjusts_Ds_adam_as_the_reference():
    fam = family(r1_interval=16, lr_d=0.002, beta1=0.5, beta2=0.99)
    group = fam.optimizers["D"].param_groups[0]
    c = 16 / 17
    assert group["lr"] == pytest.approx(0.002 * c)
    assert group["betas"] == pytest.approx((0.5**c, 0.99**c))
    assert fam.optimizers["G"].param_groups[0]["betas"] == (0.5, 0.99)
    fam.apply_settings({"lr_d": 0.001})
    assert group["lr"] == pytest.approx(0.001 * c)
    off = family(r1_gamma=0.0, lr_d=0.002).optimizers["D"].param_groups[0]
    assert off["lr"] == 0.002 and off["betas"] == (0.0, 0.99)


def test_mixing_probability_is_a_setting():
    for mixing, expect_mixed in ((0.0, False), (1.0, True)):
        fam = family(mixing=mixing)
        for _ in range(5):
            ws = fam.mixed_styles(3)
            same = all(torch.equal(ws[:, 0], ws[:, i]) for i in range(ws.shape[1]))
            assert same != expect_mixed
            if expect_mixed:  # layer 0 is always the first latent's; a crossover in [1, num_ws)
                assert not torch.equal(ws[:, 0], ws[:, -1])
    with pytest.raises(ToolkitError, match=r"--mixing is a probability, in \[0, 1\]; got 1.5"):
        tiny(mixing=1.5).validate()


def test_ada_augments_what_D_sees():
    fam = family(augment="ada")
    assert isinstance(fam.augment, AdaptiveAugment)
    x = batch(fam)["image"]
    with torch.no_grad():
        fam.augment.p.fill_(0.0)
        assert torch.equal(fam.discriminate(x), fam.D(x))
        fam.augment.p.fill_(1.0)
        assert not torch.equal(fam.discriminate(x), fam.D(x))
    p_before = fam.augment.p.clone()
    for _ in range(4):  # the controller observes D's real logits after every D step (interval 4)
        fam.d_step(batch(fam))
        fam.after_d()
    assert not torch.equal(fam.augment.p, p_before) or fam.augment.rt.item() != 0
    _, stats = fam.g_step(None)
    assert "ada_p" in stats


def test_training_resumes_exactly(tmp_path):
    kw = dict(r1_interval=3, augment="ada", ada_interval=2, checkpoint_every=0, sample_every=5)
    straight = Trainer(tiny(steps=10, **kw), run_dir=tmp_path / "a", progress=False)
    straight.fit()
    Trainer(tiny(steps=5, **kw), run_dir=tmp_path / "b", progress=False).fit()
    torch.manual_seed(999)  # resume must restore the RNG
    resumed = Trainer.resume(tmp_path / "b", steps=10, progress=False)
    resumed.fit()
    for name in ("G", "D"):
        a, b = straight.family.nets[name].state_dict(), resumed.family.nets[name].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    a, b = straight.ema["G"].model.state_dict(), resumed.ema["G"].model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert straight.family.state_dict() == resumed.family.state_dict()
    assert resumed.family.d_steps == 10
    rows = lambda d: [{k: v for k, v in r.items() if k != "time"} for r in Run(d).metrics()]  # noqa: E731
    assert rows(tmp_path / "a") == rows(tmp_path / "b")
    assert [s for s, _ in Run(tmp_path / "a").sample_grids()] == [5, 10]


def test_train_on_fashion_mnist_and_sample_with_truncation_on_the_command_line(tmp_path, capsys):
    from conftest import fashion_mnist_or_skip

    fashion_mnist_or_skip()
    run = tmp_path / "run"
    args = ["train", "--model", "stylegan", "--data", "fashion-mnist", "--limit", "40", "--width", "4"]
    args += ["--z-dim", "8", "--w-dim", "8", "--mapping-layers", "2", "--batch-size", "4", "--steps", "2"]
    assert main([*args, "--no-progress", "--device", "cpu", "--run-dir", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "stylegan" and config["sample_shape"] == [1, 32, 32]
    assert config["mixing"] == 0.9 and config["r1_interval"] == 16
    assert Run(run).sample_grids()
    out = tmp_path / "avg.npz"
    assert main(["sample", "--run-dir", str(run), "--n", "5", "--out", str(out), "--truncation", "0"]) == 0
    images = np.load(out)[np.load(out).files[0]]
    assert images.shape[0] == 5 and all(np.array_equal(images[0], im) for im in images)  # the average image
    free = tmp_path / "free.npz"
    assert main(["sample", "--run-dir", str(run), "--n", "5", "--out", str(free), "--seed", "0"]) == 0
    again = tmp_path / "again.npz"
    assert main(["sample", "--run-dir", str(run), "--n", "5", "--out", str(again), "--seed", "0"]) == 0
    a, b = np.load(free), np.load(again)
    assert np.array_equal(a[a.files[0]], b[b.files[0]])  # stored noise maps: a seed gives the same images
    assert not all(np.array_equal(a[a.files[0]][0], im) for im in a[a.files[0]])
    capsys.readouterr()
    for bad, message in (("nan", "--truncation must be a finite number"),):
        assert (
            main(["sample", "--run-dir", str(run), "--n", "2", "--out", str(out), "--truncation", bad]) != 0
        )
        assert message in capsys.readouterr().err


def test_truncation_needs_a_stylegan_run(tmp_path, capsys):
    run = tmp_path / "dcgan"
    args = ["train", "--model", "dcgan", "--data", "digits", "--width", "4", "--z-dim", "8", "--steps", "1"]
    assert main([*args, "--batch-size", "4", "--no-progress", "--run-dir", str(run)]) == 0
    capsys.readouterr()
    out = tmp_path / "x.npz"
    assert main(["sample", "--run-dir", str(run), "--n", "2", "--out", str(out), "--truncation", "0.5"]) != 0
    assert f"--truncation needs --model stylegan; {run} is a dcgan" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("resolution", [32, 64])
def test_trains_on_a_users_image_folder(tmp_path, resolution):
    rng = np.random.default_rng(0)
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    cfg = config_for("stylegan", data=str(folder), resolution=resolution, steps=2, **TINY)
    trainer = Trainer(cfg, run_dir=tmp_path / "run", progress=False)
    trainer.fit()
    shape = json.loads((tmp_path / "run" / "config.json").read_text())["sample_shape"]
    assert shape == [3, resolution, resolution]
    images, _ = trainer.family.grid()
    assert images.shape == (4, 3, resolution, resolution)
    G, _ = load_generator(tmp_path / "run")
    assert G(torch.randn(2, 8)).shape == (2, 3, resolution, resolution)


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            dict(augment="diffusion"),
            "--augment diffusion is not available for stylegan; choose one of none, ada",
        ),
        (dict(r1_interval=0), "--r1-interval must be >= 1, got 0"),
        (dict(r1_gamma=-1.0), "--r1-gamma must be >= 0 (0 turns it off), got -1.0"),
        (dict(w_dim=0), "--z-dim, --w-dim, --mapping-layers and --width must be >= 1"),
    ],
)
def test_bad_settings_are_one_line_errors(settings, message):
    with pytest.raises(ToolkitError, match=re.escape(message)):
        tiny(**settings).validate()


def test_images_that_are_not_a_power_of_two_are_refused():
    with pytest.raises(ToolkitError, match="must be 8, 16, 32, 64, ... pixels; these are 24"):
        Trainer(config_for("stylegan", data="digits", resolution=24, steps=1, **TINY), progress=False)
