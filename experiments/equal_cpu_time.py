"""Models trained for the same CPU time each, on the same data, over seeds (lesson 14; lesson 05's
``lipschitz_critics.py`` is the same protocol for three gan-family presets).

    python experiments/equal_cpu_time.py --arms stylegan dcgan pggan stylegan-nomix \
        --out results/stylegan_vs_others --budget 600 --evals 4 --seeds 0 1 2 --jobs 2
    python experiments/equal_cpu_time.py --arms stylegan-ada stylegan --limit 1000 \
        --out results/stylegan_ada_1000 --budget 600 --evals 4 --seeds 0 1 2 --jobs 2

Every arm in ``ARMS`` is a toolkit model with its own defaults (``config_for``) and a few overrides, on
Fashion-MNIST 32x32 (all 60,000 training images, or ``--limit`` of them: the toolkit's seeded,
class-balanced subset), batch 64. Each run trains for ``--budget`` seconds of *CPU time* of its own process
(one torch thread; the clock is ``time.process_time``, so other work on the machine slows a run but does
not shorten it); every ``budget / evals`` seconds the clock stops and FID[fmnist-cnn] is scored on 2,000
generated images (the EMA generator) against the 10,000 test images. At the end: FID, precision and recall
(k = 3) on 5,000 generated images.

Claims: the first arm against each other arm, "a lower final FID at the same CPU time", as per-seed paired
differences with ``toolkit.verdicts.paired_verdict`` (held / did not hold / within noise).

``--jobs 2`` runs two at once; stopped and started again with the same settings, it reads back the runs
already finished (``runs_so_far.json``) and trains only the rest. Writes ``summary.json`` (every
evaluation), ``table.md`` and ``commands.txt`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import torch

from toolkit.files import atomic_write_text
from toolkit.verdicts import mean_sd, paired_verdict

# arm: (model, overrides of that model's defaults). Widths are each family's CPU scale; PGGAN's phases are
# shortened (8k images each, as in pggan_vs_fixed.py) so that it reaches 32x32 within a short budget.
ARMS = {
    "stylegan": ("stylegan", {"width": 32, "mixing": 0.9}),
    "stylegan-nomix": ("stylegan", {"width": 32, "mixing": 0.0}),
    "stylegan-ada": ("stylegan", {"width": 32, "mixing": 0.9, "augment": "ada"}),
    "dcgan": ("dcgan", {"width": 32}),
    "pggan": ("pggan", {"width": 32, "stage_kimg": 8.0, "fade_kimg": 8.0}),
}


def config_of(arm: str, seed: int, limit: int | None):
    from toolkit.training import config_for

    model, overrides = ARMS[arm]
    return config_for(
        model,
        data="fashion-mnist",
        resolution=32,
        limit=limit,
        batch_size=64,
        steps=10**7,
        log_every=25,
        sample_every=0,
        checkpoint_every=0,
        seed=seed,
        threads=1,
        device="cpu",
        precision="fp32",
        **overrides,
    )


def run_one(arm: str, seed: int, args, real) -> dict:
    """One run of ``arm``: see :func:`train_and_score`."""
    return train_and_score(config_of(arm, seed, args.limit), f"{arm} {seed}", args, real)


def train_and_score(config, label: str, args, real) -> dict:
    """Train ``config`` for ``args.budget`` CPU seconds, FID every ``budget / evals``, then final scores
    (also the loop of ``lipschitz_critics.py``)."""
    from toolkit.metrics.evaluate import generated_features, score
    from toolkit.metrics.prdc import precision_recall
    from toolkit.training import Trainer

    trainer = Trainer(config, progress=False)
    trainer.clock = time.process_time  # CPU seconds of this process: fair on a shared machine
    extractor = args.extractor
    evaluations, every = [], args.budget / args.evals
    while trainer.elapsed < args.budget:
        next_eval = (len(evaluations) + 1) * every
        while trainer.elapsed < next_eval:
            trainer.fit(until=trainer.step + 10)  # the clock runs only inside fit
        fake = generated_features(trainer.generator, config.z_dim, extractor, 2000, seed=0)
        evaluations.append(
            {
                "seconds": round(trainer.elapsed, 1),
                "step": trainer.step,
                "fid": score(real, fake, extractor.name, with_prdc=False)["fid"],
            }
        )
        print(label, evaluations[-1], flush=True)
    fake = generated_features(trainer.generator, config.z_dim, extractor, 5000, seed=1)
    precision, recall = precision_recall(real, fake, 3, real_radii=args.real_radii)
    return {
        "evaluations": evaluations,
        "final": {
            "fid": score(real, fake, extractor.name, with_prdc=False)["fid"],
            "precision": precision,
            "recall": recall,
        },
        "steps": trainer.step,
    }


def claims(per_arm: dict, arms: list[str]) -> list[dict]:
    """The first arm against each other one: "a lower final FID", paired by seed."""
    first = arms[0]
    out = []
    for other in arms[1:]:
        differences = [b - a for a, b in zip(per_arm[first]["fid"], per_arm[other]["fid"])]
        out.append(
            {"claim": f"{first} has a lower final FID than {other}", "differences": differences}
            | paired_verdict(differences)
        )
    return out


def summarize(results: dict, args, out: Path, minutes: float) -> None:
    per_arm = {
        arm: {
            key: [results[arm][str(s)]["final"][key] for s in args.seeds]
            for key in ("fid", "precision", "recall")
        }
        | {"steps": [results[arm][str(s)]["steps"] for s in args.seeds]}
        for arm in args.arms
    }
    found = claims(per_arm, args.arms)
    summary = {
        "settings": settings_of(args),
        "arms": {arm: {"model": ARMS[arm][0], "overrides": ARMS[arm][1]} for arm in args.arms},
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "runs": results,
        "final": per_arm,
        "claims": found,
    }
    data = f"{args.limit:,} training images" if args.limit else "all 60,000 training images"
    lines = [
        f"Fashion-MNIST 32x32 ({data}), batch 64, {args.budget:.0f} CPU seconds of training per run (one "
        f"thread; {summary['machine']}, torch {torch.__version__}); seeds {', '.join(map(str, args.seeds))}, "
        f"mean ± sd. FID[fmnist-cnn], precision and recall (k = 3): 5,000 generated (EMA G) vs 10,000 test "
        f"images. {minutes:.0f} min with {args.jobs} run(s) at once"
        + (f", after {args.resumed} runs read back from an interrupted invocation." if args.resumed else "."),
        "",
        "| arm | model | overrides | G steps reached | final FID | precision | recall |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for arm in args.arms:
        p, (model, overrides) = per_arm[arm], ARMS[arm]
        extra = ", ".join(f"{k} {v}" for k, v in overrides.items())
        lines.append(
            f"| {arm} | {model} | {extra} | {mean_sd(p['steps'], 0)} | {mean_sd(p['fid'])} "
            f"| {mean_sd(p['precision'], 3)} | {mean_sd(p['recall'], 3)} |"
        )
    lines += [
        "",
        "Per-seed paired differences (> 0: the claim is true on that seed); verdict (toolkit.verdicts): held "
        "when > 0 on every seed and the mean exceeds 2 sd / sqrt(seeds), did not hold when the same is true "
        "the other way, otherwise within noise.",
        "",
        "| claim | per seed | mean ± sd | verdict |",
        "| --- | --- | ---: | --- |",
    ]
    for c in found:
        per_seed = ", ".join(f"{d:+.2f}" for d in c["differences"])
        lines.append(f"| {c['claim']} | {per_seed} | {mean_sd(c['differences'])} | {c['verdict']} |")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    atomic_write_text(
        out / "commands.txt", " ".join(["python", "experiments/equal_cpu_time.py", *sys.argv[1:]]) + "\n"
    )
    print("\n".join(lines))


def settings_of(args) -> dict:
    """What must match for runs of two invocations to be mixed in one table."""
    return {
        "budget": args.budget,
        "evals": args.evals,
        "limit": args.limit,
        "arms": {arm: ARMS[arm] for arm in args.arms},
    }


def finished_runs(so_far: Path, settings: dict, arms: list[str], seeds: list[int]) -> dict:
    """{arm: {seed: run}} of the runs an interrupted invocation finished (``runs_so_far.json``), for the arms
    and seeds asked for; empty when there is none. Runs made with other settings (budget, evals, limit, or
    an arm defined differently) are refused, never mixed in."""
    results = {arm: {} for arm in arms}
    if not so_far.exists():
        return results
    saved = json.loads(so_far.read_text())
    old, new = saved.get("settings", {}), json.loads(json.dumps(settings))  # tuples read back as lists
    shared = set(old.get("arms", {})) & set(new["arms"])
    if any(old.get(k) != new[k] for k in ("budget", "evals", "limit")) or any(
        old["arms"][arm] != new["arms"][arm] for arm in shared
    ):
        sys.exit(
            f"{so_far} holds runs with other settings ({old}): move it away, or rerun with those settings"
        )
    for arm, runs in saved["runs"].items():
        if arm in results:
            results[arm].update({seed: run for seed, run in runs.items() if int(seed) in seeds})
    return results


def worker_setup(budget: float, evals: int, limit: int | None) -> None:
    """One worker process: one torch thread, the feature network and the real images' features, once."""
    from toolkit.metrics.evaluate import real_features
    from toolkit.metrics.extractors import load_extractor
    from toolkit.metrics.prdc import kth_neighbour_radius

    global WORKER
    torch.set_num_threads(1)
    args = argparse.Namespace(budget=budget, evals=evals, limit=limit)
    args.extractor = load_extractor("fmnist-cnn", "cpu")
    real = real_features("fashion-mnist", args.extractor, 10_000)
    args.real_radii = kth_neighbour_radius(torch.from_numpy(real), 3)  # once: every run is scored against it
    WORKER = (args, real)


def worker_run(arm: str, seed: int) -> tuple[str, int, dict]:
    args, real = WORKER
    return arm, seed, run_one(arm, seed, args, real)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--arms", nargs="+", choices=list(ARMS), required=True, help="the first is compared with each"
    )
    p.add_argument("--out", required=True)
    p.add_argument("--budget", type=float, default=600.0, help="CPU seconds of training per run")
    p.add_argument("--evals", type=int, default=4, help="FID evaluations along each run")
    p.add_argument("--limit", type=int, default=None, help="train on N images (seeded, class-balanced)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--jobs", type=int, default=1, help="runs at once (at most one per CPU core)")
    args = p.parse_args(argv)
    if len(args.arms) < 2 or len(set(args.arms)) != len(args.arms):
        sys.exit(f"--arms: give two or more different arms, got {args.arms}")
    if len(args.seeds) < 2:
        sys.exit("--seeds: give at least two seeds (the table reports mean ± sd and verdicts over seeds)")
    if args.jobs < 1 or args.budget <= 0 or args.evals < 1:
        sys.exit("--jobs and --evals must be at least 1 and --budget above 0")
    start = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    so_far = out / "runs_so_far.json"
    settings = settings_of(args)
    results = finished_runs(so_far, settings, args.arms, args.seeds)
    args.resumed = sum(map(len, results.values()))
    if args.resumed:
        print(f"resuming: {args.resumed} finished runs read from {so_far}", flush=True)
    todo = [(arm, seed) for seed in args.seeds for arm in args.arms if str(seed) not in results[arm]]
    with ProcessPoolExecutor(
        args.jobs,
        get_context("spawn"),
        initializer=worker_setup,
        initargs=(args.budget, args.evals, args.limit),
    ) as pool:
        for arm, seed, run in map(Future.result, as_completed(pool.submit(worker_run, *t) for t in todo)):
            results[arm][str(seed)] = run
            out.mkdir(parents=True, exist_ok=True)  # every finished run on disk at once
            atomic_write_text(so_far, json.dumps({"settings": settings, "runs": results}, indent=1) + "\n")
    summarize(results, args, out, (time.time() - start) / 60)
    so_far.unlink(missing_ok=True)  # summary.json holds them all now


if __name__ == "__main__":
    main()
