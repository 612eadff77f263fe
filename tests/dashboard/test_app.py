"""The Streamlit dashboard, driven for real with streamlit.testing.AppTest, plus the background jobs
it starts and a served instance answering over HTTP."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch
from conftest import wait_for

from toolkit import jobs
from toolkit.errors import ToolkitError
from toolkit.runs import Run
from toolkit.training import TrainConfig, Trainer

APP = str(Path(__file__).resolve().parents[2] / "app.py")
pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402


def tiny_run(run_dir, model="dcgan", data="digits", steps=12):
    extra = dict(z_dim=2, width=16) if data == "ring" else dict(z_dim=16, width=8)
    cfg = TrainConfig(
        model=model,
        data=data,
        steps=steps,
        batch_size=16,
        log_every=4,
        sample_every=6,
        checkpoint_every=6,
        seed=0,
        threads=1,
        **extra,
    )
    Trainer(cfg, run_dir=run_dir, progress=False).fit()
    return run_dir


def app(root, monkeypatch):
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(root))
    return AppTest.from_file(APP, default_timeout=60).run()


def test_empty_runs_root_says_how_to_start(tmp_path, monkeypatch):
    at = app(tmp_path, monkeypatch)
    assert not at.exception
    assert "No runs yet" in at.info[0].value and "python -m toolkit train" in at.info[0].value


def test_a_finished_run_shows_charts_samples_and_walks_the_latent_space(tmp_path, monkeypatch):
    tiny_run(tmp_path / "demo")
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    assert at.title[0].value == "demo"
    assert "job: **finished**" in at.markdown[0].value  # read from the run's events
    assert len(at.get("plotly_chart")) >= 2  # losses and accuracy
    images = at.get("image")
    assert len(images) >= 3  # latest sample grid + the interpolation frame + the strip
    slider = next(s for s in at.slider if s.label.startswith("t:"))
    before = [i.proto.imgs[0].url for i in at.get("image")]
    slider.set_value(0.9).run()
    assert not at.exception and len(at.get("image")) == len(images)
    assert [i.proto.imgs[0].url for i in at.get("image")] != before  # the frame changed


def test_broken_runs_give_messages_not_tracebacks(tmp_path, monkeypatch):
    run = tiny_run(tmp_path / "a-run")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 99, "loss_')  # a writer mid-append
    (run / "checkpoints" / "last.pt").unlink()
    at = app(tmp_path, monkeypatch)
    assert not at.exception
    assert any("no checkpoint yet" in i.value for i in at.info)

    # a checkpoint from another model
    other = tiny_run(tmp_path / "points", model="mlp", data="ring")
    shutil.copy(other / "checkpoints" / "last.pt", run / "checkpoints" / "last.pt")
    at = app(tmp_path, monkeypatch)
    at.sidebar.selectbox(key="run").set_value("a-run").run()
    assert not at.exception
    assert any("does not match its config.json" in e.value for e in at.error)

    # the selected run is deleted while the page is open
    shutil.rmtree(run)
    at.run()
    assert not at.exception and at.title[0].value == "points"


def test_start_a_run_with_one_click_and_follow_it(tmp_path, monkeypatch):
    at = app(tmp_path, monkeypatch)
    sb = at.sidebar
    next(s for s in sb.selectbox if s.label == "Model").set_value("dcgan")
    next(s for s in sb.selectbox if s.label == "Data").set_value("digits")
    next(s for s in sb.slider if s.label == "Steps").set_value(50)
    next(t for t in sb.text_input if t.label == "Run name").set_value("clicked")
    next(b for b in sb.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error
    run = tmp_path / "clicked"
    try:
        assert wait_for(lambda: len(Run(run).metrics()) >= 2, 90), (run / "train.log").read_text()
        at.run()
        assert at.title[0].value == "clicked" and len(at.get("plotly_chart")) >= 1
        assert wait_for(lambda: jobs.job_state(run) == "finished", 90)
    finally:
        if jobs.job_state(run) in ("running", "paused"):
            jobs.stop_job(run)


def test_pause_resume_steer_and_stop_a_job(tmp_path):
    run = tmp_path / "long"
    jobs.start_job(
        run,
        [
            "--model",
            "dcgan",
            "--data",
            "digits",
            "--steps",
            "100000",
            "--batch-size",
            "16",
            "--width",
            "8",
            "--log-every",
            "5",
            "--checkpoint-every",
            "50",
        ],
    )
    try:
        assert wait_for(lambda: len(Run(run).metrics()) >= 1, 90)
        assert jobs.job_state(run) == "running"
        jobs.pause_job(run)
        assert wait_for(lambda: jobs.job_state(run) == "paused", 10)
        n = len(Run(run).metrics())
        time.sleep(5)
        assert len(Run(run).metrics()) == n  # frozen
        jobs.resume_job(run)
        assert wait_for(lambda: len(Run(run).metrics()) >= n + 3, 60)
        times = [r["time"] for r in Run(run).metrics()]
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert max(gaps) < 3.0, gaps  # the 5 s pause is not training time (5 steps take about 1 s)
        jobs.steer(run, lr_g=5e-4, lr_d=2e-4)
        assert wait_for(lambda: any(e["event"] == "changed" for e in Run(run).events()), 90)
        change = next(e for e in Run(run).events() if e["event"] == "changed")
        assert (change["lr_g"], change["lr_d"]) == (5e-4, 2e-4)
        with pytest.raises(ToolkitError, match="already running"):  # one job per run folder
            jobs.start_job(run, ["--model", "dcgan", "--data", "digits", "--steps", "10"])
        jobs.pause_job(run)
        assert wait_for(lambda: jobs.job_state(run) == "paused", 10)
        jobs.stop_job(run)  # stopping a paused job: it is woken first, then stops cleanly
        assert wait_for(lambda: jobs.job_state(run) == "stopped", 30)
        state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
        assert state["optimizers"]["G"]["param_groups"][0]["lr"] == 5e-4  # kept for a resume
    finally:
        if jobs.job_state(run) in ("running", "paused"):
            jobs.stop_job(run)
    with pytest.raises(ValueError, match="only lr_g, lr_d"):
        jobs.steer(run, batch_size=3)


def test_served_app_answers_on_localhost(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TOOLKIT_RUNS_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            APP,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(APP).parent,
    )
    try:

        def healthy():
            try:
                return (
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
                    == b"ok"
                )
            except OSError:
                return False

        assert wait_for(healthy, 60)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
        assert "<title>" in page.lower() or "streamlit" in page.lower()
    finally:
        proc.terminate()
        proc.wait(10)


def test_ada_run_shows_what_d_sees_and_its_target(tmp_path, monkeypatch):
    cfg = TrainConfig(
        data="digits",
        steps=8,
        batch_size=16,
        log_every=4,
        sample_every=4,
        checkpoint_every=4,
        z_dim=16,
        width=8,
        threads=1,
        augment="ada",
        ada_kimg=0.1,
        ada_target=0.3,
    )
    Trainer(cfg, run_dir=tmp_path / "ada", progress=False).fit()
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    p = Run(tmp_path / "ada").load_checkpoint()["family_state"]["augment"]["p"].item()  # what D saw at step 8
    assert p > 0 and any(f"ADA at p = {p:.2f} at the checkpoint of step 8" in c for c in captions), captions


def test_a_run_on_data_passed_in_says_its_real_images_are_from_the_whole_named_set(tmp_path, monkeypatch):
    """config.json keeps only a fingerprint of data passed in from Python, so the tabs show the named set's
    images: the caption says so and names what the run trained on, not "its training images"."""
    from toolkit.data import load_dataset

    digits = load_dataset("digits", resolution=32)
    subset = digits.subset(torch.arange(40), name="digits-first-40")
    cfg = TrainConfig(
        data="digits",
        steps=4,
        batch_size=8,
        log_every=2,
        sample_every=4,
        checkpoint_every=4,
        z_dim=8,
        width=8,
        threads=1,
        augment="ada",
    )
    Trainer(cfg, data=subset, run_dir=tmp_path / "subset", progress=False).fit()
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    said = [c for c in captions if "what D sees" in c]
    assert said and said[0].startswith("real images from all of digits (this run trained on 40 samples"), (
        captions
    )


def test_conditional_run_offers_classes_and_class_interpolation(tmp_path, monkeypatch):
    tiny_run(tmp_path / "cgan", model="cgan")
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    assert any(s.label == "Class" for s in at.selectbox)
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert any("label sliding from 0 to 3" in c for c in captions), captions
    next(s for s in at.selectbox if s.label == "To class").set_value("7").run()
    assert not at.exception
    assert any("from 0 to 7" in i.proto.imgs[0].caption for i in at.get("image"))
    grid = next(i.proto.imgs[0] for i in at.get("image") if i.proto.imgs[0].caption.startswith("samples at"))
    assert "one row per class" in grid.caption and not grid.url.endswith("step_000012.png")  # labelled copy


def test_steering_the_ada_target_reaches_the_controller_and_config(tmp_path):
    from toolkit.jobs import Steering

    cfg = TrainConfig(
        data="digits", steps=4, batch_size=16, log_every=2, z_dim=16, width=8, threads=1, augment="ada"
    )
    t = Trainer(cfg, run_dir=tmp_path / "r", progress=False)
    steering = Steering(tmp_path / "r")
    t.callbacks.append(steering)
    t.fit(until=2)
    jobs.steer(tmp_path / "r", ada_target=0.8)
    row = {}
    steering.on_log(t, row)
    assert row["ada_target"] == 0.8 and t.family.augment.target == 0.8
    assert Run(tmp_path / "r").config()["ada_target"] == 0.8  # a resume keeps it
    with pytest.raises(ValueError, match="in \\[-1, 1\\]"):
        jobs.steer(tmp_path / "r", ada_target=3)


def test_a_pggan_run_shows_its_fade_in_and_full_size_samples(tmp_path, monkeypatch):
    from toolkit.families import config_for

    cfg = config_for(
        "pggan",
        data="digits",
        steps=12,
        batch_size=16,
        width=8,
        z_dim=16,
        stage_kimg=0.05,
        fade_kimg=0.05,
        log_every=3,
        sample_every=6,
        checkpoint_every=6,
        threads=1,
    )
    Trainer(cfg, run_dir=tmp_path / "pg", progress=False).fit()
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("PGGAN fade-in" in s and "alpha" in s and "resolution" in s for s in specs)
    assert at.get("image")  # the latest grid (at 16x16, upsampled to 32) and the latent walk


def test_start_a_pggan_run_from_the_form(tmp_path, monkeypatch):
    """The form offers the new family, with only the flags that family has (no --loss, no --augment)."""
    at = app(tmp_path, monkeypatch)
    sb = at.sidebar
    next(s for s in sb.selectbox if s.label == "Model").set_value("pggan").run()
    assert not any(s.label == "Loss" for s in at.sidebar.selectbox)
    next(s for s in at.sidebar.selectbox if s.label == "Data").set_value("digits")
    next(s for s in at.sidebar.slider if s.label == "Steps").set_value(50)
    next(t for t in at.sidebar.text_input if t.label == "Run name").set_value("grown")
    next(b for b in at.sidebar.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error
    run = tmp_path / "grown"
    try:
        assert wait_for(lambda: len(Run(run).metrics()) >= 1, 60), (run / "train.log").read_text()
        assert Run(run).config()["model"] == "pggan" and "resolution" in Run(run).metrics()[0]
    finally:
        if jobs.job_state(run) in ("running", "paused"):
            jobs.stop_job(run)


def test_a_cyclegan_run_shows_its_losses_and_translates_held_out_images(tmp_path, monkeypatch):
    """A translation run: its own charts, input | output | back grids, and a tab translating held-out
    images with the checkpoint in either direction."""
    from conftest import fashion_mnist_or_skip

    from toolkit.families import config_for

    fashion_mnist_or_skip()
    cfg = config_for(
        "cyclegan",
        limit=32,
        steps=4,
        batch_size=4,
        width=4,
        blocks=1,
        d_width=4,
        log_every=2,
        sample_every=4,
        checkpoint_every=4,
        threads=1,
    )
    Trainer(cfg, run_dir=tmp_path / "cg", progress=False).fit()
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("cycle" in s and "loss_identity" in s for s in specs)
    assert any("translated back" in c.value for c in at.caption) or any(
        "translated back" in (i.proto.imgs[0].caption or "") for i in at.get("image")
    )
    before = [i.proto.imgs[0].url for i in at.get("image")]
    assert len(before) == 2  # the latest grid and the held-out translation
    next(r for r in at.radio if r.label == "Direction").set_value("b2a").run()
    assert not at.exception and not at.error
    assert [i.proto.imgs[0].url for i in at.get("image")] != before


def test_start_a_pix2pix_run_from_the_form(tmp_path, monkeypatch):
    """Choosing a translation model offers the two-domain datasets, and the run starts."""
    from conftest import fashion_mnist_or_skip

    fashion_mnist_or_skip()
    at = app(tmp_path, monkeypatch)
    next(s for s in at.sidebar.selectbox if s.label == "Model").set_value("pix2pix").run()
    data = next(s for s in at.sidebar.selectbox if s.label == "Data")
    assert data.value == "edges2fashion" and "gray2color" in data.options and "digits" not in data.options
    next(s for s in at.sidebar.slider if s.label == "Steps").set_value(50)
    next(s for s in at.sidebar.select_slider if s.label == "Training images").set_value(200)
    next(t for t in at.sidebar.text_input if t.label == "Run name").set_value("paired")
    next(b for b in at.sidebar.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error
    run = tmp_path / "paired"
    try:
        assert wait_for(lambda: len(Run(run).metrics()) >= 1, 90), (run / "train.log").read_text()
        assert Run(run).config()["model"] == "pix2pix" and "loss_l1" in Run(run).metrics()[0]
    finally:
        if jobs.job_state(run) in ("running", "paused"):
            jobs.stop_job(run)


def class_folders(root, classes=("bags", "shoes"), per_class=12, size=40):
    """A user's photos: one sub-folder per class, RGB JPEGs of mixed content."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (size, size + 8, 3), dtype=np.uint8)).save(
                root / c / f"{i}.jpg"
            )
    (root / "notes.txt").write_text("not an image")
    return root


def test_start_a_conditional_run_on_your_own_class_folders(tmp_path, monkeypatch):
    """The form takes a folder path: it says what is there, refuses what the model cannot use, and trains."""
    photos = class_folders(tmp_path / "photos")
    (tmp_path / "flat").mkdir()
    shutil.copy(photos / "bags" / "0.jpg", tmp_path / "flat" / "0.jpg")
    at = app(tmp_path, monkeypatch)
    next(s for s in at.sidebar.selectbox if s.label == "Model").set_value("cgan").run()
    own = next(t for t in at.sidebar.text_input if t.label.startswith("...or your own images"))
    own.set_value(str(tmp_path / "flat")).run()
    assert "one sub-folder per class" in at.sidebar.error[0].value
    assert next(b for b in at.sidebar.button if b.label == "Start training").disabled
    own.set_value("/etc").run()
    assert "outside your home folder and the runs folder" in at.sidebar.error[0].value
    own.set_value(str(photos)).run()
    assert not at.sidebar.error, [e.value for e in at.sidebar.error]
    assert any(
        "24 images in 2 classes (bags, shoes) (1 other files skipped)" in c.value for c in at.sidebar.caption
    )
    next(s for s in at.sidebar.select_slider if s.label == "Resolution").set_value(32)
    next(s for s in at.sidebar.slider if s.label == "Steps").set_value(50)
    next(s for s in at.sidebar.select_slider if s.label == "Batch size").set_value(8)
    next(t for t in at.sidebar.text_input if t.label == "Run name").set_value("mine")
    next(b for b in at.sidebar.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run = tmp_path / "mine"
    try:
        assert wait_for(lambda: len(Run(run).metrics()) >= 1, 90), (run / "train.log").read_text()
        config = Run(run).config()
        assert config["data"] == str(photos) and config["resolution"] == 32
        assert config["class_names"] == ["bags", "shoes"] and config["sample_shape"] == [3, 32, 32]
    finally:
        if jobs.job_state(run) in ("running", "paused"):
            jobs.stop_job(run)


def test_a_job_that_dies_at_once_shows_its_error_and_is_listed(tmp_path, monkeypatch):
    """A setting train refuses (a DCGAN at 16 pixels): the form says why, and the run is listed and
    selected, its page showing the end of its log, instead of a green 'started' and nothing."""
    at = app(tmp_path, monkeypatch)
    next(s for s in at.sidebar.selectbox if s.label == "Data").set_value("digits")
    next(s for s in at.sidebar.select_slider if s.label == "Resolution").set_value(16)
    next(t for t in at.sidebar.text_input if t.label == "Run name").set_value("broken")
    next(b for b in at.sidebar.button if b.label == "Start training").click().run()
    assert not at.exception
    assert "broken stopped at once" in at.sidebar.error[0].value and "32 or 64" in at.sidebar.error[0].value
    assert not at.success
    assert at.title[0].value == "broken"  # listed and switched to
    assert any("ended before training started" in e.value for e in at.main.error)
    assert "32 or 64" in at.code[0].value


def test_the_live_tab_shows_the_runs_eval_scores(tmp_path, monkeypatch):
    import json

    tiny_run(tmp_path / "scored")
    rows = [{"step": 12, "features": "pixels8", "fid": 3.5, "kid": 0.01, "n_fake": 100, "n_real": 200}]
    (tmp_path / "scored" / "evaluations.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows) + "{torn"
    )
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["fid"]) == [3.5] and list(table["features"]) == ["pixels8"]
    # the Evaluate box reads the same row back, written by hand without kid_std: shown, not a traceback
    assert [s.value for s in at.success] == ["step 12: features pixels8, fid 3.5, kid 0.01"]


def test_continue_takes_steps_and_rates_and_the_change_is_marked_on_the_charts(tmp_path, monkeypatch):
    run = tiny_run(tmp_path / "more")
    at = app(tmp_path, monkeypatch)
    assert "lr G 0.001, D 0.001" in at.markdown[0].value
    next(n for n in at.number_input if n.label == "More steps").set_value(50)
    next(s for s in at.select_slider if s.label == "lr_g from now on").set_value(5e-4)
    next(b for b in at.button if b.label == "Continue").click().run()
    assert not at.exception and not at.error
    try:
        assert wait_for(
            lambda: jobs.job_state(run) == "finished" and Run(run).metrics()[-1]["step"] == 62, 120
        ), (run / "train.log").read_text()
    finally:
        if jobs.job_state(run) in ("running", "paused"):
            jobs.stop_job(run)
    changed = [e for e in Run(run).events() if e["event"] == "changed"]
    assert changed[-1]["lr_g"] == 5e-4 and changed[-1]["step"] == 12 and changed[-1]["on"] == "resume"
    at = app(tmp_path, monkeypatch)
    assert "lr G 0.0005, D 0.001" in at.markdown[0].value and "job: **finished**" in at.markdown[0].value
    losses = next(c.proto.spec for c in at.get("plotly_chart") if "Losses" in c.proto.spec)
    assert '"shapes"' in losses and "lr_g 0.0005" in losses  # the change, marked where it took effect
    assert any("step 62 / 62" in c.value for c in at.caption)


def test_progress_from_the_logged_rows(tmp_path):
    import json

    from toolkit.dashboard import MetricsTail

    rows = [{"step": s, "time": t} for s, t in ((10, 1.0), (20, 2.0), (30, 3.0))]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    p = MetricsTail(tmp_path / "metrics.jsonl").refresh().progress(total_steps=100, batch_size=8)
    assert p == {"step": 30, "total": 100, "images_per_s": 80.0, "seconds_left": 7.0}
    (tmp_path / "one.jsonl").write_text(json.dumps(rows[0]) + "\n")
    assert MetricsTail(tmp_path / "one.jsonl").refresh().progress(100, 8)["images_per_s"] is None


def test_a_run_exports_its_report_from_the_dashboard(tmp_path, monkeypatch):
    tiny_run(tmp_path / "rep")
    at = app(tmp_path, monkeypatch)
    assert not at.get("download_button")
    next(b for b in at.button if b.label == "Prepare the report").click().run()
    assert not at.exception and not at.error
    assert len(at.get("download_button")) == 1
    # made inside streamlit (whose plotly template draws curves in #000001, #000002...): still in colour
    html = at.session_state["report_html"][1].decode()
    assert '"colorway":["#636efa","#EF553B","#00cc96"' in html and "#000001" not in html


def test_compare_runs_overlays_curves_and_shows_grids_at_the_same_step(tmp_path, monkeypatch):
    tiny_run(tmp_path / "short", steps=12)
    tiny_run(tmp_path / "long", steps=18)
    at = app(tmp_path, monkeypatch)
    at.multiselect(key="compare_runs").set_value(["short", "long"]).run()
    assert not at.exception and not at.error
    spec = at.get("plotly_chart")[-1].proto.spec
    assert '"name":"short"' in spec.replace(" ", "") and '"name":"long"' in spec.replace(" ", "")
    at.slider(key="compare_step").set_value(7).run()
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    captions = [c for c in captions if c.startswith(("short at", "long at"))]  # the compare tab's grids
    assert captions == ["short at step 6", "long at step 6"]  # the latest grid at or before step 7
    at.radio(key="compare_x").set_value("seconds of training").run()
    assert not at.exception and "seconds of training" in at.get("plotly_chart")[-1].proto.spec


def test_alarms_show_as_banners_with_what_to_try(tmp_path, monkeypatch):
    import json

    run = tiny_run(tmp_path / "alarmed")
    rows = [
        {"step": 12 + i, "time": 10.0 + i, "loss_d": 1.0, "loss_g": 1.0, "d_real_sign": 0.99}
        for i in range(5)
    ]
    with open(run / "metrics.jsonl", "a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows))
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    banners = [w.value for w in at.warning]
    assert any("**overfitting**" in b and "--augment ada" in b for b in banners), banners


def test_the_2d_playground_trains_live_and_draws_d_and_g(tmp_path, monkeypatch):
    page = str(Path(APP).parent / "pages" / "GAN_playground.py")
    at = AppTest.from_file(page, default_timeout=60).run()
    assert not at.exception and not at.error
    assert at.metric[0].value == "0"
    next(s for s in at.slider if s.label == "Steps per frame").set_value(40)
    next(b for b in at.button if b.label == "Step").click().run()
    assert not at.exception and at.metric[0].value == "40"
    spec = next(c.proto.spec for c in at.get("plotly_chart") if "heatmap" in c.proto.spec)
    assert "G's gradient" in spec and '"real"' in spec and '"generated"' in spec
    next(s for s in at.selectbox if s.label == "Loss").set_value("wgan-gp").run()  # a new game
    assert not at.exception and at.metric[0].value == "0"
    next(b for b in at.button if b.label == "Step").click().run()
    assert "D's score" in next(c.proto.spec for c in at.get("plotly_chart") if "heatmap" in c.proto.spec)
    next(b for b in at.button if b.label == "Play").click().run()
    assert next(b for b in at.button if b.label == "Pause").disabled is False


def test_own_photos_with_a_corrupt_file_are_accepted_listing_it_and_a_stray_image_is_named(
    tmp_path, monkeypatch
):
    photos = class_folders(tmp_path / "photos", classes=("cat", "coffee", "rocket"), per_class=4, size=80)
    (photos / "rocket" / "rocket_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    at = app(tmp_path, monkeypatch)
    next(s for s in at.sidebar.selectbox if s.label == "Model").set_value("cgan").run()
    assert next(s for s in at.sidebar.slider if s.label == "Steps").value == 1500  # the CLI's defaults
    assert next(s for s in at.sidebar.select_slider if s.label == "Batch size").value == 64
    own = next(t for t in at.sidebar.text_input if t.label.startswith("...or your own images"))
    own.set_value(str(photos)).run()
    assert not at.exception
    captions = [c.value for c in at.sidebar.caption]
    assert any(
        c.startswith("13 images in 3 classes (cat, coffee, rocket) (1 other files skipped)") for c in captions
    )
    assert "1 image does not decode and will be skipped: rocket/rocket_corrupt.jpg" in captions
    assert any(c.startswith("time: about ") and "2-core CPU" in c for c in captions), captions
    assert len(at.sidebar.get("image")) == 1  # the preview, as the model sees them
    data_box = next(s for s in at.sidebar.selectbox if s.label == "Data")
    assert data_box.disabled and data_box.value == str(photos)  # the path replaces it, and the box says so
    # a small folder: the batch defaults to the largest its 12 readable images fill; a larger one is refused
    assert next(s for s in at.sidebar.select_slider if s.label == "Batch size").value == 8
    assert not at.sidebar.error
    next(s for s in at.sidebar.select_slider if s.label == "Batch size").set_value(64).run()
    assert (
        at.sidebar.error[0].value == "batch size 64 is more than the 12 readable images: choose a smaller one"
    )
    assert next(b for b in at.sidebar.button if b.label == "Start training").disabled
    next(s for s in at.sidebar.select_slider if s.label == "Batch size").set_value(8).run()
    assert not at.sidebar.error
    assert not next(b for b in at.sidebar.button if b.label == "Start training").disabled
    shutil.copy(photos / "cat" / "0.jpg", photos / "stray.jpg")
    next(s for s in at.sidebar.select_slider if s.label == "Resolution").set_value(32).run()  # checks again
    assert at.sidebar.error[0].value.endswith(
        "has 3 class folders (cat, coffee, rocket) and 1 image beside them (stray.jpg): move it into a class "
        "folder or remove it"
    )
    assert next(b for b in at.sidebar.button if b.label == "Start training").disabled


def test_a_failed_run_shows_its_whole_error_and_can_be_deleted_and_its_name_reused(tmp_path, monkeypatch):
    import json

    failed = tmp_path / "my-cgan"
    failed.mkdir()
    (failed / "job.json").write_text(json.dumps({"pid": 2**22 + 1, "start_time": "1"}))  # long gone
    error = "error: cannot read image rocket/rocket_corrupt.jpg in /photos (OSError: truncated); remove it"
    (failed / "train.log").write_text(error + "\n")
    tiny_run(tmp_path / "other")
    at = app(tmp_path, monkeypatch)
    next(s for s in at.sidebar.selectbox if s.label == "Run").set_value("my-cgan").run()
    assert any("ended before training started" in e.value for e in at.main.error)
    assert at.code[0].value == error and at.code[0].proto.wrap_lines  # all of it, wrapped in the page
    delete = next(b for b in at.button if b.label == "Delete")
    assert delete.disabled  # only once the box is ticked
    next(c for c in at.checkbox if c.label.startswith("Yes, delete my-cgan")).check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert not at.exception and not failed.exists()
    assert (
        at.title[0].value == "other"
        and "my-cgan" not in next(s for s in at.sidebar.selectbox if s.label == "Run").options
    )
    next(t for t in at.text_input if t.label == "New name").set_value("renamed").run()
    next(b for b in at.button if b.label == "Rename").click().run()
    assert (
        not at.exception
        and (tmp_path / "renamed" / "config.json").exists()
        and at.title[0].value == "renamed"
    )


def test_a_finished_run_evaluates_downloads_samples_and_augments_a_dataset_from_buttons(
    tmp_path, monkeypatch
):
    """Evaluate records in evaluations.jsonl what eval records, and the live tab's table shows it; Download
    samples offers the grid made in memory; Augment a dataset refuses a used folder before any work and
    writes class folders into a new one."""
    import io
    import json

    from PIL import Image

    run = tiny_run(tmp_path / "cg", model="cgan")
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    at.select_slider(key="eval_n").set_value(500)
    next(b for b in at.button if b.label == "Evaluate").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    rows = [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["step"] == 12 and rows[0]["features"] == "pixels8"
    assert (rows[0]["n_fake"], rows[0]["n_real"]) == (500, 1000)
    assert any(s.value.startswith(f"step 12: fid[pixels8] {rows[0]['fid']:.3f}") for s in at.success)
    assert list(at.dataframe[0].value["fid"]) == [rows[0]["fid"]]  # the live tab's table, same page
    assert any("pixels8: no InceptionV3 weights" in c.value for c in at.caption)  # why these features

    assert not at.get("download_button")  # made on request, in memory
    at.selectbox(key="download_class").set_value("3")
    at.number_input(key="download_n").set_value(8)
    next(b for b in at.button if b.label == "Make the samples").click().run()
    assert not at.exception and not at.error
    download = next(d for d in at.get("download_button") if "cg-step12-3.png" in d.proto.label)
    assert download.proto.label == "Download cg-step12-3.png"
    png = at.session_state["samples"][1]
    assert Image.open(io.BytesIO(png)).format == "PNG"

    out_box = f"augment_out-{run}"
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "mine.png").write_bytes(b"x")
    at.text_input(key=out_box).set_value(str(tmp_path / "used")).run()
    assert any("exists and is not empty; choose a new folder" in e.value for e in at.error)
    assert next(b for b in at.button if b.label == "Write the images").disabled
    at.text_input(key=out_box).set_value("/etc/generated").run()
    assert any("outside your home folder and the runs folder" in e.value for e in at.error)
    at.multiselect(key="augment_classes").set_value(["3", "5"])
    at.number_input(key="augment_per_class").set_value(4)
    at.text_input(key=out_box).set_value(str(tmp_path / "more")).run()
    assert not at.error
    next(b for b in at.button if b.label == "Write the images").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert sorted(p.name for p in (tmp_path / "more").iterdir()) == ["3", "5", "augment.json"]
    assert all(len(list((tmp_path / "more" / c).glob("gen_*.png"))) == 4 for c in ("3", "5"))
    assert any(s.value.startswith("wrote 4 of 3, 4 of 5 into") for s in at.success)


def test_a_click_whose_own_rerun_was_interrupted_is_still_honoured(tmp_path, monkeypatch):
    """The buttons record their request in session state (on_click) instead of reading st.button's value,
    which is True only in the run the click started: a rerun that interrupts that run (the live tab
    refreshes every 2 s) lost the click under CI's load. A recorded request is taken by the next run, once,
    and only for the run it was made for."""
    run = tiny_run(tmp_path / "cg", model="cgan")
    at = app(tmp_path, monkeypatch)
    at.select_slider(key="eval_n").set_value(500).run()
    at.session_state["evaluate_asked"] = str(tmp_path / "other-run")  # made for another run: ignored
    at.run()
    assert not (run / "evaluations.jsonl").exists() and "evaluate_asked" not in at.session_state
    at.session_state["evaluate_asked"] = str(run)  # the callback ran; the run it started did not finish
    at.run()  # a plain rerun, no click
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len((run / "evaluations.jsonl").read_text().splitlines()) == 1
    at.run()  # taken once: no second evaluation
    assert len((run / "evaluations.jsonl").read_text().splitlines()) == 1
    at.session_state["make_samples_asked"] = str(run)
    at.run()
    assert at.session_state["samples"][0][0] == str(run)
