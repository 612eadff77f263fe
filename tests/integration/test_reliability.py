"""Faults and bad input from the reliability issue: nothing a user made is deleted without --overwrite, two
processes never train into one run directory, steering takes only sane values."""

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CHILD_ENV, TINY, start_training, wait_for

from toolkit import jobs
from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.runs import Run

TINY = [*TINY, "--threads", "1"]
ENV = CHILD_ENV


def earlier_run_without_checkpoint(run):
    """What a run leaves before its first checkpoint: metrics, events, a grid."""
    (run / "samples").mkdir(parents=True)
    (run / "metrics.jsonl").write_text('{"step": 5, "time": 1.0, "loss_d": 1.0}\n')
    (run / "events.jsonl").write_text('{"event": "started", "step": 0}\n')
    (run / "samples" / "step_000005.png").write_bytes(b"png")
    return sorted(p.name for p in run.rglob("*"))


def test_a_failed_command_deletes_nothing_and_replacing_needs_overwrite(tmp_path, capsys):
    run = tmp_path / "r"
    before = earlier_run_without_checkpoint(run)
    assert main(["train", *TINY, "--data", "no-such-data", "--steps", "2", "--run-dir", str(run)]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert sorted(p.name for p in run.rglob("*")) == before  # bad input: nothing touched
    assert main(["train", *TINY, "--steps", "2", "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert (
        "holds files of an earlier run (metrics.jsonl, events.jsonl, 1 sample grids)" in err
        and "--overwrite" in err
    )
    assert (run / "metrics.jsonl").read_text().startswith('{"step": 5')  # still there
    assert main(["train", *TINY, "--steps", "2", "--run-dir", str(run), "--overwrite"]) == 0
    assert [r["step"] for r in Run(run).metrics()] == [2]


def test_a_second_writer_is_refused_with_the_holders_pid_and_a_killed_holder_leaves_no_stale_lock(
    tmp_path, capsys
):
    run = tmp_path / "r"
    first = start_training(
        *TINY, "--steps", "100000", "--log-every", "2", "--checkpoint-every", "4", "--run-dir", str(run)
    )
    try:
        deadline = time.time() + 90
        while time.time() < deadline and not Run(run).checkpoint_path():
            time.sleep(0.2)
        assert Run(run).checkpoint_path(), "the first run never wrote a checkpoint"
        rows_before = len(Run(run).metrics())
        assert main(["train", *TINY, "--steps", "50", "--resume", "--run-dir", str(run)]) == 2
        assert f"another process (pid {first.pid}) is training in" in capsys.readouterr().err
        assert len(Run(run).metrics()) >= rows_before  # the refused process truncated nothing
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    step = Run(run).load_checkpoint()["step"]
    assert (
        main(["train", *TINY, "--steps", str(step + 2), "--resume", "--run-dir", str(run)]) == 0
    )  # not stale
    steps = [r["step"] for r in Run(run).metrics()]
    assert steps == sorted(set(steps)) and steps[-1] == step + 2  # every step logged once, in order


def test_the_same_process_may_start_over_in_its_own_run_directory(tmp_path):
    """A lesson's training cell run again (a new Trainer in the same kernel) is not 'another writer'."""
    from toolkit.training import Trainer, config_for

    def cfg():
        return config_for("dcgan", data="digits", steps=2, batch_size=8, width=8, z_dim=16, threads=1)

    Trainer(cfg(), run_dir=tmp_path, progress=False)  # abandoned before fit, lock still held by it
    Trainer(cfg(), run_dir=tmp_path, progress=False, overwrite=True).fit()
    assert [r["step"] for r in Run(tmp_path).metrics()] == [2]


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), 1e30, 0.0, -1e-3])
def test_steering_refuses_a_learning_rate_the_command_line_would_refuse(tmp_path, bad):
    main(["train", *TINY, "--steps", "2", "--run-dir", str(tmp_path)])
    with pytest.raises(ToolkitError, match="--lr-g must be a positive number no larger than 1"):
        jobs.steer(tmp_path, lr_g=bad)
    assert not (tmp_path / "control.json").exists()


def test_the_dashboard_never_signals_a_process_job_json_merely_names(tmp_path):
    """A reused pid, or a job.json edited by hand, must not make Stop kill an unrelated process."""
    import json

    bystander = subprocess.Popen(["sleep", "60"])
    try:
        run = tmp_path / "r"
        run.mkdir()
        (run / "job.json").write_text(json.dumps({"pid": bystander.pid, "start_time": "1", "command": []}))
        assert jobs.job_state(run) == "crashed" and jobs.training_pid(run) is None
        with pytest.raises(ToolkitError, match="no job is running"):
            jobs.stop_job(run)
        time.sleep(0.2)
        assert bystander.poll() is None  # untouched
    finally:
        bystander.kill()
        bystander.wait()


def test_a_run_started_from_the_command_line_shows_as_running_and_can_be_stopped(tmp_path):
    run = tmp_path / "cli"
    proc = start_training(*TINY, "--steps", "100000", "--log-every", "2", "--run-dir", str(run))
    try:
        assert wait_for(lambda: len(Run(run).metrics()) >= 1, 90)
        assert jobs.job_state(run) == "running" and jobs.training_pid(run) == proc.pid
        jobs.stop_job(run)
        assert proc.wait(60) == 0
        assert jobs.job_state(run) == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_stop_right_after_start_is_a_clean_stop_not_a_crash(tmp_path):
    run = tmp_path / "quick-stop"
    pid = jobs.start_job(run, [*TINY[:-4], "--steps", "100000"])
    assert wait_for(lambda: jobs.job_state(run) == "running", 10)
    time.sleep(1.0)  # the job is still importing torch or loading data
    jobs.stop_job(run)
    assert wait_for(lambda: jobs.job_state(run) != "running", 60), (run / "train.log").read_text()
    assert jobs.job_state(run) == "stopped", (run / "train.log").read_text()
    assert jobs.training_pid(run) is None and jobs._process_state(pid) in (
        None,
        "Z",
    )  # gone (or not yet reaped)


def test_dashboard_stays_inside_its_runs_root_and_distrusts_config_json(tmp_path, monkeypatch):
    import json

    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    main(
        [
            "train",
            *TINY,
            "--steps",
            "2",
            "--augment",
            "ada",
            "--checkpoint-every",
            "2",
            "--run-dir",
            str(tmp_path / "r"),
        ]
    )
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    (tmp_path / "r" / "config.json").write_text(json.dumps({**config, "data": "/etc"}))
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("outside the runs root" in e.value for e in at.error)  # "What D sees" refuses /etc
    next(t for t in at.sidebar.text_input if t.label == "Runs folder").set_value("/").run()
    assert any("only follows runs under" in e.value for e in at.sidebar.error)
    assert at.title[0].value == "r"  # still showing the runs root's run


# --- the bad-input battery: one line each, or a documented conversion -------------------------------------
def png_bytes(array, mode=None):
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(array), mode).save(buf, format="PNG")
    return buf.getvalue()


def test_a_zip_with_a_damaged_entry_names_the_file(tmp_path):
    import zipfile

    import numpy as np

    from toolkit.data import load_image_folder

    z = tmp_path / "photos.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_STORED) as archive:
        for i in range(3):
            archive.writestr(f"photos/{i}.png", png_bytes(np.full((8, 8), 40 * i, np.uint8)))
    data = bytearray(z.read_bytes())
    at = data.find(b"IDAT", data.find(b"photos/1.png"))  # inside the second image's stored bytes
    data[at + 8] ^= 0xFF
    z.write_bytes(bytes(data))
    assert load_image_folder(z, resolution=8).info["unreadable"] == ["1.png"]  # skipped, named
    from toolkit.data.folder import survey_images

    assert survey_images(z)["unreadable"][0][1].startswith(f"cannot read image 1.png in {z} (BadZipFile")


def test_an_image_too_large_to_decode_safely_is_one_line(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    from toolkit.data import load_image_folder

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # stands in for a 14000x14000 PNG
    (tmp_path / "big.png").write_bytes(png_bytes(np.zeros((100, 100), np.uint8)))
    with pytest.raises(ToolkitError, match="big.png .* is too large to load safely"):
        load_image_folder(tmp_path, resolution=8)


def test_16_bit_big_endian_tiff_keeps_its_grey_levels(tmp_path):
    import numpy as np
    from PIL import Image

    from toolkit.data import load_image_folder

    grey = Image.frombytes("I;16B", (16, 16), np.full((16, 16), 32768, ">u2").tobytes())
    grey.save(tmp_path / "mid.tif")
    assert np.asarray(Image.open(tmp_path / "mid.tif").convert("L")).min() == 255  # Pillow's own: white
    assert Image.open(tmp_path / "mid.tif").mode == "I;16B"
    x = load_image_folder(tmp_path, resolution=8).x
    assert x.shape == (1, 1, 8, 8) and abs(x.mean().item()) < 0.02  # mid-grey, not white (1.0)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--resolution", "-3"], "--resolution must be >= 1"),
        (["--resolution", "0"], "--resolution must be >= 1"),
        (["--model", "mlp", "--resolution", "100000"], "would need .* GiB of memory"),
        (["--resolution", "48"], "takes --resolution 32 or 64 \\(the toolkit resizes the images for you"),
        (["--device", "cuda:0"], "no CUDA GPU is visible|CUDA devices"),
        (["--run-dir", ""], "--run-dir is empty"),
    ],
)
def test_bad_training_flags_are_one_line(tmp_path, capsys, flags, message):
    import re

    args = ["train", *TINY, "--steps", "1", "--run-dir", str(tmp_path / "r"), *flags]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1, err


def test_unreadable_metrics_rows_and_a_list_config_are_handled(tmp_path):
    from toolkit.dashboard import MetricsTail

    (tmp_path / "metrics.jsonl").write_bytes(
        b'{"step": 1, "time": 0.1, "loss_d": 1}\n{"loss_d": 2}\n'
        b'{"step": "x", "time": 1}\n\xff\xfe not utf-8\n'
        b'{"step": 3, "time": 0.3, "loss_d": 3}\n'
    )
    assert [r["step"] for r in Run(tmp_path).metrics()] == [1, 3]
    tail = MetricsTail(tmp_path / "metrics.jsonl").refresh()
    assert tail.count == 2 and tail.series("loss_d") == ([1, 3], [1, 3])
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(ToolkitError, match="holds a list, not the run's settings"):
        Run(tmp_path).config()


def test_sample_to_an_unwritable_place_or_too_many_is_one_line(tmp_path, capsys):
    run = str(tmp_path / "r")
    assert main(["train", *TINY, "--steps", "2", "--run-dir", run]) == 0
    (tmp_path / "a-file").write_text("")
    for out in (tmp_path / "a-file" / "x.npz", tmp_path / "a-file" / "folder", tmp_path / "a-file" / "g.png"):
        assert main(["sample", "--run-dir", run, "--n", "4", "--out", str(out)]) == 2
        assert f"cannot write --out {out}: {tmp_path / 'a-file'} is a file" in capsys.readouterr().err
    assert main(["sample", "--run-dir", run, "--n", "100000000000", "--out", str(tmp_path / "s.npz")]) == 2
    assert "would need" in capsys.readouterr().err
    assert main(["sample", "--run-dir", run, "--n", "16", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").is_file()  # .png: one grid image, not a folder


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, capsys, monkeypatch):
    import torch

    run = tmp_path / "r"
    assert main(["train", *TINY, "--steps", "4", "--checkpoint-every", "2", "--run-dir", str(run)]) == 0
    before = (run / "checkpoints" / "last.pt").read_bytes()

    def full_disk(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    assert (
        main(["train", *TINY, "--steps", "8", "--checkpoint-every", "2", "--resume", "--run-dir", str(run)])
        == 2
    )
    assert "could not write the checkpoint" in capsys.readouterr().err
    assert (run / "checkpoints" / "last.pt").read_bytes() == before
    assert not list((run / "checkpoints").glob("*.tmp"))


def test_ctrl_c_while_starting_up_is_a_clean_stop(tmp_path):
    proc = start_training(
        *TINY,
        "--steps",
        "100000",
        "--run-dir",
        str(tmp_path / "r"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)  # importing torch
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "stopped" in err


def test_cached_real_features_of_a_folder_follow_its_files(tmp_path, monkeypatch):
    import numpy as np

    from toolkit.metrics.evaluate import real_features
    from toolkit.metrics.extractors import load_extractor

    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(4):
        (folder / f"{i}.png").write_bytes(png_bytes(np.full((32, 32), 60 * i, np.uint8)))
    ext = load_extractor("fmnist-cnn", "cpu")
    first = real_features(str(folder), ext, 4)
    (folder / "0.png").write_bytes(png_bytes(np.full((32, 32), 255, np.uint8)))  # same name, new content
    os.utime(folder / "0.png", ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert not np.allclose(real_features(str(folder), ext, 4), first)


def _image_file(path, kind):
    import numpy as np
    from PIL import Image

    rgb = (np.arange(16 * 16 * 3) % 251).astype(np.uint8).reshape(16, 16, 3)
    if kind == "zero-bytes":
        path.write_bytes(b"")
    elif kind == "truncated":
        full = png_bytes(rgb)
        path.write_bytes(full[: len(full) // 2])
    elif kind == "not-an-image":
        path.write_text("hello, I am text with a .png name")
    elif kind == "cmyk":
        Image.fromarray(rgb).convert("CMYK").save(path.with_suffix(".jpg"))
    elif kind == "palette-with-transparency":
        im = Image.fromarray(rgb).convert("P")
        im.info["transparency"] = 0
        im.save(path)
    elif kind == "rgba":
        Image.fromarray(np.dstack([rgb, np.full((16, 16), 128, np.uint8)]), "RGBA").save(path)
    elif kind == "one-bit":
        Image.fromarray(rgb).convert("1").save(path)


@pytest.mark.parametrize(
    "kind, error",
    [
        ("zero-bytes", "cannot read image"),
        ("truncated", "cannot read image"),
        ("not-an-image", "cannot read image"),
    ],
)
def test_broken_image_files_are_one_line_naming_the_file(tmp_path, kind, error):
    from toolkit.data import load_image_folder

    (tmp_path / "ok.png").write_bytes(png_bytes(np.zeros((8, 8), np.uint8)))
    _image_file(tmp_path / "bad.png", kind)
    with pytest.raises(ToolkitError, match=f"{error} bad.png"):
        load_image_folder(tmp_path, resolution=8)


@pytest.mark.parametrize("kind", ["cmyk", "palette-with-transparency", "rgba", "one-bit"])
def test_other_image_modes_are_converted_as_documented(tmp_path, kind):
    from toolkit.data import load_image_folder

    _image_file(tmp_path / "img.png", kind)
    (tmp_path / "rgb.png").write_bytes(png_bytes((np.ones((16, 16, 3)) * 200).astype(np.uint8)))
    x = load_image_folder(tmp_path, resolution=8).x
    assert x.shape == (2, 3, 8, 8) and x.min() >= -1 and x.max() <= 1
    assert x[0].std() > 0.05  # the converted image kept its content (not a flat white or black square)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--steps", "-5"], "--steps must be >= 1"),
        (["--limit", "0"], "--limit must be >= 1"),
        (["--log-every", "0"], "--log-every must be >= 1"),
        (["--ema", "-0.5"], "--ema must be in [0, 1)"),
        (["--width", "0"], "--z-dim and --width must be >= 1"),
        (["--gp-weight", "-1"], "--gp-weight must be >= 0"),
    ],
)
def test_zero_or_negative_numbers_are_one_line(tmp_path, capsys, flags, message):
    assert main(["train", *TINY, "--steps", "2", "--run-dir", str(tmp_path / "r"), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_a_truncated_checkpoint_or_one_from_another_model_is_one_line(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", *TINY, "--steps", "2", "--run-dir", str(run)]) == 0
    ckpt = run / "checkpoints" / "last.pt"
    whole = ckpt.read_bytes()
    ckpt.write_bytes(whole[: len(whole) // 3])
    for cmd in (
        ["sample", "--run-dir", str(run), "--n", "2", "--out", str(tmp_path / "s.npz")],
        ["train", *TINY, "--steps", "4", "--resume", "--run-dir", str(run)],
    ):
        assert main(cmd) == 2
        assert "is damaged or not a toolkit checkpoint" in capsys.readouterr().err
    other = tmp_path / "other"
    assert main(["train", *TINY, "--model", "mlp", "--steps", "2", "--run-dir", str(other)]) == 0
    ckpt.write_bytes((other / "checkpoints" / "last.pt").read_bytes())  # an mlp checkpoint in a dcgan run
    assert main(["sample", "--run-dir", str(run), "--n", "2", "--out", str(tmp_path / "s.npz")]) == 2
    assert "does not match its config.json" in capsys.readouterr().err
    assert main(["train", *TINY, "--steps", "4", "--resume", "--run-dir", str(run)]) == 2
    assert "the checkpoint does not fit this model/config" in capsys.readouterr().err


# --- the commands around training (issue 35): never lose the user's files, one line for bad input ---------
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from command_runs import make_runs

    return make_runs(tmp_path_factory.mktemp("command-runs"))


def files_of(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def one_line(capsys, argv, message):
    assert main(argv) == 2
    # the command's own progress lines (stylize names its backbone) may come first; the error is one line
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    err = err.splitlines()[-1]
    assert err.startswith("error: "), err
    assert message in err, err
    return err


def stylize_args(content, style, out):
    """A one-step stylize on the toolkit's own backbone (its weights are in the package)."""
    return [
        "stylize",
        "--content",
        str(content),
        "--style",
        str(style),
        "--out",
        str(out),
        "--steps",
        "1",
    ] + ["--size", "16", "--backbone", "fmnist-cnn"]


@pytest.mark.parametrize("command", ["translate", "upscale"])
def test_translate_and_upscale_never_write_into_or_over_their_inputs(runs, tmp_path, capsys, command):
    from command_runs import write_images

    photos = write_images(tmp_path / "photos", 3)
    before = files_of(photos)
    base = [command, "--run-dir", str(runs["pix2pix" if command == "translate" else "srresnet"])]
    for overwrite in ([], ["--overwrite"]):
        one_line(
            capsys, [*base, "--input", str(photos), "--out", str(photos), *overwrite], "inside the input"
        )
        one_line(capsys, [*base, "--input", str(photos), "--out", str(photos / "out"), *overwrite], "inside")
        single = [*base, "--input", str(photos / "img0.png"), "--out", str(photos), *overwrite]
        one_line(capsys, single, f"would overwrite the input {photos / 'img0.png'}")
    assert files_of(photos) == before
    assert main([*base, "--input", str(photos / "img0.png"), "--out", str(tmp_path / "beside")]) == 0


def test_stylize_never_writes_over_its_content_or_style(runs, tmp_path, capsys):
    from command_runs import write_images

    photos = write_images(tmp_path / "photos", 2, channels=3)
    before = files_of(photos)
    a, b = photos / "img0.png", photos / "img1.png"
    one_line(capsys, [*stylize_args(a, b, a), "--overwrite"], f"would overwrite the input {a}")
    one_line(capsys, [*stylize_args(a, b, b), "--overwrite"], f"would overwrite the input {b}")
    assert files_of(photos) == before


def writer_commands(runs, tmp_path) -> dict:
    """command -> (its command line but --out, what it writes there: a file or a folder), for every command
    that writes files."""
    from command_runs import write_images

    photos = write_images(tmp_path / "photos", 2, channels=3)
    style = stylize_args(photos / "img0.png", photos / "img1.png", "")
    return {
        "translate": (["translate", "--run-dir", str(runs["pix2pix"]), "--input", str(photos)], "folder"),
        "upscale": (["upscale", "--run-dir", str(runs["srresnet"]), "--input", str(photos)], "folder"),
        "sample": (["sample", "--run-dir", str(runs["dcgan"]), "--n", "4"], ".png"),
        "stylize": (style[:5] + style[7:], ".png"),
        "report": (["report", "--run-dir", str(runs["dcgan"])], ".html"),
        "augment-dataset": (
            ["augment-dataset", "--run-dir", str(runs["cgan"]), "--classes", "line", "--per-class", "2"],
            "new folder",
        ),
    }


def out_and_target(tmp_path, kind):
    """An --out for a command writing ``kind``, and the file it writes there (img0.png in a folder)."""
    if "folder" in kind:
        return tmp_path / "out", tmp_path / "out" / "img0.png"
    return tmp_path / f"out{kind}", tmp_path / f"out{kind}"


@pytest.mark.parametrize("command", ["translate", "upscale", "sample", "stylize", "report"])
def test_an_existing_file_is_replaced_only_with_overwrite_and_then_named(runs, tmp_path, capsys, command):
    argv, kind = writer_commands(runs, tmp_path)[command]
    out, target = out_and_target(tmp_path, kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"the user's own file")
    (target.parent / "keep.txt").write_text("kept")
    one_line(capsys, [*argv, "--out", str(out)], f"{target} already exists; add --overwrite to replace it")
    assert target.read_bytes() == b"the user's own file"
    assert main([*argv, "--out", str(out), "--overwrite"]) == 0
    assert f"replaced {target}" in capsys.readouterr().err
    assert target.read_bytes().startswith(b"\x89PNG" if target.suffix == ".png" else b"<!DOCTYPE html>")
    assert (target.parent / "keep.txt").read_text() == "kept"
    assert not list(tmp_path.rglob("*.partial")), "no staging folder is left"


def test_a_run_directorys_own_files_are_never_written_even_with_overwrite(runs, capsys):
    run = runs["dcgan"]
    grid = run / "samples" / "step_000002.png"
    before = files_of(run)
    sample = ["sample", "--run-dir", str(run), "--n", "4", "--overwrite", "--out"]
    one_line(capsys, [*sample, str(grid)], f"would write into the run directory {run}'s own files")
    one_line(capsys, [*sample, str(run / "samples")], "own files")
    one_line(capsys, [*sample, str(run)], "is a run directory")
    one_line(
        capsys,
        ["report", "--run-dir", str(run), "--overwrite", "--out", str(run / "samples" / "r.html")],
        "own",
    )
    assert files_of(run) == before


def test_two_inputs_with_one_name_and_an_out_inside_the_input_are_refused(runs, tmp_path, capsys):
    from command_runs import write_images

    photos = write_images(tmp_path / "photos", 1)
    (photos / "img0.jpg").write_bytes((photos / "img0.png").read_bytes())
    translate = ["translate", "--run-dir", str(runs["pix2pix"]), "--input", str(photos)]
    one_line(capsys, [*translate, "--out", str(tmp_path / "out")], "would both be written to")
    assert not (tmp_path / "out").exists()


def test_sample_into_a_folder_of_older_files_says_what_it_replaced_and_kept(runs, tmp_path, capsys):
    out = tmp_path / "samples"
    out.mkdir()
    for name in ("000000.png", "000001.png", "000002.png"):
        (out / name).write_bytes(b"older")
    sample = ["sample", "--run-dir", str(runs["dcgan"]), "--n", "2", "--out", str(out)]
    one_line(capsys, sample, "exists and is not empty; choose a new folder, or add --overwrite")
    assert main([*sample, "--overwrite"]) == 0
    err = capsys.readouterr().err
    assert f"replaced {out / '000000.png'}, {out / '000001.png'}; 1 other file(s) already in {out}" in err
    assert (out / "000002.png").read_bytes() == b"older"


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--style-weight", "nan"),
        ("--style-weight", "inf"),
        ("--content-weight", "-inf"),
        ("--tv-weight", "-1"),
    ],
)
def test_stylize_refuses_weights_that_are_not_finite_and_non_negative(tmp_path, capsys, flag, value):
    from command_runs import write_images

    photos = write_images(tmp_path / "photos", 2, channels=3)
    argv = [*stylize_args(photos / "img0.png", photos / "img1.png", tmp_path / "st.png"), f"{flag}={value}"]
    one_line(capsys, argv, f"{flag} must be a finite number >= 0, got {float(value)}")
    assert not (tmp_path / "st.png").exists()  # it used to write an all-black image


def test_silently_wrong_uses_are_one_line(runs, tmp_path, capsys):
    from command_runs import write_images

    photos = write_images(tmp_path / "photos", 1)
    upscale_run = [
        "translate",
        "--run-dir",
        str(runs["srresnet"]),
        "--input",
        str(photos),
        "--out",
        str(tmp_path / "t"),
    ]
    one_line(capsys, upscale_run, "which enlarges images; use upscale for it")
    one_line(
        capsys,
        ["sample", "--run-dir", str(runs["dcgan"]), "--out", str(tmp_path / "s.jpg")],
        "not a .jpg file",
    )
    assert not (tmp_path / "s.jpg").exists()  # it used to become a folder
    augment = ["augment-dataset", "--run-dir", str(runs["cgan"]), "--classes", "line", "--per-class", "2"]
    one_line(
        capsys, [*augment, "--candidates", "5", "--out", str(tmp_path / "a")], "--candidates counts only with"
    )
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    "command", ["translate", "upscale", "stylize", "sample", "report", "augment-dataset"]
)
def test_an_unwritable_out_is_one_line_before_any_work(runs, tmp_path, capsys, monkeypatch, command):
    import toolkit.stylize

    def no_work(*args, **kwargs):
        raise AssertionError("the optimisation ran before --out was checked")

    monkeypatch.setattr(toolkit.stylize, "style_transfer", no_work)
    (tmp_path / "a-file").write_text("x")
    argv, kind = writer_commands(runs, tmp_path)[command]
    out, _ = out_and_target(tmp_path / "a-file", kind)
    one_line(capsys, [*argv, "--out", str(out)], f"{tmp_path / 'a-file'} is a file, not a folder")


def test_upscale_shrink_below_the_scale_and_stylize_weights_that_are_not_a_checkpoint(runs, tmp_path, capsys):
    from command_runs import write_images

    tiny = write_images(tmp_path / "tiny", 1, size=3)
    upscale = [
        "upscale",
        "--run-dir",
        str(runs["srresnet"]),
        "--input",
        str(tiny),
        "--out",
        str(tmp_path / "u"),
    ]
    one_line(capsys, [*upscale, "--shrink"], "img0.png is 3x3 pixels; --shrink by 4 needs at least 16x16")
    photos = write_images(tmp_path / "photos", 2, channels=3)
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    argv = [
        *stylize_args(photos / "img0.png", photos / "img1.png", tmp_path / "st.png"),
        "--weights",
        str(tmp_path / "junk.pt"),
    ]
    one_line(capsys, argv, f"--weights {tmp_path / 'junk.pt'} is not a weight file of fmnist-cnn")
    one_line(capsys, stylize_args(photos, photos / "img1.png", tmp_path / "st.png"), f"{photos} is a folder")


def test_sample_and_eval_on_image_to_image_runs_point_to_translate_and_upscale(runs, tmp_path, capsys):
    for run, use in (("pix2pix", "translate"), ("srresnet", "upscale")):
        for argv in (["sample", "--out", str(tmp_path / "s")], ["eval"]):
            err = one_line(capsys, [*argv, "--run-dir", str(runs[run])], f"python -m toolkit {use} --run-dir")
            assert "--model" not in err


def test_a_conditional_run_with_a_small_grid_trains_and_samples(runs, tmp_path):
    assert (runs["cgan"] / "samples" / "step_000002.png").is_file()  # --grid-size 4: it used to fail here
    assert main(["sample", "--run-dir", str(runs["cgan"]), "--n", "3", "--out", str(tmp_path / "s")]) == 0


def test_too_many_samples_advise_the_commands_own_flags(runs, tmp_path, capsys):
    sample = ["sample", "--run-dir", str(runs["dcgan"]), "--out", str(tmp_path / "s")]
    err = one_line(capsys, [*sample, "--n", "100000000000"], "use a smaller --n")
    assert "--resolution" not in err and "--limit" not in err
    augment = [
        "augment-dataset",
        "--run-dir",
        str(runs["cgan"]),
        "--classes",
        "line",
        "--out",
        str(tmp_path / "a"),
    ]
    err = one_line(capsys, [*augment, "--per-class", "100000000000"], "use a smaller --per-class")
    assert "--resolution" not in err and "--limit" not in err


def test_eval_after_the_data_folder_moved_says_so(runs, tmp_path, capsys):
    import json
    import shutil

    moved = tmp_path / "run"
    shutil.copytree(runs["dcgan"], moved)
    config = json.loads((moved / "config.json").read_text())
    config["data"] = str(tmp_path / "gone")
    (moved / "config.json").write_text(json.dumps(config))
    one_line(
        capsys,
        ["eval", "--run-dir", str(moved), "--n", "8", "--n-real", "8"],
        f"{tmp_path / 'gone'} (named in",
    )


def test_every_flag_of_the_commands_has_help_and_the_bare_command_lists_them(capsys):
    import argparse

    from toolkit.cli import build_parser

    sub = next(a for a in build_parser([])._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.option_strings[0]}"
        for name, parser in sub.choices.items()
        if name != "train"
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert missing == []
    assert main([]) == 2
    err = capsys.readouterr().err
    assert all(
        c in err
        for c in ("train", "sample", "eval", "translate", "upscale", "stylize", "report", "augment-dataset")
        + ("project", "directions", "edit")
    )


@pytest.mark.parametrize("command", ["translate", "upscale", "sample", "stylize", "report"])
def test_a_full_disk_mid_write_is_one_line_and_leaves_nothing(runs, tmp_path, capsys, monkeypatch, command):
    from toolkit.outputs import Staging

    def full(self, path, write, mode="wb"):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Staging, "write", full)
    argv, kind = writer_commands(runs, tmp_path)[command]
    out, _ = out_and_target(tmp_path, kind)
    one_line(capsys, [*argv, "--out", str(out)], f"cannot write {out} (No space left on device)")
    assert not out.exists() and not list(tmp_path.glob(".*.partial"))


# --- project, directions, edit (issue 34): each bad input one line, before any work; never over an input ---
def editing_battery(runs, tmp_path) -> list[tuple[list[str], str]]:
    """(command line, what its one line must say) for every refusal of the three commands."""
    from command_runs import write_images

    grey64 = write_images(tmp_path / "grey64", 1, size=64)  # the dcgan run makes 64x64 grey images
    small = write_images(tmp_path / "small", 1, size=32)
    colour = write_images(tmp_path / "colour", 1, size=64, channels=3)
    dcgan, cgan = str(runs["dcgan"]), str(runs["cgan"])
    latent = tmp_path / "latent.pt"
    import torch

    torch.save(
        {"latent": torch.zeros(16), "space": "z", "label": None, "run_dir": dcgan, "image": "x"}, latent
    )
    project = ["project", "--run-dir", dcgan, "--steps", "1", "--out", str(tmp_path / "p"), "--input"]
    edit = ["edit", "--run-dir", dcgan, "--latent", str(latent), "--out", str(tmp_path / "e.png")]
    p = str(tmp_path / "p")
    i2i = ["--input", str(grey64), "--out", p]
    in_place = ["--out", str(grey64), "--input", str(grey64 / "img0.png")]
    find = ["directions", "--run-dir"]
    missing = (
        f"has no stored direction 'smile'; find it first: python -m toolkit directions --run-dir {dcgan}"
    )
    return [
        ([*project, str(small)], "img0.png: the target is 32x32 pixels but this generator makes only 64x64"),
        ([*project, str(colour)], "the target is a colour image but this generator makes grey images"),
        ([*project, str(tmp_path / "none.png")], "does not exist; give an image file or a folder"),
        (
            ["project", "--run-dir", cgan, "--input", str(small), "--out", p],
            "give the images' class with --class",
        ),
        (["project", "--run-dir", str(runs["pix2pix"]), *i2i], "python -m toolkit translate --run-dir"),
        ([*project[:-3], *in_place], f"would overwrite the input {grey64 / 'img0.png'}"),
        ([*project[:-3], "--out", str(grey64 / "sub"), "--input", str(grey64)], "is inside the input folder"),
        ([*find, dcgan, "--attribute", "Dress"], "this run's data have no classes, so there are no class"),
        ([*find, cgan, "--attribute", "line"], "this generator is conditional: its class is an input"),
        ([*find, dcgan, "--attribute", "redness"], "no class directions; use one of: brightness, area"),
        ([*find, str(runs["srresnet"]), "--attribute", "area"], "python -m toolkit upscale --run-dir"),
        ([*find, dcgan, "--attribute", "area", "--n", "3"], "--n must be at least 10"),
        ([*edit, "--direction", "smile"], f"{missing} --attribute smile"),
        ([*edit[:-1], str(tmp_path / "e.jpg"), "--direction", "area"], "should end in .png"),
        (
            [*edit[:4], str(tmp_path / "none.pt"), *edit[5:], "--direction", "area"],
            "write one with python -m",
        ),
        (
            [*edit[:4], str(grey64 / "img0.png"), *edit[5:], "--direction", "area"],
            "is not a latent written by",
        ),
        ([*edit, "--direction", "area", "--strength", "nan"], "--strength must be finite numbers"),
    ]


def test_project_directions_and_edit_refuse_bad_input_in_one_line_and_write_nothing(runs, tmp_path, capsys):
    cases = editing_battery(runs, tmp_path)
    before = files_of(tmp_path)
    for argv, message in cases:
        one_line(capsys, argv, message)
    assert files_of(tmp_path) == before, "nothing written, no input replaced"
    assert not (runs["dcgan"] / "directions").exists() or not list(
        (runs["dcgan"] / "directions").glob("*.pt")
    )


def test_a_stop_as_the_staging_folder_is_made_leaves_no_folder(tmp_path, monkeypatch):
    """Ctrl-C landing just after the hidden folder is made, before the with block's body (so before __exit__
    could run): the folder goes and the stop goes on. Seen in CI: a signal sent the moment the folder appeared
    left it behind."""
    import signal

    from toolkit.outputs import STOPS, Staging, Stopped

    monkeypatch.setattr("toolkit.outputs.STOPS", [signal.SIGINT])  # a signal already received
    with pytest.raises(Stopped):
        with Staging(tmp_path / "out"):
            raise AssertionError("the body must not run after a stop")
    assert not list(tmp_path.iterdir()), list(tmp_path.iterdir())
    assert STOPS == []  # the real list untouched
