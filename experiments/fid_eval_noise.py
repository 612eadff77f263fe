"""How much does FID move when only the generated samples change? Lesson 06's evidence for "the baseline's FID
turned upward on 200 images" is a rise of 0.40-0.65 between its last two evaluations; this measures the noise
such a rise has to beat.

    python experiments/fid_eval_noise.py --out results/fid_eval_noise

It repeats one of lesson 06's 200-image baseline runs (results/limited_data_200, seed 1, the same
command) to step 2,500, keeps a copy, resumes it to step 3,000, and scores both generators with
``python -m toolkit eval`` at five sample seeds (5,000 generated images each against the 10,000 test
images, which are always all used, so only the generated samples change). Two numbers come out: the
spread of FID over sample seeds at one step (evaluation noise), and the rise from step 2,500 to 3,000
over the same five sample seeds (a paired difference).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from toolkit import jobs
from toolkit.files import atomic_write_text
from toolkit.runs import Run

TRAIN = dict(limit=200, augment="none", seed=1, width=16, log_every=50, eval_every=500, eval_n=5000)
TRAIN["gap_every"] = 100
SAMPLE_SEEDS = (0, 1, 2, 3, 4)


def train(run_dir: Path, steps: int, resume: bool) -> list[str]:
    settings = {**TRAIN, "steps": steps, "sample_every": 2500, "checkpoint_every": 500}
    flags = [part for k, v in settings.items() for part in (f"--{k.replace('_', '-')}", str(v))]
    return jobs.train_command(run_dir, ["--device", "cpu", *flags, *(["--resume"] if resume else [])])


def evaluate(run_dir: Path, seed: int) -> list[str]:
    flags = ["--run-dir", str(run_dir), "--n", "5000", "--seed", str(seed)]
    return [sys.executable, "-m", "toolkit", "eval", *flags]


def mean_sd(values: list[float], fmt: str = ".2f") -> str:
    return f"{statistics.mean(values):{fmt}} ± {statistics.stdev(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/fid_eval_noise")
    parser.add_argument("--score-only", action="store_true", help="only summarise earlier runs")
    args = parser.parse_args()
    out = Path(args.out)
    run, early = out / "runs" / "n200-none-s1", out / "runs" / "n200-none-s1-at2500"
    commands = [train(run, 2500, resume=False), ["copy", str(run), str(early)], train(run, 3000, resume=True)]
    commands += [evaluate(d, s) for d in (early, run) for s in SAMPLE_SEEDS]
    out.mkdir(parents=True, exist_ok=True)
    shown = [" ".join(c if c[0] == "copy" else c[1:]) for c in commands]  # "-m toolkit ..." as run by python
    atomic_write_text(out / "commands.txt", "".join(line + "\n" for line in shown))
    for c in [] if args.score_only else commands:
        if c[0] == "copy":
            shutil.copytree(c[1], c[2], dirs_exist_ok=True)
        else:
            subprocess.run(c, check=True)

    fid = {}  # step -> FID per sample seed, in SAMPLE_SEEDS order
    for d in (early, run):
        rows = {r["seed"]: r for r in Run(d).evaluations()}
        fid[rows[0]["step"]] = [rows[s]["fid"] for s in SAMPLE_SEEDS]
    (early_step, early_fid), (late_step, late_fid) = sorted(fid.items())
    rise = [b - a for a, b in zip(early_fid, late_fid)]
    summary = {
        "run": "results/limited_data_200 n200-none-s1, repeated",
        "sample_seeds": list(SAMPLE_SEEDS),
        "fid": {str(k): v for k, v in fid.items()},
        "sd_over_sample_seeds": {str(k): statistics.stdev(v) for k, v in fid.items()},
        "rise": rise,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    lines = [
        "One 200-image baseline run (lesson 06's n200-none-s1 command), its generator at two steps, "
        f"FID[fmnist-cnn] of 5,000 samples vs the 10,000 test images at sample seeds {list(SAMPLE_SEEDS)}.",
        "",
        "| step | FID per sample seed | mean ± sd |",
        "| ---: | --- | ---: |",
        *(f"| {k} | {', '.join(f'{x:.2f}' for x in v)} | {mean_sd(v)} |" for k, v in sorted(fid.items())),
        "",
        f"Rise from step {early_step} to {late_step}, same sample seeds: "
        f"{', '.join(f'{x:+.2f}' for x in rise)} (mean {mean_sd(rise, '+.2f')}).",
        "",
        f"Produced by `python experiments/fid_eval_noise.py --out {out}` on CPU (one thread); commands in "
        "commands.txt.",
    ]
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
