"""The dashboard with super-resolution runs: the start form offers their data, and a run's page upscales
held-out images with its checkpoint beside bicubic, with the PSNR of each."""

import time
from pathlib import Path

import pytest
from conftest import fashion_mnist_or_skip

from toolkit import jobs
from toolkit.families import config_for
from toolkit.runs import Run
from toolkit.training import Trainer

APP = str(Path(__file__).resolve().parents[2] / "app.py")
pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402


def app(root, monkeypatch):
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(root))
    return AppTest.from_file(APP, default_timeout=60).run()


def test_an_srgan_run_upscales_held_out_images_beside_bicubic(tmp_path, monkeypatch):
    fashion_mnist_or_skip()
    cfg = config_for(
        "srgan", limit=32, steps=4, batch_size=4, blocks=1, width=8, d_width=4, log_every=2, threads=1
    )
    Trainer(cfg, run_dir=tmp_path / "sr", progress=False).fit()
    at = app(tmp_path, monkeypatch)
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("loss_content" in s for s in specs) and any("psnr" in s for s in specs)
    assert any("bicubic | output | original" in (i.proto.imgs[0].caption or "") for i in at.get("image"))
    table = at.dataframe[0].value
    assert list(table["method"]) == ["bicubic", "srgan"] and (table["PSNR (dB)"] > 0).all()
    before = [i.proto.imgs[0].url for i in at.get("image")]
    next(s for s in at.slider if s.label == "First image").set_value(8).run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert [i.proto.imgs[0].url for i in at.get("image")] != before


def test_start_an_srresnet_run_on_your_own_photos(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(photos / f"{i}.jpg")
    monkeypatch.setenv("HOME", str(tmp_path))  # the form reads only from home or the runs root
    at = app(tmp_path / "runs", monkeypatch)
    next(s for s in at.sidebar.selectbox if s.label == "Model").set_value("srresnet").run()
    data = next(s for s in at.sidebar.selectbox if s.label == "Data")
    assert data.options == ["fashion-mnist", "photos"]
    next(t for t in at.sidebar.text_input if t.key == "own_data").set_value(str(photos)).run()
    assert any("4 images; random crops" in c.value for c in at.sidebar.caption)
    next(s for s in at.sidebar.select_slider if s.label == "Resolution").set_value(32)
    next(s for s in at.sidebar.slider if s.label == "Steps").set_value(50)
    next(s for s in at.sidebar.select_slider if s.label == "Batch size").set_value(4)
    next(t for t in at.sidebar.text_input if t.label == "Run name").set_value("mine")
    next(b for b in at.sidebar.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    run = tmp_path / "runs" / "mine"
    try:
        deadline = time.time() + 90
        while time.time() < deadline and not Run(run).metrics():
            time.sleep(0.5)
        assert Run(run).metrics(), (run / "train.log").read_text()
        config = Run(run).config()
        assert config["kind"] == "super-resolution" and config["target_shape"] == [3, 32, 32]
        assert "psnr" in Run(run).metrics()[0]
    finally:
        if jobs.job_state(run) in ("running", "paused"):
            jobs.stop_job(run)
