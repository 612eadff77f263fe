"""Fault injection: SIGKILL a training process at random moments (many of them during a checkpoint write,
which happens every step here), resume it each time, and compare with a run that was never interrupted: the
checkpoint always loads, every step is logged exactly once and in order, every sample grid is a whole PNG, and
the final weights are equal to the uninterrupted run's, bit for bit (CPU). For every family."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

from toolkit.runs import Run

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOOLKIT_THREADS": "1"}
FAMILIES = {
    "gan": ["--model", "dcgan", "--width", "8", "--z-dim", "16", "--augment", "ada", "--ada-kimg", "0.5"],
    "pggan": [
        "--model",
        "pggan",
        "--width",
        "8",
        "--z-dim",
        "16",
        "--stage-kimg",
        "0.2",
        "--fade-kimg",
        "0.2",
    ],
}
STEPS, TRIALS = 60, 12


def command(run, family, resume):
    return [
        sys.executable,
        "-m",
        "toolkit",
        "train",
        *FAMILIES[family],
        "--data",
        "digits",
        "--batch-size",
        "16",
        "--steps",
        str(STEPS),
        "--log-every",
        "1",
        "--checkpoint-every",
        "1",
        "--sample-every",
        "5",
        "--seed",
        "3",
        "--threads",
        "1",
        "--no-progress",
        "--device",
        "cpu",
        "--run-dir",
        str(run),
        *(["--resume"] if resume else ["--overwrite"]),
    ]


def finished(run):
    events = Run(run).events()
    return bool(events) and events[-1]["event"] == "finished"


def weights(run):
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    return {
        f"{kind}.{n}.{k}": v
        for kind in ("nets", "ema")
        for n, sd in state[kind].items()
        for k, v in sd.items()
    }


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_random_sigkills_then_resume_equal_an_uninterrupted_run(tmp_path, family):
    rng = random.Random(family)
    straight = tmp_path / "straight"
    subprocess.run(command(straight, family, False), env=ENV, check=True, capture_output=True, timeout=300)

    run, kills = tmp_path / "killed", 0
    while not finished(run):
        rows_before = len(Run(run).metrics())
        resume = Run(run).checkpoint_path() is not None
        proc = subprocess.Popen(
            command(run, family, resume), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if kills < TRIALS:
            deadline = time.time() + 120
            while time.time() < deadline and proc.poll() is None and len(Run(run).metrics()) <= rows_before:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.15))  # somewhere in the next few steps and checkpoint writes
            proc.send_signal(signal.SIGKILL)
            kills += proc.poll() is None or proc.returncode == -signal.SIGKILL
        proc.wait(300)
        if proc.returncode not in (0, -signal.SIGKILL):
            pytest.fail(f"a resumed run failed: {proc.stderr.read().decode()[-500:]}")
        proc.stderr.close()
        if Run(run).checkpoint_path():  # (a kill before the first checkpoint leaves none, and that is fine)
            Run(run).load_checkpoint()  # it always loads: a kill mid-write leaves only a temporary file

    assert kills >= TRIALS
    assert not list(run.rglob("*.tmp")), "the resumed run removes the temporary files of a killed writer"
    steps = [r["step"] for r in Run(run).metrics()]
    assert steps == list(range(1, STEPS + 1)), "every step logged exactly once, in order"
    for _, grid in Run(run).sample_grids():
        Image.open(grid).verify()  # whole PNGs
    a, b = weights(straight), weights(run)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rows_a = [{k: v for k, v in r.items() if k != "time"} for r in Run(straight).metrics()]
    rows_b = [{k: v for k, v in r.items() if k != "time"} for r in Run(run).metrics()]
    assert rows_a == rows_b
