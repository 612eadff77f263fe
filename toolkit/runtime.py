"""Where the work runs: device choice and the CPU thread count.

Threads, decided deliberately: on a quiet 2-core machine a DCGAN step runs ~1.5x faster with two
torch threads than with one, but 2.4-10x *slower* with two when another process is busy (the
threads wait on each other). So:

* ``TOOLKIT_THREADS`` (or an explicit ``threads=``) always wins;
* else ``OMP_NUM_THREADS`` if set (CI sets it to 1);
* else all cores this process may use, capped at 8 (little gain beyond for these model sizes).

Processes that run side by side (the dashboard's background runs, tests, DDP ranks) should each
get one thread: pass ``threads=1`` / ``--threads 1``.
"""

from __future__ import annotations

import os

import torch

from .errors import ToolkitError


def default_threads() -> int:
    for var in ("TOOLKIT_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value:
            try:
                n = int(value)
            except ValueError:
                raise ToolkitError(f"{var}={value!r} is not a whole number; set it to e.g. 1 or 2") from None
            if n >= 1:
                return n
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def set_threads(threads: int | None = None) -> int:
    """Set torch's intra-op thread count (see the module docstring) and return it."""
    n = default_threads() if threads is None else int(threads)
    if n < 1:
        raise ToolkitError(f"threads must be >= 1, got {n}")
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; a named device must be available."""
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ToolkitError(
                f"--device {name} was asked for but no CUDA GPU is visible; use --device cpu or auto"
            )
        index = name.partition(":")[2]
        if index and not (index.isdigit() and int(index) < torch.cuda.device_count()):
            raise ToolkitError(
                f"--device {name}: this machine has CUDA devices 0..{torch.cuda.device_count() - 1}"
            )
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ToolkitError(
            "--device mps was asked for but Apple's MPS backend is not available; use --device cpu or auto"
        )
    if name not in ("cpu", "cuda", "mps") and not name.startswith("cuda:"):
        raise ToolkitError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")
    return torch.device(name)


def quick_mode() -> bool:
    """True when ``TOOLKIT_QUICK=1``: lessons shrink their runs to fit ~2 CPU minutes."""
    return os.environ.get("TOOLKIT_QUICK", "").strip().lower() in ("1", "true", "yes", "on")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The dtype the loop's forward passes autocast to for ``--precision`` on ``device`` (None: plain fp32).

    ``auto`` is bf16 on a CUDA GPU that has it (Ampere and later: the same range as fp32, so no loss
    scaling is needed) and fp32 everywhere else. ``bf16`` on a CPU works but is slower than fp32 on CPUs
    without bf16 matrix units (measured: see docs/scaling.md). fp16 with a gradient scaler is not offered:
    the GPUs without bf16 train these model sizes in fp32 at launch-bound speed anyway."""
    if precision == "fp32":
        return None
    cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if precision == "auto":
        return torch.bfloat16 if cuda_bf16 else None
    if device.type == "mps" or (device.type == "cuda" and not cuda_bf16):
        raise ToolkitError(f"--precision bf16 is not supported on this {device.type} device; use fp32")
    return torch.bfloat16


def use_channels_last(memory_format: str, device: torch.device) -> bool:
    """``--memory-format``: channels-last (NHWC) images and conv weights. ``auto`` turns it on for CUDA
    (tensor cores want NHWC) and leaves CPUs contiguous; on a CPU it is a measured lever (docs/scaling.md)."""
    return memory_format == "channels-last" or (memory_format == "auto" and device.type == "cuda")
