"""Progressive growing against a fixed-resolution network of the same final architecture, under the same
wall-clock budget (lesson 08; Karras et al. 2018 report 2-6x faster training).

    python experiments/pggan_vs_fixed.py --out results/pggan [--budget 900 --evals 10 --seed 0]

Both runs are ``--model pggan`` on Fashion-MNIST (32x32) with the same settings; the fixed one starts at
``--start-resolution 32`` (no growing, no fade-in). Each run trains in its own process with one CPU thread
(two run side by side on a 2-core machine) for ``--budget`` seconds of *training* time; every
``budget / evals`` seconds it stops the clock, scores FID (fmnist-cnn features, 2,000 generated vs the
10,000 test images) and goes on. Evaluation time is not counted. Writes ``summary.json`` (every
evaluation: seconds, step, resolution, alpha, fid), ``table.md`` and ``commands.txt`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

import torch

from toolkit.files import atomic_write_text

METHODS = {"progressive": 4, "fixed": 32}  # start resolution


def settings(args) -> dict:
    return dict(
        data="fashion-mnist",
        batch_size=64,
        width=args.width,
        z_dim=128,
        stage_kimg=args.stage_kimg,
        fade_kimg=args.stage_kimg,
        steps=10**7,
        log_every=25,
        sample_every=0,
        checkpoint_every=0,
        seed=args.seed,
        threads=1,
        device="cpu",
    )


def run_one(method: str, args) -> list[dict]:
    from toolkit.metrics.evaluate import generated_features, real_features, score
    from toolkit.metrics.extractors import load_extractor
    from toolkit.training import Trainer, config_for

    torch.set_num_threads(1)
    trainer = Trainer(config_for("pggan", start_resolution=METHODS[method], **settings(args)), progress=False)
    extractor = load_extractor("fmnist-cnn", "cpu")
    real = real_features("fashion-mnist", extractor, 10_000)
    evaluations, every = [], args.budget / args.evals
    while trainer.elapsed < args.budget:
        next_eval = (len(evaluations) + 1) * every
        while trainer.elapsed < next_eval:
            trainer.fit(until=trainer.step + 25)  # the clock runs only inside fit
        fake = generated_features(trainer.generator, trainer.config.z_dim, extractor, 2000, seed=0)
        fid = score(real, fake, extractor.name, with_prdc=False)["fid"]
        evaluations.append(
            {
                "seconds": round(trainer.elapsed, 1),
                "step": trainer.step,
                "resolution": trainer.family.resolution,
                "alpha": round(trainer.family.alpha, 3),
                "fid": fid,
            }
        )
        print(method, evaluations[-1], flush=True)
    return evaluations


def time_to_reach(evals: list[dict], fid: float) -> float | None:
    """Seconds of training until the first evaluation at or below ``fid`` (None: never reached)."""
    return next((e["seconds"] for e in evals if e["fid"] <= fid), None)


def speedups(results: dict[str, list[dict]]) -> list[dict]:
    """For FID levels from the fixed run's second evaluation down to the worse of the two final scores (both
    runs reach those): how long each method took to get there, and fixed / progressive."""
    worst_final = max(e[-1]["fid"] for e in results.values())
    levels = sorted(
        {e["fid"] for e in results["fixed"][1:] if e["fid"] >= worst_final} | {worst_final}, reverse=True
    )
    rows = []
    for level in levels:
        reach = {m: time_to_reach(e, level) for m, e in results.items()}
        if all(reach.values()):
            rows.append(
                {
                    "fid": level,
                    **{f"seconds_{m}": t for m, t in reach.items()},
                    "speedup": reach["fixed"] / reach["progressive"],
                }
            )
    return rows


def summarize(results: dict[str, list[dict]], settings_: dict, out: Path, command: list[str]) -> None:
    levels = speedups(results)
    summary = {
        "settings": settings_,
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads_per_run": 1,
        "runs": results,
        "speedups": levels,
        "speedup_at_the_end": levels[-1]["speedup"],
        "speedup_best": max(r["speedup"] for r in levels),
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    lines = [
        f"PGGAN on Fashion-MNIST 32x32, width {settings_['width']}, batch 64, "
        f"{settings_['budget_seconds']:.0f} s of training per run on one CPU thread ({summary['machine']}, "
        f"torch {torch.__version__}); FID[fmnist-cnn], 2,000 generated vs 10,000 test images.",
        "",
        "| method | steps | final resolution | final FID | best FID |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for m, e in results.items():
        lines.append(
            f"| {m} | {e[-1]['step']} | {e[-1]['resolution']} | {e[-1]['fid']:.2f} | "
            f"{min(x['fid'] for x in e):.2f} |"
        )
    lines += [
        "",
        "| FID reached | progressive (s) | fixed (s) | fixed / progressive |",
        "| ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['fid']:.2f} | {r['seconds_progressive']:.0f} | {r['seconds_fixed']:.0f} "
        f"| {r['speedup']:.2f}x |"
        for r in levels
    ]
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    atomic_write_text(
        out / "commands.txt", " ".join(["python", "experiments/pggan_vs_fixed.py", *command]) + "\n"
    )
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="results/pggan")
    p.add_argument("--budget", type=float, default=900.0, help="training seconds per run")
    p.add_argument("--evals", type=int, default=10)
    p.add_argument("--width", type=int, default=32)
    p.add_argument(
        "--stage-kimg", type=float, default=6.0, help="thousand images per stable phase and per fade-in"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", choices=list(METHODS), help="run one method (used by the parallel driver)")
    p.add_argument("--resummarize", action="store_true", help="rewrite the tables from --out's summary.json")
    args = p.parse_args()
    out = Path(args.out)
    if args.method:  # one run, its evaluations as JSON on stdout's last line
        print(json.dumps(run_one(args.method, args)))
        return
    if args.resummarize:
        old = json.loads((out / "summary.json").read_text())
        command = (out / "commands.txt").read_text().split()[2:]
        summarize(old["runs"], old["settings"], out, command)
        return
    out.mkdir(parents=True, exist_ok=True)
    base = [
        sys.executable,
        __file__,
        "--budget",
        str(args.budget),
        "--evals",
        str(args.evals),
        "--width",
        str(args.width),
        "--stage-kimg",
        str(args.stage_kimg),
        "--seed",
        str(args.seed),
    ]
    procs = {m: subprocess.Popen([*base, "--method", m], stdout=subprocess.PIPE, text=True) for m in METHODS}
    results = {m: json.loads(proc.communicate()[0].strip().splitlines()[-1]) for m, proc in procs.items()}
    summarize(
        results, {**settings(args), "width": args.width, "budget_seconds": args.budget}, out, sys.argv[1:]
    )


if __name__ == "__main__":
    main()
