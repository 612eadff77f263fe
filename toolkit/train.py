"""The training loop: one loop for every GAN in the lessons.

The loop only *composes*: it draws a batch, calls a step function (which applies the losses and
updates D and G), keeps an exponential moving average (EMA) of G, and at fixed intervals logs,
draws sample grids and writes checkpoints. Everything model-specific lives in the step function,
the models and the losses.

Keeping the hot path fast on a CPU:
* batches are slices of one in-memory tensor (:class:`~toolkit.data.BatchSampler`);
* per-step numbers stay on the device as tensors and are summed there; they are copied to the
  host (one sync) only every ``log_every`` steps; files are written only at those intervals;
* during G's update D's parameters are frozen, so no gradient is computed for them.

Resuming is exact: a checkpoint holds G, D, the EMA generator, both optimizers, the step, the RNG
states, the data position and the half-finished logging interval, so 10 steps + resume + 10 steps
gives the same weights and the same metrics.jsonl rows as 20 steps straight (tested on CPU).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import __version__
from .data import BatchSampler, TensorData, load_dataset
from .errors import ToolkitError
from .losses import AdversarialLoss, get_loss
from .augment import AUGMENTS, build_augment
from .models import MODELS, build_models, is_conditional
from .models.conditional import TimestepDiscriminator, balanced_labels
from .regularizers import clip_weights_, gradient_penalty, r1_penalty
from .runs import LAST_CHECKPOINT, Run, RunWriter, atomic_write
from .runtime import pick_device, set_threads
from .viz import save_grid


@dataclass
class TrainConfig:
    """Every setting of a run; saved as config.json so the run can be re-created.

    Defaults are chosen for sample quality per CPU-minute on a 2-core machine (measured with
    benchmarks/bench_dcgan_step.py): a width-32 DCGAN at batch 64 runs ~6 steps/s. With Adam at
    1e-3 (beta1 0.5) it draws clothing-like shapes after ~250 steps and clearly recognisable
    garments after ~1,000 (about 3 minutes); the DCGAN paper's 2e-4 needed ~1,500 steps for less.
    """

    model: str = "dcgan"
    data: str = "fashion-mnist"
    steps: int = 1500
    batch_size: int = 64
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5  # DCGAN / Keras-ADA tip: Adam's default 0.9 makes this GAN fail
    beta2: float = 0.999
    loss: str = "nonsaturating"
    n_critic: int = 1  # D (critic) updates per G update; WGAN and WGAN-GP use 5
    gp_weight: float = 0.0  # lambda of WGAN-GP's gradient penalty (0: off; the paper uses 10)
    r1_weight: float = 0.0  # gamma of the R1 penalty on real images (0: off)
    clip: float = 0.0  # WGAN weight clipping: clamp D's weights to [-clip, clip] after each update (0: off)
    aux_weight: float = 1.0  # ACGAN: weight of the auxiliary classification loss
    g_condition: str = "cbn"  # cgan generator: "cbn" (conditional batch norm) or "concat"
    d_condition: str = "projection"  # cgan discriminator: "projection" or "concat"
    augment: str = "none"  # what D sees: none | ada | diffaugment | diffusion (see toolkit.augment)
    ada_target: float = 0.6  # target of r_t = E[sign(D(real))] for ADA's p and Diffusion-GAN's T
    ada_kimg: float = 20.0  # thousands of images for p to move 0 -> 1 (paper: 500; short CPU runs need faster)
    ada_interval: int = 4  # update p (or T) every this many D steps
    diffusion_t_max: int = 500  # Diffusion-GAN: largest timestep T may reach
    diffusion_sigma: float = 0.05  # Diffusion-GAN: std of the added noise (paper's default)
    z_dim: int = 64
    width: int = 32  # channels of the widest-resolution conv layer (DCGAN) or hidden size unit (MLP)
    ema: float = 0.99  # decay of the EMA generator used for samples; 0 turns it off
    seed: int = 0
    limit: int | None = None  # seeded, class-balanced subset of this many training images
    resolution: int | None = None  # None: the dataset's natural size (32 for Fashion-MNIST)
    log_every: int = 25
    sample_every: int = 250
    checkpoint_every: int = 250
    grid_size: int = 64  # samples in each grid (8 x 8), from fixed latent vectors
    eval_every: int = 0  # log fid/kid every this many steps (0: never); a multiple of log_every
    eval_n: int = 2000  # generated samples per evaluation
    eval_features: str = "fmnist-cnn"  # feature extractor for fid/kid (see toolkit.metrics.extractors)
    gap_every: int = 0  # log D's overfitting gap (training vs held-out reals) every this many steps (0: never)
    device: str = "auto"
    threads: int | None = None  # None: see toolkit.runtime.default_threads

    def validate(self) -> "TrainConfig":
        def need(ok: bool, message: str):
            if not ok:
                raise ToolkitError(message)

        need(self.steps >= 1, f"--steps must be >= 1, got {self.steps}")
        need(self.batch_size >= 1, f"--batch-size must be >= 1, got {self.batch_size}")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            need(math.isfinite(value) and value > 0, f"--{name.replace('_', '-')} must be a positive number, got {value}")
        need(0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, f"Adam betas must be in [0, 1), got {self.beta1}, {self.beta2}")
        need(0 <= self.ema < 1, f"--ema must be in [0, 1) (0 turns it off), got {self.ema}")
        need(self.z_dim >= 1 and self.width >= 1, "--z-dim and --width must be >= 1")
        for name in ("log_every", "sample_every", "checkpoint_every"):
            need(getattr(self, name) >= 0, f"--{name.replace('_', '-')} must be >= 0 (0 turns it off)")
        need(self.log_every >= 1, "--log-every must be >= 1")
        need(self.grid_size >= 1, "--grid-size must be >= 1")
        need(self.eval_every >= 0 and self.eval_every % self.log_every == 0,
             f"--eval-every must be 0 or a multiple of --log-every ({self.log_every}), got {self.eval_every}")
        need(self.gap_every >= 0 and self.gap_every % self.log_every == 0,
             f"--gap-every must be 0 or a multiple of --log-every ({self.log_every}), got {self.gap_every}")
        need(self.eval_n >= 2, f"--eval-n must be >= 2, got {self.eval_n}")
        get_loss(self.loss)
        need(self.n_critic >= 1, f"--n-critic must be >= 1, got {self.n_critic}")
        for name in ("gp_weight", "r1_weight", "clip", "aux_weight"):
            need(getattr(self, name) >= 0, f"--{name.replace('_', '-')} must be >= 0 (0 turns it off)")
        need(self.augment in AUGMENTS, f"unknown --augment {self.augment!r}; choose one of {', '.join(AUGMENTS)}")
        need(-1 <= self.ada_target <= 1, f"--ada-target is a target for E[sign(D(real))], in [-1, 1]; got {self.ada_target}")
        need(self.ada_kimg > 0 and self.ada_interval >= 1, "--ada-kimg must be > 0 and --ada-interval >= 1")
        need(self.diffusion_t_max >= 1 and self.diffusion_sigma > 0, "--diffusion-t-max must be >= 1, --diffusion-sigma > 0")
        need(self.model in MODELS, f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        return self

    @classmethod
    def for_model(cls, model: str, **settings) -> "TrainConfig":
        """The config for ``model`` with its paper's settings (:data:`MODEL_PRESETS`), then ``settings``."""
        return cls(model=model, **{**MODEL_PRESETS.get(model, {}), **settings})

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


# Settings a model needs to train as its paper intends; TrainConfig.for_model (and the command line)
# apply them unless given explicitly. Everything not listed keeps TrainConfig's defaults.
MODEL_PRESETS: dict[str, dict] = {
    # Arjovsky et al. 2017, Algorithm 1: n_critic 5, clip 0.01, RMSProp 5e-5 (Adam with beta1 = 0 is
    # RMSProp plus bias correction; the paper found momentum unstable with clipping)
    "wgan": {"loss": "wasserstein", "n_critic": 5, "clip": 0.01, "lr_g": 5e-5, "lr_d": 5e-5, "beta1": 0.0, "beta2": 0.9},
    # Gulrajani et al. 2017, Algorithm 1: lambda 10, n_critic 5, Adam(1e-4, beta1 0, beta2 0.9); we use 2e-4
    # for CPU-length runs (measured in lesson 05)
    "wgan-gp": {"loss": "wasserstein", "n_critic": 5, "gp_weight": 10.0, "lr_g": 2e-4, "lr_d": 2e-4,
                "beta1": 0.0, "beta2": 0.9},
}


class Callback:
    """Hooks a notebook or the dashboard can attach; every method is optional."""

    def on_log(self, trainer: "Trainer", row: dict) -> None: ...

    def on_sample(self, trainer: "Trainer", step: int, images: torch.Tensor) -> None: ...

    def on_end(self, trainer: "Trainer") -> None: ...


class TrainingDiverged(ToolkitError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


# --- step functions --------------------------------------------------------------------------
def adversarial_step(t: "Trainer", real: torch.Tensor, labels: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """``n_critic`` D updates then one G update (Goodfellow et al. 2014, Algorithm 1; WGAN's Algorithm 1
    when n_critic > 1, each critic update on a fresh real batch).

    Composes the pieces the config turns on: the loss, the gradient penalty or R1, weight clipping,
    ACGAN's class loss, and the augmentation D sees (through :meth:`Trainer.discriminate`).
    Real and fake images go through D as *separate* batches, so batch norm never mixes their
    statistics (a tip from the Keras ADA example: mixing them caused artefacts there).
    """
    cfg = t.config
    out: dict[str, torch.Tensor] = {}
    # 1) discriminator / critic
    for i in range(cfg.n_critic):
        if i > 0:
            real, labels = t.sampler.next()
        y = labels if t.conditional else None  # fakes for D's step get the real batch's labels
        with torch.no_grad():  # G's output is a constant here
            fake = t.generate(t.noise(real.shape[0]), y)
        if cfg.r1_weight:
            real = real.detach().requires_grad_(True)
        d_real, c_real = t.discriminate(real, y)
        d_fake, c_fake = t.discriminate(fake, y)
        loss_d = t.loss.d_loss(d_real, d_fake)
        if c_real is not None:  # ACGAN (Odena et al. eq. 2-3): D also names the class of reals and fakes
            loss_d = loss_d + cfg.aux_weight * (F.cross_entropy(c_real, y) + F.cross_entropy(c_fake, y))
            out["class_acc_real"] = (c_real.argmax(1) == y).float().mean()
        if cfg.gp_weight:
            gp, norms = gradient_penalty(lambda x: t.discriminate(x, y)[0], real, fake, cfg.gp_weight)
            loss_d = loss_d + gp
            out["gp"], out["grad_norm"] = gp.detach(), norms.mean()
        if cfg.r1_weight:
            r1 = r1_penalty(d_real, real, cfg.r1_weight)
            loss_d = loss_d + r1
            out["r1"] = r1.detach()
        t.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        t.opt_d.step()
        if cfg.clip:
            clip_weights_(t.D, cfg.clip)
        if t.augment is not None:
            t.augment.observe(d_real.detach())  # ADA's p / Diffusion-GAN's T follow r_t

    # 2) generator, on fresh noise (and fresh random labels), through the just-updated D (frozen)
    t.D.requires_grad_(False)
    b = real.shape[0]
    y_gen = t.random_labels(b)
    d_gen, c_gen = t.discriminate(t.generate(t.noise(b), y_gen), y_gen)
    loss_g = t.loss.g_loss(d_gen)
    if c_gen is not None:
        loss_g = loss_g + cfg.aux_weight * F.cross_entropy(c_gen, y_gen)
    t.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    t.opt_g.step()
    t.D.requires_grad_(True)

    d_real, d_fake = d_real.detach(), d_fake.detach()
    out.update({
        "loss_d": loss_d.detach(),
        "loss_g": loss_g.detach(),
        "d_real_acc": (d_real > 0).float().mean(),  # D says "real" (sigmoid > 0.5) on real images
        "d_fake_acc": (d_fake < 0).float().mean(),  # D says "fake" on generated images
        "d_real_sign": torch.sign(d_real).mean(),  # r_t of the ADA paper: the overfitting heuristic
    })
    if cfg.loss == "wasserstein":  # the critic's estimate of W(P_real, P_G) (Arjovsky et al. eq. 3)
        out["w_estimate"] = d_real.mean() - d_fake.mean()
    if t.augment is not None:
        out.update(t.augment.stats())
    return out


StepFn = Callable[["Trainer", torch.Tensor, "torch.Tensor | None"], "dict[str, torch.Tensor]"]


class EMA:
    """theta_ema <- beta * theta_ema + (1 - beta) * theta after every G step (Karras et al. 2018;
    Yazici et al. 2019). Buffers (batch-norm running statistics) are copied as they are.

    Warm-up: beta = min(decay, (1 + step) / (10 + step)), so the average does not drag the random
    initial weights along for the first hundreds of steps (early samples would be blurry blends).
    """

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    def beta(self, step: int) -> float:
        return min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        weight = 1.0 - self.beta(step)
        for p_ema, p in zip(self.model.parameters(), model.parameters()):
            p_ema.lerp_(p, weight)
        for b_ema, b in zip(self.model.buffers(), model.buffers()):
            b_ema.copy_(b)


class Trainer:
    """Builds data, models and optimizers from a :class:`TrainConfig` and trains them.

    ``data``: pass a :class:`TensorData` to train on it instead of ``config.data``.
    ``run_dir``: where to write the run directory (None: keep everything in memory, e.g. in a notebook).
    ``G``/``D``: pass hand-built models to train them instead of the toolkit's.
    ``step_fn``: the update rule (default :func:`adversarial_step`).
    ``overwrite``: a ``run_dir`` that already holds a run (a checkpoint) is an error unless this is
    True, in which case the old run's files are replaced. Use :meth:`resume` to continue one.
    """

    def __init__(self, config: TrainConfig, data: TensorData | None = None, run_dir: str | Path | None = None,
                 callbacks: list[Callback] | tuple = (), G: nn.Module | None = None, D: nn.Module | None = None,
                 step_fn: StepFn = adversarial_step, progress: bool = True, overwrite: bool = False,
                 _resuming: bool = False):
        self.config = config.validate()
        self.writer = None  # checked before the (slower) data loading, so bad input fails fast
        if run_dir is not None:
            if not (_resuming or overwrite) and (Path(run_dir) / LAST_CHECKPOINT).exists():
                raise ToolkitError(f"{run_dir} already holds a run; add --resume to continue it, or choose a new "
                                   "--run-dir (in Python: Trainer.resume(run_dir), or overwrite=True)")
            self.writer = RunWriter(run_dir, fresh=not _resuming)
        self.threads = set_threads(config.threads)
        self.device = pick_device(config.device)
        torch.manual_seed(config.seed)
        self.data = data if data is not None else load_dataset(
            config.data, resolution=config.resolution, limit=config.limit, seed=config.seed)
        if G is None or D is None:
            built_G, built_D = build_models(config.model, self.data.shape, config.z_dim, config.width, self.data.kind,
                                            self.data.num_classes, config.g_condition, config.d_condition)
            if config.augment == "diffusion":  # Diffusion-GAN's D also sees the timestep t
                if config.model != "dcgan":
                    raise ToolkitError("--augment diffusion is built for --model dcgan; use ada or diffaugment "
                                       f"with {config.model}")
                built_D = TimestepDiscriminator(self.data.shape[0], self.data.shape[1], config.width,
                                                config.diffusion_t_max)
            G, D = G or built_G, D or built_D
        self.G, self.D = G.to(self.device).train(), D.to(self.device).train()
        self.conditional = is_conditional(self.G)
        self.num_classes = self.G.num_classes if self.conditional else 0
        self.augment = build_augment(config, self.data.shape, self.data.kind)
        if self.augment is not None:
            self.augment.to(self.device)
        self.ema = EMA(self.G, config.ema) if config.ema > 0 else None
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=betas)
        self.loss: AdversarialLoss = get_loss(config.loss)
        self.step_fn = step_fn
        self.sampler = BatchSampler(self.data, config.batch_size, config.seed, self.device)
        self.callbacks = list(callbacks)
        if config.eval_every:
            from .metrics.evaluate import MetricsCallback  # imported here: metrics imports this module's users

            self.callbacks.insert(0, MetricsCallback(config.eval_every, config.eval_n, config.eval_features))
        if config.gap_every:
            from .metrics.overfitting import OverfittingCallback

            self.callbacks.insert(0, OverfittingCallback(config.gap_every))
        self.progress = progress
        self.step = 0
        self.history: list[dict] = []  # every logged row, also kept in memory
        self.stop_requested = False  # set from a signal handler or another thread to stop cleanly
        g = torch.Generator().manual_seed(config.seed + 2**20)  # own generator: sampling never moves training RNG
        self.fixed_z = torch.randn(config.grid_size, config.z_dim, generator=g).to(self.device)
        self.fixed_y = None
        if self.conditional:  # one row of 8 per class, the same 8 latents in every row (style vs class)
            self.fixed_z = self.fixed_z[:8].repeat(self.num_classes, 1)
            self.fixed_y = torch.arange(self.num_classes, device=self.device).repeat_interleave(8)
        self._sums: dict[str, torch.Tensor] = {}
        self._count = 0
        self._elapsed = 0.0

    # --- public helpers ----------------------------------------------------------------------
    @property
    def generator(self) -> nn.Module:
        """The generator to sample from: the EMA copy when there is one."""
        return self.ema.model if self.ema is not None else self.G

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, device=self.device)

    def random_labels(self, n: int) -> torch.Tensor | None:
        """Uniformly drawn class labels for a conditional generator (None for an unconditional one)."""
        return torch.randint(self.num_classes, (n,), device=self.device) if self.conditional else None

    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None, G: nn.Module | None = None) -> torch.Tensor:
        """G(z, y) for a conditional generator, G(z) otherwise."""
        G = self.G if G is None else G
        return G(z, y) if self.conditional else G(z)

    def discriminate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's verdict on a batch as ``(logits, class_logits or None)``, after the augmentation.

        The augmentation is applied here, to real and fake images alike and inside G's graph, so G
        learns through it (ADA, DiffAugment). Diffusion-GAN's augmentation also returns the timestep,
        which its D takes in place of a label."""
        condition = y
        if self.augment is not None:
            x = self.augment(x)
            if isinstance(x, tuple):  # Diffusion-GAN: (x_t, t)
                x, condition = x
        out = self.D(x, condition) if getattr(self.D, "num_classes", 0) else self.D(x)
        return out if isinstance(out, tuple) else (out, None)

    @torch.no_grad()
    def sample(self, z: torch.Tensor | None = None, n: int = 64, use_ema: bool = True,
               y: torch.Tensor | None = None) -> torch.Tensor:
        """Images (or points) from the generator in eval mode, on the CPU. A conditional generator
        gets ``y`` (default: balanced labels 0, 1, ..., C-1, 0, ...)."""
        G = self.generator if use_ema else self.G
        was_training = G.training
        G.eval()
        z = z.to(self.device) if z is not None else self.noise(n)
        if self.conditional and y is None:
            y = balanced_labels(z.shape[0], self.num_classes, self.device)
        out = self.generate(z, None if y is None else torch.as_tensor(y, device=self.device), G)
        G.train(was_training)
        return out.float().cpu()

    def describe(self) -> dict:
        """config.json's content: the settings plus what the data turned out to be."""
        return {**dataclasses.asdict(self.config), "sample_shape": list(self.data.shape), "kind": self.data.kind,
                "class_names": self.data.class_names, "data_info": self.data.info, "toolkit_version": __version__}

    # --- the loop ------------------------------------------------------------------------------
    def fit(self, until: int | None = None) -> list[dict]:
        """Train until step ``until`` (default ``config.steps``); returns the logged rows."""
        cfg = self.config
        until = cfg.steps if until is None else until
        if self.writer is not None:
            self.writer.write_config(self.describe())
            self.writer.event("resumed" if self.step else "started", step=self.step, until=until)
        self.stop_requested = False
        interactive = sys.stderr.isatty() or "ipykernel" in sys.modules
        bar = tqdm(total=until, initial=self.step, disable=not self.progress, desc="train", unit="step",
                   dynamic_ncols=True, leave=True, mininterval=0.2 if interactive else 15.0)
        start = time.perf_counter() - self._elapsed
        try:
            while self.step < until and not self.stop_requested:
                real, labels = self.sampler.next()
                out = self.step_fn(self, real, labels)
                if self.ema is not None:
                    self.ema.update(self.G, self.step)
                self.step += 1
                self._accumulate(out)
                self._elapsed = time.perf_counter() - start
                bar.update(1)
                if self.step % cfg.log_every == 0:
                    row = self._log()
                    bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k.startswith(("loss", "d_real_acc"))},
                                    refresh=False)
                if cfg.sample_every and self.step % cfg.sample_every == 0:
                    self._sample_grid()
                if self.writer is not None and cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
        finally:
            bar.close()
        # the end of this call: a last grid and checkpoint, then a row for any unlogged steps
        if cfg.sample_every and self.step % cfg.sample_every != 0:
            self._sample_grid()
        if self.writer is not None and not (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0):
            self.save_checkpoint()
        if self._count:
            self._log(partial=True)
        if self.writer is not None:
            self.writer.event("stopped" if self.stop_requested else "finished", step=self.step)
            self.writer.close()
        for cb in self.callbacks:
            cb.on_end(self)
        return self.history

    def _accumulate(self, out: dict[str, torch.Tensor]) -> None:
        for k, v in out.items():
            v = v.detach().float()
            self._sums[k] = self._sums[k] + v if k in self._sums else v
        self._count += 1

    def _interval_sums(self) -> dict[str, float]:
        """The interval's sums copied to the host (the one sync per logging interval); raises
        :class:`TrainingDiverged` if any is NaN/inf, before anything is logged or saved."""
        if not self._sums:
            return {}
        sums = dict(zip(self._sums, torch.stack(list(self._sums.values())).cpu().tolist()))
        bad = [k for k, v in sums.items() if not math.isfinite(v)]
        if bad:
            last = self.writer is not None and (self.writer.dir / LAST_CHECKPOINT).exists()
            kept = "the last good checkpoint is kept" if last else "no checkpoint was written"
            if self.writer is not None:
                self.writer.event("diverged", step=self.step, losses=bad)
                self.writer.close()
            raise TrainingDiverged(
                f"training diverged: {', '.join(bad)} became NaN/inf by step {self.step}; {kept}; "
                f"lower the learning rates (--lr-g/--lr-d) or change the loss")
        return sums

    def _log(self, partial: bool = False) -> dict:
        sums = self._interval_sums()
        row = {"step": self.step, "time": round(self._elapsed, 3)}
        row.update({k: v / self._count for k, v in sums.items()})
        if partial:
            row["partial"] = True  # fewer than log_every steps; dropped if the run is resumed
        self._sums, self._count = {}, 0
        self.history.append(row)
        for cb in self.callbacks:  # a callback may add entries (e.g. fid); they are written below
            cb.on_log(self, row)
        if self.writer is not None:
            self.writer.log(row)
        return row

    def _sample_grid(self) -> None:
        images = self.sample(self.fixed_z, y=self.fixed_y)
        if self.writer is not None and self.data.kind == "images":
            save_grid(images, self.writer.sample_path(self.step), nrow=8 if self.conditional else None)  # class rows
        for cb in self.callbacks:
            cb.on_sample(self, self.step, images)

    # --- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.ema.model.state_dict() if self.ema is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "augment": self.augment.state_dict() if self.augment is not None else None,
            "sampler": self.sampler.state_dict(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
            "log_sums": {k: v.cpu() for k, v in self._sums.items()},
            "log_count": self._count,
            "elapsed": self._elapsed,
            "config": json.loads(json.dumps(self.describe())),
        }
        return state

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write checkpoints/last.pt atomically (temporary file + rename); never a NaN one."""
        self._interval_sums()
        if path is None:
            if self.writer is None:
                raise ToolkitError("this trainer has no run directory; pass a path to save_checkpoint")
            path = self.writer.dir / LAST_CHECKPOINT
        state = self.state_dict()
        atomic_write(path, lambda f: torch.save(state, f))
        return Path(path)

    def load_state_dict(self, state: dict) -> None:
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            if self.ema is not None and state.get("G_ema") is not None:
                self.ema.model.load_state_dict(state["G_ema"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            if self.augment is not None and state.get("augment") is not None:
                self.augment.load_state_dict(state["augment"])  # ADA's p / Diffusion-GAN's T, exactly
        except (RuntimeError, KeyError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0][:160]
            raise ToolkitError(f"the checkpoint does not fit this model/config ({first}); "
                               "resume with the run's own config.json") from None
        self.sampler.load_state_dict(state["sampler"])
        torch.set_rng_state(state["rng_cpu"])
        if self.device.type == "cuda" and state.get("rng_cuda"):
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self._sums = {k: v.to(self.device) for k, v in state["log_sums"].items()}
        self._count = int(state["log_count"])
        self._elapsed = float(state["elapsed"])
        self.step = int(state["step"])

    def load_checkpoint(self, path: str | Path) -> None:
        self.load_state_dict(load_checkpoint_file(path, self.device))

    @classmethod
    def resume(cls, run_dir: str | Path, steps: int | None = None, callbacks=(), progress: bool = True,
               **overrides) -> "Trainer":
        """Re-create a run from its config.json, load checkpoints/last.pt, and drop metrics rows
        logged after that checkpoint (they will be logged again, identically)."""
        run = Run(run_dir)
        ckpt = run.checkpoint_path()
        if ckpt is None:
            raise ToolkitError(f"nothing to resume in {run_dir}: no {LAST_CHECKPOINT}; start it without --resume")
        config = TrainConfig.from_dict({**run.config(), **overrides})
        if steps is not None:
            config.steps = steps
        trainer = cls(config, run_dir=run_dir, callbacks=callbacks, progress=progress, _resuming=True)
        trainer.load_checkpoint(ckpt)
        trainer.writer.truncate_metrics(trainer.step)
        trainer.history = Run(run_dir).metrics()
        return trainer


def load_checkpoint_file(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint safely (``weights_only=True``: tensors and plain containers only)."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise ToolkitError(f"checkpoint {path} does not exist") from None
    except Exception as exc:  # truncated file, not a torch file, unsafe pickle...
        raise ToolkitError(f"cannot load checkpoint {path} ({type(exc).__name__}); it is damaged or not a toolkit checkpoint") from None
    if not isinstance(state, dict) or "G" not in state or "config" not in state:
        raise ToolkitError(f"{path} is not a toolkit checkpoint (no generator weights or config inside)")
    return state
