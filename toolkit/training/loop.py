"""The training loop: one loop for every family. It knows no model.

A family (``toolkit/families/``) brings its nets by name, its optimizers and its step as named phases;
the loop owns everything around them: the device, seeding, the step counter, the EMA copies, the
logging, sampling and checkpoint intervals, callbacks, the NaN guard and steering.

One step, for each phase in the family's order (e.g. gan: D, then G)::

    freeze every net but the phase's      (no gradients are computed for them)
    repeat phase.repeat times:            (e.g. n_critic critic updates)
        batch = next batch                (a dict: {"image"}, {"image", "label"}, ...)
        zero the phase's optimizer; loss, stats = phase.run(batch); loss.backward(); optimizer.step()
        phase.after()                     (weight clipping, augmentation controllers)
    then: update the EMA copies

Keeping the hot path fast: batches are slices of one in-memory tensor; per-step numbers stay on the
device and are summed there, and are copied to the host (one sync) only every ``log_every`` steps;
files are written only at those intervals.

Resuming is exact: a checkpoint holds every net, EMA copy and optimizer, the family's own state (an
augmentation's p, a growth schedule), the step, the RNG states, the data position and the
half-finished logging interval, so 10 steps + resume + 10 steps equals 20 steps straight (tested).

Several processes (``torchrun --nproc_per_node=N -m toolkit train ...``): each rank trains on its slice
of every batch and the gradients are averaged after each backward pass; only rank 0 writes. What the
loop adds for that is marked "ranks:" below; the why is in ``toolkit/distributed.py``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data import BatchSampler, TensorData
from ..distributed import (
    all_mean,
    any_rank,
    average_gradients,
    broadcast_tensors,
    join,
    rank_device,
    world_from_env,
)
from ..errors import ToolkitError
from ..families import family_for
from ..runs import LAST_CHECKPOINT, RunWriter, checkpoint_contents, config_contents, save_checkpoint
from ..runtime import pick_device, resolve_memory_format, resolve_precision, set_threads
from .checkpoint import restore_checkpoint_state, resume
from .ema import EMA
from .interval import IntervalStats, stop_if_diverged


class Trainer:
    """Trains the family that ``config.model`` belongs to.

    ``data``: a :class:`TensorData` to train on instead of ``config.data``. ``run_dir``: where to write the
    run directory (None: keep everything in memory, e.g. in a notebook). ``nets``: hand-built nets by name
    (e.g. ``{"G": my_G, "D": my_D}``) instead of the family's. ``overwrite``: a ``run_dir`` that already
    holds a run is an error unless this is True; use :meth:`resume` to continue one.

    The family's own pieces are ``trainer.family``'s (``trainer.family.nets["G"]``, its phases); for the
    lessons, what a noise-to-image family draws is also here: ``trainer.sample(...)``,
    ``trainer.generator``, ``trainer.fixed_z`` / ``fixed_y`` and ``trainer.grid()``.
    """

    def __init__(
        self,
        config,
        data: TensorData | None = None,
        run_dir: str | Path | None = None,
        callbacks=(),
        nets: dict | None = None,
        progress: bool = True,
        overwrite: bool = False,
        _resuming: bool = False,
    ):
        self.config = config.validate()
        family_cls = family_for(config.model)
        if (
            run_dir is not None
            and not (_resuming or overwrite)
            and (Path(run_dir) / LAST_CHECKPOINT).exists()
        ):
            raise ToolkitError(
                f"{run_dir} already holds a run; add --resume to continue it, or choose a new "
                "--run-dir (in Python: Trainer.resume(run_dir), or overwrite=True)"
            )
        self.threads = set_threads(config.threads)
        self.device = pick_device(rank_device(config.device, world_from_env()))
        self.world = join(self.device)  # one process, or this rank of a torchrun
        # auto decided here, from the hardware; recorded in config.json and kept on resume
        self.precision = resolve_precision(config.precision, self.device)  # "bf16" or "fp32"
        self.memory_format = resolve_memory_format(config.memory_format, self.device)
        self.autocast = torch.bfloat16 if self.precision == "bf16" else None  # None: plain fp32
        self.channels_last = self.memory_format == "channels-last"
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels once
        torch.manual_seed(config.seed)
        self.data_passed_in = data is not None  # then config.data does not say what was trained on
        self.data = data if data is not None else family_cls.load_data(config)
        family_cls.check_data(config, self.data)
        self.family = family_cls(config, self.data, self.device, nets)
        if self.channels_last:  # conv weights in NHWC (before the EMA copies are made from them)
            for net in self.family.nets.values():
                net.to(memory_format=torch.channels_last)
        self.ema = (
            {n: EMA(self.family.nets[n], config.ema) for n in family_cls.ema_nets} if config.ema > 0 else {}
        )
        self.family.averaged = {n: e.model for n, e in self.ema.items()}
        rank, size = self.world.rank, self.world.size
        if hasattr(self.data, "sampler"):  # two-domain data brings its own (toolkit/data/translation.py)
            self.batches = self.data.sampler(config.batch_size, config.seed, self.device, rank, size)
        else:
            self.batches = BatchSampler(self.data, config.batch_size, config.seed, self.device, rank, size)
        if self.channels_last and hasattr(self.batches, "use_channels_last"):
            self.batches.use_channels_last()  # the images too: batches are slices of them
        if self.world.distributed:  # ranks: start from rank 0's weights, then draw noise of their own
            broadcast_tensors(self._weights(), self.world)
            torch.manual_seed(config.seed + 1_000_003 * rank)
        self.callbacks = [*family_cls.callbacks(config), *callbacks]
        # everything is validated: only now may an earlier run's files in run_dir be replaced
        self.writer = (  # ranks: only rank 0 writes
            RunWriter(run_dir, fresh=not _resuming, overwrite=overwrite)
            if run_dir is not None and self.world.is_main
            else None
        )
        self.progress = progress and self.world.is_main
        self.step = 0
        self.history: list[dict] = []  # every logged row, also kept in memory
        self.stop_requested = False  # set from a signal handler or another thread to stop cleanly
        self.interval = IntervalStats()  # this logging interval's sums, on the device
        self.elapsed = 0.0  # seconds of training so far (across resumes)
        self.clock = time.perf_counter  # measures elapsed (a dashboard job: jobs.PauseClock)

    def describe(self) -> dict:
        """config.json's content: the settings plus what the data turned out to be (runs.config_contents)."""
        return config_contents(
            self.config,
            self.family.name,
            self.data,
            self.data_passed_in,
            self.world.size,
            precision_used=self.precision,
            memory_format_used=self.memory_format,
        )

    # --- for the lessons: what the family draws (toolkit code asks trainer.family) ---------------
    def sample(self, *args, **kwargs):
        """The family's samples, e.g. ``trainer.sample(z)`` (see its ``sample``)."""
        return self.family.sample(*args, **kwargs)

    def grid(self):
        """The family's sample grid: (images, images per row or None)."""
        return self.family.grid()

    @property
    def generator(self):
        """The family's generator to sample from (its EMA copy when there is one)."""
        return self.family.generator

    @property
    def fixed_z(self):
        """The family's fixed latents, from which its grids are drawn."""
        return self.family.fixed_z

    @property
    def fixed_y(self):
        """The family's fixed labels of a conditional grid (None otherwise)."""
        return self.family.fixed_y

    # --- the loop ------------------------------------------------------------------------------
    def fit(self, until: int | None = None) -> list[dict]:
        """Train until step ``until`` (default ``config.steps``); returns the logged rows."""
        cfg = self.config
        until = cfg.steps if until is None else until
        if self.writer is not None:
            self.writer.lock()  # released by writer.close() at the end of this call
            self.writer.write_config(self.describe())
            self.writer.event("resumed" if self.step else "started", step=self.step, until=until)
        self.stop_requested = False
        phases = self.family.phases()
        interactive = sys.stderr.isatty() or "ipykernel" in sys.modules
        bar = tqdm(
            total=until,
            initial=self.step,
            disable=not self.progress,
            desc="train",
            unit="step",
            dynamic_ncols=True,
            leave=True,
            mininterval=0.2 if interactive else 15.0,
        )
        start = self.clock() - self.elapsed
        self._stop_agreed = False  # ranks: every rank stops at the same step (agreed at each log)
        try:
            while self.step < until and not self._stopping():
                self.interval.add(self.train_step(phases))
                self.step += 1
                self.elapsed = self.clock() - start  # training time: a dashboard's pauses left out
                bar.update(1)
                if self.step % cfg.log_every == 0:
                    row = self._log()
                    self._stop_agreed = any_rank(self.stop_requested, self.world, self.device)
                    bar.set_postfix(
                        {k: f"{v:.3g}" for k, v in row.items() if k.startswith(self.family.progress_bar)},
                        refresh=False,
                    )
                if cfg.sample_every and self.step % cfg.sample_every == 0:
                    self._sample_grid()
                if self.writer is not None and cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
        finally:
            bar.close()
            for net in self.family.nets.values():
                net.requires_grad_(True)
        # the end of this call: a last grid and checkpoint, then a row for any unlogged steps
        if cfg.sample_every and self.step % cfg.sample_every != 0:
            self._sample_grid()
        if self.writer is not None and not (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0):
            self.save_checkpoint()
        if self.interval.count:
            self._log(partial=True)
        if self.writer is not None:
            self.writer.event("stopped" if self.stop_requested else "finished", step=self.step)
            self.writer.close()
        for cb in self.callbacks:
            cb.on_end(self)
        return self.history

    def train_step(self, phases) -> dict[str, torch.Tensor]:
        """One step: every phase in order, then the EMA copies. Returns the phases' stats (on the device)."""
        out: dict[str, torch.Tensor] = {}
        for phase in phases:
            for name, net in self.family.nets.items():
                net.requires_grad_(name in phase.nets)
            optimizer = self.family.optimizers[phase.optimizer]
            for _ in range(phase.repeat):
                batch = self.batches.next() if phase.needs_batch else None
                optimizer.zero_grad(set_to_none=True)
                with torch.autocast(self.device.type, self.autocast, enabled=self.autocast is not None):
                    loss, stats = phase.run(batch)
                loss.backward()
                average_gradients([self.family.nets[n] for n in phase.nets], self.world)  # ranks only
                optimizer.step()
                if phase.after is not None:
                    phase.after()
                out.update(stats)
        for name, ema in self.ema.items():
            ema.update(self.family.nets[name], self.step)
        return out

    def _stopping(self) -> bool:
        """One process stops when asked; ranks stop together, at the log step after any was asked."""
        return self._stop_agreed if self.world.distributed else self.stop_requested

    def _weights(self) -> list[torch.Tensor]:
        """Every net's and EMA copy's parameters and buffers."""
        modules = [*self.family.nets.values(), *(e.model for e in self.ema.values())]
        return [t for m in modules for t in (*m.parameters(), *m.buffers())]

    def _log(self, partial: bool = False) -> dict:
        if self.world.distributed:  # ranks: the mean over ranks; rank 0's batch-norm statistics everywhere
            self.interval.sums = all_mean(self.interval.sums, self.world)
            modules = [*self.family.nets.values(), *(e.model for e in self.ema.values())]
            broadcast_tensors([b for m in modules for b in m.buffers()], self.world)
        means = self.interval.take_means()
        stop_if_diverged(means, self.step, self.writer)
        row = {"step": self.step, "time": round(self.elapsed, 3), **means}
        if partial:
            row["partial"] = True  # fewer than log_every steps; dropped if the run is resumed
        self.history.append(row)
        for cb in self.callbacks:  # a callback may add entries (e.g. fid); they are written below
            cb.on_log(self, row)
        if self.writer is not None:
            self.writer.log(row)
        return row

    def _sample_grid(self) -> None:
        if not self.world.is_main:  # ranks: grids are rank 0's
            return
        images, nrow = self.family.grid()
        if self.writer is not None and images.dim() == 4:  # a batch of images (not 2-D points)
            self.writer.save_grid(self.step, images, nrow)
        for cb in self.callbacks:
            cb.on_sample(self, self.step, images)

    # --- steering ----------------------------------------------------------------------------
    def steer(self, **settings) -> dict:
        """Change settings mid-run (the family's ``steerable`` ones, e.g. learning rates), validated by the
        same rules as the command line. config.json is rewritten, so it shows the values in force."""
        unknown = sorted(set(settings) - set(self.family.steerable))
        if unknown:
            raise ToolkitError(
                f"cannot change {', '.join(unknown)} during a run; only {', '.join(self.family.steerable)}"
            )
        dataclasses.replace(self.config, **settings).validate()
        for k, v in settings.items():
            setattr(self.config, k, v)  # the family shares this config object
        self.family.apply_settings(settings)
        if self.writer is not None:
            self.writer.write_config(self.describe())
            self.writer.event("changed", step=self.step, **settings)
        return settings

    # --- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The checkpoint's content (its format is ``toolkit/runs.py``'s)."""
        return checkpoint_contents(self)

    def load_state_dict(self, state: dict) -> None:
        restore_checkpoint_state(self, state)

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write checkpoints/last.pt atomically (temporary file + rename); never a NaN one."""
        stop_if_diverged(self.interval.host_sums(), self.step, self.writer)
        if path is None:
            if self.writer is None:
                raise ToolkitError("this trainer has no run directory; pass a path to save_checkpoint")
            path = self.writer.dir / LAST_CHECKPOINT
        return save_checkpoint(path, self.state_dict())

    @classmethod
    def resume(
        cls,
        run_dir: str | Path,
        steps: int | None = None,
        callbacks=(),
        progress: bool = True,
        with_data: TensorData | None = None,
        **overrides,
    ) -> "Trainer":
        """Continue the run in ``run_dir`` from its checkpoint; ``overrides`` may change what the family
        allows (see :func:`toolkit.training.checkpoint.resume`). A run started with ``Trainer(data=...)``
        needs the same data passed again as ``with_data``: its config cannot reload it."""
        return resume(cls, run_dir, steps, callbacks, progress, with_data=with_data, **overrides)
