"""docs/architecture.md's worked example is real: its family is one file, ``docs/examples/lsgan_toy.py``,
shown verbatim in the doc. Registered in this process it trains on the ring through the unchanged loop,
resumes exactly and finds most of the ring's modes; dropped into a copy of the toolkit's families folder,
with no other edit, it is a model of the command line (``train``, ``--help``, ``sample``, ``report``) and of
the dashboard (the start form offers it, the live tab draws the chart of the metric only it logs)."""

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from toolkit.families import FAMILIES
from toolkit.runs import Run

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)
EXAMPLE = ROOT / "docs" / "examples" / "lsgan_toy.py"
OWN_CHART = "D's outputs (targets: real 1, fake 0)"  # of ls_d_real and ls_d_fake, which only lsgan-toy logs


def test_the_doc_shows_the_example_file_verbatim():
    assert BLOCKS[0] == EXAMPLE.read_text()


def test_the_worked_example_family_trains_and_resumes(tmp_path, monkeypatch):
    family = runpy.run_path(str(EXAMPLE))["LSGANFamily"]
    monkeypatch.setitem(FAMILIES, family.name, family)  # what discovery does for a file in toolkit/families/
    namespace: dict = {}
    exec(BLOCKS[1], namespace)  # training it, as the doc does
    quality = namespace["mode_quality"](namespace["trainer"].family.grid()[0], "ring")
    assert quality.modes_covered >= 6 and quality.high_quality > 0.3, str(quality)

    Trainer, config_for = namespace["Trainer"], namespace["config_for"]

    def cfg(steps):
        return config_for(
            "lsgan-toy", data="ring", steps=steps, batch_size=64, log_every=5, checkpoint_every=7, threads=1
        )

    straight = Trainer(cfg(20), run_dir=tmp_path / "a", progress=False)
    straight.fit()
    Trainer(cfg(9), run_dir=tmp_path / "b", progress=False).fit()
    resumed = Trainer.resume(tmp_path / "b", steps=20, progress=False)
    resumed.fit()
    for name in ("G", "D"):
        a, b = straight.family.nets[name].state_dict(), resumed.family.nets[name].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["step"] for r in Run(tmp_path / "b").metrics()] == [5, 10, 15, 20]


DASHBOARD = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=120).run()
model = next(s for s in at.sidebar.selectbox if s.label == "Model")
options = list(model.options)
model.set_value("lsgan-toy").run()
titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
print(json.dumps({"exception": [str(e.value) for e in at.exception], "options": options, "titles": titles}))
"""


def test_one_new_file_in_the_families_folder_is_a_model_everywhere(tmp_path):
    """A copy of the shipped code (toolkit/, app.py, app_tabs/, pages/) with the example file added to
    toolkit/families/ and nothing else changed; every check runs in a child process that imports the copy."""
    pytest.importorskip("streamlit")
    copy = tmp_path / "checkout"
    for part in ("toolkit", "app_tabs", "pages"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "app.py", copy / "app.py")
    shutil.copy(EXAMPLE, copy / "toolkit" / "families" / "lsgan_toy.py")
    env = {**os.environ, "PYTHONPATH": str(copy), "OMP_NUM_THREADS": "1", "TOOLKIT_THREADS": "1"}
    env["TOOLKIT_RUNS_DIR"] = str(copy / "runs")

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    assert "lsgan-toy" in run("-m", "toolkit", "train", "--help")
    own_help = run("-m", "toolkit", "train", "--model", "lsgan-toy", "--help")
    assert re.search(r"--z-dim.*\n?.*default 2", own_help) and "Adam learning rate of G and D" in own_help

    run_dir = copy / "runs" / "ls"
    run("-m", "toolkit", "train", "--model", "lsgan-toy", "--data", "digits", "--steps", "6", "--batch-size",
        "16", "--log-every", "2", "--run-dir", str(run_dir), "--no-progress", "--device", "cpu")  # fmt: skip
    rows = Run(run_dir).metrics()
    assert [r["step"] for r in rows] == [2, 4, 6] and all("ls_d_real" in r and "ls_d_fake" in r for r in rows)

    run("-m", "toolkit", "sample", "--run-dir", str(run_dir), "--n", "5", "--out", str(tmp_path / "s.npz"))
    with __import__("numpy").load(tmp_path / "s.npz") as samples:
        images = next(iter(samples.values()))
    assert images.shape[0] == 5 and images.dtype.name == "uint8"

    run("-m", "toolkit", "report", "--run-dir", str(run_dir), "--out", str(tmp_path / "report.html"))
    assert OWN_CHART in (tmp_path / "report.html").read_text()

    page = json.loads(run("-c", DASHBOARD).strip().splitlines()[-1])
    assert page["exception"] == [] and "lsgan-toy" in page["options"]
    assert OWN_CHART in page["titles"] and "Least-squares losses" in page["titles"]


def test_every_module_the_doc_names_exists_and_every_run_file_has_its_row():
    named = set(re.findall(r"`((?:toolkit|dashboard)/[\w/]+\.py)`", DOC))
    named -= {f"toolkit/families/{EXAMPLE.name}"}  # where the worked example goes, not a shipped module
    assert named and [p for p in sorted(named) if not (ROOT / p).is_file()] == []
    from toolkit import run_lock, runs

    table = DOC.split("## Where each file format lives", 1)[1].split("\n## ", 1)[0]
    files = [runs.CONFIG, runs.METRICS, runs.EVENTS, runs.LAST_CHECKPOINT, runs.EVALUATIONS, runs.JOB]
    files += [runs.TRAIN_LOG, runs.CONTROL, run_lock.LOCK, f"{runs.SAMPLES}/step_*.png"]
    assert [f for f in files if f"`{f}`" not in table] == []
