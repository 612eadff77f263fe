"""Full-mode experiments behind lessons 04-07, as command lines of ``python -m toolkit``.

    python experiments/run.py limited-data --out results/limited_data [--steps 6000 --seeds 0 1 2 --jobs 8]
    python experiments/run.py models --out results/models [--steps 6000 --jobs 4]

Each experiment prints the commands it runs (so a row of the table can be reproduced alone), runs
them ``--jobs`` at a time with one CPU thread each, then scores every run and writes ``table.md``
and ``summary.json`` (every logged row of every run, for the lessons' plots) into ``--out``.
Run directories go to ``--out/runs`` (not committed; the summary is).
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from toolkit import jobs
from toolkit.files import atomic_write_text

METHODS = ("none", "ada", "diffaugment", "diffusion")


def train_command(run_dir: Path, device: str, **options) -> list[str]:
    flags = [part for k, v in options.items() for part in (f"--{k.replace('_', '-')}", str(v))]
    return jobs.train_command(run_dir, ["--device", device, *flags])


def run_all(commands: list[list[str]], jobs: int, log: Path, time_limit: float | None = None) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:
        for c in commands:
            f.write(shlex.join(c[1:]) + "\n")  # "-m toolkit train ..." as run by python

    deadline = time.time() + time_limit if time_limit else None

    def one(cmd):
        start = time.time()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if deadline is not None and time.time() > deadline:
                raise subprocess.TimeoutExpired(cmd, 0)  # out of time before it started
            _, err = p.communicate(timeout=None if deadline is None else deadline - time.time())
        except subprocess.TimeoutExpired:  # SIGTERM: the run checkpoints and stops; the table says so
            p.terminate()
            _, err = p.communicate()
        status = "ok" if p.returncode == 0 else f"FAILED ({err.strip().splitlines()[-1:]})"
        print(f"[{time.time() - start:6.0f}s] {status}: {shlex.join(cmd[3:])}", flush=True)
        return p.returncode

    with ThreadPoolExecutor(jobs) as pool:
        codes = list(pool.map(one, commands))
    if any(codes):
        print(f"{sum(1 for c in codes if c)} runs failed", flush=True)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def rows(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


# --- lessons 06-07: limited data -------------------------------------------------------------------
def fid_by_step(summary: dict) -> list[str]:
    """A second table: each method's FID at every evaluated step, over the seeds that reached it, so runs
    stopped early can be compared with the others at the same step."""
    curves = {}  # (limit, method) -> step -> [fid per seed]
    for name, r in summary.items():
        limit, method = name.split("-")[0][1:], name.split("-")[1]
        for x in r:
            if "fid" in x:
                curves.setdefault((limit, method), {}).setdefault(x["step"], []).append(x["fid"])
    steps = sorted({step for by_step in curves.values() for step in by_step})
    if not steps:
        return []
    lines = [
        "",
        "FID at each evaluation, mean ± std over the seeds that reached it (their number in brackets):",
        "",
        "| train images | augment | " + " | ".join(f"step {step}" for step in steps) + " |",
        "| ---: | --- |" + " ---: |" * len(steps),
    ]
    for (limit, method), by_step in curves.items():
        cells = [f"{mean_std(by_step[s])} ({len(by_step[s])})" if s in by_step else "-" for s in steps]
        lines.append(f"| {limit} | {method} | " + " | ".join(cells) + " |")
    return lines


def limited_data(args) -> None:
    out = Path(args.out)
    if args.add and not (out / "summary.json").exists():
        sys.exit(f"--add keeps the rows of an earlier run, but {out / 'summary.json'} does not exist")
    specs = [(limit, method, seed) for limit in args.limits for method in args.methods for seed in args.seeds]
    commands = [
        train_command(
            out / "runs" / f"n{limit}-{method}-s{seed}",
            args.device,
            limit=limit,
            augment=method,
            seed=seed,
            width=args.width,
            steps=args.steps,
            log_every=50,
            eval_every=args.eval_every,
            eval_n=5000,
            gap_every=max(50, args.eval_every // 200 * 50),
            sample_every=args.steps,
            checkpoint_every=args.steps,
        )
        for limit, method, seed in specs
    ]
    if not args.table_only:
        run_all(commands, args.jobs, out / "commands.txt", args.time_limit)
    earlier = json.loads((out / "summary.json").read_text()) if args.add else {}
    rerun = {f"n{limit}-{method}-s{seed}" for limit, method, seed in specs}
    kept = [(limit, method, seed) for limit in args.limits for method in METHODS for seed in args.seeds]
    kept = [spec for spec in kept if spec in specs or f"n{spec[0]}-{spec[1]}-s{spec[2]}" in earlier]
    summary, table = {}, {}
    for limit, method, seed in kept:  # the table's order: limit, then method as in METHODS, then seed
        name = f"n{limit}-{method}-s{seed}"
        r = rows(out / "runs" / name) if name in rerun else earlier[name]
        summary[name] = r
        evals = [x for x in r if "fid" in x]
        gaps = [x for x in r if "d_gap" in x]
        if not evals or not gaps:  # not started, or stopped before its first evaluation
            print(f"skipped {name}: no evaluation logged")
            continue
        table.setdefault((limit, method), []).append(
            {
                "fid": evals[-1]["fid"],
                "best_fid": min(x["fid"] for x in evals),
                "kid": evals[-1]["kid"] * 1000,
                "gap": gaps[-1]["d_gap"],
                "rt": statistics.mean(x["d_real_sign"] for x in r[-10:]),
                "p": r[-1].get("ada_p", r[-1].get("diffusion_t", float("nan"))),
                "steps": evals[-1]["step"],
            }
        )
    lines = [
        f"Fashion-MNIST, {args.steps} steps, batch 64, DCGAN width {args.width}, seeds {args.seeds}; "
        "FID/KID with fmnist-cnn "
        "features, 5,000 generated vs 10,000 test images; mean ± std over seeds.",
        "",
        "| train images | augment | runs | steps | final FID | best FID | final KID x 1000 "
        "| D gap (train - held-out) | r_t (last 500 steps) | final p / T |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (limit, method), vals in table.items():
        col = lambda k: mean_std([v[k] for v in vals])  # noqa: E731
        steps = sorted({v["steps"] for v in vals})
        lines.append(
            f"| {limit} | {method} | {len(vals)} | {'/'.join(map(str, steps))} | {col('fid')} "
            f"| {col('best_fid')} | {col('kid')} | {col('gap')} | "
            f"{col('rt')} | {col('p') if method in ('ada', 'diffusion') else '-'} |"
        )
    lines += fid_by_step(summary)
    if args.add and any(name not in rerun for name in summary):
        lines += [
            "",
            f"Only the rows of {', '.join(args.methods)} come from new runs (--add; their commands are the "
            "last lines of commands.txt); the other rows are kept from the earlier run in summary.json.",
        ]
    finish(out, summary, lines, args)


# --- lessons 04-05: conditional and Wasserstein models on all of Fashion-MNIST ---------------------
def models(args) -> None:
    from toolkit.generate import load_generator
    from toolkit.metrics.label_accuracy import label_accuracy

    out = Path(args.out)
    specs = {name: {} for name in args.models}
    commands = [
        train_command(
            out / "runs" / name,
            args.device,
            model=name.split("+")[0],
            steps=args.steps,
            log_every=50,
            eval_every=args.eval_every,
            eval_n=5000,
            sample_every=args.steps,
            checkpoint_every=args.steps,
            seed=0,
            **extra,
        )
        for name, extra in specs.items()
    ]
    run_all(commands, args.jobs, out / "commands.txt", args.time_limit)
    summary = {}
    lines = [
        f"Fashion-MNIST (60,000 images), {args.steps} generator steps, batch 64, width 32, seed 0; "
        "FID with fmnist-cnn "
        "features (5,000 generated vs 10,000 test); label accuracy = fmnist-cnn's accuracy on 500 generated "
        "images per class (real test images: 92.3%).",
        "",
        "| model | steps | final FID | best FID | label accuracy | worst class |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in specs:
        r = rows(out / "runs" / name)
        summary[name] = r
        evals = [x for x in r if "fid" in x]
        if not evals:
            print(f"skipped {name}: no evaluation logged")
            continue
        acc_text, worst = "-", "-"
        G, config = load_generator(
            out / "runs" / name,
            "cuda"
            if args.device == "auto" and _cuda()
            else ("cpu" if args.device == "auto" else args.device),
        )
        if getattr(G, "num_classes", 0):
            acc = label_accuracy(G, config["z_dim"], 500)
            summary[name + "/label_accuracy"] = acc.tolist()
            acc_text = f"{acc.mean().item():.1%}"
            worst = f"{config['class_names'][int(acc.argmin())]} ({acc.min().item():.0%})"
        lines.append(
            f"| {name} | {evals[-1]['step']} | {evals[-1]['fid']:.2f} | {min(x['fid'] for x in evals):.2f} "
            f"| {acc_text} | {worst} |"
        )
    finish(out, summary, lines, args)


def finish(out: Path, summary: dict, lines: list[str], args) -> None:
    import platform

    import torch

    device = (
        torch.cuda.get_device_name()
        if torch.cuda.is_available() and args.device != "cpu"
        else f"CPU ({platform.machine()})"
    )
    lines += [
        "",
        f"Produced by `python experiments/run.py {' '.join(sys.argv[1:])}` on {device}, "
        f"torch {torch.__version__}; the single commands are in commands.txt.",
    ]
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    atomic_write_text(out / "summary.json", json.dumps(summary))
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="experiment", required=True)
    a = sub.add_parser(
        "limited-data", help="baseline vs ADA vs DiffAugment vs Diffusion-GAN on small subsets"
    )
    a.add_argument("--limits", type=int, nargs="+", default=[1000, 5000])
    a.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    a.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a.add_argument("--width", type=int, default=32, help="DCGAN width (16: ~4x faster on a CPU)")
    a.add_argument(
        "--add",
        action="store_true",
        help="rerun only --methods and keep the other rows (same limits and seeds) from --out's summary.json",
    )
    a.add_argument(
        "--table-only",
        action="store_true",
        help="train nothing: write the tables from the run directories already in --out/runs",
    )
    b = sub.add_parser("models", help="dcgan, cgan, acgan and wgan-gp on all of Fashion-MNIST")
    b.add_argument("--models", nargs="+", default=["dcgan", "cgan", "acgan", "wgan-gp"])
    for q in (a, b):
        q.add_argument("--out", required=True)
        q.add_argument("--steps", type=int, default=6000)
        q.add_argument("--eval-every", type=int, default=1000)
        q.add_argument("--jobs", type=int, default=4)
        q.add_argument("--device", default="auto")
        q.add_argument(
            "--time-limit", type=float, default=None, help="stop runs (cleanly) after this many seconds"
        )
    args = p.parse_args()
    {"limited-data": limited_data, "models": models}[args.experiment](args)


if __name__ == "__main__":
    main()
