"""The collapse alarm, seen where a learner sees it: the dashboard's Live tab, on a run collapsed on purpose.

The run is lesson 15's trained DCGAN (``results/using_a_gan/generator``), copied. Collapsing it: the first
layer's weights are scaled by 0.01, so z barely reaches batch norm, which (in eval mode, with the run's
running statistics) then turns every z into nearly the same features: 256 samples become near-copies of
G(0), a structured shirt or shoe, which is what mode collapse looks like. The same run untouched must raise
no banner.
"""

import json
import shutil
from pathlib import Path

import pytest
from conftest import fashion_mnist_or_skip

from toolkit.runs import load_checkpoint, save_checkpoint

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TRAINED = ROOT / "results" / "using_a_gan" / "generator"


def copy_of_the_trained_run(run_dir: Path) -> Path:
    shutil.copytree(TRAINED, run_dir)
    rows = [  # a few healthy rows: the Live tab draws only once metrics were logged
        {"step": s, "time": s / 10, "loss_d": 1.2, "loss_g": 1.0, "d_real_acc": 0.6, "d_fake_acc": 0.6}
        for s in (100, 200, 300)
    ]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run_dir


def collapse_on_purpose(run_dir: Path) -> None:
    path = run_dir / "checkpoints" / "last.pt"
    state = load_checkpoint(path)
    for weights in (state["nets"]["G"], state["ema"].get("G")):
        if weights is not None:
            weights["net.0.weight"] = weights["net.0.weight"] * 0.01  # z -> 4x4 map: z hardly matters
    save_checkpoint(path, state)


def collapse_banners(root: Path, run: str, monkeypatch) -> list[str]:
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["run"] = run
    at.run()
    assert not at.exception, at.exception
    progress = next(c.value for c in at.caption if c.value.startswith("step 300 / 800"))
    assert "left" not in progress, progress  # no job runs: no time left is promised
    return [w.value for w in at.warning if "**collapse**" in w.value]


def test_a_run_collapsed_on_purpose_shows_the_collapse_banner_and_the_healthy_one_does_not(
    tmp_path, monkeypatch
):
    fashion_mnist_or_skip()
    copy_of_the_trained_run(tmp_path / "healthy")
    collapse_on_purpose(copy_of_the_trained_run(tmp_path / "collapsed"))

    banners = collapse_banners(tmp_path, "collapsed", monkeypatch)
    assert len(banners) == 1, banners
    assert "near-copies" in banners[0] and "Try: mode collapse" in banners[0]
    assert collapse_banners(tmp_path, "healthy", monkeypatch) == []
