"""Background jobs without training anything: the command a job runs, its states read from job.json, /proc
and events.jsonl, pause/resume/stop as real signals to a stand-in process, and steering's control.json.

A stand-in is ``python -c "sleep" toolkit train``: its command line names toolkit and train, which is what
the dashboard checks before it signals a pid, and it starts in milliseconds instead of importing torch.
Found by mutation testing: the dashboard tests drive jobs through Streamlit, too slow to run per mutant."""

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import wait_for

from toolkit import jobs
from toolkit.errors import ToolkitError
from toolkit.runs import Run, RunWriter


def _until(check):
    """Signals and process states settle in milliseconds: poll often, give up after 10 s."""
    return wait_for(check, timeout=10.0, interval=0.02)


@pytest.fixture
def stand_in(tmp_path):
    """A process that looks like a training job, recorded in job.json as start_job would."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "toolkit", "train"])
    assert _until(lambda: jobs._start_time(proc.pid) is not None)
    job = {"pid": proc.pid, "start_time": jobs._start_time(proc.pid), "command": ["..."]}
    (tmp_path / "job.json").write_text(json.dumps(job))
    yield proc
    proc.kill()
    proc.wait()


def test_train_command_is_this_python_with_one_thread_and_no_progress_bar(tmp_path):
    assert jobs.train_command(tmp_path, ["--steps", "5"]) == [
        sys.executable,
        "-m",
        "toolkit",
        "train",
        "--run-dir",
        str(tmp_path),
        "--threads",
        "1",
        "--no-progress",
        "--steps",
        "5",
    ]
    assert jobs.train_command(tmp_path, threads=2)[6:] == ["--threads", "2", "--no-progress"]


def test_states_from_events_when_no_process_is_there(tmp_path):
    assert jobs.job_state(tmp_path) == "idle"
    (tmp_path / "job.json").write_text(json.dumps({"pid": 2**22 + 1, "start_time": "1"}))  # no such process
    assert jobs.job_state(tmp_path) == "crashed"  # started, never finished
    for last in ("finished", "stopped", "diverged"):
        (tmp_path / "events.jsonl").write_text(
            json.dumps({"event": "started"}) + "\n" + json.dumps({"event": last}) + "\n"
        )
        assert jobs.job_state(tmp_path) == last
    (tmp_path / "job.json").unlink()
    (tmp_path / "events.jsonl").write_text(json.dumps({"event": "started"}) + "\n")
    assert jobs.job_state(tmp_path) == "crashed"  # a run started from the command line that died
    with pytest.raises(ToolkitError, match=r"^no job is running in "):
        jobs.stop_job(tmp_path)


def test_pause_resume_and_stop_signal_the_job(tmp_path, stand_in):
    assert _until(lambda: jobs.training_pid(tmp_path) == stand_in.pid)  # once the child has exec'd
    assert jobs.job_state(tmp_path) == "running"
    with pytest.raises(ToolkitError, match="a job is already running in .*; stop it first"):
        jobs.start_job(tmp_path, ["--steps", "1"])
    jobs.pause_job(tmp_path)
    assert _until(lambda: jobs.job_state(tmp_path) == "paused")
    with pytest.raises(ToolkitError, match="a job is already running in .*; stop it first"):
        jobs.start_job(tmp_path, ["--steps", "1"])  # a paused job still holds its run directory
    jobs.resume_job(tmp_path)
    assert _until(lambda: jobs.job_state(tmp_path) == "running")
    jobs.pause_job(tmp_path)
    assert _until(lambda: jobs.job_state(tmp_path) == "paused")
    jobs.stop_job(tmp_path)  # a paused job is continued first, else SIGTERM would wait for ever
    assert stand_in.wait(timeout=10) == -signal.SIGTERM
    assert jobs.training_pid(tmp_path) is None and jobs.job_state(tmp_path) == "crashed"  # no events written


def test_job_json_is_not_trusted_for_another_process(tmp_path, stand_in):
    job = json.loads((tmp_path / "job.json").read_text())
    (tmp_path / "job.json").write_text(
        json.dumps({**job, "start_time": "1"})
    )  # a reused pid: other start time
    assert jobs.training_pid(tmp_path) is None
    (tmp_path / "job.json").write_text(
        json.dumps({"pid": os.getpid(), "start_time": jobs._start_time(os.getpid())})
    )
    assert jobs.training_pid(tmp_path) is None  # alive and started then, but not a toolkit training process
    for broken in ("{", json.dumps({"pid": "x"}), json.dumps({"start_time": "1"}), json.dumps([1])):
        (tmp_path / "job.json").write_text(broken)
        assert jobs.training_pid(tmp_path) is None
    with pytest.raises(ToolkitError, match="no job is running"):
        jobs.pause_job(tmp_path)


def test_a_run_started_from_the_command_line_is_found_through_its_lock(tmp_path, monkeypatch):
    writer = RunWriter(tmp_path)
    try:
        assert (
            jobs.training_pid(tmp_path) is None
        )  # this process holds the lock, but it is not `toolkit train`
        monkeypatch.setattr(jobs, "_is_toolkit_training", lambda pid: pid == os.getpid())
        assert jobs.training_pid(tmp_path) == os.getpid() and jobs.job_state(tmp_path) == "running"
    finally:
        writer.close()
    assert jobs.training_pid(tmp_path) is None


def test_process_state_and_start_time_from_proc():
    assert jobs._process_state(os.getpid()) in ("R", "S")
    assert jobs._start_time(os.getpid()) == jobs._stat(os.getpid())[19]
    assert jobs._process_state(2**22 + 1) is None and jobs._start_time(2**22 + 1) is None
    assert not jobs._is_toolkit_training(os.getpid())


def _run_dir(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": "dcgan", "data": "digits", "lr_g": 2e-4}))
    return tmp_path


def test_steer_writes_control_json_after_checking_names_and_values(tmp_path):
    run_dir = _run_dir(tmp_path)
    jobs.steer(run_dir, lr_g=1e-3, ada_target=0.7)
    assert json.loads((run_dir / "control.json").read_text()) == {"lr_g": 1e-3, "ada_target": 0.7}
    with pytest.raises(
        ToolkitError, match=r"^cannot change z_dim during a run; only lr_g, lr_d, ada_target$"
    ):
        jobs.steer(run_dir, z_dim=4)
    with pytest.raises(ToolkitError, match="lr"):
        jobs.steer(run_dir, lr_g=0.0)
    assert json.loads((run_dir / "control.json").read_text()) == {
        "lr_g": 1e-3,
        "ada_target": 0.7,
    }  # unchanged


class _World:
    is_main, distributed = True, False


class _Trainer:
    """What Steering uses of a Trainer: its world, step, writer and steer()."""

    def __init__(self, run_dir, refuse=False):
        self.world, self.step, self.refuse, self.applied = _World(), 7, refuse, []
        self.writer = RunWriter(run_dir)

    def steer(self, **settings):
        if self.refuse:
            raise ToolkitError("lr_g must be > 0")
        self.applied.append(settings)
        return settings


def _write_control(run_dir, text):
    before = (run_dir / "control.json").stat().st_mtime_ns if (run_dir / "control.json").exists() else 0
    (run_dir / "control.json").write_text(text)
    if (run_dir / "control.json").stat().st_mtime_ns == before:  # a coarse clock: make the change visible
        os.utime(run_dir / "control.json", ns=(before + 1_000_000, before + 1_000_000))


def test_steering_applies_a_new_control_file_once_and_records_what_it_rejects(tmp_path):
    (tmp_path / "control.json").write_text('{"lr_g": 0.5}')  # there before the run started: not new
    steering = jobs.Steering(tmp_path)
    trainer = _Trainer(tmp_path)
    try:
        row = {"step": 7}
        steering.on_log(trainer, row)
        assert trainer.applied == [] and row == {"step": 7}
        _write_control(tmp_path, '{"lr_g": 0.001}')
        steering.on_log(trainer, row)
        assert trainer.applied == [{"lr_g": 0.001}] and row == {"step": 7, "lr_g": 0.001}  # shown in the row
        steering.on_log(trainer, {"step": 8})
        assert len(trainer.applied) == 1  # the same file is applied once
        for bad, reason in (("{broken", "Expecting"), ("[1, 2]", "must hold a JSON object of settings")):
            _write_control(tmp_path, bad)
            steering.on_log(trainer, {"step": 9})
            event = Run(tmp_path).events()[-1]
            assert event["event"] == "rejected" and event["step"] == 7 and reason in event["reason"]
        trainer.refuse = True
        _write_control(tmp_path, '{"lr_g": -1}')
        steering.on_log(trainer, {"step": 10})
        assert Run(tmp_path).events()[-1]["reason"] == "lr_g must be > 0" and len(trainer.applied) == 1
        (tmp_path / "control.json").unlink()
        steering.on_log(trainer, {"step": 11})  # a removed file: nothing to do
        assert len(Run(tmp_path).events()) == 3
    finally:
        trainer.writer.close()
    fresh = jobs.Steering(tmp_path / "elsewhere")
    assert fresh._read() is None


def test_start_job_runs_the_command_in_its_own_session_logging_to_train_log(tmp_path, monkeypatch):
    script = (
        "import sys, time; print('out', repr(sys.stdin.read()), flush=True); print('err', file=sys.stderr); "
        "time.sleep(60)"
    )
    monkeypatch.setattr(
        jobs,
        "train_command",
        lambda run_dir, args: [sys.executable, "-c", script, "toolkit", "train", str(run_dir), *args],
    )
    run_dir = tmp_path / "new" / "run"  # created, parents too
    run_dir.mkdir(parents=True)
    (run_dir / "train.log").write_text("an earlier job's output\n")
    pid = jobs.start_job(run_dir, ["--steps", "3"])
    try:
        job = json.loads((run_dir / "job.json").read_text())
        assert job == {
            "pid": pid,
            "start_time": jobs._start_time(pid),
            "command": [sys.executable, "-c", script, "toolkit", "train", str(run_dir), "--steps", "3"],
        }
        assert os.getsid(pid) == pid  # its own session: closing the dashboard does not stop it
        assert jobs.job_state(run_dir) == "running"
        log = run_dir / "train.log"
        assert _until(lambda: "err" in log.read_text())
        # appended to, stdout and stderr together, and stdin is empty (never waits for a keyboard)
        assert log.read_text().splitlines() == ["an earlier job's output", "out ''", "err"]
    finally:
        jobs.stop_job(run_dir)
    # stopped before it wrote any event; job_state reaps our exited child, so no zombie is left
    assert _until(lambda: jobs.job_state(run_dir) == "crashed" and not os.path.exists(f"/proc/{pid}"))
    fresh = tmp_path / "fresh" / "deeper"
    pid = jobs.start_job(fresh, [])  # a run directory that does not exist yet
    jobs.stop_job(fresh)
    assert _until(lambda: jobs.job_state(fresh) == "crashed")


def test_a_process_named_train_alone_is_not_a_toolkit_job(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "train"])
    try:
        assert _until(lambda: jobs._start_time(proc.pid) is not None)
        (tmp_path / "job.json").write_text(
            json.dumps({"pid": proc.pid, "start_time": jobs._start_time(proc.pid)})
        )
        assert not jobs._is_toolkit_training(proc.pid) and jobs.training_pid(tmp_path) is None
    finally:
        proc.kill()
        proc.wait()


def test_without_proc_a_live_pid_is_only_probed_never_signalled(tmp_path, stand_in, monkeypatch):
    monkeypatch.setattr(jobs, "_stat", lambda pid: None)  # as on macOS: no /proc/PID/stat
    assert jobs._process_state(stand_in.pid) == "R"  # alive, state unknown
    assert jobs._job_pid(tmp_path) is None  # /proc exists here, so a pid without a start time is gone
    assert stand_in.poll() is None  # probing sent signal 0: the process is untouched
    assert jobs._process_state(2**22 + 1) is None


def test_steering_on_other_ranks_waits_for_rank_0_and_long_reasons_are_cut(tmp_path):
    steering = jobs.Steering(tmp_path)
    trainer = _Trainer(tmp_path)
    try:
        trainer.world = type("Rank1", (), {"is_main": False, "distributed": False})()
        _write_control(tmp_path, '{"lr_g": 0.001}')
        steering.on_log(trainer, {"step": 1})
        assert trainer.applied == []  # only rank 0 reads the file (and would broadcast it)
        trainer.world = _World()
        trainer.refuse = True
        trainer.steer = lambda **settings: (_ for _ in ()).throw(ToolkitError("x" * 300))
        steering.on_log(trainer, {"step": 2})
        assert Run(tmp_path).events()[-1]["reason"] == "x" * 200
    finally:
        trainer.writer.close()
    with pytest.raises(ToolkitError, match=r"^cannot change width, z_dim during a run; only lr_g"):
        jobs.steer(_run_dir(tmp_path), width=2, z_dim=4)


def test_pause_writes_when_it_began_once_and_the_clock_leaves_the_pause_out(tmp_path, stand_in, monkeypatch):
    assert _until(lambda: jobs.training_pid(tmp_path) == stand_in.pid)
    monkeypatch.setattr(jobs.time, "time", lambda: 1000.0)
    jobs.pause_job(tmp_path)
    assert json.loads((tmp_path / "paused.json").read_text()) == {"since": 1000.0}
    assert _until(lambda: jobs.job_state(tmp_path) == "paused")
    monkeypatch.setattr(jobs.time, "time", lambda: 2000.0)
    jobs.pause_job(tmp_path)  # already paused: the pause still began at 1000
    assert json.loads((tmp_path / "paused.json").read_text()) == {"since": 1000.0}
    jobs.resume_job(tmp_path)
    (tmp_path / "paused.json").unlink()

    previous = signal.getsignal(signal.SIGCONT)
    try:
        (tmp_path / "paused.json").write_text('{"since": 1.0}')
        clock = jobs.PauseClock(tmp_path)  # a file left by a job killed while paused is not this pause
        assert not (tmp_path / "paused.json").exists() and clock.frozen == 0.0
        assert signal.getsignal(signal.SIGCONT) == clock._continued
        monkeypatch.setattr(jobs.time, "time", lambda: 1012.5)
        (tmp_path / "paused.json").write_text('{"since": 1000.0}')
        clock._continued()
        assert clock.frozen == 12.5 and not (tmp_path / "paused.json").exists()
        clock._continued()  # continued with no recorded pause (kill -STOP elsewhere): nothing taken out
        (tmp_path / "paused.json").write_text("{torn")
        clock._continued()
        assert clock.frozen == 12.5
        monkeypatch.setattr(jobs.time, "perf_counter", lambda: 100.0)
        assert clock() == 87.5
    finally:
        signal.signal(signal.SIGCONT, previous)


def test_delete_and_rename_a_run_only_when_no_job_trains_in_it(tmp_path, stand_in):
    run = tmp_path  # the stand-in's job.json is here
    assert _until(lambda: jobs.training_pid(run) == stand_in.pid)
    with pytest.raises(ToolkitError, match=f"^a job is training in {run}; stop it first$"):
        jobs.delete_run(run)
    with pytest.raises(ToolkitError, match=f"^a job is training in {run}; stop it first$"):
        jobs.rename_run(run, "other")
    failed = tmp_path / "runs" / "my-cgan"
    failed.mkdir(parents=True)
    (failed / "job.json").write_text(json.dumps({"pid": 2**22 + 1, "start_time": "1"}))
    (failed / "train.log").write_text("error: cannot read image ...")
    (tmp_path / "runs" / "taken").mkdir()
    with pytest.raises(ToolkitError, match="taken exists already; choose another name$"):
        jobs.rename_run(failed, "taken")
    with pytest.raises(ToolkitError, match="^'a/b' is not a run name"):
        jobs.rename_run(failed, "a/b")
    renamed = jobs.rename_run(failed, "my-cgan-2")
    assert renamed == tmp_path / "runs" / "my-cgan-2" and (renamed / "train.log").exists()
    assert not failed.exists()
    jobs.delete_run(renamed)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["taken"]  # nothing left aside
    with pytest.raises(ToolkitError, match="is not a run directory .*; left as it is$"):
        jobs.delete_run(tmp_path / "runs" / "taken")
    assert (tmp_path / "runs" / "taken").is_dir()
