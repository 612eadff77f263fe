"""Do a conditional GAN's images help a classifier on rare classes? (lesson 13; seed document 000.)

    python experiments/gan_augmentation.py --out results/gan_augmentation \
        [--seeds 0 1 2 --gan-steps 1000 --clf-steps 2000 --others 600]

The defaults are lesson 13's own full mode (600 images of every common class, 1000 GAN steps of batch 64);
a GPU or a quiet machine can afford e.g. ``--gan-steps 2000 --others 1000``.

For each seed: Fashion-MNIST's training set made imbalanced (``--rare`` classes cut to ``--keep`` images each,
every other class reduced to ``--others`` images, both seeded by the seed: a different rare sample per seed);
a class-conditional GAN (``cgan``, concat-conditioned G, projection D) trained on that imbalanced set only,
written to ``runs/gan_augmentation/seed<S>``; then the same small CNN (``toolkit.classifier``) trained with
the same protocol on seven training sets (at most ``--clf-steps``, stopped early on the class-balanced loss of
a real validation split, a fifth of each class held out before the GAN trained) and scored on the untouched
10,000-image test set:

* ``baseline``: the imbalanced set as it is;
* ``classic``: + random flips and 2-pixel shifts;
* ``reweight``: class weights N / (K N_c) in the loss;  ``oversample``: class-balanced batches;
* ``generated``: + ``--per-class`` GAN images of each rare class (the rare classes filled up to the others'
  size), written by ``toolkit.augment_dataset`` to a class folder and read back with ``load_dataset``, as a
  user would;
* ``generated_d``: the same number, the best third of 3x as many by the run's conditional D;
* ``generated_clf``: the best third by the ``oversample`` classifier's p(intended class | image).

Also the label fidelity of the generated rare images (the share the independent fmnist-cnn network names
as the intended class), the Classification Accuracy Score (Ravuri & Vinyals 2019: a classifier trained on
generated images of every class only, scored per class on the real test set) and the domain gap (the
accuracy of a classifier telling real rare-class images from generated ones on held-out images).
Everything runs in this process on one CPU thread, one step after another.
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
    from toolkit.data import imbalanced_subset, load_dataset, per_class_holdout
    from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
    from toolkit.training import Trainer, config_for
    from toolkit.viz import save_grid

    names = train.class_names
    rare = [names.index(c) for c in args.rare]
    idx = imbalanced_subset(train.labels, rare, args.keep, seed=seed, others=args.others)
    imb = train.subset(idx, name="fashion-mnist-imbalanced")
    counts = torch.bincount(imb.labels, minlength=10).tolist()
    log(f"seed {seed}: imbalanced training set {len(imb)} images, per class {counts}")
    # a real validation split held out of the imbalanced set (a fifth of each class, seeded) before anything
    # trains: the GAN never sees it; every classifier stops early on its class-balanced loss (same protocol)
    is_val = per_class_holdout(imb.labels, one_in=5, seed=seed)
    val = (imb.x[is_val], imb.labels[is_val])
    imb = imb.subset(torch.nonzero(~is_val).view(-1))
    log(f"seed {seed}: {len(val[0])} images held out for validation, {len(imb)} to train on")

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

    def fit(x, y, num_classes=10, val_set=val, **kw):
        t = time.perf_counter()
        net = train_classifier(
            x,
            y,
            num_classes,
            steps=args.clf_steps,
            batch_size=128,
            seed=seed,
            val=val_set,
            eval_every=args.eval_every,
            patience=args.patience,
            **kw,
        )
        return net, time.perf_counter() - t

    nets, results = {}, {}
    for method, kw in [
        ("baseline", {}),
        ("classic", {"augment": "classic"}),
        ("reweight", {"balance": "reweight"}),
        ("oversample", {"balance": "oversample"}),
    ]:
        nets[method], secs = fit(imb.x, imb.labels, **kw)
        results[method] = {
            **scores(nets[method], test.x, test.labels, names),
            "train_seconds": secs,
            "best_step": nets[method].early_stopping["best_step"],
        }
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
        results[method] = {
            **scores(net, test.x, test.labels, names),
            "train_seconds": secs,
            "best_step": net.early_stopping["best_step"],
        }
        r = results[method]
        log(
            f"seed {seed}: {method} acc {r['accuracy']:.4f} f1 {r['macro_f1']:.4f} "
            f"fidelity {fidelity[method]}"
        )
    # Classification Accuracy Score (Ravuri & Vinyals 2019): a classifier trained on generated images only
    # (every class, as many as the largest real class), stopped early on the real validation split, scored
    # on the real test set; its per-class recall says how much of each real class the generated ones cover
    from toolkit.augment_dataset import generate_classes, load_conditional

    G, _, gan_config = load_conditional(run_dir)
    per_class = max(counts)
    gen_x, gen_y, _ = generate_classes(G, gan_config["z_dim"], list(range(10)), per_class, seed=seed + 100)
    cas_net, _ = fit(gen_x, gen_y)
    cas = scores(cas_net, test.x, test.labels, names)
    log(
        f"seed {seed}: CAS accuracy {cas['accuracy']:.4f}, "
        f"rare recall {[cas['recall'][names[c]] for c in rare]}"
    )

    # the domain gap: can a classifier tell real rare-class images from generated ones? Trained on the real
    # training images of the rare classes against as many generated ones (stopped early on held-out ones),
    # scored on real test images of those classes against fresh generated ones: 0.5 = no gap, 1.0 = apart
    def real_vs_generated(real, fake_seed):
        fake, _, _ = generate_classes(
            G, gan_config["z_dim"], rare, len(real) // len(rare) + 1, seed=fake_seed
        )
        fake = fake[: len(real)]
        return torch.cat([real, fake]), torch.cat([torch.zeros(len(real)), torch.ones(len(fake))]).long()

    is_rare = torch.isin(imb.labels, torch.tensor(rare))
    gap_train = real_vs_generated(imb.x[is_rare], seed + 200)
    gap_val = real_vs_generated(val[0][torch.isin(val[1], torch.tensor(rare))], seed + 300)
    gap_test = real_vs_generated(test.x[torch.isin(test.labels, torch.tensor(rare))], seed + 400)
    gap_net, _ = fit(*gap_train, num_classes=2, val_set=gap_val, balance="oversample")
    gap = scores(gap_net, *gap_test, ["real", "generated"])
    log(f"seed {seed}: real vs generated ({', '.join(args.rare)}): accuracy {gap['accuracy']:.4f}")
    return {
        "counts": counts,
        "gan_seconds": gan_seconds,
        "fidelity": fidelity,
        "methods": results,
        "cas": {"accuracy": cas["accuracy"], "recall": cas["recall"]},
        "domain_gap": {"accuracy": gap["accuracy"], "recall": gap["recall"]},
    }


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
    per_seed = [summary["per_seed"][str(sd)] for sd in seeds]
    summary["cas"] = {
        "accuracy": mean_std([p["cas"]["accuracy"] for p in per_seed]),
        "recall": {c: mean_std([p["cas"]["recall"][c] for p in per_seed]) for c in summary["class_names"]},
    }
    summary["domain_gap"] = {"accuracy": mean_std([p["domain_gap"]["accuracy"] for p in per_seed])}
    for method in METHODS:
        agg[method]["best_step"] = [p["methods"][method]["best_step"] for p in per_seed]

    def ms(d, scale=1.0, digits=3):
        return f"{d['mean'] * scale:.{digits}f} ± {d['std'] * scale:.{digits}f}"

    lines = [
        f"Fashion-MNIST made imbalanced: {', '.join(rare)} cut to {s['keep']} training images each, "
        f"every other class reduced to {s['others']} (seeded per seed). cGAN (concat G, projection D, "
        f"augment {s['augment']}) trained {s['gan_steps']} steps of batch 64 on that set only; "
        f"{s['per_class']} generated images per rare class added. SmallCNN classifier, batch 128, for "
        f"every method at most {s['clf_steps']} steps, stopped early ({s['patience']} checks every "
        f"{s['eval_every']} steps without a lower class-balanced loss on a real validation split: a fifth of "
        "each class, held out before the GAN trained; the best weights kept); untouched test set (10,000 "
        "images, 1,000 per class). "
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
    cas = summary["cas"]
    lines += [
        "",
        "Classification Accuracy Score (Ravuri & Vinyals 2019): a classifier trained on generated images "
        f"only (all classes), tested on the real test set: accuracy {ms(cas['accuracy'])}; recall "
        + ", ".join(f"{c} {ms(cas['recall'][c])}" for c in rare)
        + ". Real vs generated (rare classes; 0.5 = indistinguishable): accuracy "
        + ms(summary["domain_gap"]["accuracy"])
        + ". Early-stopping step of each method, per seed: "
        + "; ".join(f"{m} {a['best_step']}" for m, a in agg.items())
        + ".",
    ]
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
    p.add_argument("--others", type=int, default=600, help="training images kept of every other class")
    p.add_argument("--gan-steps", type=int, default=1000)
    p.add_argument("--augment", default="none", help="what the GAN's D sees (none, ada, diffaugment)")
    p.add_argument(
        "--per-class",
        type=int,
        default=None,
        help="generated images per rare class (default: "
        "--others minus --keep, so the rare classes are filled up)",
    )
    p.add_argument(
        "--clf-steps", type=int, default=2000, help="most classifier steps of batch 128 (every method)"
    )
    p.add_argument("--eval-every", type=int, default=50, help="classifier steps between validation checks")
    p.add_argument("--patience", type=int, default=5, help="validation checks without a new best, then stop")
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
            "eval_every": args.eval_every,
            "patience": args.patience,
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
