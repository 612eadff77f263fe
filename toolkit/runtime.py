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
from pathlib import Path

import torch

from .config import MEMORY_FORMATS, PRECISIONS
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


def cpu_has_native_bf16() -> bool:
    """True when this CPU multiplies bf16 in hardware: AVX-512 BF16 or AMX tiles (Intel Cooper Lake, Sapphire
    Rapids and later; AMD Zen 4 and later). Elsewhere (e.g. AVX2 only) bf16 is converted to fp32 and back in
    software: a DCGAN step ran 12-14x *slower* in bf16 than in fp32 on such a CPU (docs/scaling.md)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu reads the CPU's own flags
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def resolve_precision(precision: str, device: torch.device) -> str:
    """``--precision`` as it will run on ``device``: "bf16" (autocast to bfloat16) or "fp32".

    ``auto`` is bf16 where the hardware has it natively: a CUDA GPU with bf16 (Ampere and later: fp32's
    range, so no loss scaling is needed) or a CPU with AVX-512 BF16 / AMX (:func:`cpu_has_native_bf16`;
    measured 1.34-1.38x the fp32 step there, with the same FID per CPU-minute). Everywhere else fp32. A
    forced ``bf16`` also runs on a CPU without it (slowly). fp16 with a gradient scaler is not offered: the
    GPUs without bf16 train these model sizes in fp32 at launch-bound speed anyway."""
    if precision not in PRECISIONS:
        raise ToolkitError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp32":
        return "fp32"
    cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if precision == "auto":
        native = cuda_bf16 or (device.type == "cpu" and cpu_has_native_bf16())
        return "bf16" if native else "fp32"
    if device.type == "mps" or (device.type == "cuda" and not cuda_bf16):
        raise ToolkitError(f"--precision bf16 is not supported on this {device.type} device; use fp32")
    return "bf16"


def resolve_memory_format(memory_format: str, device: torch.device) -> str:
    """``--memory-format`` as it will run on ``device``: "channels-last" (NHWC images and conv weights) or
    "contiguous". ``auto`` is channels-last on CUDA (tensor cores want NHWC) and contiguous on a CPU: there
    channels-last measured 1.09-1.23x faster, but it draws dropout masks in another memory order, so it would
    change every lesson's numbers (docs/scaling.md); it is one flag away."""
    if memory_format not in MEMORY_FORMATS:
        raise ToolkitError(
            f"--memory-format must be one of {', '.join(MEMORY_FORMATS)}, got {memory_format!r}"
        )
    if memory_format == "auto":
        return "channels-last" if device.type == "cuda" else "contiguous"
    return memory_format


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The dtype the loop's forward passes autocast to (None: plain fp32); see :func:`resolve_precision`."""
    return torch.bfloat16 if resolve_precision(precision, device) == "bf16" else None


def use_channels_last(memory_format: str, device: torch.device) -> bool:
    """Whether images and conv weights are channels-last; see :func:`resolve_memory_format`."""
    return resolve_memory_format(memory_format, device) == "channels-last"


def cpu_flags() -> list[str]:
    """The CPU's vector and matrix features that decide the speed levers (/proc/cpuinfo; [] elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next(
        (line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []
    )
    return sorted(f for f in flags if f.startswith(("avx", "amx")) or f == "fma")


def speed_choice(precision: str, memory_format: str, device: torch.device) -> str:
    """The train command's start-up words for the choice, e.g. "fp32, contiguous (--precision auto: no
    native bf16 on this cpu)"."""
    resolved = f"{resolve_precision(precision, device)}, {resolve_memory_format(memory_format, device)}"
    if precision != "auto":
        return resolved
    native = resolve_precision("auto", device) == "bf16"
    return f"{resolved} (--precision auto: {'native' if native else 'no native'} bf16 on this {device.type})"
