"""StyleGAN2's measured claims at a CPU scale (lesson 14): the truncation trade-off and perceptual path
length in Z against W (Karras et al. 2019, section 4.2), on ``--model stylegan`` runs on Fashion-MNIST.

    python experiments/stylegan_measurements.py --out results/stylegan --steps 120 --n 1000 --ppl-n 500

(the command behind results/stylegan/: about 10 CPU-minutes on one thread, 1.2 CPU-seconds a training step
and 40 a run to measure; add ``--arms 0.9 0`` for the
arm without mixing regularisation).

1. **Train** ``--model stylegan`` at 32x32 with the family's defaults (width 32, batch 64, style-mixing
   probability 0.9, lazy R1, EMA), one run per seed and arm, one after another on one CPU thread
   (``python -m toolkit train``; the commands are written to commands.txt). ``--arms`` names the
   mixing probabilities to train (``0.9``: the default; ``0``: no mixing regularisation).
2. **Truncation**: for every psi in ``--psis``, ``--n`` samples of the EMA generator (stored noise maps)
   are scored against the 10,000 Fashion-MNIST test images with fmnist-cnn's features: FID and k-NN
   precision and recall (k = 3; ``toolkit.metrics.prdc``), as results/limited_data* compute FID.
3. **Perceptual path length** (``toolkit.metrics.ppl``): ``--ppl-n`` pairs, epsilon 1e-4, slerp in Z and
   lerp in W, full paths, the distance the squared Euclidean distance of fmnist-cnn's features (the paper
   uses VGG16 LPIPS; there is none here), scaled by 1/epsilon^2; the extreme 1% at each end dropped.
4. **Mixing measure** (with both arms): the FID of images whose styles are mixed at a random crossover
   (z1's w for the layers before it, z2's after), next to the unmixed FID of the same run. Mixing
   regularisation trains G on such images, so it should keep their FID closer to the unmixed one.

Each run's measurements are written to its run directory (``measurements.json``) as they finish, so an
interrupted script resumes where it stopped. Writes ``summary.json`` (every measurement and every logged
training row), ``table.md`` (mean ± sd over seeds, and each claim's verdict), ``commands.txt`` and
``samples_<run>.png`` (the EMA generator's grid at the last step of each arm's first seed) into
``--out``; run directories go to ``--out/runs`` (not committed).

Verdicts over the seeds (``toolkit.verdicts.paired_verdict``): a difference *held* when it has the claimed
sign on every seed and its mean is more than twice its standard error (sd / sqrt(seeds), the sd of the
per-seed differences), *did not hold* when the same is true in the other direction, and is *within noise*
otherwise.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from toolkit.files import atomic_write_text
from toolkit.verdicts import mean_sd
from toolkit.verdicts import paired_verdict as verdict

N_REAL = 10_000  # Fashion-MNIST test images, the real side of every score
K = 3  # neighbours for precision and recall (Kynkäänniemi et al. 2019)
PSIS = (1.0, 0.8, 0.7, 0.5, 0.3)


def run_name(mixing: float, seed: int) -> str:
    return f"mixing{mixing:g}-s{seed}"


def train_command(out: Path, mixing: float, seed: int, steps: int) -> list[str]:
    from toolkit import jobs

    options = {
        "model": "stylegan",
        "data": "fashion-mnist",
        "resolution": 32,
        "mixing": mixing,
        "seed": seed,
        "steps": steps,
        "log_every": 25,
        "sample_every": steps,
        "checkpoint_every": steps,
    }
    flags = [part for k, v in options.items() for part in (f"--{k.replace('_', '-')}", str(v))]
    return jobs.train_command(out / "runs" / run_name(mixing, seed), flags)


def logged_rows(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def finished(run_dir: Path, steps: int) -> bool:
    rows = logged_rows(run_dir)
    return bool(rows) and rows[-1]["step"] >= steps and (run_dir / "checkpoints" / "last.pt").exists()


def train(args, out: Path) -> None:
    """Every run, one after another; a run that already reached ``--steps`` is not trained again."""
    out.mkdir(parents=True, exist_ok=True)
    for mixing in args.arms:
        for seed in args.seeds:
            cmd = train_command(out, mixing, seed, args.steps)
            run_dir = out / "runs" / run_name(mixing, seed)
            line = shlex.join(cmd[1:])  # "-m toolkit train ..." as run by python
            known = (out / "commands.txt").read_text().splitlines() if (out / "commands.txt").exists() else []
            if line not in known:
                with open(out / "commands.txt", "a") as f:
                    f.write(line + "\n")
            if finished(run_dir, args.steps):
                print(f"already trained: {run_dir}", flush=True)
                continue
            if run_dir.exists():  # an interrupted run: continue it from its checkpoint
                cmd = [*cmd, "--resume"] if (run_dir / "checkpoints" / "last.pt").exists() else cmd
            start = time.time()
            subprocess.run(cmd, check=True)
            print(f"[{time.time() - start:6.0f}s wall] trained {run_dir}", flush=True)


class MixedStyles(nn.Module):
    """G with every sample's styles mixed: its own w for the layers before a random crossover in
    [1, num_ws), a second latent's w from there on (the stored noise maps, as the other samples)."""

    def __init__(self, G: nn.Module, seed: int):
        super().__init__()
        self.G, self.rng = G, torch.Generator().manual_seed(seed)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z2 = torch.randn(z.shape, generator=self.rng).to(z)
        crossover = torch.randint(1, self.G.num_ws, (len(z),), generator=self.rng).to(z.device)
        second = torch.arange(self.G.num_ws, device=z.device)[None, :] >= crossover[:, None]
        ws = torch.where(second[..., None], self.G.styles(z2), self.G.styles(z))
        return self.G.synthesis(ws, noise_mode="const")


def measure(run_dir: Path, args, extractor, real: np.ndarray, real_radii: torch.Tensor) -> dict:
    """One run's measurements: scores against psi, perceptual path lengths, the mixed-styles FID."""
    from toolkit.generate import load_generator
    from toolkit.metrics.evaluate import generated_features
    from toolkit.metrics.fid import frechet_distance
    from toolkit.metrics.ppl import path_lengths, trimmed_mean
    from toolkit.metrics.prdc import precision_recall

    G, config = load_generator(run_dir, "cpu")
    start = time.process_time()
    truncation = []
    for psi in args.psis:  # the same latents (seed 0) at every psi
        G.truncation_psi = psi
        fake = generated_features(G, config["z_dim"], extractor, args.n, seed=0)
        precision, recall = precision_recall(real, fake, K, real_radii=real_radii)
        truncation.append(
            {"psi": psi, "fid": frechet_distance(real, fake), "precision": precision, "recall": recall}
        )
        print(f"{run_dir.name} psi {psi}: {truncation[-1]}", flush=True)
    G.truncation_psi = 1.0
    ppl = {}
    for space in ("z", "w"):
        lengths = path_lengths(G, extractor, space, n=args.ppl_n, seed=0)
        ppl[space] = {"ppl": trimmed_mean(lengths), "median": float(np.median(lengths))}
        print(f"{run_dir.name} PPL in {space}: {ppl[space]}", flush=True)
    mixed = generated_features(MixedStyles(G, seed=1), config["z_dim"], extractor, args.n, seed=0)
    mixed_fid = frechet_distance(real, mixed)
    print(f"{run_dir.name} mixed-styles FID: {mixed_fid:.3f}", flush=True)
    return {
        "step": logged_rows(run_dir)[-1]["step"],
        "truncation": truncation,
        "ppl": ppl,
        "mixed_fid": mixed_fid,
        "cpu_seconds": round(time.process_time() - start, 1),
    }


def measure_all(args, out: Path) -> dict:
    """Every run's measurements, from its measurements.json when they match these settings."""
    from toolkit.metrics.evaluate import real_features
    from toolkit.metrics.extractors import load_extractor
    from toolkit.metrics.prdc import kth_neighbour_radius

    extractor = load_extractor("fmnist-cnn", "cpu")
    real = real_features("fashion-mnist", extractor, N_REAL, resolution=32)
    real_radii = None  # the real images' k-NN radii, computed once, when a run needs measuring
    settings = {"psis": args.psis, "n": args.n, "ppl_n": args.ppl_n, "n_real": N_REAL}
    results = {}
    for mixing in args.arms:
        for seed in args.seeds:
            run_dir = out / "runs" / run_name(mixing, seed)
            path = run_dir / "measurements.json"
            if path.exists() and json.loads(path.read_text())["settings"] == settings:
                results[run_dir.name] = json.loads(path.read_text())
                continue
            if not finished(run_dir, args.steps):
                print(f"skipped {run_dir.name}: not trained to step {args.steps}", flush=True)
                continue
            if real_radii is None:
                real_radii = kth_neighbour_radius(torch.from_numpy(real), K)
            results[run_dir.name] = {
                "settings": settings,
                **measure(run_dir, args, extractor, real, real_radii),
            }
            atomic_write_text(path, json.dumps(results[run_dir.name], indent=1) + "\n")
    return results


def runs_of(results: dict, mixing: float) -> list[dict]:
    """The measurements of one arm's runs, in seed order."""
    return [r for name, r in results.items() if name.startswith(f"mixing{mixing:g}-")]


def at_psi(run: dict, psi: float) -> dict:
    return next(x for x in run["truncation"] if x["psi"] == psi)


def claim(arm: str, text: str, source: str, differences: list[float]) -> dict:
    return {"arm": arm, "claim": text, "source": source, "differences": differences, **verdict(differences)}


def claims(results: dict, arms: list[float]) -> list[dict]:
    """Each claim, its per-seed differences (the claimed direction is > 0) and its verdict."""
    out = []
    for mixing in arms:
        runs = runs_of(results, mixing)
        if not runs:
            continue
        arm = f"mixing {mixing:g}"
        out.append(
            claim(
                arm,
                "PPL lower in W than in Z (PPL_Z - PPL_W > 0)",
                "Karras et al. 2019, table 3",
                [r["ppl"]["z"]["ppl"] - r["ppl"]["w"]["ppl"] for r in runs],
            )
        )
        for psi in [x["psi"] for x in runs[0]["truncation"] if x["psi"] != 1.0]:
            out += [
                claim(
                    arm,
                    f"psi {psi:g} raises precision (precision(psi) - precision(1) > 0)",
                    "Kynkäänniemi et al. 2019, truncation sweep",
                    [at_psi(r, psi)["precision"] - at_psi(r, 1.0)["precision"] for r in runs],
                ),
                claim(
                    arm,
                    f"psi {psi:g} lowers recall (recall(1) - recall(psi) > 0)",
                    "Kynkäänniemi et al. 2019, truncation sweep",
                    [at_psi(r, 1.0)["recall"] - at_psi(r, psi)["recall"] for r in runs],
                ),
                claim(
                    arm,
                    f"psi {psi:g} raises FID (FID(psi) - FID(1) > 0)",
                    "Karras et al. 2019 and 2020 report FID without truncation: it costs FID",
                    [at_psi(r, psi)["fid"] - at_psi(r, 1.0)["fid"] for r in runs],
                ),
            ]
    with_mixing = max(arms)
    if 0.0 in arms and with_mixing > 0 and runs_of(results, 0.0) and runs_of(results, with_mixing):
        gap = lambda r: r["mixed_fid"] - at_psi(r, 1.0)["fid"]  # noqa: E731
        pairs = zip(runs_of(results, 0.0), runs_of(results, with_mixing))  # seed by seed
        out.append(
            claim(
                f"mixing 0 vs {with_mixing:g}",
                "mixing regularisation narrows the FID gap of mixed styles (gap without - gap with > 0)",
                "Karras et al. 2019, table 2",
                [gap(a) - gap(b) for a, b in pairs],
            )
        )
    return out


def summarize(args, out: Path, results: dict) -> None:
    command = " ".join(a for a in sys.argv[1:] if a != "--measure-only")  # rewriting the tables: the same
    rows = {name: logged_rows(out / "runs" / name) for name in results}
    found = claims(results, args.arms)
    summary = {
        "settings": {
            "steps": args.steps,
            "seeds": args.seeds,
            "arms": args.arms,
            "psis": args.psis,
            "n": args.n,
            "ppl_n": args.ppl_n,
            "n_real": N_REAL,
            "epsilon": 1e-4,
            "features": "fmnist-cnn",
            "model": "stylegan",
            "data": "fashion-mnist",
            "resolution": 32,
            "width": 32,
            "batch_size": 64,
        },
        "machine": platform.machine(),
        "torch": torch.__version__,
        "runs": results,
        "claims": found,
        "training": rows,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary) + "\n")
    for mixing in args.arms:  # the EMA generator's grid at the last step of each arm's first seed
        grids = sorted((out / "runs" / run_name(mixing, args.seeds[0]) / "samples").glob("step_*.png"))
        if grids:
            shutil.copyfile(grids[-1], out / f"samples_{run_name(mixing, args.seeds[0])}.png")
    lines = [
        f"StyleGAN2 (``--model stylegan``, width 32, batch 64, lazy R1, EMA) on Fashion-MNIST 32x32, "
        f"{args.steps} steps, seeds {args.seeds}; mean ± sd over seeds. FID, precision and recall (k = 3) "
        f"with fmnist-cnn features, {args.n:,} generated (the same latents at every psi) vs {N_REAL:,} test "
        "images. "
        f"PPL: {args.ppl_n:,} pairs, epsilon 1e-4, full paths (slerp in Z, lerp in W), squared Euclidean "
        "distance of fmnist-cnn features / epsilon^2 (the paper: VGG16 LPIPS, 100,000 pairs), 1% trimmed "
        "at each end.",
        "",
        "| style mixing | runs | psi | FID | precision | recall |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mixing in args.arms:
        runs = runs_of(results, mixing)
        for psi in args.psis:
            at = [next(x for x in r["truncation"] if x["psi"] == psi) for r in runs]
            col = lambda k, d=2: mean_sd([x[k] for x in at], d)  # noqa: E731
            lines.append(
                f"| {mixing:g} | {len(runs)} | {psi:g} | {col('fid')} | {col('precision', 3)} "
                f"| {col('recall', 3)} |"
            )
    lines += [
        "",
        "| style mixing | runs | PPL in Z | PPL in W | FID, mixed styles | FID, unmixed |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mixing in args.arms:
        runs = runs_of(results, mixing)
        unmixed = [next(x for x in r["truncation"] if x["psi"] == 1.0)["fid"] for r in runs]
        lines.append(
            f"| {mixing:g} | {len(runs)} | {mean_sd([r['ppl']['z']['ppl'] for r in runs], 1)} "
            f"| {mean_sd([r['ppl']['w']['ppl'] for r in runs], 1)} "
            f"| {mean_sd([r['mixed_fid'] for r in runs])} | {mean_sd(unmixed)} |"
        )
    lines += [
        "",
        "Claims (a difference that should be > 0; per seed, then mean ± sd; held: the same sign on "
        "every seed and a mean beyond 2 standard errors):",
        "",
        "| arm | claim | per seed | mean ± sd | verdict |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for c in found:
        per_seed = ", ".join(f"{d:+.3f}" for d in c["differences"])
        lines.append(
            f"| {c['arm']} | {c['claim']} | {per_seed} | {mean_sd(c['differences'], 3)} | {c['verdict']} |"
        )
    if 0.0 not in args.arms:
        lines += [
            "",
            "Not measured: the arm without mixing regularisation (--mixing 0), so mixing's effect on the "
            "mixed-style FID has no comparison; ADA with StyleGAN at a limited-data size. The CPU "
            "budget (one shared thread) allowed one arm at 3 seeds.",
        ]
    lines += [
        "",
        f"Produced by `python experiments/stylegan_measurements.py {command}` on "
        f"{platform.machine()} CPU, torch {torch.__version__}, one thread; the training commands are in "
        "commands.txt.",
    ]
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="results/stylegan")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--arms", type=float, nargs="+", default=[0.9], help="style-mixing probabilities")
    p.add_argument("--psis", type=float, nargs="+", default=list(PSIS))
    p.add_argument("--n", type=int, default=2000, help="generated images per FID / precision-recall")
    p.add_argument("--ppl-n", type=int, default=1000, help="pairs per perceptual path length")
    p.add_argument("--measure-only", action="store_true", help="train nothing: measure the trained runs")
    p.add_argument("--train-only", action="store_true", help="train the runs, measure nothing")
    args = p.parse_args()
    out = Path(args.out)
    if not args.measure_only:
        train(args, out)
    if args.train_only:
        return
    torch.set_num_threads(1)
    summarize(args, out, measure_all(args, out))


if __name__ == "__main__":
    main()
