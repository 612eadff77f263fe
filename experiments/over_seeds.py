"""One ablation over several seeds: each method's scores as mean ± sd, and each claim's verdict.

    python experiments/pix2pix_ablation.py --out results/pix2pix/seed1 --steps 3000 --seed 1   # and seed 2
    python experiments/over_seeds.py pix2pix

The experiments of lessons 08-11 (``pggan``, ``pix2pix``, ``cyclegan``, ``srgan``) each train every
method with one seed and write ``summary.json``. Their lessons' claims ("without skips the test L1 error
is higher") compare two methods; from one seed, a difference of 1% reads as a result. This script reads
the seed-0 run (``results/<name>/summary.json``) and the other seeds' (``results/<name>/seed*/summary.json``,
the same command with ``--seed N --out results/<name>/seedN``), refuses to combine runs whose settings
differ in anything but the seed, and writes into ``results/<name>/``:

* ``over_seeds.json``: every method's score per seed, and for each claim its per-seed paired difference
  (both methods trained with that seed and scored on the same test images; written so that the claim says
  it is > 0), mean, sd and verdict;
* ``over_seeds.md``: the same as two tables, and the commands that made each seed.

The verdict rule is ``toolkit.verdicts.paired_verdict``: held, did not hold, or within noise.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from toolkit.files import atomic_write_text
from toolkit.verdicts import mean_sd, paired_verdict


@dataclass(frozen=True)
class Claim:
    """``a op b`` on ``metric``: e.g. ``Claim("...", "fid", "no_skips", ">", "l1_gan")``."""

    text: str
    metric: str
    a: str
    op: str  # ">" or "<"
    b: str

    def difference(self, scores: dict) -> float:
        """> 0 when this seed's scores say the claim is true."""
        a, b = scores[self.a][self.metric], scores[self.b][self.metric]
        return a - b if self.op == ">" else b - a


@dataclass(frozen=True)
class Ablation:
    """What to read from one summary.json: each method's label and scores, the columns and the claims."""

    scores: callable  # summary -> {method: {metric: float}}
    labels: callable  # summary -> {method: label}
    columns: tuple  # (metric, heading, digits)
    claims: tuple  # Claim, ...


def pix2pix_scores(summary: dict) -> dict:
    return {m: {k: run[k] for k in ("l1", "hf", "hf_ratio", "fid")} for m, run in summary["runs"].items()}


def cyclegan_scores(summary: dict) -> dict:
    out = {}
    for method, run in summary["runs"].items():
        m = dict(run["metrics"])
        # how much more a translation overlaps its own input than another input (section 7 of lesson 10)
        m["iou_gap_a2b"] = m["iou_own_a2b"] - m["iou_other_a2b"]
        m["iou_gap_b2a"] = m["iou_own_b2a"] - m["iou_other_b2a"]
        out[method] = m
    return out


def srgan_scores(summary: dict) -> dict:
    out = {}
    for method, run in summary["sets"]["fashion-mnist"]["runs"].items():
        m = {k: run[k] for k in ("psnr", "ssim", "perceptual", "detail", "fid", "accuracy")}
        m["detail_gap"] = abs(run["detail"] - 1)  # distance from the originals' amount of fine detail
        out[method] = m
    return out


def pggan_scores(summary: dict) -> dict:
    """Per method: final and best FID, steps, and the CPU seconds to reach two FID levels of this seed: the
    first row of its speed-up table (the fixed run's early score) and the last (the worse final score)."""
    early, end = summary["speedups"][0], summary["speedups"][-1]
    out = {}
    for method, evals in summary["runs"].items():
        out[method] = {
            "final_fid": evals[-1]["fid"],
            "best_fid": min(e["fid"] for e in evals),
            "steps": evals[-1]["step"],
            "seconds_to_early": early[f"seconds_{method}"],
            "seconds_to_end": end[f"seconds_{method}"],
        }
    return out


ABLATIONS = {
    "pggan": Ablation(
        scores=pggan_scores,
        labels=lambda s: {"progressive": "progressive (4x4 -> 32x32)", "fixed": "fixed (32x32 from step 1)"},
        columns=(
            ("steps", "steps", 0),
            ("final_fid", "final FID", 2),
            ("best_fid", "best FID", 2),
            ("seconds_to_early", "s to the early FID level", 0),
            ("seconds_to_end", "s to the worse final FID", 0),
        ),
        claims=(
            Claim(
                "growing reaches an early, poor FID sooner (cheap low-resolution steps)",
                "seconds_to_early",
                "progressive",
                "<",
                "fixed",
            ),
            Claim(
                "growing reaches the worse of the two final FIDs sooner",
                "seconds_to_end",
                "progressive",
                "<",
                "fixed",
            ),
            Claim(
                "growing ends with a lower FID at the same CPU time", "final_fid", "progressive", "<", "fixed"
            ),
            Claim("growing's best FID is lower", "best_fid", "progressive", "<", "fixed"),
        ),
    ),
    "pix2pix": Ablation(
        scores=pix2pix_scores,
        labels=lambda s: {m: run["label"] for m, run in s["runs"].items()},
        columns=(
            ("l1", "L1 on test pairs", 4),
            ("hf", "hf (sharpness)", 4),
            ("hf_ratio", "hf / targets'", 2),
            ("fid", "FID[fmnist-cnn]", 2),
        ),
        claims=(
            Claim("L1 + GAN (lambda 100) is sharper than L1 only", "hf", "l1_gan", ">", "l1_only"),
            Claim("L1 + GAN (lambda 10) is sharper than L1 only", "hf", "l1_gan_lambda10", ">", "l1_only"),
            Claim("L1 + GAN (lambda 100) has a lower FID than L1 only", "fid", "l1_gan", "<", "l1_only"),
            Claim(
                "L1 + GAN (lambda 10) has a lower FID than L1 only", "fid", "l1_gan_lambda10", "<", "l1_only"
            ),
            Claim("L1 only has the lower test L1 error (it minimises it)", "l1", "l1_only", "<", "l1_gan"),
            Claim("without skips the test L1 error is higher", "l1", "no_skips", ">", "l1_gan"),
            Claim("without skips the FID is higher", "fid", "no_skips", ">", "l1_gan"),
            Claim("without skips the outputs are less sharp", "hf", "no_skips", "<", "l1_gan"),
        ),
    ),
    "cyclegan": Ablation(
        scores=cyclegan_scores,
        labels=lambda s: {"cycle": "with the cycle loss", "no_cycle": "GAN alone (cycle weight 0)"},
        columns=(
            ("cycle_error_a", "cycle error A", 3),
            ("cycle_error_b", "cycle error B", 3),
            ("iou_gap_a2b", "IoU own - other, A->B", 3),
            ("iou_gap_b2a", "IoU own - other, B->A", 3),
            ("match_a2b", "own input best, A->B", 3),
            ("match_b2a", "own input best, B->A", 3),
            ("target_rate_a2b", "target class, A->B", 3),
            ("target_rate_b2a", "target class, B->A", 3),
        ),
        claims=(
            Claim(
                "with the cycle loss the round trip reconstructs its input better (A side)",
                "cycle_error_a",
                "cycle",
                "<",
                "no_cycle",
            ),
            Claim(
                "with the cycle loss the round trip reconstructs its input better (B side)",
                "cycle_error_b",
                "cycle",
                "<",
                "no_cycle",
            ),
            Claim(
                "with the cycle loss the translation keeps more of its input's silhouette (A -> B)",
                "iou_gap_a2b",
                "cycle",
                ">",
                "no_cycle",
            ),
            Claim(
                "with the cycle loss the translation keeps more of its input's silhouette (B -> A)",
                "iou_gap_b2a",
                "cycle",
                ">",
                "no_cycle",
            ),
            Claim(
                "with the cycle loss a translation points back to its own input more often (A -> B)",
                "match_a2b",
                "cycle",
                ">",
                "no_cycle",
            ),
            Claim(
                "with the cycle loss a translation points back to its own input more often (B -> A)",
                "match_b2a",
                "cycle",
                ">",
                "no_cycle",
            ),
            Claim(
                "the classifier names the target class more often with the cycle loss (A -> B)",
                "target_rate_a2b",
                "cycle",
                ">",
                "no_cycle",
            ),
            Claim(
                "the classifier names the target class more often with the cycle loss (B -> A)",
                "target_rate_b2a",
                "cycle",
                ">",
                "no_cycle",
            ),
        ),
    ),
    "srgan": Ablation(
        scores=srgan_scores,
        labels=lambda s: {m: run["label"] for m, run in s["sets"]["fashion-mnist"]["runs"].items()},
        columns=(
            ("psnr", "PSNR (dB) ↑", 2),
            ("ssim", "SSIM ↑", 3),
            ("perceptual", "perceptual ↓", 4),
            ("detail", "detail (1 = real)", 2),
            ("fid", "FID[fmnist-cnn] ↓", 2),
            ("accuracy", "accuracy ↑", 3),
        ),
        claims=(
            Claim("SRResNet (MSE) has a higher PSNR than bicubic", "psnr", "srresnet_mse", ">", "bicubic"),
            Claim(
                "SRResNet (MSE) has a higher PSNR than SRGAN (the paper's trade-off, pixel side)",
                "psnr",
                "srresnet_mse",
                ">",
                "srgan",
            ),
            Claim(
                "SRGAN has a lower perceptual distance than SRResNet (its own objective)",
                "perceptual",
                "srgan",
                "<",
                "srresnet_mse",
            ),
            Claim("SRGAN has more fine detail than SRResNet", "detail", "srgan", ">", "srresnet_mse"),
            Claim(
                "SRGAN's detail is closer to the originals' (1) than SRResNet's",
                "detail_gap",
                "srgan",
                "<",
                "srresnet_mse",
            ),
            Claim("SRGAN has a lower FID[fmnist-cnn] than SRResNet", "fid", "srgan", "<", "srresnet_mse"),
            Claim(
                "the classifier names SRGAN's garments more often than SRResNet's",
                "accuracy",
                "srgan",
                ">",
                "srresnet_mse",
            ),
            Claim(
                "the discriminator adds something the content loss alone does not "
                "(lower FID than content only)",
                "fid",
                "srgan",
                "<",
                "srresnet_content",
            ),
            Claim(
                "the discriminator adds fine detail beyond the content loss alone",
                "detail",
                "srgan",
                ">",
                "srresnet_content",
            ),
            Claim(
                "L1 gives a lower PSNR than MSE (MSE is what PSNR measures)",
                "psnr",
                "srresnet_l1",
                "<",
                "srresnet_mse",
            ),
        ),
    ),
}


def seed_of(summary: dict) -> int:
    """The seed every network of this summary trained with (srgan's first run predates --seed: 0)."""
    return int(summary["settings"].get("seed", 0))


def read_seeds(folder: Path) -> list[tuple[Path, dict]]:
    """``folder/summary.json`` and every ``folder/seed*/summary.json``, checked to differ only in the seed."""
    paths = [folder / "summary.json"] + sorted(folder.glob("seed*/summary.json"))
    found = [p for p in paths if p.is_file()]
    if not found:
        raise SystemExit(f"no summary.json in {folder} or its seed*/ folders: run the experiment first")
    read = [(p, json.loads(p.read_text())) for p in found]
    first_path, first = read[0]
    reference = {k: v for k, v in first["settings"].items() if k != "seed"}
    seen = {}
    for path, summary in read:
        settings = {k: v for k, v in summary["settings"].items() if k != "seed"}
        if settings != reference:
            differ = sorted(k for k in set(settings) | set(reference) if settings.get(k) != reference.get(k))
            raise SystemExit(
                f"{path} was made with other settings than {first_path} ({', '.join(differ)}): "
                "rerun it with the same command and only --seed changed"
            )
        seed = seed_of(summary)
        if seed in seen:
            raise SystemExit(f"{path} and {seen[seed]} are both seed {seed}: each seed must be run once")
        seen[seed] = path
    return sorted(read, key=lambda item: seed_of(item[1]))


def combine(name: str, folder: Path) -> dict:
    """Every method's scores per seed and every claim's verdict (see the module text)."""
    ablation = ABLATIONS[name]
    read = read_seeds(folder)
    per_seed = [ablation.scores(summary) for _, summary in read]
    methods = list(per_seed[0])
    for (path, _), scores in zip(read, per_seed):
        if list(scores) != methods:
            raise SystemExit(
                f"{path} has the methods {list(scores)}, not {methods}: rerun it with every method"
            )
    claims = []
    for claim in ablation.claims:
        differences = [claim.difference(scores) for scores in per_seed]
        claims.append({**claim.__dict__, "differences": differences, **paired_verdict(differences)})
    return {
        "experiment": name,
        "seeds": [seed_of(summary) for _, summary in read],
        "sources": [path.relative_to(folder).as_posix() for path, _ in read],  # in results/<name>/
        "labels": ablation.labels(read[0][1]),
        "scores": {m: {k: [scores[m][k] for scores in per_seed] for k in per_seed[0][m]} for m in methods},
        "claims": claims,
    }


def table(combined: dict, commands: list[str]) -> str:
    ablation = ABLATIONS[combined["experiment"]]
    seeds = combined["seeds"]
    lines = [
        f"Mean ± sd over {len(seeds)} seeds ({', '.join(map(str, seeds))}); every method of a seed trained "
        "with that seed and scored on the same test images.",
        "",
        "| method | " + " | ".join(heading for _, heading, _ in ablation.columns) + " |",
        "| --- |" + " ---: |" * len(ablation.columns),
    ]
    for method, scores in combined["scores"].items():
        cells = [mean_sd(scores[metric], digits) for metric, _, digits in ablation.columns]
        lines.append(f"| {combined['labels'].get(method, method)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Each claim as a per-seed paired difference (> 0: the claim is true on that seed); verdict "
        "(toolkit.verdicts): held when > 0 on every seed and the mean exceeds 2 sd / sqrt(seeds), did not "
        "hold when the same is true the other way, otherwise within noise.",
        "",
        "| claim | per seed | mean ± sd | verdict |",
        "| --- | --- | ---: | --- |",
    ]
    for c in combined["claims"]:
        digits = 4 if max(abs(d) for d in c["differences"]) < 0.1 else 2
        per_seed = ", ".join(f"{d:+.{digits}f}" for d in c["differences"])
        lines.append(f"| {c['text']} | {per_seed} | {mean_sd(c['differences'], digits)} | {c['verdict']} |")
    lines += ["", "Commands:", ""] + [f"    {command}" for command in commands]
    return "\n".join(lines) + "\n"


def seed_commands(combined: dict, folder: Path) -> list[str]:
    """The first line of each seed's commands.txt (the experiment's own command), then this script's."""
    out = []
    for source in combined["sources"]:
        commands = (folder / source).with_name("commands.txt")
        if commands.is_file():
            out.append(commands.read_text().splitlines()[0])
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("experiment", choices=sorted(ABLATIONS))
    p.add_argument("--results", default="results", help="the folder holding results/<experiment>/")
    args = p.parse_args(argv)
    folder = Path(args.results) / args.experiment
    combined = combine(args.experiment, folder)
    commands = seed_commands(combined, folder) + [
        "python experiments/over_seeds.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    ]
    atomic_write_text(folder / "over_seeds.json", json.dumps(combined, indent=1) + "\n")
    atomic_write_text(folder / "over_seeds.md", table(combined, commands))
    print(table(combined, commands))


if __name__ == "__main__":
    main()
