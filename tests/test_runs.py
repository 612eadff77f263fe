"""The run directory, file by file: what the dashboard reads (MetricsTail's columns, progress and thinned
series, sample grids, the list of runs), where runs go by default, atomic writes, checkpoints of the old
format, and the writer's fresh/overwrite/resume rules.

Found by mutation testing: these were exercised by training runs, but nothing checked the numbers the
dashboard shows (images per second, seconds left), which points a chart keeps, or the order of runs."""

import argparse
import json
import os
import stat
from pathlib import Path

import pytest
import torch

from toolkit.dashboard import MetricsTail
from toolkit.errors import ToolkitError
from toolkit.files import atomic_write, parse_jsonl, read_jsonl
from toolkit.generate import load_nets
from toolkit.run_lock import lock_holder
from toolkit.runs import (
    Run,
    RunWriter,
    default_runs_root,
    iter_metric,
    list_runs,
    load_checkpoint,
    save_checkpoint,
)


def _rows(path, rows, torn: str = ""):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + torn)


# --- MetricsTail: what the dashboard's charts and progress bar read ----------------------------------------
def test_progress_is_rate_over_the_last_window_rows(tmp_path):
    # steps 0, 10, ..., 200; 4 s per row up to row 10, then 2 s: the window decides the rate
    rows = [{"step": 10 * i, "time": 4.0 * i if i <= 10 else 40.0 + 2.0 * (i - 10)} for i in range(21)]
    _rows(tmp_path / "m.jsonl", rows)
    tail = MetricsTail(tmp_path / "m.jsonl").refresh()
    p = tail.progress(total_steps=500, batch_size=8, window=10)
    # rows 10..20: steps 100 -> 200 in 40 -> 60 s: 5 steps/s, 40 images/s, 300 steps left = 60 s
    assert p == {"step": 200, "total": 500, "images_per_s": 40.0, "seconds_left": 60.0}
    assert tail.progress(500, 8) == p  # window 10 is the default
    assert tail.progress(500, 8, window=11)["images_per_s"] == pytest.approx(110 / 24 * 8)  # rows 9..20
    whole = tail.progress(500, 8, window=100)  # fewer rows than the window: from the first row
    assert whole["images_per_s"] == pytest.approx(200 / 60 * 8)
    assert tail.progress(150, 8)["seconds_left"] == 0.0  # past the total: never negative
    assert tail.progress(500, 8, window=1)["images_per_s"] == pytest.approx(10 / 2 * 8)
    _rows(tmp_path / "slow.jsonl", [{"step": 5, "time": 0.0}, {"step": 6, "time": 4.0}])  # 0.25 steps/s
    assert MetricsTail(tmp_path / "slow.jsonl").refresh().progress(10, 1)["seconds_left"] == 16.0


def test_progress_before_two_rows_and_when_time_stands_still(tmp_path):
    empty = MetricsTail(tmp_path / "none.jsonl").refresh()
    assert empty.progress(100, 8) == {"step": 0, "total": 100, "images_per_s": None, "seconds_left": None}
    _rows(tmp_path / "one.jsonl", [{"step": 5, "time": 1.0}])
    assert MetricsTail(tmp_path / "one.jsonl").refresh().progress(100, 8)["step"] == 5
    _rows(tmp_path / "same.jsonl", [{"step": 5, "time": 1.0}, {"step": 6, "time": 1.0}])
    same = MetricsTail(tmp_path / "same.jsonl").refresh().progress(100, 8)
    assert same["images_per_s"] is None and same["seconds_left"] is None  # no division by zero
    _rows(tmp_path / "back.jsonl", [{"step": 5, "time": 1.0}, {"step": 5, "time": 2.0}])
    stalled = MetricsTail(tmp_path / "back.jsonl").refresh().progress(100, 8)
    assert stalled["images_per_s"] == 0.0 and stalled["seconds_left"] is None  # no progress: no estimate


def test_series_keeps_every_point_up_to_the_limit_then_thins_evenly_keeping_the_last(tmp_path):
    _rows(tmp_path / "m.jsonl", [{"step": s, "time": float(s), "loss": s / 10} for s in range(10)])
    tail = MetricsTail(tmp_path / "m.jsonl").refresh()
    assert tail.series("loss", max_points=10) == (list(range(10)), [s / 10 for s in range(10)])
    assert tail.series("loss", max_points=5)[0] == [0, 2, 4, 6, 8, 9]  # stride 2, and the latest point
    assert tail.series("loss", max_points=4)[0] == [0, 3, 6, 9]  # stride 3 ends on the latest already
    assert tail.series("loss", max_points=3)[0] == [0, 4, 8, 9]  # stride ceil(10 / 3) = 4
    assert tail.series("loss", max_points=3)[1] == [0.0, 0.4, 0.8, 0.9]
    assert tail.series("loss")[0] == list(range(10))
    assert tail.series("missing") == ([], [])
    _rows(tmp_path / "long.jsonl", [{"step": s, "time": float(s), "loss": 0.0} for s in range(2001)])
    steps, _ = MetricsTail(tmp_path / "long.jsonl").refresh().series("loss")  # default limit: 2,000 points
    assert len(steps) == 1001 and steps[-1] == 2000


def test_refresh_reads_only_new_complete_lines_and_starts_over_on_a_new_file(tmp_path):
    path = tmp_path / "m.jsonl"
    _rows(
        path, [{"step": 1, "time": 0.5, "loss": 2.0, "partial": False, "note": "x"}], torn='{"step": 2, "ti'
    )
    tail = MetricsTail(path)
    assert (tail.columns, tail.count, tail.last, list(tail.recent)) == ({}, 0, {}, [])
    tail.refresh()
    # numbers become columns, except the step itself and booleans; the torn line waits
    assert set(tail.columns) == {"time", "loss"} and tail.columns["loss"] == ([1], [2.0])
    assert tail.count == 1 and tail.last["note"] == "x" and len(tail.recent) == 1
    with open(path, "a") as f:
        f.write('me": 1.0, "loss": 3.0}\n{"step": 3, "time": 2.0}\n["not", "a", "row"]\n{"loss": 9}\n')
    tail.refresh()
    assert tail.columns["loss"] == ([1, 2], [2.0, 3.0]) and tail.columns["time"][0] == [1, 2, 3]
    assert tail.count == 3 and tail.last == {"step": 3, "time": 2.0}
    tail.refresh()
    assert tail.count == 3  # nothing new: nothing read twice
    tmp = tmp_path / "new.jsonl"  # a resume replaces the file atomically: read from the start
    _rows(tmp, [{"step": 1, "time": 0.1, "loss": 7.0}])
    os.replace(tmp, path)
    tail.refresh()
    assert tail.count == 1 and tail.columns == {"time": ([1], [0.1]), "loss": ([1], [7.0])}
    assert list(tail.recent) == [{"step": 1, "time": 0.1, "loss": 7.0}]
    path.unlink()
    tail.refresh()
    assert tail.count == 0 and tail.columns == {} and tail.last == {}


def test_recent_keeps_the_last_50_rows(tmp_path):
    _rows(tmp_path / "m.jsonl", [{"step": s, "time": float(s)} for s in range(60)])
    tail = MetricsTail(tmp_path / "m.jsonl").refresh()
    assert [r["step"] for r in tail.recent] == list(range(10, 60)) and tail.count == 60


# --- reading rows ------------------------------------------------------------------------------------------
def test_parse_and_read_jsonl_skip_what_is_not_a_complete_numeric_row(tmp_path):
    data = (
        b'{"step": 1, "time": 2}\n\xff\xfe\n{"step": "3", "time": 1}\n[1]\n{bad\n{"step": 4, "time": 1.5}\n'
    )
    assert parse_jsonl(data, require=("step", "time")) == [{"step": 1, "time": 2}, {"step": 4, "time": 1.5}]
    assert len(parse_jsonl(data)) == 3  # without require: every JSON object
    (tmp_path / "m.jsonl").write_bytes(data + b'{"step": 5, "time"')
    assert [r["step"] for r in read_jsonl(tmp_path / "m.jsonl", ("step", "time"))] == [1, 4]
    assert read_jsonl(tmp_path / "missing.jsonl") == [] and read_jsonl(tmp_path) == []


def test_iter_metric_skips_rows_without_the_key_or_with_none():
    rows = [{"step": 1, "fid": 3.0}, {"step": 2}, {"step": 3, "fid": None}, {"step": 4, "fid": 0.0}]
    assert list(iter_metric(rows, "fid")) == [(1, 3.0), (4, 0.0)]


# --- the run directory -------------------------------------------------------------------------------------
def test_sample_grids_sorted_by_step_and_grid_at_picks_the_latest_not_after(tmp_path):
    run = Run(tmp_path)
    assert run.sample_grids() == [] and run.grid_at(100) is None
    (tmp_path / "samples").mkdir()
    for name in (
        "step_000100.png",
        "step_000020.png",
        "step_1000.png",
        "step_x.png",
        "other.png",
        "step.png",
    ):
        (tmp_path / "samples" / name).write_bytes(b"")
    assert [s for s, _ in run.sample_grids()] == [20, 100, 1000]
    assert run.grid_at(99) == (20, tmp_path / "samples" / "step_000020.png")
    assert run.grid_at(100)[0] == 100 and run.grid_at(5000)[0] == 1000 and run.grid_at(19) is None


def test_list_runs_newest_first_one_level_deep_and_jobs_without_config(tmp_path):
    def touch(rel, when):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
        os.utime(tmp_path / rel, (when, when))

    touch("old/config.json", 1000)
    touch("group/new/config.json", 3000)
    touch("starting/job.json", 2000)
    touch("both/config.json", 500)
    touch("both/job.json", 2500)  # the newer of its two files counts
    touch("a/b/c/config.json", 4000)  # two levels deep: not a run of this root
    (tmp_path / "empty").mkdir()
    assert [r.name for r in list_runs(tmp_path)] == ["new", "both", "starting", "old"]
    assert list_runs(tmp_path / "missing") == []


def test_default_runs_root_env_then_checkout_then_here(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", "~/my-runs")
    assert default_runs_root() == Path("~/my-runs").expanduser()
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", "")
    checkout = tmp_path / "project"
    (checkout / "toolkit").mkdir(parents=True)
    (checkout / "toolkit" / "__init__.py").write_text("")
    (checkout / "pyproject.toml").write_text("")
    (checkout / "lessons").mkdir()
    monkeypatch.chdir(checkout / "lessons")
    assert default_runs_root() == checkout.resolve() / "runs"  # found by walking up
    monkeypatch.chdir(checkout)
    assert default_runs_root() == checkout.resolve() / "runs"
    (tmp_path / "half" / "toolkit").mkdir(parents=True)  # a toolkit/ folder alone is not a checkout
    (tmp_path / "half" / "toolkit" / "__init__.py").write_text("")
    (tmp_path / "half" / "here").mkdir()
    monkeypatch.chdir(tmp_path / "half" / "here")
    assert default_runs_root() == (tmp_path / "half" / "here").resolve() / "runs"
    (tmp_path / "half" / "pyproject.toml").write_text("")  # nor a pyproject.toml alone
    (tmp_path / "half" / "toolkit" / "__init__.py").unlink()
    assert default_runs_root() == (tmp_path / "half" / "here").resolve() / "runs"


# --- writing -----------------------------------------------------------------------------------------------
def test_atomic_write_is_readable_by_others_and_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "deeper" / "file.txt"
    atomic_write(target, lambda f: f.write(b"one"))
    assert target.read_bytes() == b"one" and stat.S_IMODE(target.stat().st_mode) == 0o644

    def fails(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, fails)
    assert target.read_bytes() == b"one" and [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_checkpoints_of_the_first_format_load_in_todays_format(tmp_path):
    old = {
        "step": 7,
        "G": {"w": torch.ones(1)},
        "D": {"w": torch.zeros(1)},
        "G_ema": {"w": torch.full((1,), 2.0)},
        "opt_g": {"state": {}},
        "opt_d": {"state": {1: 1}},
        "augment": {"p": torch.tensor(0.5)},
        "sampler": {"epoch": 3},
        "rng_cpu": torch.zeros(3, dtype=torch.uint8),
        "rng_cuda": [torch.ones(2, dtype=torch.uint8)],
        "log_sums": {},
        "log_count": 2,
        "elapsed": 1.5,
        "config": {"model": "dcgan"},
    }
    torch.save(old, tmp_path / "old.pt")
    state = load_checkpoint(tmp_path / "old.pt")
    assert state["format"] == 2 and state["family"] == "gan" and state["step"] == 7
    assert state["nets"]["G"]["w"].item() == 1.0 and state["nets"]["D"]["w"].item() == 0.0
    assert state["ema"]["G"]["w"].item() == 2.0
    assert state["optimizers"] == {"G": {"state": {}}, "D": {"state": {1: 1}}}
    assert state["family_state"]["augment"]["p"].item() == 0.5 and state["batches"] == {"epoch": 3}
    assert (state["log_count"], state["elapsed"], state["config"]) == (2, 1.5, {"model": "dcgan"})
    assert state["rng_cuda"][0].tolist() == [1, 1] and "G" not in state
    bare = {"G": {}, "D": {}, "G_ema": None, "config": {}}  # no EMA, no optimizers, no sampler
    torch.save(bare, tmp_path / "bare.pt")
    state = load_checkpoint(tmp_path / "bare.pt")
    assert state["ema"] == {} and state["optimizers"] == {} and state["batches"] == {}
    assert state["family_state"] == {"augment": None}


def test_checkpoint_errors_name_the_file(tmp_path):
    with pytest.raises(ToolkitError, match=r"^checkpoint .*nope.pt does not exist$"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ToolkitError, match=r"cannot load checkpoint .*text.pt \(.*\); it is damaged"):
        load_checkpoint(tmp_path / "text.pt")
    torch.save({"nets": {}}, tmp_path / "noconfig.pt")
    with pytest.raises(ToolkitError, match=r"noconfig.pt is not a toolkit checkpoint"):
        load_checkpoint(tmp_path / "noconfig.pt")
    torch.save({"nets": {}, "config": {}, "code": argparse.Namespace(a=1)}, tmp_path / "pickle.pt")
    with pytest.raises(
        ToolkitError, match=r"cannot load checkpoint .*pickle.pt \(UnpicklingError\); it is damaged"
    ):
        load_checkpoint(tmp_path / "pickle.pt")  # only tensors and plain containers: never code
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ToolkitError, match=r"list.pt is not a toolkit checkpoint"):
        load_checkpoint(tmp_path / "list.pt")
    (tmp_path / "dir.pt").mkdir()
    with pytest.raises(
        ToolkitError, match=r"could not write the checkpoint .*dir.pt .*the previous checkpoint is kept"
    ):
        save_checkpoint(tmp_path / "dir.pt", {"nets": {}})
    run = Run(tmp_path / "missing")
    with pytest.raises(ToolkitError, match=r"^run directory .*missing does not exist$"):
        run.load_checkpoint()
    with pytest.raises(
        ToolkitError, match=r"has no checkpoint yet \(checkpoints/last.pt\); wait for .* or train longer$"
    ):
        Run(tmp_path).load_checkpoint()


def test_fresh_writer_refuses_an_earlier_run_and_overwrite_clears_exactly_its_files(tmp_path):
    (tmp_path / "samples").mkdir()
    (tmp_path / "checkpoints").mkdir()
    for rel in ("metrics.jsonl", "events.jsonl", "checkpoints/last.pt", "samples/step_000010.png"):
        (tmp_path / rel).write_text("x")
    (tmp_path / "notes.md").write_text("mine")
    (tmp_path / ".metrics.jsonl.abc.tmp").write_text("half")  # left by a killed writer
    with pytest.raises(ToolkitError) as refused:
        RunWriter(tmp_path, fresh=True)
    assert str(refused.value) == (
        f"{tmp_path} holds files of an earlier run (metrics.jsonl, events.jsonl, checkpoints/last.pt, "
        "1 sample grids); choose a new --run-dir, or add --overwrite to replace them"
    )
    assert lock_holder(tmp_path) is None  # a refused writer lets go of the lock
    writer = RunWriter(tmp_path, fresh=True, overwrite=True)
    try:
        assert lock_holder(tmp_path) == os.getpid()
        left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
        assert left == [".lock", "notes.md"]  # the earlier run's files and the stale temp file are gone
        writer.write_config({"b": 1, "a": [2]})
        assert (tmp_path / "config.json").read_text() == '{\n  "a": [\n    2\n  ],\n  "b": 1\n}\n'
        writer.event("started", step=0)
        event = json.loads((tmp_path / "events.jsonl").read_text())
        assert event["event"] == "started" and event["step"] == 0 and isinstance(event["wall_time"], float)
        assert writer.sample_path(42) == tmp_path / "samples" / "step_000042.png"
    finally:
        writer.close()
    assert lock_holder(tmp_path) is None


def test_truncate_metrics_on_resume_drops_later_and_partial_rows(tmp_path):
    writer = RunWriter(tmp_path)
    try:
        for row in (
            {"step": 10, "time": 1},
            {"step": 15, "time": 2, "partial": True},
            {"step": 20, "time": 3},
        ):
            writer.log(row)
        writer.truncate_metrics(last_step=15)
        assert [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [10]
        writer.log({"step": 20, "time": 4})  # logging reopens the file after the truncation
        assert [r["time"] for r in Run(tmp_path).metrics()] == [1, 4]
    finally:
        writer.close()


def test_run_config_errors_are_one_line(tmp_path):
    with pytest.raises(ToolkitError, match=r"is not a run directory \(no config.json\)"):
        Run(tmp_path).config()
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(ToolkitError, match=r"config.json is not valid JSON"):
        Run(tmp_path).config()
    assert Run(tmp_path).exists() and not Run(tmp_path / "x").exists() and Run(tmp_path).name == tmp_path.name
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(ToolkitError, match=r"config.json holds a list, not the run's settings$"):
        Run(tmp_path).config()


# --- rebuilding a run's nets ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from toolkit.training import TrainConfig, Trainer

    run_dir = tmp_path_factory.mktemp("run")
    config = TrainConfig.for_model(
        "dcgan", data="digits", steps=3, batch_size=8, width=4, z_dim=8, ema=0.5, grid_size=4, threads=1
    )
    Trainer(config, run_dir=run_dir, progress=False).fit()
    return run_dir


def test_load_nets_takes_the_ema_weights_by_default_in_eval_mode(trained):
    state = torch.load(trained / "checkpoints" / "last.pt", weights_only=True)
    nets, config, family_state = load_nets(trained)
    assert set(nets) == {"G", "D"} and not any(net.training for net in nets.values())
    for k, v in state["ema"]["G"].items():
        assert torch.equal(nets["G"].state_dict()[k], v), k
    for k, v in state["nets"]["D"].items():  # D has no EMA copy: its own weights
        assert torch.equal(nets["D"].state_dict()[k], v), k
    assert config["checkpoint_step"] == 3 and config["model"] == "dcgan"
    assert family_state == state["family_state"]
    raw, _, _ = load_nets(trained, use_ema=False)
    assert any(not torch.equal(raw["G"].state_dict()[k], v) for k, v in state["ema"]["G"].items())
    for k, v in state["nets"]["G"].items():
        assert torch.equal(raw["G"].state_dict()[k], v), k


def test_load_generator_samples_from_the_ema_generator(trained):
    from toolkit.generate import load_generator

    G, config = load_generator(trained)
    nets, _, _ = load_nets(trained)
    z = torch.randn(2, config["z_dim"])
    with torch.no_grad():
        assert torch.equal(G(z), nets["G"](z)) and next(G.parameters()).device.type == "cpu"
        raw, _ = load_generator(trained, use_ema=False)
        assert not torch.equal(raw(z), G(z))


def test_load_nets_errors_name_the_problem(trained, tmp_path):
    with pytest.raises(ToolkitError, match=r"^run directory .*nowhere does not exist$"):
        load_nets(tmp_path / "nowhere")
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "sample_shape"}))
    with pytest.raises(
        ToolkitError, match=r"config.json is not a toolkit run's config \(no model or sample_shape\)$"
    ):
        load_nets(copy)
    (copy / "config.json").write_text(json.dumps({**config, "width": 8}))
    with pytest.raises(
        ToolkitError, match=r"does not match its config.json \(model 'dcgan'\); was it copied from"
    ):
        load_nets(copy)


def test_a_sample_grid_has_the_asked_number_of_columns(tmp_path):
    from PIL import Image

    writer = RunWriter(tmp_path)
    try:
        writer.save_grid(3, torch.zeros(6, 1, 8, 8), nrow=3)
        writer.save_grid(4, torch.zeros(6, 1, 8, 8), nrow=2)
    finally:
        writer.close()
    wide, narrow = (Image.open(tmp_path / "samples" / f"step_00000{s}.png") for s in (3, 4))
    assert wide.size[0] > narrow.size[0] and wide.size[1] < narrow.size[1]


def test_lock_holder_without_proc_locks_trusts_a_live_pid(tmp_path, monkeypatch):
    import pathlib

    real_read_text = pathlib.Path.read_text

    def no_proc_locks(self, *args, **kwargs):
        if str(self) == "/proc/locks":
            raise OSError("no /proc here")
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", no_proc_locks)
    (tmp_path / ".lock").write_text(str(os.getpid()))
    assert lock_holder(tmp_path) == os.getpid()  # signal 0 only asks whether it exists
    (tmp_path / ".lock").write_text(str(2**22 + 1))
    assert lock_holder(tmp_path) is None
    (tmp_path / ".lock").write_text("not a pid")
    assert lock_holder(tmp_path) is None


def test_atomic_write_uses_a_hidden_temporary_file_beside_the_target(tmp_path):
    target = tmp_path / "two" / "levels" / "metrics.jsonl"
    seen = []

    def write(f):
        seen.extend(p.name for p in target.parent.iterdir())
        f.write(b"x")

    atomic_write(target, write)
    assert len(seen) == 1 and seen[0].startswith(".metrics.jsonl.") and seen[0].endswith(".tmp")
    assert [p.name for p in target.parent.iterdir()] == ["metrics.jsonl"]


def test_a_second_process_holding_the_lock_is_named_by_its_pid(tmp_path):
    import subprocess
    import sys

    holder = (
        "import fcntl, os, sys, time; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); "
        "f.write(sys.argv[2].replace('PID', str(os.getpid()))); f.flush(); print('locked', flush=True); "
        "time.sleep(60)"
    )
    for text, shown in (("PID", None), ("", "unknown")):
        (tmp_path / ".lock").unlink(missing_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-c", holder, str(tmp_path / ".lock"), text], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout.readline() == "locked\n"
            with pytest.raises(ToolkitError) as refused:
                RunWriter(tmp_path)
            assert str(refused.value) == (
                f"another process (pid {shown or proc.pid}) is training in {tmp_path}; wait for it to finish "
                "or stop it, or choose another --run-dir"
            )
            assert lock_holder(tmp_path) == (proc.pid if text else None)  # no pid written: none can be named
        finally:
            proc.kill()
            proc.wait()
    RunWriter(tmp_path).close()  # the killed holder's lock went with it


def test_check_writable_makes_the_folders_or_says_why_not(tmp_path):
    from toolkit.runs import check_writable

    assert check_writable(tmp_path / "a" / "b") == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []  # the probe is removed
    (tmp_path / "file").write_text("x")
    with pytest.raises(ToolkitError) as error:
        check_writable(tmp_path / "file" / "run")
    assert str(error.value) == (
        f"cannot write to run directory {tmp_path / 'file' / 'run'} (Not a directory); "
        "choose another --run-dir"
    )


@pytest.mark.parametrize("earlier", [["metrics.jsonl"], ["samples/step_000002.png"]])
def test_fresh_refuses_any_one_file_of_an_earlier_run(tmp_path, earlier):
    for rel in earlier:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    with pytest.raises(ToolkitError) as refused:
        RunWriter(tmp_path, fresh=True)
    found = "metrics.jsonl" if earlier == ["metrics.jsonl"] else "1 sample grids"
    assert f"holds files of an earlier run ({found}); choose" in str(refused.value)
    RunWriter(tmp_path).close()  # not fresh (a resume): the earlier files are the run's own


def test_a_writer_removes_half_written_files_of_a_killed_writer_everywhere(tmp_path):
    for rel in ("checkpoints/.last.pt.x1.tmp", "samples/.step_000004.png.x2.tmp", ".config.json.x3.tmp"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("half")
    (tmp_path / "checkpoints" / "last.pt").write_text("whole")
    RunWriter(tmp_path).close()
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == [".lock", "checkpoints/last.pt"]


def test_rows_without_a_step_survive_truncation_and_rows_without_time_are_not_metrics(tmp_path):
    writer = RunWriter(tmp_path)
    try:
        writer.log({"note": "no step"})
        writer.log({"step": 2})
        writer.log({"step": 3, "time": 1.0})
        writer.truncate_metrics(last_step=5)
    finally:
        writer.close()
    assert [r.get("step") for r in read_jsonl(tmp_path / "metrics.jsonl")] == [None, 2, 3]
    assert Run(tmp_path).metrics() == [{"step": 3, "time": 1.0}]
