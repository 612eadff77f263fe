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


# --- the commands around training: Ctrl-C / SIGTERM stop them cleanly; SIGKILL costs the user no file ---
CHILD_ENV = {**ENV, "PYTHONUNBUFFERED": "1"}
WRITERS = ["translate", "upscale", "sample", "augment-dataset", "stylize", "report"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from command_runs import make_runs

    return make_runs(tmp_path_factory.mktemp("command-runs"))


def long_job(command, runs, tmp_path):
    """A command line of ``command`` that runs for seconds (hundreds of outputs, or many steps), its --out,
    and the user's own files already there (replaced by --overwrite only when the command finishes)."""
    from command_runs import write_images

    out = tmp_path / "out"
    mine = {"translate": ["img0.png"], "upscale": ["img0.png"], "sample": ["000000.png"]}.get(command, [])
    if command == "translate":
        argv = ["--run-dir", runs["pix2pix"], "--input", write_images(tmp_path / "in", 300)]
    elif command == "upscale":
        argv = ["--run-dir", runs["srresnet"], "--input", write_images(tmp_path / "in", 300, size=16)]
    elif command == "sample":
        argv = ["--run-dir", runs["dcgan"], "--n", "20000"]
    elif command == "augment-dataset":
        argv = ["--run-dir", runs["cgan"], "--classes", "line", "--per-class", "20000"]
    elif command == "stylize":
        image = write_images(tmp_path / "in", 1, channels=3) / "img0.png"
        argv = [
            "--content",
            image,
            "--style",
            image,
            "--steps",
            "100000",
            "--size",
            "32",
            "--backbone",
            "fmnist-cnn",
        ]
    else:
        argv = ["--run-dir", runs["dcgan"]]
    if command in ("stylize", "report"):
        out = tmp_path / ("out.png" if command == "stylize" else "out.html")
        out.write_bytes(b"the user's own file")
    else:
        for name in mine:
            out.mkdir(exist_ok=True)
            (out / name).write_bytes(b"the user's own file")
    if out.is_dir():
        (out / "notes.txt").write_text("mine")
    overwrite = [] if command == "augment-dataset" else ["--overwrite"]
    line = [sys.executable, "-m", "toolkit", command, *map(str, argv), "--out", str(out), *overwrite]
    return line, out


def state(out):
    """What the user sees at --out and beside it (hidden staging folders included)."""
    return sorted(
        (p.relative_to(out.parent).as_posix(), p.read_bytes() if p.is_file() else None)
        for p in out.parent.rglob("*")
        if p.relative_to(out.parent).parts[0] != "in"  # the inputs
    )


def start_and_wait_until_working(line, out, command):
    """Start the command; return once it is at work: writing (a staging folder beside --out), or, for stylize,
    optimising, or, for report, starting up."""
    proc = subprocess.Popen(line, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if command == "stylize":
        assert proc.stderr.readline().startswith("backbone:")
    elif command == "report":
        time.sleep(1.0)  # starting up: it builds the report in a few seconds more
    else:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not list(out.parent.glob(".*.partial")):
            time.sleep(0.005)
        assert proc.poll() is None, proc.stderr.read()
    return proc


@pytest.mark.parametrize(  # each command stopped by one of the two (alternating), to keep the suite fast
    "command, signum", list(zip(WRITERS, [signal.SIGINT, signal.SIGTERM] * 3))
)
def test_a_signal_stops_the_command_within_seconds_with_one_line_and_no_partial_output(
    runs, tmp_path, command, signum
):
    line, out = long_job(command, runs, tmp_path)
    before = state(out)
    proc = start_and_wait_until_working(line, out, command)
    proc.send_signal(signum)
    sent = time.time()
    said = proc.stderr.readline()  # its first line after the signal
    took = time.time() - sent
    err = said + proc.communicate(timeout=60)[1]
    name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
    assert said == f"stopped by {name}: {command} did not finish, and left no partial output\n", err
    # (the interpreter's own exit takes longer on a busy CPU; report is stopped while it is starting up, which
    # it notices once torch is imported)
    assert took < (30 if command == "report" else 3), f"took {took:.1f} s to stop"
    assert proc.returncode == 128 + signum and "Traceback" not in err, err
    assert state(out) == before, "the user's files as they were, nothing new, no hidden staging folder"


@pytest.mark.parametrize("command", WRITERS)
def test_sigkill_mid_write_leaves_the_users_files_and_the_next_call_cleans_up(runs, tmp_path, command):
    line, out = long_job(command, runs, tmp_path)
    before = state(out)
    proc = start_and_wait_until_working(line, out, command)
    proc.kill()
    proc.communicate(timeout=60)
    after = [(name, data) for name, data in state(out) if ".partial" not in name]
    assert after == before, "the user's files intact, no output in sight (a hidden staging folder may remain)"
    if command in ("stylize", "report"):
        return  # they stage one file at the very end: nothing was staged yet
    partial = [p for p in out.parent.glob(".*.partial")]
    assert partial, "the killed call left its staging folder (the next call removes it)"
    from toolkit.outputs import Staging

    with Staging(out):  # the next call to the same --out
        assert not any(p.exists() for p in partial)
    assert not list(out.parent.glob(".*.partial"))
