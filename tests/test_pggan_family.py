"""The pggan family on the engine: the growth schedule, the faded reals, a run that grows 4 -> 32, exact
resume across a growth, and sampling from a checkpoint taken mid-fade."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.families.pggan import reals_at, stage_at
from toolkit.generate import load_generator
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
