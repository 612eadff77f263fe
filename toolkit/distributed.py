"""Training on several processes: ``torchrun --nproc_per_node=N -m toolkit train ...``.

Data parallelism on PyTorch's own engine (``torch.distributed``; gloo on CPUs, NCCL on CUDA GPUs). Every
process (a *rank*) holds a full copy of every net and optimizer; per step:

* each rank draws its own slice of one shuffled global batch (``BatchSampler(rank=, world_size=)``),
  so ``--batch-size B`` on N ranks is an effective batch of ``N x B`` images per optimizer step;
* each rank computes its phase's loss and gradients on its slice, then :func:`average_gradients`
  all-reduces them (one flat tensor, one collective per phase) and every rank takes the same optimizer
  step, so the weights stay equal without ever being sent;
* noise is drawn from a different stream on every rank (the seed plus the rank), or all ranks would
  generate the same fakes.

Why not the ``DistributedDataParallel`` wrapper? It all-reduces from hooks it installs at construction
and expects every trainable parameter to get a gradient in every backward pass. A GAN step breaks that
on purpose: the G phase runs D frozen, the D phase runs G under ``no_grad``, WGAN-GP back-propagates
through a gradient, and PGGAN's new blocks join half-way. StyleGAN3's training loop (NVIDIA, the
authors of stylegan2-ada) stopped wrapping for the same reason and all-reduces the gradients of each
phase by hand; so does this loop. The cost: the all-reduce does not overlap the backward pass, which
matters little for models this size (see docs/scaling.md for the communication volume).

What else the loop does on several ranks (toolkit/training/loop.py):

* only rank 0 writes the run directory (config, metrics, grids, checkpoints) and prints;
* batch-norm statistics (buffers, never all-reduced by gradients) are broadcast from rank 0 at every
  logging step, before anything samples or measures (DDP's ``broadcast_buffers``, less often);
* the logged numbers are averaged over the ranks (one all-reduce per ``log_every`` steps), so every
  rank sees the same NaN guard and the same stop decision;
* ADA's and Diffusion-GAN's r_t is summed over the ranks before p (or T) moves, as in stylegan2-ada;
* FID's generated samples are split across the ranks and their features gathered (metrics/evaluate.py);
* CycleGAN's image pools (past fakes shown to D) stay per rank: each holds its own rank's fakes.

A checkpoint resumes on any number of ranks; ``--batch-size`` stays per rank. Resume is exact on one
process; on several, rank 0 continues its saved random stream and the others start fresh ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .errors import ToolkitError


@dataclass(frozen=True)
class World:
    """Where this process stands: its rank, the number of ranks, and its rank on this machine."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World()


def world_from_env() -> World:
    """The world torchrun describes in the environment (RANK, WORLD_SIZE, LOCAL_RANK); one process else."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise ToolkitError(
            "RANK/WORLD_SIZE/LOCAL_RANK must be whole numbers; start several processes with torchrun"
        ) from None
    if size < 1 or not 0 <= rank < size:
        raise ToolkitError(f"RANK={rank} is not in 0..WORLD_SIZE-1 (WORLD_SIZE={size}); start with torchrun")
    return World(rank, size, local)


def join(device: torch.device) -> World:
    """Join the process group torchrun set up (once per process); one process needs nothing."""
    world = world_from_env()
    if not world.distributed:
        return SINGLE
    if not dist.is_available():
        raise ToolkitError("this torch build has no torch.distributed; train on one process")
    if device.type == "cuda":
        torch.cuda.set_device(device)  # NCCL's collectives run on this rank's own GPU
    if not dist.is_initialized():
        if "MASTER_ADDR" not in os.environ:
            raise ToolkitError(
                f"WORLD_SIZE={world.size} is set but MASTER_ADDR is not: start several processes with "
                "torchrun --nproc_per_node=N -m toolkit train ..."
            )
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return world


def leave(world: World) -> None:
    """Leave the process group at the end of a run. Left to the interpreter's exit, gloo's threads can still
    be running when they are destroyed, and the process aborts ("terminate called without an active
    exception") after the run has finished."""
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def rank_device(name: str, world: World) -> str:
    """Each rank on a machine gets its own GPU: ``auto``/``cuda`` become ``cuda:LOCAL_RANK``."""
    if world.distributed and name in ("auto", "cuda") and torch.cuda.is_available():
        if world.local_rank >= torch.cuda.device_count():
            raise ToolkitError(
                f"rank {world.rank} wants GPU {world.local_rank} but this machine has "
                f"{torch.cuda.device_count()}; use --nproc_per_node={torch.cuda.device_count()} or fewer"
            )
        return f"cuda:{world.local_rank}"
    return name


def average_gradients(modules, world: World) -> None:
    """Average the gradients of ``modules``' parameters over all ranks: one flat all-reduce."""
    if not world.distributed:
        return
    grads = [p.grad for m in modules for p in m.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world.size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_tensors(tensors, world: World) -> None:
    """Copy rank 0's values of ``tensors`` (parameters, buffers) to every rank, in place."""
    if not world.distributed:
        return
    tensors = [t for t in tensors if t.numel()]
    if not tensors:
        return
    flat = torch.cat([t.detach().reshape(-1).float() for t in tensors])
    dist.broadcast(flat, src=0)
    offset = 0
    with torch.no_grad():
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view_as(t).to(t.dtype))
            offset += t.numel()


def all_mean(values: dict[str, torch.Tensor], world: World) -> dict[str, torch.Tensor]:
    """The mean over ranks of each value (scalar tensors), in one all-reduce."""
    if not world.distributed or not values:
        return values
    flat = torch.stack([v.float().reshape(()) for v in values.values()])
    dist.all_reduce(flat)
    return dict(zip(values, flat / world.size))


def any_rank(flag: bool, world: World, device) -> bool:
    """True on every rank when ``flag`` is True on any (a stop request that reached one process)."""
    if not world.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def broadcast_object(obj, world: World):
    """Rank 0's ``obj`` (any picklable value) on every rank."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_gather_rows(rows: torch.Tensor, world: World) -> torch.Tensor:
    """Every rank's ``rows`` (same shape on all ranks) stacked in rank order, on every rank."""
    if not world.distributed:
        return rows
    parts = [torch.empty_like(rows) for _ in range(world.size)]
    dist.all_gather(parts, rows.contiguous())
    return torch.cat(parts)


def current_world() -> World:
    """The world of the process group this process joined (one process when none)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return SINGLE
