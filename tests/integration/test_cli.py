"""The command line as a user runs it: real processes for exit codes, kill and resume."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import CHILD_ENV, TINY, start_training

from toolkit.cli import main
from toolkit.runs import Run

ENV = CHILD_ENV


def cli(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )


def test_help_lists_models_datasets_and_flags():
    top = cli("--help")
    assert top.returncode == 0 and "train" in top.stdout and "sample" in top.stdout
    out = cli("train", "--help").stdout
    for word in (
        "mlp",
        "dcgan",
        "fashion-mnist",
        "digits",
        "ring",
        "grid",
        "--steps",
        "--batch-size",
        "--seed",
        "--run-dir",
        "--resume",
        "--device",
        "--lr",
        "--lr-g",
        "--lr-d",
        "--limit",
        "--loss",
        "--threads",
    ):
        assert word in out, word


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "stylegan9"], "unknown model 'stylegan9'"),
        (["--lr", "-0.1"], "--lr must be a positive number no larger than 1, got -0.1"),
        (["--lr", "nan"], "--lr must be a positive number no larger than 1, got nan"),  # it said --lr-g
        (["--lr-g", "nan"], "--lr-g must be a positive number"),
        (["--limit", "10", "--batch-size", "64"], "batch size 64 is larger than the dataset (10 samples"),
        (["--loss", "nope"], "invalid choice: 'nope'"),
        (["--steps", "0"], "--steps must be >= 1"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--n-critic", "0"], "--n-critic must be >= 1"),
        (["--ada-target", "2"], "--ada-target is a target for E[sign(D(real))], in [-1, 1]"),
        (["--augment", "ada", "--model", "mlp", "--data", "ring"], "--augment ada works on images"),
        (["--model", "cgan", "--data", "ring"], "cgan needs square images"),
        (["--augment", "diffusion", "--model", "acgan"], "--augment diffusion is built for --model dcgan"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys, args, message):
    argv = ["train", *TINY, "--steps", "5", "--run-dir", str(tmp_path / "r"), *args]  # later flags win
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own errors (e.g. a bad choice) exit this way
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert message in err


def test_unwritable_run_dir(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["train", *TINY, "--steps", "2", "--run-dir", str(blocker / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot write to run directory") and len(err.splitlines()) == 1


def test_existing_run_needs_resume_and_resume_needs_a_checkpoint(tmp_path, capsys):
    assert main(["train", *TINY, "--steps", "2", "--run-dir", str(tmp_path / "r")]) == 0
    assert main(["train", *TINY, "--steps", "4", "--run-dir", str(tmp_path / "r")]) == 2
    assert "add --resume" in capsys.readouterr().err
    assert main(["train", *TINY, "--steps", "4", "--resume", "--run-dir", str(tmp_path / "empty")]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_train_then_sample_png_and_npz(tmp_path):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "6", "--run-dir", str(run)]) == 0
    assert main(["sample", "--run-dir", str(run), "--n", "5", "--out", str(tmp_path / "pngs")]) == 0
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == [f"{i:06d}.png" for i in range(5)]
    assert (
        main(["sample", "--run-dir", str(run), "--n", "7", "--out", str(tmp_path / "s.npz"), "--seed", "3"])
        == 0
    )
    arr = np.load(tmp_path / "s.npz")["images"]
    assert arr.shape == (7, 1, 32, 32) and arr.dtype == np.uint8
    # same seed, same images
    assert (
        main(["sample", "--run-dir", str(run), "--n", "7", "--out", str(tmp_path / "t.npz"), "--seed", "3"])
        == 0
    )
    assert np.array_equal(arr, np.load(tmp_path / "t.npz")["images"])


def test_sample_errors(tmp_path, capsys):
    assert (
        main(["sample", "--run-dir", str(tmp_path / "nope"), "--n", "2", "--out", str(tmp_path / "o")]) == 2
    )
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "config.json").write_text("{}")
    assert (
        main(["sample", "--run-dir", str(tmp_path / "bare"), "--n", "2", "--out", str(tmp_path / "o")]) == 2
    )
    assert "no checkpoint yet" in capsys.readouterr().err
    bad = tmp_path / "badckpt"
    assert main(["train", *TINY, "--steps", "2", "--run-dir", str(bad)]) == 0
    (bad / "checkpoints" / "last.pt").write_bytes(b"garbage")
    capsys.readouterr()
    assert main(["sample", "--run-dir", str(bad), "--n", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cannot load checkpoint" in err and len(err.strip().splitlines()) == 1


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    """SIGKILL mid-run (no chance to clean up), then --resume: it continues from checkpoints/last.pt."""
    run = tmp_path / "run"
    proc = start_training(
        *TINY, "--steps", "100000", "--run-dir", str(run), "--checkpoint-every", "5", "--log-every", "5"
    )
    ckpt = run / "checkpoints" / "last.pt"
    deadline = time.time() + 90
    while time.time() < deadline and not (
        ckpt.exists() and torch.load(ckpt, weights_only=True)["step"] >= 10
    ):
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = torch.load(ckpt, weights_only=True)["step"]  # loads: the kill never leaves a torn file
    assert saved >= 10
    done = cli("train", "--resume", "--run-dir", str(run), "--steps", str(saved + 10), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert f"resuming {run} at step {saved}" in done.stderr
    steps = [r["step"] for r in Run(run).metrics()]
    assert steps == sorted(steps) and len(steps) == len(set(steps)) and steps[-1] == saved + 10


def test_sigterm_stops_cleanly_with_a_checkpoint(tmp_path):
    run = tmp_path / "run"
    proc = start_training(
        *TINY,
        "--steps",
        "100000",
        "--run-dir",
        str(run),
        "--checkpoint-every",
        "1000",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 90
    while time.time() < deadline and not (run / "events.jsonl").exists():
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "stopped at step" in err
    step = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert step > 0 and Run(run).events()[-1] == {**Run(run).events()[-1], "event": "stopped", "step": step}


def test_conditional_model_samples_the_class_asked_for(tmp_path, capsys, monkeypatch):
    run = tmp_path / "cgan"
    tiny = [a if a != "dcgan" else "cgan" for a in TINY]
    assert main(["train", *tiny, "--steps", "4", "--run-dir", str(run), "--d-condition", "concat"]) == 0
    assert Run(run).config()["d_condition"] == "concat"
    assert (
        main(["sample", "--run-dir", str(run), "--n", "3", "--class", "7", "--out", str(tmp_path / "s.npz")])
        == 0
    )
    assert np.load(tmp_path / "s.npz")["labels"].tolist() == [7, 7, 7]
    assert "of class 7" in capsys.readouterr().err  # digits' class names are "0".."9"
    # the class reached the generator (a 4-step G barely depends on its label, so spy on the call)
    import toolkit.generate

    calls, real_generate = [], toolkit.generate.generate
    monkeypatch.setattr(
        toolkit.generate, "generate", lambda *a, **k: calls.append(k["labels"]) or real_generate(*a, **k)
    )
    assert (
        main(["sample", "--run-dir", str(run), "--n", "3", "--class", "2", "--out", str(tmp_path / "t.npz")])
        == 0
    )
    assert calls[0].tolist() == [2, 2, 2]
    assert (
        main(["sample", "--run-dir", str(run), "--n", "3", "--class", "shoe", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "unknown class 'shoe'" in capsys.readouterr().err
    # without --class: balanced classes, each file named by its class, a labels.csv, and a labelled grid
    assert main(["sample", "--run-dir", str(run), "--n", "12", "--out", str(tmp_path / "all")]) == 0
    names = sorted(p.name for p in (tmp_path / "all").glob("*.png"))
    assert names[:3] == ["000000_0.png", "000001_1.png", "000002_2.png"] and names[-1] == "000011_1.png"
    assert (tmp_path / "all" / "labels.csv").read_text().splitlines()[:2] == [
        "file,label,class",
        '000000_0.png,0,"0"',
    ]
    assert main(["sample", "--run-dir", str(run), "--n", "20", "--out", str(tmp_path / "grid.png")]) == 0
    from PIL import Image

    grid = np.asarray(Image.open(tmp_path / "grid.png").convert("L"))
    rows = 10  # digits: one row per class, two images each
    assert grid.shape[0] == (2 + rows * 34) * 2 and (grid[:, :10] < 128).any()  # names written in the margin
    plain = tmp_path / "plain"
    assert main(["train", *TINY, "--steps", "2", "--run-dir", str(plain)]) == 0
    assert (
        main(["sample", "--run-dir", str(plain), "--n", "3", "--class", "1", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "needs a conditional model" in capsys.readouterr().err


def test_model_presets_apply_unless_overridden(tmp_path):
    tiny = [a if a != "dcgan" else "wgan-gp" for a in TINY]
    assert main(["train", *tiny, "--steps", "1", "--run-dir", str(tmp_path / "a")]) == 0
    c = Run(tmp_path / "a").config()
    assert (c["loss"], c["n_critic"], c["gp_weight"], c["beta1"], c["beta2"]) == (
        "wasserstein",
        5,
        10.0,
        0.0,
        0.9,
    )
    assert (
        main(
            [
                "train",
                *tiny,
                "--steps",
                "1",
                "--run-dir",
                str(tmp_path / "b"),
                "--n-critic",
                "2",
                "--gp-weight",
                "1",
                "--lr",
                "1e-4",
            ]
        )
        == 0
    )
    c = Run(tmp_path / "b").config()
    assert (c["n_critic"], c["gp_weight"], c["lr_g"], c["lr_d"]) == (2, 1.0, 1e-4, 1e-4)


def test_augment_logs_its_state(tmp_path):
    run = tmp_path / "ada"
    assert (
        main(
            [
                "train",
                *TINY,
                "--steps",
                "4",
                "--log-every",
                "2",
                "--augment",
                "ada",
                "--ada-target",
                "0.5",
                "--limit",
                "100",
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    rows = Run(run).metrics()
    assert all("ada_p" in r and "d_real_sign" in r for r in rows)
    assert Run(run).config()["ada_target"] == 0.5 and Run(run).config()["limit"] == 100
    run = tmp_path / "diff"
    assert (
        main(
            [
                "train",
                *TINY,
                "--steps",
                "2",
                "--log-every",
                "2",
                "--augment",
                "diffusion",
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    assert "diffusion_t" in Run(run).metrics()[-1]


def test_resume_without_steps_keeps_the_runs_own_length(tmp_path):
    run = tmp_path / "r"
    assert main(["train", *TINY, "--steps", "6", "--checkpoint-every", "3", "--run-dir", str(run)]) == 0
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 6
    # a later --resume with no --steps must not shrink the run to the default length
    assert main(["train", "--run-dir", str(run), "--resume", "--no-progress"]) == 0
    assert Run(run).config()["steps"] == 6


def test_a_typed_flag_beats_the_preset_even_when_it_equals_the_family_default(tmp_path):
    """wgan-gp's preset sets n_critic 5; typing --n-critic 1 (the gan family's default) must give 1."""
    run = tmp_path / "r"
    assert (
        main(["train", *TINY, "--model", "wgan-gp", "--steps", "1", "--n-critic", "1", "--run-dir", str(run)])
        == 0
    )
    config = Run(run).config()
    assert config["n_critic"] == 1 and config["gp_weight"] == 10.0  # the rest of the preset still applies
    run2 = tmp_path / "r2"
    assert main(["train", *TINY, "--model", "wgan-gp", "--steps", "1", "--run-dir", str(run2)]) == 0
    assert Run(run2).config()["n_critic"] == 5


def test_resume_applies_changeable_flags_and_refuses_the_rest(tmp_path, capsys):
    """A diverging run can be rescued with a lower learning rate: --lr on --resume reaches the optimizers,
    is recorded as an event and shown in config.json. Model, data and network flags cannot change."""
    run = str(tmp_path / "r")
    assert main(["train", *TINY, "--steps", "2", "--run-dir", run]) == 0
    assert main(["train", *TINY, "--steps", "3", "--resume", "--run-dir", run]) == 0  # the same flags: fine
    assert (
        main(
            ["train", *TINY, "--steps", "4", "--lr", "0.0005", "--beta1", "0.2", "--resume", "--run-dir", run]
        )
        == 0
    )
    config = Run(run).config()
    assert (config["lr_g"], config["lr_d"], config["beta1"]) == (0.0005, 0.0005, 0.2)
    changed = [e for e in Run(run).events() if e["event"] == "changed"]
    assert changed[-1]["lr_g"] == 0.0005 and changed[-1]["on"] == "resume"
    opt = torch.load(tmp_path / "r" / "checkpoints" / "last.pt", weights_only=True)["optimizers"]["G"]
    assert opt["param_groups"][0]["lr"] == 0.0005 and opt["param_groups"][0]["betas"][0] == 0.2
    capsys.readouterr()
    assert main(["train", *TINY, "--steps", "6", "--width", "16", "--resume", "--run-dir", run]) == 2
    assert "--width cannot change on --resume" in capsys.readouterr().err
    assert main(["train", *TINY, "--steps", "2", "--resume", "--run-dir", run]) == 2
    assert "--steps 2 is below the run's current step 4" in capsys.readouterr().err
    assert main(["train", *TINY, "--steps", "6", "--lr", "1e30", "--resume", "--run-dir", run]) == 2
    assert "no larger than 1" in capsys.readouterr().err


def test_train_says_what_it_will_train_and_how_long_it_will_take(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(20):
        Image.new("RGB", (40, 50), (10 * i, 0, 0)).save(folder / f"{i}.png")
    (folder / "notes.txt").write_text("not an image")
    args = [
        "train",
        "--model",
        "dcgan",
        "--data",
        str(folder),
        "--resolution",
        "32",
        "--batch-size",
        "10",
        "--steps",
        "4",
        "--log-every",
        "2",
        "--width",
        "8",
        "--z-dim",
        "16",
        "--no-progress",
        "--device",
        "cpu",
        "--run-dir",
        str(tmp_path / "r"),
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    from toolkit.runtime import speed_choice

    speed = speed_choice("auto", "auto", torch.device("cpu"))  # e.g. fp32, contiguous (--precision auto: ...)
    assert (
        "data photos: 20 images of 3x32x32, 1 files skipped (hidden, or not images); "
        f"dcgan on cpu ({speed}), 4 steps of batch 10 = 2.0 epochs" in err
    )
    assert "steps/s: about" in err and "left to step 4" in err
    assert main([*args[:-2], "--steps", "6", "--resume", "--run-dir", str(tmp_path / "r")]) == 0
    precision = "bf16" if speed.startswith("bf16") else "fp32"
    assert f"dcgan on cpu ({precision}, contiguous, as the run recorded), 6 steps" in capsys.readouterr().err


def test_report_is_one_self_contained_html_file(tmp_path):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                *TINY,
                "--steps",
                "12",
                "--log-every",
                "4",
                "--sample-every",
                "6",
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    (run / "evaluations.jsonl").write_text(
        json.dumps({"step": 12, "features": "pixels8", "fid": 1.25}) + "\n"
    )
    assert main(["report", "--run-dir", str(run), "--out", str(tmp_path / "r.html")]) == 0
    text = (tmp_path / "r.html").read_text()
    assert text.count("<img src='data:image/png;base64,") == 2  # the grids of steps 6 and 12, embedded
    assert "Plotly.newPlot" in text and '<script src="http' not in text  # plotly.js inlined, nothing fetched
    assert "loss_d" in text and "1.25" in text and "<td>batch_size</td>" in text
    assert main(["report", "--run-dir", str(run), "--out", str(tmp_path / "r.txt")]) == 2
