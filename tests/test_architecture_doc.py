"""docs/architecture.md's worked example is real: its family module registers, trains on the ring through
the unchanged loop, resumes exactly, and finds most of the ring's modes."""

import re
from pathlib import Path

import torch

from toolkit.families import FAMILIES
from toolkit.runs import Run

DOC = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_the_worked_example_family_trains_and_resumes(tmp_path):
    namespace: dict = {}
    try:
        exec(BLOCKS[0], namespace)  # the family module
        exec(BLOCKS[1], namespace)  # training it
        quality = namespace["mode_quality"](namespace["trainer"].family.grid()[0], "ring")
        assert quality.modes_covered >= 6 and quality.high_quality > 0.3, str(quality)

        Trainer, config_for = namespace["Trainer"], namespace["config_for"]

        def cfg(steps):
            return config_for(
                "lsgan-toy",
                data="ring",
                steps=steps,
                batch_size=64,
                log_every=5,
                checkpoint_every=7,
                threads=1,
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
        # the chart its class declares is drawn by the report, with no edit outside the family
        from toolkit.report import run_report

        assert "Least-squares losses" in run_report(tmp_path / "a")
    finally:
        FAMILIES.pop("lsgan-toy", None)


def test_every_module_the_doc_names_exists_and_every_run_file_has_its_row():
    root = Path(__file__).resolve().parents[1]
    named = set(re.findall(r"`((?:toolkit|dashboard)/[\w/]+\.py)`", DOC))
    assert named and [p for p in sorted(named) if not (root / p).is_file()] == []
    from toolkit import run_lock, runs

    table = DOC.split("## Where each file format lives", 1)[1].split("\n## ", 1)[0]
    files = [runs.CONFIG, runs.METRICS, runs.EVENTS, runs.LAST_CHECKPOINT, runs.EVALUATIONS, runs.JOB]
    files += [runs.TRAIN_LOG, runs.CONTROL, run_lock.LOCK, f"{runs.SAMPLES}/step_*.png"]
    assert [f for f in files if f"`{f}`" not in table] == []
