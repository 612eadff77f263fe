"""``python -m toolkit bench``: one command writes every figure of issue #19 to a results file. The figures of
``--quick`` are meaningless (tiny sizes); these tests check the command and its parts, not speed."""

import json
import math
import subprocess
import sys
from pathlib import Path

import torch

from toolkit.benchmark import reference_dcgan_steps, reference_setup, targets

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_writes_every_part_of_the_results_file(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "bench", "--quick", "--quality-seconds", "2", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(out.read_text())
    assert r["machine"]["torch"] == torch.__version__ and "bench --quick" in r["command"]
    from toolkit.runtime import cpu_has_native_bf16

    native = cpu_has_native_bf16()
    assert r["machine"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert r["machine"]["native_bf16"] is native and isinstance(r["machine"]["cpu_flags"], list)
    assert [t["batch"] for t in r["dcgan_throughput"]] == [64, 128]
    for t in r["dcgan_throughput"]:
        assert t["toolkit_img_s"] > 0 and t["reference_img_s"] > 0 and len(t["toolkit_ratios"]) == 2
        assert t["toolkit_channels_last_img_s"] > 0 and t["toolkit_cpu_ratio"] > 0
        assert t["toolkit_choice"] == {
            "precision": "bf16" if native else "fp32",
            "memory_format": "contiguous",
        }
    families = {f["family"]: f for f in r["families"]}
    assert "error" not in families["dcgan"] and families["dcgan"]["img_s"] > 0
    from toolkit.benchmark import family_cases

    assert sorted(families) == sorted(label for label, _, _ in family_cases())  # every case ran, none twice
    assert all("error" not in f for f in families.values()), [f for f in families.values() if "error" in f]
    fid = r["fid"]  # the same features through three implementations: the same value
    assert math.isclose(fid["toolkit"]["fid"], fid["pytorch_fid"]["fid"], rel_tol=1e-3)
    assert math.isclose(fid["toolkit"]["fid"], fid["torch_fidelity"]["fid"], rel_tol=1e-3)
    assert 0 < r["peak_memory_mb"] < 24_000 and r["sampling"]["img_s"] > 0
    assert r["quality"]["toolkit"]["steps"] > 0 and r["quality"]["reference"]["fid"] > 0
    assert {t["target"].split(",")[0] for t in r["targets"]} >= {"DCGAN-32 img/s vs reference"}
    assert "median ratio" in done.stdout and str(out) in done.stdout


def test_the_reference_loop_trains_like_the_tutorial():
    images = torch.rand(64, 1, 32, 32) * 2 - 1
    G, D, og, od, batches = reference_setup(images, 16, seed=0)
    before = [p.clone() for p in (*G.parameters(), *D.parameters())]
    losses = reference_dcgan_steps(G, D, og, od, batches, 3)
    assert len(losses) == 3 and all(math.isfinite(a) and math.isfinite(b) for a, b in losses)
    after = [*G.parameters(), *D.parameters()]
    assert all(not torch.equal(a, b) for a, b in zip(before, after))  # both nets moved


def test_targets_say_met_or_not_met_from_the_measured_values():
    result = {
        "dcgan_throughput": [{"batch": 64, "toolkit_ratio": 1.31}, {"batch": 128, "toolkit_ratio": 1.1}],
        "quality": {"fid_ratio": 0.6},
        "fid": {"toolkit": {"seconds": 1.0}, "pytorch_fid": {"seconds": 4.0}},
        "peak_memory_mb": 900.0,
        "lessons": {"01": 100.0, "09": 151.0},
    }
    met = {t["target"]: t["met"] for t in targets(result)}
    assert met == {
        "DCGAN-32 img/s vs reference, batch 64": True,
        "DCGAN-32 img/s vs reference, batch 128": False,
        "FID after equal training time vs reference": False,
        "FID 10,000 x 2,048 time vs pytorch-fid": True,
        "DCGAN-32 run peak memory (MB)": True,
        "slowest lesson in quick mode (s)": False,
    }


def test_a_negative_quality_time_is_a_one_line_error():
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "bench", "--quick", "--quality-seconds", "-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stderr.strip() == (
        "error: --quality-seconds must be >= 0 (0 skips it), got -1.0"
    )
