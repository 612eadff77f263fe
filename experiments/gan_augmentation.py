"""Do a conditional GAN's images help a classifier on rare classes? (lesson 13; seed document 000.)

    python experiments/gan_augmentation.py --out results/gan_augmentation \
        [--seeds 0 1 2 --gan-steps 400 --clf-steps 100 --others 400]

The defaults are sized for about 30 minutes on one contended CPU thread (what results/ holds); a GPU or a
quiet machine can afford e.g. ``--gan-steps 2000 --clf-steps 400 --others 1000``.

For each seed: Fashion-MNIST's training set made imbalanced (``--rare`` classes cut to ``--keep`` images each,
every other class reduced to ``--others`` images, both seeded by the seed: a different rare sample per seed);
a class-conditional GAN (``cgan``, concat-conditioned G, projection D) trained on that imbalanced set only,
written to ``runs/gan_augmentation/seed<S>``; then the same small CNN (``toolkit.classifier``) trained the
same number of steps on seven training sets and scored on the untouched 10,000-image test set:

* ``baseline``: the imbalanced set as it is;
* ``classic``: + random flips and 2-pixel shifts;
* ``reweight``: class weights N / (K N_c) in the loss;  ``oversample``: class-balanced batches;
* ``generated``: + ``--per-class`` GAN images of each rare class (the rare classes filled up to the others'
  size), written by ``toolkit.augment_dataset`` to a class folder and read back with ``load_dataset``, as a
  user would;
* ``generated_d``: the same number, the best third of 3x as many by the run's conditional D;
* ``generated_clf``: the best third by the ``oversample`` classifier's p(intended class | image).

Also the label fidelity of the generated rare images (the share the independent fmnist-cnn network names
as the intended class). Everything runs in this process on one CPU thread, one step after another.
Writes ``summary.json``, ``table.md``, ``commands.txt``, ``confusion_<method>.png`` (summed over seeds) and
``generated_seed<S>.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

METHODS = {
    "baseline": "imbalanced baseline",
    "classic": "+ classic augmentation (flips, shifts)",
    "reweight": "+ re-weighting (loss)",
    "oversample": "+ oversampling (balanced batches)",
    "generated": "+ generated images",
    "generated_d": "+ generated, filtered by D",
    "generated_clf": "+ generated, filtered by the classifier",
}


def mean_std(values: list[float]) -> dict:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "values": values,
    }


def run_seed(seed: int, args, train, test, log) -> dict:
    from toolkit.augment_dataset import augment_dataset
    from toolkit.classifier import scores, train_classifier
    from toolkit.data import imbalanced_subset, load_dataset
    from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
    from toolkit.training import Trainer, config_for
    from toolkit.viz import save_grid

    names = train.class_names
    rare = [names.index(c) for c in args.rare]
    idx = imbalanced_subset(train.labels, rare, args.keep, seed=seed, others=args.others)
    imb = train.subset(idx, name="fashion-mnist-imbalanced")
    counts = torch.bincount(imb.labels, minlength=10).tolist()
    log(f"seed {seed}: imbalanced training set {len(imb)} images, per class {counts}")

    run_dir = Path(args.runs) / f"seed{seed}"
    config = config_for(
        "cgan",
        data="fashion-mnist",
        steps=args.gan_steps,
        batch_size=64,
        g_condition="concat",
        augment=args.augment,
        seed=seed,
        threads=1,
        device="cpu",
        log_every=100,
        sample_every=500,
        checkpoint_every=500,
    )
    start = time.perf_counter()
    trainer = Trainer(config, data=imb, run_dir=run_dir, progress=False, overwrite=True)
    trainer.fit()
    gan_seconds = time.perf_counter() - start
    log(f"seed {seed}: GAN trained in {gan_seconds:.0f} s")

    def fit(x, y, **kw):
        t = time.perf_counter()
        net = train_classifier(x, y, 10, steps=args.clf_steps, batch_size=128, seed=seed, **kw)
        return net, time.perf_counter() - t

    nets, results = {}, {}
    for method, kw in [
        ("baseline", {}),
        ("classic", {"augment": "classic"}),
        ("reweight", {"balance": "reweight"}),
        ("oversample", {"balance": "oversample"}),
    ]:
        nets[method], secs = fit(imb.x, imb.labels, **kw)
        results[method] = {**scores(nets[method], test.x, test.labels, names), "train_seconds": secs}
        r = results[method]
        log(f"seed {seed}: {method} acc {r['accuracy']:.4f} f1 {r['macro_f1']:.4f}")

    fmnist = load_fmnist_cnn()
    fidelity = {}
    for method, filt, extra in [
        ("generated", "none", {}),
        ("generated_d", "discriminator", {}),
        ("generated_clf", "classifier", {"classifier": nets["oversample"]}),
    ]:
        out = run_dir / f"generated_{filt}"
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        augment_dataset(run_dir, args.rare, args.per_class, out, filt, candidates=3, seed=seed, **extra)
        gen = load_dataset(str(out), resolution=32)
        gen_labels = torch.tensor([names.index(gen.class_names[i]) for i in gen.labels.tolist()])
        with torch.no_grad():
            judged = torch.cat([fmnist(gen.x[i : i + 1000]).argmax(1) for i in range(0, len(gen.x), 1000)])
        fidelity[method] = {names[c]: float((judged[gen_labels == c] == c).float().mean()) for c in rare}
        if method == "generated":
            order = torch.cat([torch.nonzero(gen_labels == c).view(-1)[:16] for c in rare])
            save_grid(gen.x[order], Path(args.out) / f"generated_seed{seed}.png", nrow=16, scale=2)
        net, secs = fit(torch.cat([imb.x, gen.x]), torch.cat([imb.labels, gen_labels]))
        results[method] = {**scores(net, test.x, test.labels, names), "train_seconds": secs}
        r = results[method]
        log(
            f"seed {seed}: {method} acc {r['accuracy']:.4f} f1 {r['macro_f1']:.4f} "
            f"fidelity {fidelity[method]}"
        )
    return {"counts": counts, "gan_seconds": gan_seconds, "fidelity": fidelity, "methods": results}


def summarize(summary: dict, out: Path, command: list[str]) -> None:
    from toolkit.classifier import confusion_png

    s = summary["settings"]
    rare = s["rare"]
    seeds = summary["seeds"]
    agg = {}
    for method in METHODS:
        per = [summary["per_seed"][str(seed)]["methods"][method] for seed in seeds]
        agg[method] = {
            "label": METHODS[method],
            "accuracy": mean_std([p["accuracy"] for p in per]),
            "macro_f1": mean_std([p["macro_f1"] for p in per]),
            "recall": {c: mean_std([p["recall"][c] for p in per]) for c in rare},
            "correct": {c: [round(p["recall"][c] * 1000) for p in per] for c in rare},
            "confusion": torch.tensor([p["confusion"] for p in per]).sum(0).tolist(),
        }
        confusion_png(
            agg[method]["confusion"],
            summary["class_names"],
            out / f"confusion_{method}.png",
            f"{METHODS[method]}: test confusions summed over seeds {', '.join(map(str, seeds))}",
        )
    summary["aggregate"] = agg
    fid = {
        m: {c: mean_std([summary["per_seed"][str(sd)]["fidelity"][m][c] for sd in seeds]) for c in rare}
        for m in ("generated", "generated_d", "generated_clf")
    }
    summary["fidelity"] = fid

    def ms(d, scale=1.0, digits=3):
        return f"{d['mean'] * scale:.{digits}f} ± {d['std'] * scale:.{digits}f}"

    lines = [
        f"Fashion-MNIST made imbalanced: {', '.join(rare)} cut to {s['keep']} training images each, "
        f"every other class reduced to {s['others']} (seeded per seed). cGAN (concat G, projection D, "
        f"augment {s['augment']}) trained {s['gan_steps']} steps of batch 64 on that set only; "
        f"{s['per_class']} generated images per rare class added. SmallCNN classifier, {s['clf_steps']} "
        "steps of batch 128 for every method; untouched test set (10,000 images, 1,000 per class). "
        f"Mean ± standard deviation over seeds {', '.join(map(str, seeds))}; one CPU thread "
        f"({summary['machine']}, torch {summary['torch']}), {summary['total_seconds'] / 60:.0f} min in all.",
        "",
        "| method | accuracy | macro F1 | "
        + " | ".join(f"recall {c} (correct of 1,000, per seed)" for c in rare)
        + " |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in rare) + " |",
    ]
    for method, a in agg.items():
        rec = " | ".join(f"{ms(a['recall'][c])} ({', '.join(map(str, a['correct'][c]))})" for c in rare)
        lines.append(f"| {a['label']} | {ms(a['accuracy'])} | {ms(a['macro_f1'])} | {rec} |")
    lines += [
        "",
        "Label fidelity of the generated rare images (share the independent fmnist-cnn network names as the "
        "intended class; real test images of the class score its recall on them):",
        "",
        "| images | " + " | ".join(rare) + " |",
        "| --- | " + " | ".join("---:" for _ in rare) + " |",
    ]
    for m, d in fid.items():
        lines.append(f"| {METHODS[m]} | " + " | ".join(ms(d[c]) for c in rare) + " |")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    (out / "commands.txt").write_text(
        "OMP_NUM_THREADS=1 TOOLKIT_THREADS=1 "
        + " ".join(["python", "experiments/gan_augmentation.py", *command])
        + "\n"
        + "# the same steps for one seed with the command line, on a folder of your own:\n"
        + "# python -m toolkit train --model cgan --g-condition concat --data MY_FOLDER --resolution 32 "
        + f"--steps {s['gan_steps']} --run-dir runs/my_cgan\n"
        + f"# python -m toolkit augment-dataset --run-dir runs/my_cgan --classes {','.join(rare)} "
        + f"--per-class {s['per_class']} --out generated/ [--filter discriminator|classifier]\n"
    )
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="results/gan_augmentation")
    p.add_argument("--runs", default="runs/gan_augmentation", help="where the GAN runs are written")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--rare", nargs="+", default=["Dress", "Coat"])
    p.add_argument("--keep", type=int, default=40, help="training images kept of each rare class")
    p.add_argument("--others", type=int, default=400, help="training images kept of every other class")
    p.add_argument("--gan-steps", type=int, default=400)
    p.add_argument("--augment", default="none", help="what the GAN's D sees (none, ada, diffaugment)")
    p.add_argument(
        "--per-class",
        type=int,
        default=None,
        help="generated images per rare class (default: "
        "--others minus --keep, so the rare classes are filled up)",
    )
    p.add_argument("--clf-steps", type=int, default=100, help="classifier steps of batch 128 (every method)")
    args = p.parse_args()
    if args.per_class is None:
        args.per_class = args.others - args.keep
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    from toolkit.data import load_dataset

    train, test = load_dataset("fashion-mnist"), load_dataset("fashion-mnist", split="test")
    start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - start:7.0f} s] {msg}", flush=True)

    per_seed = {str(s): run_seed(s, args, train, test, log) for s in args.seeds}
    summary = {
        "settings": {
            "rare": args.rare,
            "keep": args.keep,
            "others": args.others,
            "gan_steps": args.gan_steps,
            "augment": args.augment,
            "per_class": args.per_class,
            "clf_steps": args.clf_steps,
            "model": "cgan",
            "g_condition": "concat",
        },
        "seeds": args.seeds,
        "class_names": train.class_names,
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": 1,
        "total_seconds": time.perf_counter() - start,
        "per_seed": per_seed,
    }
    summarize(summary, out, sys.argv[1:])


if __name__ == "__main__":
    main()
