"""Two ways to keep the critic Lipschitz, at the same CPU time: WGAN-GP against SN-GAN (lesson 05).

    python experiments/lipschitz_critics.py --out results/lipschitz_critics \
        [--budget 120 --evals 3 --seeds 0 1 2 --jobs 1]

``--jobs 2`` on a two-core machine runs two at once; stopped and started again with the same settings, it
reads back the runs already finished (``runs_so_far.json``) and trains only the rest.

Three arms, each a ``gan``-family preset on Fashion-MNIST (32x32), DCGAN architecture at ``--width``:

* ``wgan-gp``: Wasserstein loss, gradient penalty 10, 5 critic steps, Adam(2e-4, 0, 0.9)
  (Gulrajani et al. 2017, Algorithm 1, with the toolkit's 2e-4);
* ``sngan``: hinge loss, spectral norm on every layer of D, 5 D steps, Adam(2e-4, 0, 0.9)
  (Miyato et al. 2018, the setting of their hinge-loss experiments);
* ``sngan-ndis1``: the same with one D step per G step: the n_dis of the paper's standard-CNN experiments
  (which used Adam betas (0.5, 0.999) there; the preset's (0, 0.9) is kept, so only n_dis differs).

Every run trains for ``--budget`` seconds of *CPU time* of its own process (one torch thread; the clock is
``time.process_time``, so other work on the machine does not shorten a run); every ``budget / evals``
seconds the clock stops and FID[fmnist-cnn] is scored on 2,000 generated images (the EMA generator) against
the 10,000 test images. At the end: FID, precision and recall on 5,000 generated images. Writes
``summary.json`` (every evaluation), ``table.md`` and ``commands.txt`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import torch
from equal_cpu_time import train_and_score  # the same loop (experiments/ is on the path)

from toolkit.files import atomic_write_text

ARMS = {
    "wgan-gp": ("wgan-gp", {}),
    "sngan": ("sngan", {}),
    "sngan-ndis1": ("sngan", {"n_critic": 1}),
}


def run_one(arm: str, seed: int, args, real) -> dict:
    from toolkit.training import config_for

    model, extra = ARMS[arm]
    config = config_for(
        model,
        data="fashion-mnist",
        resolution=32,
        width=args.width,
        batch_size=64,
        steps=10**7,
        log_every=25,
        sample_every=0,
        checkpoint_every=0,
        seed=seed,
        threads=1,
        device="cpu",
        precision="fp32",
        **extra,
    )
    return train_and_score(config, f"{arm} {seed}", args, real)


def verdict(a: list[float], b: list[float]) -> str:
    """Lower FID for a than for b: held (every seed's a below every seed's b), did not hold (every a above
    every b), within noise (the seeds' ranges overlap)."""
    if max(a) < min(b):
        return "held"
    if min(a) > max(b):
        return "did not hold"
    return "within noise"


def summarize(results: dict, args, out: Path, minutes: float) -> None:
    def ms(values, digits=2):
        return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"

    per_arm = {
        arm: {
            key: [results[arm][str(s)]["final"][key] for s in args.seeds]
            for key in ("fid", "precision", "recall")
        }
        | {"steps": [results[arm][str(s)]["steps"] for s in args.seeds]}
        for arm in ARMS
    }
    fid = {arm: per_arm[arm]["fid"] for arm in ARMS}
    verdicts = {
        "sngan below wgan-gp": verdict(fid["sngan"], fid["wgan-gp"]),
        "sngan-ndis1 below wgan-gp": verdict(fid["sngan-ndis1"], fid["wgan-gp"]),
        "sngan-ndis1 below sngan": verdict(fid["sngan-ndis1"], fid["sngan"]),
    }
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "settings": {
            "budget_cpu_seconds": args.budget,
            "evals": args.evals,
            "width": args.width,
            "seeds": args.seeds,
            "resolution": 32,
            "batch_size": 64,
        },
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "runs": results,
        "final": per_arm,
        "verdicts": verdicts,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    lines = [
        f"Fashion-MNIST 32x32, DCGAN width {args.width}, batch 64, {args.budget:.0f} CPU seconds of training "
        f"per run (one thread; {summary['machine']}, torch {torch.__version__}); seeds "
        f"{', '.join(map(str, args.seeds))}, mean ± std. FID[fmnist-cnn], precision and recall (k = 3): "
        f"5,000 generated (EMA G) vs 10,000 test images. {minutes:.0f} min with {args.jobs} run(s) at once"
        + (f", after {args.resumed} runs read back from an interrupted invocation." if args.resumed else "."),
        "",
        "| arm | D steps per G step | G steps reached | final FID | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for arm, (model, extra) in ARMS.items():
        p = per_arm[arm]
        n_dis = extra.get("n_critic", 5)
        lines.append(
            f"| {arm} | {n_dis} | {ms(p['steps'], 0)} | {ms(p['fid'])} | {ms(p['precision'], 3)} "
            f"| {ms(p['recall'], 3)} |"
        )
    lines += [
        "",
        "Lower final FID at the same CPU time, over the seeds (held / did not hold / within noise):",
        "",
    ]
    lines += [f"- {claim}: **{v}**" for claim, v in verdicts.items()]
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    atomic_write_text(
        out / "commands.txt", " ".join(["python", "experiments/lipschitz_critics.py", *sys.argv[1:]]) + "\n"
    )
    print("\n".join(lines))


def finished_runs(so_far: Path, settings: dict, seeds: list[int]) -> dict:
    """{arm: {seed: run}} of the runs an interrupted invocation finished (``runs_so_far.json``), for the seeds
    asked for; empty when there is none. Runs made with other settings are refused, never mixed in."""
    results = {arm: {} for arm in ARMS}
    if so_far.exists():
        saved = json.loads(so_far.read_text())
        if saved.get("settings") != settings:
            sys.exit(
                f"{so_far} holds runs with other settings ({saved.get('settings')}): move it away, or rerun "
                "with those settings"
            )
        for arm, runs in saved["runs"].items():
            results[arm].update({seed: run for seed, run in runs.items() if int(seed) in seeds})
    return results


def worker_setup(width: float, budget: float, evals: int) -> None:
    """One worker process: one torch thread, the feature network and the real images' features, once."""
    from toolkit.metrics.evaluate import real_features
    from toolkit.metrics.extractors import load_extractor
    from toolkit.metrics.prdc import kth_neighbour_radius

    global WORKER
    torch.set_num_threads(1)
    args = argparse.Namespace(width=width, budget=budget, evals=evals)
    args.extractor = load_extractor("fmnist-cnn", "cpu")
    real = real_features("fashion-mnist", args.extractor, 10_000)
    args.real_radii = kth_neighbour_radius(torch.from_numpy(real), 3)  # once: every run is scored against it
    WORKER = (args, real)


def worker_run(arm: str, seed: int) -> tuple[str, int, dict]:
    args, real = WORKER
    return arm, seed, run_one(arm, seed, args, real)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/lipschitz_critics")
    p.add_argument("--budget", type=float, default=120.0, help="CPU seconds of training per run")
    p.add_argument("--evals", type=int, default=3, help="FID evaluations along each run")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs at once, one process and one torch thread each (at most one per CPU core)",
    )
    args = p.parse_args()
    if len(args.seeds) < 2:
        sys.exit("--seeds: give at least two seeds (the table reports mean ± std and verdicts over seeds)")
    if args.jobs < 1:
        sys.exit(f"--jobs: give at least 1, got {args.jobs}")
    start = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # finished runs of an interrupted invocation with the same settings are kept, not trained again
    settings = {"budget": args.budget, "evals": args.evals, "width": args.width}
    so_far = out / "runs_so_far.json"
    results = finished_runs(so_far, settings, args.seeds)
    args.resumed = sum(map(len, results.values()))
    if args.resumed:
        print(f"resuming: {args.resumed} finished runs read from {so_far}", flush=True)
    todo = [(arm, seed) for seed in args.seeds for arm in ARMS if str(seed) not in results[arm]]
    with ProcessPoolExecutor(
        args.jobs,
        get_context("spawn"),
        initializer=worker_setup,
        initargs=(args.width, args.budget, args.evals),
    ) as pool:
        for arm, seed, run in map(Future.result, as_completed(pool.submit(worker_run, *t) for t in todo)):
            results[arm][str(seed)] = run
            # every finished run on disk at once: a crash or a removed folder later loses no finished run
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(so_far, json.dumps({"settings": settings, "runs": results}, indent=1) + "\n")
    summarize(results, args, out, (time.time() - start) / 60)
    so_far.unlink(missing_ok=True)  # summary.json holds them all now


if __name__ == "__main__":
    main()
