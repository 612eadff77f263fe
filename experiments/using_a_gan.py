"""Using a trained DCGAN (lesson 15): projection quality, latent-direction edits, classifier steering and the
class bias of its samples.

    python experiments/using_a_gan.py --out results/using_a_gan [--seeds 0 1 2 --gan-steps 800 --width 16]
        [--generator-seed 0: one DCGAN for all seeds, the seeds then vary the measurements only]

For each seed: a DCGAN (width ``--width``, batch 64, ``--gan-steps`` steps) on Fashion-MNIST's training set,
trained into ``--runs``/seed<S> (reused when a finished run with these settings is there), then, with its
EMA generator G:

* **projection** (``toolkit.projection.project``, in Z, ``--proj-steps`` steps) of ``--n-proj`` images of each
  of four sets: G's own samples (the ceiling: G can draw them), held-out Fashion-MNIST *test* images, the
  same test images inverted (white background: the same shapes, never seen), and scikit-learn's handwritten
  digits (``digits``, upsampled to 32x32: not clothing at all). Reported: PSNR, SSIM and the fmnist-cnn
  feature distance (its content layer; the projector optimised a distance on these features, so it is
  favourable to the projector) of each reconstruction to its target;
* **directions** (``toolkit.directions``): boundaries for ``brightness``, ``area`` and the classes
  ``--classes`` (scored by the fmnist-cnn classifier) fitted on ``--n-fit`` samples, saved into the run
  directory; then the conditional-manipulation table: 500 fresh latents moved by ``--strength`` along each
  direction, every attribute's mean change in standard deviations; plus "area, brightness removed", the area
  direction with its brightness component removed (InterFaceGAN's conditional manipulation);
* **steering** (``toolkit.steering.steer``): 64 latents pushed by gradient ascent towards the first of
  ``--classes``, without and with a penalty holding brightness and area: the class score gained and how much
  brightness and area changed;
* **bias**: the class distribution of 10,000 samples of G as the fmnist-cnn classifier labels them, against
  the same classifier's labels of the 60,000 training images (so the classifier's own errors count on both
  sides), at latent scales ``--scales`` (z multiplied by the scale: a shorter z, the DCGAN analogue of the
  truncation trick); total variation distance to the training distribution and the share of each class.

Everything runs in this process on one CPU thread. Writes ``summary.json`` (after every seed, so a cut run
keeps what it measured), ``table.md``, ``commands.txt``, ``projections_seed<S>.png``, ``edits_seed<S>.png``
and, for the lesson's quick mode, ``generator/`` (config.json and a checkpoint with the nets' weights only:
the seed-0 run loaded by ``toolkit.generate.load_generator``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

from toolkit.files import atomic_write_text

SETS = {
    "own": "G's own samples",
    "test": "Fashion-MNIST test images",
    "inverted": "inverted test images",
    "digits": "handwritten digits",
}
SCALES = (1.0, 0.75, 0.5)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def mean_std(values: list[float]) -> dict:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "values": values,
    }


def train_generator(seed: int, args, log) -> Path:
    from toolkit.families import config_for
    from toolkit.runs import Run
    from toolkit.training import Trainer

    run_dir = Path(args.runs) / f"seed{seed}"
    settings = dict(width=args.width, steps=args.gan_steps, seed=seed, batch_size=64)
    run = Run(run_dir)
    if run.checkpoint_path() is not None:
        config = run.config()
        if all(config.get(k) == v for k, v in settings.items()) and config.get("model") == "dcgan":
            if run.load_checkpoint()["step"] == args.gan_steps:
                log(f"seed {seed}: reusing the finished run {run_dir}")
                return run_dir
    config = config_for(
        "dcgan",
        data="fashion-mnist",
        **settings,
        threads=1,
        device="cpu",
        log_every=50,
        sample_every=args.gan_steps,
        checkpoint_every=args.gan_steps,
    )
    start = time.perf_counter()
    Trainer(config, run_dir=run_dir, progress=False, overwrite=True).fit()
    log(f"seed {seed}: DCGAN trained in {time.perf_counter() - start:.0f} s")
    return run_dir


def projection_targets(G, n: int, seed: int) -> dict[str, torch.Tensor]:
    from toolkit.data import load_dataset

    g = torch.Generator().manual_seed(seed)
    test = load_dataset("fashion-mnist", split="test")
    digits = load_dataset("digits", resolution=32)
    pick = torch.randperm(len(test), generator=g)[:n]
    with torch.no_grad():
        own = G(torch.randn(n, G.z_dim, generator=g))
    return {
        "own": own,
        "test": test.x[pick],
        "inverted": -test.x[pick],
        "digits": digits.x[torch.randperm(len(digits), generator=g)[:n]],
    }


def measure_projection(G, targets, args, seed, backbone) -> dict:
    from toolkit.metrics.image_quality import perceptual_distance, psnr, ssim
    from toolkit.projection import project

    out, recon = {}, {}
    for name, target in targets.items():
        result = project(G, target, steps=args.proj_steps, backbone=backbone, seed=seed)
        rec = result.reconstruction
        recon[name] = rec
        out[name] = {
            "psnr": float(psnr(rec, target).mean()),
            "ssim": float(ssim(rec, target).mean()),
            "feature": float(perceptual_distance(backbone, rec, target).mean()),
            "final_loss": result.losses[-1],
        }
    return out, recon


def measure_directions(G, run_dir, args, seed, classifier) -> tuple[dict, dict]:
    from toolkit import directions as D
    from toolkit.data import FASHION_MNIST_CLASSES

    attributes = {"brightness": D.brightness, "area": D.area}
    for c in args.classes:
        attributes[c] = D.attribute(c, FASHION_MNIST_CLASSES, G=G, classifier=classifier)
    found, accuracy = {}, {}
    for i, (name, score) in enumerate(attributes.items()):
        z, scores = D.sample_and_score(G, score, args.n_fit, seed=1000 * seed + i)
        direction = D.fit_direction(z, scores, name, seed=seed)
        D.save_direction(run_dir, direction)
        found[name], accuracy[name] = direction.normal, direction.accuracy
    found["area, brightness removed"] = D.conditional_direction(found["area"], found["brightness"])
    fresh = torch.randn(500, G.z_dim, generator=torch.Generator().manual_seed(10_000 + seed))
    table = D.manipulation_table(G, found, attributes, fresh, args.strength)
    cosines = {
        f"{a} . {b}": float(found[a] @ found[b])
        for i, a in enumerate(attributes)
        for b in list(attributes)[i + 1 :]
    }
    return {"accuracy": accuracy, "table": table, "cosines": cosines}, found


def measure_steering(G, args, seed, classifier) -> dict:
    from toolkit import directions as D
    from toolkit.data import FASHION_MNIST_CLASSES
    from toolkit.steering import steer

    c = FASHION_MNIST_CLASSES.index(args.classes[0])
    score = D.class_score(classifier, c)
    z = torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(20_000 + seed))

    def keep(images):
        return torch.stack([D.brightness(images), D.area(images)], dim=1) * 10  # tenths of the range

    out = {}
    for name, weight in (("free", 0.0), ("kept", args.keep_weight)):
        r = steer(G, z, score, steps=args.steer_steps, lr=0.05, keep=keep, keep_weight=weight)
        with torch.no_grad():
            before, after = r.before, r.after
            out[name] = {
                "score_before": float(score(before).mean()),
                "score_after": float(score(after).mean()),
                "share_classified_before": float((classifier(before).argmax(1) == c).float().mean()),
                "share_classified_after": float((classifier(after).argmax(1) == c).float().mean()),
                "brightness_change": float((D.brightness(after) - D.brightness(before)).abs().mean()),
                "area_change": float((D.area(after) - D.area(before)).abs().mean()),
            }
    return out


@torch.no_grad()
def class_shares(classifier, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    labels = torch.cat([classifier(images[i : i + batch]).argmax(1) for i in range(0, len(images), batch)])
    return torch.bincount(labels, minlength=10).float() / len(labels)


def measure_bias(G, args, seed, classifier, real_shares) -> dict:
    out = {}
    z = torch.randn(10_000, G.z_dim, generator=torch.Generator().manual_seed(30_000 + seed))
    for scale in args.scales:
        with torch.no_grad():
            images = torch.cat([G(z[i : i + 1000] * scale) for i in range(0, len(z), 1000)])
        shares = class_shares(classifier, images)
        out[str(scale)] = {
            "shares": shares.tolist(),
            "total_variation": float((shares - real_shares).abs().sum() / 2),
        }
    return out


def save_quick_generator(run_dir: Path, out: Path) -> None:
    """config.json and a checkpoint holding only the nets (EMA generator as G), for lesson 15's quick mode."""
    from toolkit.runs import CONFIG, LAST_CHECKPOINT, load_checkpoint, save_checkpoint

    state = load_checkpoint(run_dir / LAST_CHECKPOINT)
    slim = {
        "format": state["format"],
        "step": state["step"],
        "family": state["family"],
        "nets": {"G": state["ema"].get("G", state["nets"]["G"]), "D": state["nets"]["D"]},
        "ema": {},
        "config": state["config"],
    }
    (out / "generator" / "checkpoints").mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "generator" / CONFIG, (run_dir / CONFIG).read_text())
    save_checkpoint(out / "generator" / LAST_CHECKPOINT, slim)


def run_seed(seed: int, args, log, real_shares, classifier, backbone) -> dict:
    from toolkit import directions as D
    from toolkit.generate import load_generator
    from toolkit.viz import save_grid

    run_dir = train_generator(seed if args.generator_seed is None else args.generator_seed, args, log)
    G, _ = load_generator(run_dir)
    t = cpu_seconds()
    targets = projection_targets(G, args.n_proj, seed)
    projection, recon = measure_projection(G, targets, args, seed, backbone)
    log(f"seed {seed}: projection {json.dumps(projection)} ({cpu_seconds() - t:.0f} CPU s)")
    rows = [torch.cat([targets[k][:8], recon[k][:8]]) for k in SETS]
    save_grid(torch.cat(rows).clamp(-1, 1), Path(args.out) / f"projections_seed{seed}.png", nrow=8, scale=2)
    t = cpu_seconds()
    directions, found = measure_directions(G, run_dir, args, seed, classifier)
    log(f"seed {seed}: directions {json.dumps(directions)} ({cpu_seconds() - t:.0f} CPU s)")
    z = torch.randn(6, G.z_dim, generator=torch.Generator().manual_seed(40_000 + seed))
    with torch.no_grad():
        strengths = (-3, -1.5, 0, 1.5, 3)
        edits = [
            G(D.edit(z, found[name], s))
            for name in ("brightness", "area", args.classes[0])
            for s in strengths
        ]
    grid = torch.stack(edits).view(3, len(strengths), 6, *edits[0].shape[1:]).permute(0, 2, 1, 3, 4, 5)
    save_grid(
        grid.reshape(-1, *edits[0].shape[1:]), Path(args.out) / f"edits_seed{seed}.png", nrow=5, scale=2
    )
    t = cpu_seconds()
    steering = measure_steering(G, args, seed, classifier)
    log(f"seed {seed}: steering {json.dumps(steering)} ({cpu_seconds() - t:.0f} CPU s)")
    bias = measure_bias(G, args, seed, classifier, real_shares)
    log(f"seed {seed}: bias {json.dumps({k: v['total_variation'] for k, v in bias.items()})}")
    if seed == args.seeds[0]:  # the first seed's generator, for the lesson's quick mode
        save_quick_generator(run_dir, Path(args.out))
    return {"projection": projection, "directions": directions, "steering": steering, "bias": bias}


def summarize(summary: dict, out: Path) -> list[str]:
    s = summary["settings"]
    seeds = [int(k) for k in summary["per_seed"]]
    per = [summary["per_seed"][str(k)] for k in seeds]
    names = summary["class_names"]

    def agg(get):
        return mean_std([get(p) for p in per])

    def ms(d, digits=2):
        return f"{d['mean']:.{digits}f} ± {d['std']:.{digits}f}"

    aggregate = {
        "projection": {
            k: {m: agg(lambda p, k=k, m=m: p["projection"][k][m]) for m in ("psnr", "ssim", "feature")}
            for k in SETS
        },
        "table": {
            d: {
                a: agg(lambda p, d=d, a=a: p["directions"]["table"][d][a])
                for a in per[0]["directions"]["table"][d]
            }
            for d in per[0]["directions"]["table"]
        },
        "accuracy": {
            a: agg(lambda p, a=a: p["directions"]["accuracy"][a]) for a in per[0]["directions"]["accuracy"]
        },
        "steering": {
            m: {q: agg(lambda p, m=m, q=q: p["steering"][m][q]) for q in per[0]["steering"][m]}
            for m in ("free", "kept")
        },
        "total_variation": {
            sc: agg(lambda p, sc=sc: p["bias"][sc]["total_variation"]) for sc in per[0]["bias"]
        },
        "shares": {
            sc: [agg(lambda p, sc=sc, c=c: p["bias"][sc]["shares"][c]) for c in range(10)]
            for sc in per[0]["bias"]
        },
    }
    summary["aggregate"] = aggregate
    attrs = list(per[0]["directions"]["accuracy"])
    lines = [
        f"DCGAN (width {s['width']}, batch 64, {s['gan_steps']} steps) on Fashion-MNIST's training set, "
        + (
            "one per seed"
            if s["generator_seed"] is None
            else f"one (training seed {s['generator_seed']}); the seeds vary the measurements only"
        )
        + "; EMA generator."
        f" Mean ± standard deviation over seeds {', '.join(map(str, seeds))}; "
        f"one CPU thread ({summary['machine']}, torch {summary['torch']}), "
        f"{summary['cpu_seconds'] / 60:.0f} CPU min in all.",
        "",
        f"**Projection** in Z ({s['proj_steps']} steps, pixel + fmnist-cnn feature loss, "
        f"{s['n_proj']} images per set): PSNR (dB), SSIM and fmnist-cnn feature distance (content layer) of "
        "the reconstruction to the target.",
        "",
        "| target | PSNR | SSIM | feature distance |",
        "| --- | ---: | ---: | ---: |",
    ]
    for k, label in SETS.items():
        a = aggregate["projection"][k]
        lines.append(f"| {label} | {ms(a['psnr'])} | {ms(a['ssim'], 3)} | {ms(a['feature'], 3)} |")
    lines += [
        "",
        f"**Directions** (InterFaceGAN, {s['n_fit']} samples, top/bottom 30 %): boundary accuracy on "
        "held-out samples, then the conditional-manipulation table: mean change of each attribute "
        "(columns, in standard deviations over G's samples) when 500 latents move by "
        f"{s['strength']} along each direction (rows).",
        "",
        "| direction | boundary accuracy | " + " | ".join(attrs) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in attrs) + " |",
    ]
    for d, row in aggregate["table"].items():
        acc = ms(aggregate["accuracy"][d], 3) if d in aggregate["accuracy"] else "-"
        lines.append(f"| {d} | {acc} | " + " | ".join(ms(row[a]) for a in attrs) + " |")
    st = aggregate["steering"]
    lines += [
        "",
        f"**Steering** towards {s['classes'][0]} (64 latents, {s['steer_steps']} Adam steps on z): "
        "log p(class), share the classifier names as the class, mean absolute change of brightness and area.",
        "",
        "| | log p before | log p after | share before | share after | brightness change | area change |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m, label in (
        ("free", "no penalty"),
        ("kept", f"keep brightness and area (weight {s['keep_weight']})"),
    ):
        q = st[m]
        lines.append(
            f"| {label} | {ms(q['score_before'])} | {ms(q['score_after'])} | "
            f"{ms(q['share_classified_before'])} | {ms(q['share_classified_after'])} | "
            f"{ms(q['brightness_change'], 3)} | {ms(q['area_change'], 3)} |"
        )
    lines += [
        "",
        "**Bias**: class shares of 10,000 samples as the fmnist-cnn classifier labels them, against its "
        "labels of the 60,000 training images; z scaled by s (s < 1: the truncation trick for a DCGAN). "
        "TV = total variation distance to the training shares.",
        "",
        "| class | training data | " + " | ".join(f"G, s = {sc}" for sc in aggregate["shares"]) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in aggregate["shares"]) + " |",
    ]
    for c in range(10):
        lines.append(
            f"| {names[c]} | {summary['real_shares'][c]:.3f} | "
            + " | ".join(ms(aggregate["shares"][sc][c], 3) for sc in aggregate["shares"])
            + " |"
        )
    lines.append(
        "| TV | 0 | "
        + " | ".join(ms(aggregate["total_variation"][sc], 3) for sc in aggregate["shares"])
        + " |"
    )
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="results/using_a_gan")
    p.add_argument("--runs", default="runs/using_a_gan", help="where the DCGAN runs are written (or reused)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--generator-seed",
        type=int,
        default=None,
        help="use this seed's DCGAN for every seed (the seeds then vary only the measurements); default: "
        "one DCGAN per seed",
    )
    p.add_argument("--gan-steps", type=int, default=800)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--n-proj", type=int, default=32, help="images projected per set")
    p.add_argument("--proj-steps", type=int, default=200)
    p.add_argument("--n-fit", type=int, default=4000, help="samples labelled to fit each direction")
    p.add_argument(
        "--classes", nargs="+", default=["Trouser", "Bag"], help="class directions (the first: steering)"
    )
    p.add_argument("--strength", type=float, default=2.0)
    p.add_argument("--steer-steps", type=int, default=50)
    p.add_argument("--keep-weight", type=float, default=10.0)
    p.add_argument("--scales", type=float, nargs="+", default=list(SCALES))
    args = p.parse_args()

    from toolkit.backbones import load_backbone
    from toolkit.data import FASHION_MNIST_CLASSES, load_dataset
    from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
    from toolkit.runtime import set_threads

    set_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, flush=True)

    classifier = load_fmnist_cnn()
    backbone = load_backbone("fmnist-cnn")
    real_shares = class_shares(classifier, load_dataset("fashion-mnist").x)
    summary = {
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "runs", "seeds")},
        "class_names": list(FASHION_MNIST_CLASSES),
        "real_shares": real_shares.tolist(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "threads": 1,
        "per_seed": {},
    }
    start = cpu_seconds()
    for seed in args.seeds:
        summary["per_seed"][str(seed)] = run_seed(seed, args, log, real_shares, classifier, backbone)
        summary["cpu_seconds"] = cpu_seconds() - start
        lines = summarize(summary, out)
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    atomic_write_text(
        out / "commands.txt",
        "OMP_NUM_THREADS=1 nice -n 10 python experiments/using_a_gan.py " + " ".join(sys.argv[1:]) + "\n"
        "# a seed's DCGAN alone, with the command line:\n"
        "# python -m toolkit train --model dcgan --data fashion-mnist "
        f"--width {args.width} --steps {args.gan_steps} --seed 0 --run-dir runs/using_a_gan/seed0\n"
        "# generator/ holds that seed-0 run's config.json and its nets' weights (EMA generator), for "
        "lesson 15's quick mode\n",
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
