"""The in-memory dataset every loader returns, and the batch sampler the training loop uses.

All datasets here fit in memory (Fashion-MNIST is 47 MB as uint8), so training draws batches by
indexing one tensor: no DataLoader workers, no per-batch Python objects, no file I/O on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import ToolkitError


@dataclass
class TensorData:
    """``x``: float32 (N, C, H, W) images in [-1, 1] or (N, 2) points; ``labels``: int64 (N,) or None."""

    name: str
    x: torch.Tensor
    labels: torch.Tensor | None = None
    class_names: list[str] = field(default_factory=list)
    kind: str = "images"  # "images" or "points"
    info: dict = field(default_factory=dict)  # where it came from, what was converted

    def __post_init__(self):
        if self.labels is not None and len(self.labels) != len(self.x):
            raise ToolkitError(f"{self.name}: {len(self.x)} samples but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the batches drawn from it: ("image",) or ("image", "label"). For 2-D points
        "image" holds the (B, 2) coordinates."""
        return ("image",) if self.labels is None else ("image", "label")

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. (1, 32, 32) or (2,)."""
        return tuple(self.x.shape[1:])

    def images(self, n: int) -> torch.Tensor:
        """The first ``n`` samples (the same call works on a streamed folder: toolkit/data/streaming.py)."""
        return self.x[:n]

    def subset(self, indices: torch.Tensor, name: str | None = None) -> "TensorData":
        indices = torch.as_tensor(indices, dtype=torch.long)
        return TensorData(
            name or self.name,
            self.x[indices],
            None if self.labels is None else self.labels[indices],
            list(self.class_names),
            self.kind,
            dict(self.info),
        )


def memory_bytes() -> int | None:
    """This machine's physical memory in bytes (None where it cannot be read, e.g. Windows)."""
    import os

    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def fits_in_memory(n: int, sample_shape: tuple[int, ...]) -> bool:
    """Whether ``n`` float32 samples take at most half of this machine's memory."""
    import math

    have = memory_bytes()
    return have is None or n * math.prod(sample_shape) * 4 <= have / 2


def check_memory(
    n: int,
    sample_shape: tuple[int, ...],
    what: str,
    fix: str = "use a smaller --resolution or fewer images (--limit)",
) -> None:
    """A one-line error, before anything is allocated, when ``n`` float32 samples would take more than half
    of this machine's memory (e.g. ``--resolution 100000``)."""
    import math

    if fits_in_memory(n, sample_shape):
        return
    need, have = n * math.prod(sample_shape) * 4, memory_bytes()
    raise ToolkitError(
        f"{what} would need {need / 2**30:.1f} GiB of memory ({n:,} samples of shape "
        f"{tuple(sample_shape)}); this machine has {have / 2**30:.1f} GiB: {fix}"
    )


class BatchSampler:
    """Endless shuffled batches from a :class:`TensorData`, resumable exactly.

    Epoch ``e`` uses the permutation drawn from ``seed`` and ``e`` alone, so the whole state is two
    integers (epoch, position): a resumed run sees exactly the batches it would have seen.
    The last incomplete batch of an epoch is dropped (every batch has the same size).

    On several processes (torchrun) every rank walks the same permutation and takes its own slice of one
    global batch of ``world_size x batch_size`` samples: rank r gets slice r, so the ranks never see the
    same sample in a step and the position is the same on every rank.
    """

    def __init__(
        self,
        data: TensorData,
        batch_size: int,
        seed: int,
        device: torch.device | str = "cpu",
        rank: int = 0,
        world_size: int = 1,
    ):
        if batch_size < 1:
            raise ToolkitError(f"batch size must be >= 1, got {batch_size}")
        if batch_size * world_size > len(data):
            ranks = f" x {world_size} ranks" if world_size > 1 else ""
            raise ToolkitError(
                f"batch size {batch_size}{ranks} is larger than the dataset ({len(data)} samples in "
                f"{data.name}); use --batch-size {len(data) // world_size} or less"
            )
        self.batch_size = batch_size
        self.rank, self.world_size = rank, world_size
        self.seed = seed
        self.n = len(data)
        self.x = data.x.to(device)
        self.labels = None if data.labels is None else data.labels.to(device)
        self.epoch, self.position = 0, 0
        self._perm = self._permutation(0)

    def use_channels_last(self) -> None:
        """Keep the images in channels-last (NHWC) memory; batches are slices of them."""
        if self.x.dim() == 4:
            self.x = self.x.contiguous(memory_format=torch.channels_last)

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        return torch.randperm(self.n, generator=g).to(self.x.device)

    def next(self) -> dict[str, torch.Tensor]:
        """The next batch as a dict: ``{"image"}`` or ``{"image", "label"}``."""
        step = self.batch_size * self.world_size  # the global batch
        if self.position + step > self.n:
            self.epoch, self.position = self.epoch + 1, 0
            self._perm = self._permutation(self.epoch)
        start = self.position + self.rank * self.batch_size
        idx = self._perm[start : start + self.batch_size]
        self.position += step
        if self.labels is None:
            return {"image": self.x[idx]}
        return {"image": self.x[idx], "label": self.labels[idx]}

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._perm = self._permutation(self.epoch)
