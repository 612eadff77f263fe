"""``python -m toolkit bench``: how fast the toolkit trains, side by side with a plain reference loop.

Every timing is relative to something measured in the same process on the same machine, never a guess:

* **DCGAN-32 training** at batch 64 and 128: the toolkit's loop (``Trainer.fit``) against
  :func:`reference_dcgan_steps`, the PyTorch DCGAN tutorial's loop (a ``DataLoader`` over the images,
  ``.item()`` on both losses every step, the fake batch reused for G's update) with the same nets, batch and
  images. The two alternate A/B/A/B in rounds and the *median* ratio of images per second is reported, so
  a slow moment of the machine lands on both sides.
* **Every family's step** at its defaults (images per second; no reference: the families are our own).
* **Quality per CPU-minute** (``--quality-seconds``): the default DCGAN and the reference loop at the
  tutorial's settings each train for the same wall time; FID[fmnist-cnn] of 10,000 samples against the
  test set.
* **Peak memory** of a ``python -m toolkit train --model dcgan`` run (a child process's peak RSS).
* **Sampling**: generated images per second at batch 256.
* **FID on 10,000 x 2,048 features**: the toolkit's ``frechet_distance`` against pytorch-fid's and
  torch-fidelity's computations on the same features (values and seconds).
* **Seconds per lesson** in quick mode (``--lessons``: runs every notebook; slow).

The results file (JSON, default ``results/bench/<machine>.json``) holds the machine, torch version, thread
count and command, every figure, and the targets of issue #19 with met / not met. ``--quick`` shrinks
every part to check the command itself (the test suite runs it); its figures are not meaningful.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .files import atomic_write_text
from .runtime import cpu_flags, cpu_has_native_bf16, set_threads, speed_choice

Z_DIM = 64  # the gan family's default z_dim, used by both loops


# --- the reference: the PyTorch DCGAN tutorial's loop ------------------------------------------------
def reference_dcgan_steps(G, D, opt_g, opt_d, batches, steps: int, z_dim: int = Z_DIM) -> list[tuple]:
    """``steps`` DCGAN updates the way the PyTorch tutorial writes them: D on a real then a fake batch (two
    backward passes), then G through D on the *same* fake batch, and both losses read with ``.item()``
    every step (a host sync each). ``batches`` is an iterator over a DataLoader. Returns the logged losses."""
    criterion = nn.BCEWithLogitsLoss()  # the toolkit's D ends in a logit; the tutorial's in a sigmoid + BCE
    losses = []
    for _ in range(steps):
        (real,) = next(batches)
        b = real.size(0)
        D.zero_grad()
        label = torch.full((b,), 1.0)
        err_d_real = criterion(D(real).view(-1), label)
        err_d_real.backward()
        fake = G(torch.randn(b, z_dim))
        label.fill_(0.0)
        err_d_fake = criterion(D(fake.detach()).view(-1), label)
        err_d_fake.backward()
        opt_d.step()
        G.zero_grad()
        label.fill_(1.0)
        err_g = criterion(D(fake).view(-1), label)
        err_g.backward()
        opt_g.step()
        losses.append((err_d_real.item() + err_d_fake.item(), err_g.item()))
    return losses


def endless(loader):
    while True:
        yield from loader


def reference_setup(images: torch.Tensor, batch: int, seed: int, lr: float = 2e-4, width: int = 32):
    """The reference's nets (the toolkit's DCGAN-32 architecture), Adam(lr, 0.5, 0.999) and a DataLoader."""
    from torch.utils.data import DataLoader, TensorDataset

    from .models import build_models

    torch.manual_seed(seed)
    G, D = build_models("dcgan", tuple(images.shape[1:]), Z_DIM, width)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    loader = DataLoader(TensorDataset(images), batch_size=batch, shuffle=True, drop_last=True)
    return G, D, opt_g, opt_d, endless(loader)


# --- the pieces ---------------------------------------------------------------------------------------
def training_images(n: int = 60_000):
    """Fashion-MNIST's training images at 32x32 when installed, else the built-in digits."""
    from .data import load_dataset, require_fashion_mnist

    try:
        require_fashion_mnist()
        data = load_dataset("fashion-mnist")
    except Exception:  # noqa: BLE001 - any reason it is missing: the benchmark still runs
        data = load_dataset("digits")
    return data.subset(torch.arange(min(n, len(data))))


LEVERS = {
    "toolkit": {},
    "toolkit_channels_last": {"memory_format": "channels-last"},
    "toolkit_bf16": {"precision": "bf16"},
}


def dcgan_throughput(data, batch: int, rounds: int, steps: int) -> dict:
    """Images/s of the toolkit's DCGAN-32 step (its default, ``--memory-format channels-last`` and
    ``--precision bf16``) and of the reference's, taking turns for ``rounds`` rounds; ratios are per round,
    then the median. ``*_cpu_img_s``: the same per second of this process's CPU time (what other processes
    on a shared machine disturb least)."""
    from .training import TrainConfig, Trainer

    loop = dict(batch_size=batch, steps=10**9, log_every=25, sample_every=0, checkpoint_every=0)
    trainers = {  # the default (auto: what this hardware runs best), and the two levers the config offers
        name: Trainer(TrainConfig(**loop, **settings), data=data, progress=False)
        for name, settings in LEVERS.items()
    }
    G, D, og, od, batches = reference_setup(data.x, batch, seed=0)
    for trainer in trainers.values():  # warm-up
        trainer.fit(until=3)
    reference_dcgan_steps(G, D, og, od, batches, 3)
    runs = {name: (lambda t=t: t.fit(until=t.step + steps)) for name, t in trainers.items()}
    runs["reference"] = lambda: reference_dcgan_steps(G, D, og, od, batches, steps)
    speed = {name: [] for name in runs}
    cpu_speed = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            t, cpu = time.perf_counter(), time.process_time()
            run()
            speed[name].append(batch * steps / (time.perf_counter() - t))
            cpu_speed[name].append(batch * steps / (time.process_time() - cpu))
    out = {"batch": batch, **{f"{k}_img_s": round(statistics.median(v), 1) for k, v in speed.items()}}
    out.update({f"{k}_cpu_img_s": round(statistics.median(v), 1) for k, v in cpu_speed.items()})
    out["toolkit_choice"] = {
        "precision": trainers["toolkit"].precision,
        "memory_format": trainers["toolkit"].memory_format,
    }
    for name in trainers:
        ratios = [a / b for a, b in zip(speed[name], speed["reference"])]
        out[f"{name}_ratio"] = round(statistics.median(ratios), 3)
        out[f"{name}_ratios"] = [round(r, 3) for r in ratios]
        cpu_ratios = [a / b for a, b in zip(cpu_speed[name], cpu_speed["reference"])]
        out[f"{name}_cpu_ratio"] = round(statistics.median(cpu_ratios), 3)
    return out


def family_cases() -> list[tuple[str, str, dict]]:
    """(label, model, settings) of every registered family's step at its defaults (``Family.bench_cases``)."""
    from .families import FAMILIES

    return [case for family in FAMILIES.values() for case in family.bench_cases]


def family_throughput(steps: int, gan_data, quick: bool = False) -> list[dict]:
    """Images/s of every family's own step at its default settings (after a short warm-up); ``quick``: at
    batch 4 and the smallest widths, only to check that every family runs."""
    from .families import config_for, family_for
    from .training import Trainer

    rows = []
    for label, model, settings in family_cases():
        loop = dict(steps=10**9, log_every=steps, sample_every=0, checkpoint_every=0)
        try:
            small = dict(batch_size=4, width=8) if quick else {}
            cfg = config_for(model, **loop, **settings, **small)
            data = gan_data if cfg.data == "fashion-mnist" and "limit" not in settings else None
            trainer = Trainer(cfg, data=data, progress=False)
            warm = family_for(model).bench_warmup
            trainer.fit(until=warm)
            t = time.perf_counter()
            trainer.fit(until=warm + steps)
            seconds = (time.perf_counter() - t) / steps
            rows.append(
                {
                    "family": label,
                    "batch": cfg.batch_size,
                    "ms_per_step": round(1000 * seconds, 1),
                    "img_s": round(cfg.batch_size / seconds, 1),
                }
            )
        except Exception as exc:  # noqa: BLE001 - e.g. a dataset missing here: recorded, the rest goes on
            rows.append({"family": label, "error": str(exc).splitlines()[0][:200]})
    return rows


def quality_per_cpu_minute(data, seconds: float, n_samples: int) -> dict:
    """The default DCGAN, the same with ``--precision bf16``, and the reference loop (tutorial settings: batch
    128, lr 2e-4), each trained for the same wall time; FID[fmnist-cnn] of ``n_samples`` samples against the
    test set."""
    from .metrics.evaluate import generated_features, load_extractor, real_features
    from .metrics.fid import frechet_distance
    from .training import TrainConfig, Trainer

    ext = load_extractor("fmnist-cnn")
    data_name = "fashion-mnist" if data.name == "fashion-mnist" else "digits"
    real = real_features(data_name, ext, n_samples)
    out = {"seconds_each": seconds, "samples": n_samples}
    for name, settings in (("toolkit", {}), ("toolkit_bf16", {"precision": "bf16"})):
        cfg = TrainConfig(steps=10**9, log_every=25, sample_every=0, checkpoint_every=0, **settings)
        trainer = Trainer(cfg, data=data, progress=False)
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            trainer.fit(until=trainer.step + 25)
        fake = generated_features(trainer.family.generator, Z_DIM, ext, n_samples, seed=1)
        fid = frechet_distance(real, fake)
        out[name] = {"steps": trainer.step, "batch": cfg.batch_size, "fid": round(fid, 3)}

    G, D, og, od, batches = reference_setup(data.x, 128, seed=0)
    start, ref_steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        reference_dcgan_steps(G, D, og, od, batches, 25)
        ref_steps += 25
    fid = frechet_distance(real, generated_features(G, Z_DIM, ext, n_samples, seed=1))
    out["reference"] = {"steps": ref_steps, "batch": 128, "fid": round(fid, 3)}
    out["fid_ratio"] = round(out["toolkit"]["fid"] / out["reference"]["fid"], 3)
    return out


def peak_memory_mb(steps: int, data_name: str) -> float:
    """Peak resident memory (MB) of ``python -m toolkit train --model dcgan`` in a child process, as the child
    reads it from /proc/self/status (VmHWM: its own memory map's peak). Not ``ru_maxrss``: Linux carries that
    over exec from the forked copy of the parent, which would count this benchmark's own size."""
    with tempfile.TemporaryDirectory() as d:
        args = ["train", "--model", "dcgan", "--data", data_name, "--steps", str(steps)]
        args += ["--run-dir", f"{d}/run", "--no-progress"]
        code = (
            "import resource, sys\n"
            "from toolkit.cli import main\n"
            f"rc = main({args!r})\n"
            "try:\n"
            "    status = open('/proc/self/status').read()\n"
            "    kb = int(status.split('VmHWM:')[1].split()[0])\n"
            "except (OSError, IndexError):  # not Linux: the best there is\n"
            "    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "    kb //= 1024 if sys.platform == 'darwin' else 1  # macOS reports bytes\n"
            "print('peak_kb', kb, file=sys.stderr)\n"
            "sys.exit(rc)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    kb = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("peak_kb"))
    return round(kb / 1024, 1)


@torch.no_grad()
def sampling_throughput(batch: int = 256, rounds: int = 5) -> dict:
    from .models import build_models

    G, _ = build_models("dcgan", (1, 32, 32), Z_DIM, 32)
    G.eval()
    G(torch.randn(batch, Z_DIM))
    t = time.perf_counter()
    for _ in range(rounds):
        G(torch.randn(batch, Z_DIM))
    return {"batch": batch, "img_s": round(batch * rounds / (time.perf_counter() - t), 1)}


def fid_timings(n: int, dim: int) -> dict:
    """Seconds and values of FID on the same (n, dim) features: the toolkit, pytorch-fid, torch-fidelity."""
    from .metrics.fid import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, dim)).astype(np.float32)
    b = (rng.normal(size=(n, dim)) * 1.1 + 0.1).astype(np.float32)
    out = {"n": n, "dim": dim}
    t = time.perf_counter()
    out["toolkit"] = {"fid": round(frechet_distance(a, b), 4), "seconds": round(time.perf_counter() - t, 2)}
    try:
        from pytorch_fid.fid_score import calculate_frechet_distance

        t = time.perf_counter()
        stats = [(x.mean(0), np.cov(x, rowvar=False)) for x in (a, b)]
        value = calculate_frechet_distance(*stats[0], *stats[1])
        out["pytorch_fid"] = {"fid": round(float(value), 4), "seconds": round(time.perf_counter() - t, 2)}
    except ImportError:
        out["pytorch_fid"] = {"error": "pytorch-fid is not installed (pip install pytorch-fid)"}
    try:
        from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

        t = time.perf_counter()
        s1, s2 = (fid_features_to_statistics(torch.from_numpy(x)) for x in (a, b))
        value = fid_statistics_to_metric(s1, s2, verbose=False)["frechet_inception_distance"]
        out["torch_fidelity"] = {"fid": round(float(value), 4), "seconds": round(time.perf_counter() - t, 2)}
    except ImportError:
        out["torch_fidelity"] = {"error": "torch-fidelity is not installed (pip install torch-fidelity)"}
    return out


def lesson_seconds(lessons_dir: Path, timeout: float = 900) -> dict:
    """Wall seconds of every lesson notebook run top to bottom in quick mode, one at a time, each the way the
    test suite runs it (``pytest --nbval-lax``, in a child process; pytest's start-up included). A lesson that
    fails or passes ``timeout`` is recorded as such, and the others still run."""
    env = {**os.environ, "TOOLKIT_QUICK": "1"}
    out = {}
    for path in sorted(lessons_dir.glob("[0-9][0-9]_*.ipynb")):
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax"]
        cmd += ["--nbval-current-env", str(path)]
        t = time.perf_counter()
        try:
            done = subprocess.run(cmd, cwd=lessons_dir.parent, env=env, capture_output=True, timeout=timeout)
            out[path.stem] = round(time.perf_counter() - t, 1) if done.returncode == 0 else "failed"
        except subprocess.TimeoutExpired:
            out[path.stem] = f"over {timeout:.0f} s"
    return out


# --- the command --------------------------------------------------------------------------------------
def targets(result: dict) -> list[dict]:
    """Issue #19's CPU targets, each with the measured value and whether it was met."""
    rows = []

    def add(name, value, goal, met):
        rows.append({"target": name, "measured": value, "goal": goal, "met": bool(met)})

    for r in result["dcgan_throughput"]:
        add(
            f"DCGAN-32 img/s vs reference, batch {r['batch']}",
            r["toolkit_ratio"],
            ">= 1.3x",
            r["toolkit_ratio"] >= 1.3,
        )
    if "quality" in result:
        q = result["quality"]
        add("FID after equal training time vs reference", q["fid_ratio"], "<= 0.5x", q["fid_ratio"] <= 0.5)
    f = result["fid"]
    if "seconds" in f.get("pytorch_fid", {}):
        ratio = f["toolkit"]["seconds"] / max(f["pytorch_fid"]["seconds"], 1e-9)
        add("FID 10,000 x 2,048 time vs pytorch-fid", round(ratio, 3), "<= 0.5x", ratio <= 0.5)
    add("DCGAN-32 run peak memory (MB)", result["peak_memory_mb"], "< 1536", result["peak_memory_mb"] < 1536)
    if "lessons" in result:
        seconds = [v for v in result["lessons"].values() if isinstance(v, float)]
        ok = len(seconds) == len(result["lessons"])  # a failed or timed-out lesson misses the target
        worst = max(seconds, default=float("inf"))
        add(
            "slowest lesson in quick mode (s)",
            worst if ok else "a lesson failed",
            "< 150",
            ok and worst < 150,
        )
    return rows


def machine_info(threads: int) -> dict:
    """The machine a result was measured on, with what decides ``auto``'s choice (``runtime``)."""
    cpu = torch.device("cpu")
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_flags": cpu_flags(),
        "native_bf16": cpu_has_native_bf16(),
        "default_choice": speed_choice("auto", "auto", cpu),  # what the default step ran as on the CPU
    }


def run_benchmark(quick: bool = False, lessons: bool = False, quality_seconds: float | None = None) -> dict:
    threads = set_threads(None)
    data = training_images(2_000 if quick else 60_000)
    result = {
        "machine": machine_info(threads),
        "command": " ".join(["python -m toolkit", *sys.argv[1:]]) if sys.argv else "",
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": quick,
        "data": data.name,
    }
    rounds, steps = (2, 3) if quick else (5, 20)
    result["dcgan_throughput"] = [dcgan_throughput(data, b, rounds, steps) for b in (64, 128)]
    result["families"] = family_throughput(2 if quick else 10, data, quick)
    result["sampling"] = sampling_throughput(64 if quick else 256, 2 if quick else 10)
    result["fid"] = fid_timings(*((500, 64) if quick else (10_000, 2048)))
    result["peak_memory_mb"] = peak_memory_mb(5 if quick else 100, data.name)
    seconds = quality_seconds if quality_seconds is not None else (10 if quick else 300)
    if seconds > 0:
        result["quality"] = quality_per_cpu_minute(data, seconds, 500 if quick else 10_000)
    if lessons:
        result["lessons"] = lesson_seconds(Path(__file__).resolve().parents[1] / "lessons")
    result["targets"] = targets(result)
    return result


def summary(result: dict) -> str:
    lines = [f"machine: {result['machine']}", ""]
    for r in result["dcgan_throughput"]:
        lines.append(
            f"DCGAN-32 batch {r['batch']}: toolkit default ({r['toolkit_choice']['precision']}, "
            f"{r['toolkit_choice']['memory_format']}) {r['toolkit_img_s']} img/s (median ratio "
            f"{r['toolkit_ratio']}x, rounds {r['toolkit_ratios']}; per CPU second "
            f"{r['toolkit_cpu_ratio']}x); channels-last "
            f"{r['toolkit_channels_last_img_s']} img/s ({r['toolkit_channels_last_ratio']}x); bf16 "
            f"{r['toolkit_bf16_img_s']} img/s ({r['toolkit_bf16_ratio']}x); reference "
            f"{r['reference_img_s']} img/s"
        )
    for r in result["families"]:
        what = r.get("error") or f"{r['img_s']} img/s ({r['ms_per_step']} ms/step at batch {r['batch']})"
        lines.append(f"  {r['family']:<26} {what}")
    lines.append(f"sampling: {result['sampling']['img_s']} img/s at batch {result['sampling']['batch']}")
    f = result["fid"]
    lines.append(
        f"FID on {f['n']:,} x {f['dim']:,}: "
        + "; ".join(
            f"{k} {v.get('seconds', '-')} s ({v.get('fid', v.get('error'))})"
            for k, v in f.items()
            if isinstance(v, dict)
        )
    )
    lines.append(f"peak memory of a DCGAN-32 run: {result['peak_memory_mb']} MB")
    if "quality" in result:
        q = result["quality"]
        lines.append(
            f"{q['seconds_each']} s of training each: toolkit FID {q['toolkit']['fid']} "
            f"({q['toolkit']['steps']} steps), reference {q['reference']['fid']} "
            f"({q['reference']['steps']} steps); toolkit with bf16 {q['toolkit_bf16']['fid']} "
            f"({q['toolkit_bf16']['steps']} steps)"
        )
    if "lessons" in result:
        lines.append("lessons (s): " + ", ".join(f"{k[:2]} {v}" for k, v in result["lessons"].items()))
    lines.append("")
    for t in result["targets"]:
        lines.append(
            f"{'met    ' if t['met'] else 'NOT met'}  {t['target']}: {t['measured']} (goal {t['goal']})"
        )
    return "\n".join(lines)


def default_out() -> Path:
    name = platform.node().split(".")[0] or "machine"
    return Path("results") / "bench" / f"{name}.json"


def write_result(result: dict, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(result, indent=1) + "\n")
    return out
