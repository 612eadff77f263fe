"""The pggan family on the engine: the growth schedule, the faded reals, a run that grows 4 -> 32, exact
resume across a growth, and sampling from a checkpoint taken mid-fade.

Then its pieces value by value, in milliseconds (formerly tests/test_pggan_values.py, written for mutation
testing: the tests above train whole runs, seconds per test): D's loss (WGAN-GP plus the drift term) and G's
against the paper's formulas, the faded reals, the schedule moving on by images seen and restarting Adam at a
new resolution, sampling at the current stage, the state that resumes it, and each one-line error."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import phase_fields

from toolkit.cli import main
from toolkit.data.base import TensorData
from toolkit.errors import ToolkitError
from toolkit.families import DataSpec
from toolkit.families.pggan import PGGANConfig, PGGANFamily, StageGenerator, reals_at, stage_at
from toolkit.generate import load_generator
from toolkit.regularizers import gradient_penalty
from toolkit.runs import Run
from toolkit.training import Trainer, config_for

RES = [4, 8, 16, 32]


@pytest.mark.parametrize(
    "kimg, expected",
    [
        (0, (4, 1.0)),
        (599, (4, 1.0)),
        (600, (8, 0.0)),
        (900, (8, 0.5)),
        (1200, (8, 1.0)),
        (1799, (8, 1.0)),
        (1800, (16, 0.0)),
        (3150, (32, 0.25)),
        (10_000, (32, 1.0)),
    ],
)
def test_schedule_600_kimg_stable_600_kimg_fade(kimg, expected):
    assert stage_at(kimg, RES, 600, 600) == pytest.approx(expected)


def test_schedule_without_fading_jumps_straight_to_the_next_resolution():
    assert stage_at(10, RES, 10, 0) == (8, 1.0) and stage_at(20, RES, 10, 0) == (16, 1.0)


def test_reals_are_downsampled_and_faded_like_the_generator():
    x = torch.randn(2, 1, 32, 32)
    at8 = F.avg_pool2d(x, 4)
    assert torch.allclose(reals_at(x, 8, 1.0), at8)
    old = F.interpolate(F.avg_pool2d(at8, 2), scale_factor=2, mode="nearest")
    assert torch.allclose(reals_at(x, 8, 0.0), old, atol=1e-6)
    assert torch.allclose(reals_at(x, 8, 0.25), 0.75 * old + 0.25 * at8, atol=1e-6)


def tiny(steps, **kw):
    settings = dict(
        data="digits",
        steps=steps,
        batch_size=16,
        width=8,
        z_dim=16,
        stage_kimg=0.08,
        fade_kimg=0.08,
        log_every=3,
        sample_every=7,
        checkpoint_every=4,
        grid_size=16,
        seed=1,
        threads=1,
    )
    return config_for("pggan", **{**settings, **kw})


def nets_and_ema(t):
    return {
        **{f"{n}.{k}": v for n, net in t.family.nets.items() for k, v in net.state_dict().items()},
        **{f"ema.{k}": v for k, v in t.ema["G"].model.state_dict().items()},
    }


def test_a_run_grows_from_4_to_32_and_logs_resolution_and_alpha(tmp_path):
    t = Trainer(tiny(40), run_dir=tmp_path, progress=False)
    rows = t.fit()
    assert t.family.resolution == 32 and t.family.alpha == 1.0
    assert rows[0]["resolution"] == 4 and rows[-1]["resolution"] == 32
    assert any(0 < r["alpha"] < 1 for r in rows)  # a fade-in was logged
    assert all(np.isfinite(r["loss_d"]) for r in rows)
    assert t.sample(n=3).shape == (3, 1, 32, 32)  # every stage's samples at full size


def test_resume_across_a_growth_continues_exactly(tmp_path):
    """7 steps (4x4, then halfway into the fade-in of 8x8), resumed to 30 (through the growth to 16x16 and its
    Adam restart) == 30 straight."""
    straight = Trainer(tiny(30), run_dir=tmp_path / "a", progress=False)
    straight.fit()
    Trainer(tiny(7), run_dir=tmp_path / "b", progress=False).fit()
    second = Trainer.resume(tmp_path / "b", steps=30, progress=False)
    assert (second.family.resolution, second.family.images_seen) == (
        8,
        7 * 16,
    ) and 0 < second.family.alpha < 1
    second.fit()
    a, b = nets_and_ema(straight), nets_and_ema(second)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    strip = lambda run: [{k: v for k, v in r.items() if k != "time"} for r in Run(run).metrics()]  # noqa: E731
    assert strip(tmp_path / "a") == strip(tmp_path / "b")


def test_sample_from_a_checkpoint_taken_mid_fade(tmp_path):
    t = Trainer(tiny(7, sample_every=0), run_dir=tmp_path / "r", progress=False)
    t.fit()
    assert t.family.resolution == 8 and 0 < t.family.alpha < 1
    G, config = load_generator(tmp_path / "r")
    with torch.no_grad():
        expected = F.interpolate(
            t.family.averaged["G"](t.fixed_z[:2], 8, t.family.alpha), size=32, mode="nearest"
        )
        assert torch.allclose(G(t.fixed_z[:2]), expected)
    assert (
        main(["sample", "--run-dir", str(tmp_path / "r"), "--n", "5", "--out", str(tmp_path / "s.npz")]) == 0
    )
    assert np.load(tmp_path / "s.npz")["images"].shape == (5, 1, 32, 32)


def test_images_that_cannot_grow_by_doubling_get_a_one_line_error(capsys):
    with pytest.raises(ToolkitError, match="8, 16, 32, 64"):
        Trainer(tiny(2, resolution=24), progress=False)
    assert main(["train", "--model", "pggan", "--data", "ring", "--run-dir", "/tmp/unused-pggan"]) == 2
    assert "square images" in capsys.readouterr().err


def test_the_command_line_lists_the_family_flags(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--model", "pggan", "--help"])
    out = capsys.readouterr().out
    assert "--fade-kimg" in out and "--stage-kimg" in out and "--drift" in out and "--n-critic" not in out


def test_pggan_grows_to_64_on_a_user_folder_and_eval_scores_it(tmp_path, capsys):
    """An image folder loads at 64x64 by default, so the network grows 4 -> 64; eval works on the run."""
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(40):
        pixels = (torch.rand(70, 90, 3, generator=g) * 255).to(torch.uint8).numpy()
        Image.fromarray(pixels).save(folder / f"{i:02d}.png")
    run = tmp_path / "run"
    args = [
        "train",
        "--model",
        "pggan",
        "--data",
        str(folder),
        "--steps",
        "26",
        "--batch-size",
        "8",
        "--width",
        "8",
        "--z-dim",
        "16",
        "--stage-kimg",
        "0.024",
        "--fade-kimg",
        "0.016",
        "--log-every",
        "2",
        "--threads",
        "1",
        "--no-progress",
        "--device",
        "cpu",
        "--run-dir",
        str(run),
    ]
    assert main(args) == 0
    rows = Run(run).metrics()
    assert rows[-1]["resolution"] == 64 and Run(run).config()["sample_shape"] == [3, 64, 64]
    assert main(["eval", "--run-dir", str(run), "--n", "40", "--n-real", "40", "--extractor", "pixels8"]) == 0
    assert "fid[pixels8]" in capsys.readouterr().out
    assert main(["sample", "--run-dir", str(run), "--n", "4", "--out", str(tmp_path / "s.npz")]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (4, 3, 64, 64)


# --- value by value (formerly tests/test_pggan_values.py) ----------------------------------------
IMAGES = TensorData("tiny", torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1)
TINY = dict(width=4, z_dim=4, batch_size=4, grid_size=3, stage_kimg=0.008, fade_kimg=0.008, threads=1, seed=1)


def _family(data=IMAGES, device="cpu", **kw):
    torch.manual_seed(0)
    return PGGANFamily(config_for("pggan", **{**TINY, **kw}).validate(), data, torch.device(device))


def _at(fam, images_seen):
    fam.load_state_dict({"images_seen": images_seen})
    return fam.resolution, fam.alpha


def test_the_stage_moves_on_with_the_images_seen():
    fam = _family()  # 8 images stable at 4x4, 8 fading in 8x8, then stable
    assert fam.resolutions == [4, 8] and (fam.resolution, fam.alpha) == (4, 1.0)
    assert [_at(fam, n) for n in (7, 8, 10, 16, 100)] == [(4, 1.0), (8, 0.0), (8, 0.25), (8, 1.0), (8, 1.0)]
    assert fam.state_dict() == {"images_seen": 100, "resolution": 8, "alpha": 1.0}
    assert _family(start_resolution=8).resolutions == [8]


def test_advance_counts_a_batch_and_restarts_adam_at_a_new_resolution():
    fam = _family()
    first = fam.optimizers
    fam.advance()
    assert fam.images_seen == 4 and fam.optimizers is first  # still at 4x4
    fam.advance()
    assert (fam.images_seen, fam.resolution, fam.alpha) == (8, 8, 0.0) and fam.optimizers is not first
    fresh = fam.optimizers["G"]
    assert fresh.state == {} and fresh.param_groups[0]["params"] == list(fam.G.parameters())
    fam.advance()
    assert (fam.resolution, fam.alpha) == (8, 0.5) and fam.optimizers["G"] is fresh


def test_the_optimizers_are_the_papers_adam():
    fam = _family(lr_g=3e-3, lr_d=2e-3, beta1=0.1, beta2=0.9)
    g, d = fam.optimizers["G"].param_groups[0], fam.optimizers["D"].param_groups[0]
    assert (g["lr"], d["lr"], g["betas"], d["betas"], g["eps"], d["eps"]) == (
        3e-3,
        2e-3,
        (0.1, 0.9),
        (0.1, 0.9),
        1e-8,
        1e-8,
    )
    assert d["params"] == list(fam.D.parameters())


def test_reals_are_box_downsampled_then_faded_with_their_blurrier_selves():
    x = IMAGES.x[:2]
    assert torch.equal(reals_at(x, 4, 1.0), F.avg_pool2d(x, 2))
    assert torch.equal(reals_at(x, 8, 1.0), x)
    low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
    assert torch.allclose(reals_at(x, 8, 0.25), 0.75 * low + 0.25 * x)
    big = torch.rand(1, 1, 16, 16)
    assert torch.equal(reals_at(big, 4, 1.0), F.avg_pool2d(big, 4))


@pytest.mark.parametrize("images_seen, gp, drift", [(0, 10.0, 0.001), (10, 3.0, 0.5), (10, 0.0, 0.2)])
def test_d_step_is_wgan_gp_with_the_drift_term(images_seen, gp, drift):
    fam = _family(gp_weight=gp, drift=drift)
    res, alpha = _at(fam, images_seen)
    batch = {"image": IMAGES.x[:4]}
    torch.manual_seed(3)
    loss, stats = fam.d_step(batch)
    torch.manual_seed(3)
    real = reals_at(batch["image"], res, alpha)
    z = torch.randn(4, 4)
    with torch.no_grad():
        fake = fam.G(z, res, alpha)
    d_real, d_fake = fam.D(real, alpha), fam.D(fake, alpha)
    want = d_fake.mean() - d_real.mean()
    if gp:
        want = want + gradient_penalty(lambda x: fam.D(x, alpha), real, fake, gp)[0]
    want = want + drift * d_real.pow(2).mean()
    assert loss.item() == pytest.approx(want.item(), rel=1e-5) and loss.requires_grad
    assert stats["loss_d"].item() == pytest.approx(want.item(), rel=1e-5)
    assert stats["w_estimate"].item() == pytest.approx((d_real.mean() - d_fake.mean()).item(), rel=1e-5)
    assert ("gp" in stats) == bool(gp) and ("grad_norm" in stats) == bool(gp)
    if gp:
        assert stats["gp"].item() > 0 and stats["grad_norm"].item() > 0 and not stats["gp"].requires_grad


@pytest.mark.parametrize("images_seen", [0, 10])
def test_g_step_draws_a_full_batch_and_reports_the_stage(images_seen):
    fam = _family(batch_size=5)
    res, alpha = _at(fam, images_seen)
    torch.manual_seed(4)
    loss, stats = fam.g_step(None)
    torch.manual_seed(4)
    want = -fam.D(fam.G(torch.randn(5, 4), res, alpha), alpha).mean()
    assert loss.item() == pytest.approx(want.item(), rel=1e-5) and loss.requires_grad
    assert stats["loss_g"].item() == pytest.approx(want.item(), rel=1e-5)
    assert stats["resolution"].item() == res and stats["alpha"].item() == alpha


def test_the_phases():
    fam = _family()
    d, g = fam.phases()
    assert phase_fields(d) == ("D", "D", ("D",), True, fam.d_step, None)
    assert phase_fields(g) == ("G", "G", ("G",), False, fam.g_step, fam.advance)


def test_samples_are_at_the_current_stage_upsampled_to_full_size_in_eval_mode():
    fam = _family()
    ema = _family(seed=5).G
    fam.averaged["G"] = ema
    z = torch.randn(2, 4)
    out = fam.sample(z)
    ema.eval()
    want = F.interpolate(ema(z, 4, 1.0), size=8, mode="nearest")
    assert out.shape == (2, 1, 8, 8) and torch.allclose(out, want) and ema.training is False
    ema.train()
    fam.sample(z)
    assert ema.training
    fam.G.eval()
    assert torch.allclose(
        fam.sample(z, use_ema=False), F.interpolate(fam.G(z, 4, 1.0), size=8, mode="nearest")
    )
    assert fam.G.training is False
    assert fam.sample(n=3).shape == (3, 1, 8, 8)
    images, per_row = fam.grid()
    assert per_row is None and torch.equal(images, fam.sample(fam.fixed_z))
    gen = fam.generator
    assert isinstance(gen, StageGenerator) and gen.G is ema and (gen.resolution, gen.alpha) == (4, 1.0)
    full = StageGenerator(fam.G, 8, 1.0)
    assert torch.equal(full(z), fam.G(z, 8, 1.0))  # at full size: as it is


def test_a_trained_runs_sampler_is_its_stage():
    G = _family().G
    s = PGGANFamily.sampler({"G": G}, {}, {"resolution": 4, "alpha": 0.5})
    assert (s.G, s.resolution, s.alpha) == (G, 4, 0.5)


def test_fixed_latents_noise_and_device():
    fam = _family()
    want = torch.randn(3, 4, generator=torch.Generator().manual_seed(1 + 2**20))
    assert torch.equal(fam.fixed_z, want) and fam.noise(6).shape == (6, 4)
    on_meta = _family(device="meta")
    assert on_meta.noise(2).device.type == on_meta.fixed_z.device.type == "meta"


def test_steering_sets_each_rate_and_the_betas():
    fam = _family()
    fam.apply_settings({"lr_g": 0.25})
    assert (
        fam.optimizers["G"].param_groups[0]["lr"] == 0.25
        and fam.optimizers["D"].param_groups[0]["lr"] == 1e-3
    )
    fam.apply_settings({"lr_d": 0.5})
    assert fam.optimizers["D"].param_groups[0]["lr"] == 0.5
    fam.config.beta1, fam.config.beta2 = 0.2, 0.8
    fam.apply_settings({"beta1": 0.2})
    assert fam.optimizers["G"].param_groups[0]["betas"] == (0.2, 0.8)
    fam.config.beta2 = 0.7
    fam.apply_settings({"beta2": 0.7})
    assert fam.optimizers["D"].param_groups[0]["betas"] == (0.2, 0.7)


def test_the_nets_and_the_images_they_need():
    nets = PGGANFamily.build_nets(config_for("pggan", width=4, z_dim=4), DataSpec((3, 16, 16)))
    assert nets["G"].max_resolution == 16 and nets["G"](torch.zeros(1, 4), 16, 1.0).shape == (1, 3, 16, 16)
    assert nets["D"](torch.zeros(2, 3, 16, 16), 1.0).shape == (2,)
    with pytest.raises(
        ToolkitError, match=r"^pggan needs square images, but the data has samples of shape \(2,\)$"
    ):
        PGGANFamily.build_nets(config_for("pggan"), DataSpec((2,), kind="points"))
    with pytest.raises(ToolkitError, match=r"^pggan needs square images, but .* \(1, 8, 16\)$"):
        PGGANFamily.build_nets(config_for("pggan"), DataSpec((1, 8, 16)))
    with pytest.raises(ToolkitError, match=r"^pggan needs square images, but .* \(8, 8\)$"):
        PGGANFamily.build_nets(config_for("pggan"), DataSpec((8, 8)))
    for side in (4, 12):
        with pytest.raises(ToolkitError) as refused:
            PGGANFamily.build_nets(config_for("pggan"), DataSpec((1, side, side)))
        assert str(refused.value) == (
            "pggan grows from 4x4 by doubling, so the images must be 8, 16, 32, 64, ... pixels; "
            f"these are {side} (use --resolution 32 or 64)"
        )
    PGGANFamily.build_nets(config_for("pggan", width=1, z_dim=1), DataSpec((1, 8, 8)))
    with pytest.raises(ToolkitError) as refused:
        _family(start_resolution=16)
    assert str(refused.value) == "--start-resolution must be one of 4, 8 for these images, got 16"


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(lr_g=0.0), "--lr-g must be a positive number no larger than 1, got 0.0"),
        (dict(lr_d=1.5), "--lr-d must be a positive number no larger than 1, got 1.5"),
        (dict(stage_kimg=0.0), "--stage-kimg must be a positive number, got 0.0"),
        (dict(beta1=1.0), "Adam betas must be in [0, 1), got 1.0, 0.99"),
        (dict(beta2=1.0), "Adam betas must be in [0, 1), got 0.0, 1.0"),
        (dict(beta1=-0.1), "Adam betas must be in [0, 1), got -0.1, 0.99"),
        (dict(gp_weight=-1.0), "--gp-weight must be >= 0 (0 turns it off), got -1.0"),
        (dict(drift=-1.0), "--drift must be >= 0 (0 turns it off), got -1.0"),
        (dict(fade_kimg=-1.0), "--fade-kimg must be >= 0 (0 turns it off), got -1.0"),
        (dict(z_dim=0), "--z-dim and --width must be >= 1"),
        (dict(width=0), "--z-dim and --width must be >= 1"),
    ],
)
def test_each_bad_setting_is_a_one_line_error(kw, message):
    with pytest.raises(ToolkitError) as refused:
        config_for("pggan", **kw).validate()
    assert str(refused.value) == message


def test_the_papers_settings_and_their_limits():
    with pytest.raises(ToolkitError, match=r"^--model dcgan is not a pggan-family model$"):
        PGGANConfig(model="dcgan").validate()
    config_for(
        "pggan", beta1=0.0, beta2=0.0, gp_weight=0.0, drift=0.0, fade_kimg=0.0, z_dim=1, width=1
    ).validate()
    cfg = config_for("pggan")
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2, cfg.gp_weight, cfg.drift, cfg.ema) == (
        1e-3, 1e-3, 0.0, 0.99, 10.0, 0.001, 0.999
    )  # fmt: skip
    assert (cfg.start_resolution, cfg.stage_kimg, cfg.fade_kimg) == (4, 24.0, 24.0)


def test_a_stage_mid_fade_samples_with_its_alpha_and_kimg_are_thousands_of_images():
    fam = _family()
    _at(fam, 10)  # 8x8, alpha 0.25
    z = torch.randn(2, 4)
    fam.G.eval()
    assert torch.allclose(fam.sample(z, use_ema=False), fam.G(z, 8, 0.25))
    long = _family(stage_kimg=1.0, fade_kimg=1.0)
    assert _at(long, 999) == (4, 1.0) and _at(long, 1000) == (8, 0.0)


def test_hand_built_nets_of_the_configs_width_are_the_familys():
    def size(net):
        return sum(p.numel() for p in net.parameters())

    cfg = config_for("pggan", **TINY).validate()
    nets = PGGANFamily.build_nets(cfg, DataSpec((1, 8, 8)))
    wider = PGGANFamily.build_nets(config_for("pggan", **{**TINY, "width": 8}), DataSpec((1, 8, 8)))
    assert size(nets["G"]) < size(wider["G"]) and size(nets["D"]) < size(wider["D"])
    fam = PGGANFamily(cfg, IMAGES, torch.device("cpu"), nets)
    assert fam.G is nets["G"] and fam.D is nets["D"]
