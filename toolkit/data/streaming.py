"""Image folders too large for memory: decoded batch by batch by DataLoader workers.

:func:`~toolkit.data.folder.load_image_folder` picks this by size: when the decoded images (float32) would
take more than half of this machine's memory it returns a :class:`StreamingImages` instead of a
:class:`~toolkit.data.TensorData`. Nothing else changes for the user: the same layouts, conversions and
one-line errors, the same ``--limit``; a file that does not decode is skipped: left out when it is among
the first files (read for their modes, below), else replaced by the next readable image of its class when a
batch reaches it and named on stderr (a set where half or more of those first files fail is an error),
and the training loop asks it for batches like any dataset (``data.sampler(...)``).

How batches are drawn, exactly like :class:`~toolkit.data.BatchSampler` (so a resume continues exactly
and several ranks split each batch): epoch ``e`` is the permutation drawn from ``seed`` and ``e``; the
state is (epoch, position). A ``torch.utils.data.DataLoader`` with worker processes decodes the files of
the coming batches while the current one trains; a zip is opened once per worker (a shared file handle
across processes would interleave their reads).

Decided here: the channel count (grey or RGB) comes from the first 256 files' modes, not from all of them
(that would read the whole folder before training starts); pass ``channels=`` to force it. The
image-count and layout checks are the in-memory loader's, from the file list alone.
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path, PurePosixPath

import torch
from torch.utils.data import DataLoader, Dataset

from ..errors import ToolkitError

MODE_SAMPLE = 256  # files whose modes decide grey vs RGB
REPLACE_TRIES = 8  # a file that does not decode is replaced by the next readable one, within this many


def default_workers() -> int:
    """DataLoader workers: one core is left to training, at most 4 (decoding small images is cheap)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(4, cores - 1))


class _Files:
    """Reads one entry's bytes by index; a zip is (re)opened in each process that reads from it."""

    def __init__(self, path: Path, members: list[str], is_zip: bool):
        self.path, self.members, self.is_zip = path, members, is_zip
        self._zip, self._pid = None, None

    def read(self, i: int) -> bytes:
        if not self.is_zip:
            return (self.path / self.members[i]).read_bytes()
        if self._zip is None or self._pid != os.getpid():
            self._zip, self._pid = zipfile.ZipFile(self.path), os.getpid()
        return self._zip.read(self.members[i])

    def __getstate__(self):  # sent to worker processes without the open zip
        return {**self.__dict__, "_zip": None, "_pid": None}


class _Decode(Dataset):
    def __init__(self, data: "StreamingImages"):
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.data.decode([i])[0]


class StreamingImages:
    """A folder (or zip) of images read from disk batch by batch; the same interface as TensorData."""

    kind = "images"

    def __init__(
        self,
        name: str,
        files: _Files,
        rel_names: list[str],
        labels: torch.Tensor | None,
        class_names: list[str],
        resolution: int,
        channels: int,
        info: dict,
        workers: int | None = None,
    ):
        self.name, self.files, self.rel_names = name, files, rel_names
        self.labels, self.class_names = labels, class_names
        self.resolution, self.channels, self.info = resolution, channels, info
        self.workers = default_workers() if workers is None else workers
        self.index = torch.arange(len(rel_names))  # entries of `files` in this set (a --limit subset)
        self.reported = set()  # unreadable files already named on stderr (in this process)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def keys(self) -> tuple[str, ...]:
        return ("image",) if self.labels is None else ("image", "label")

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.channels, self.resolution, self.resolution)

    def decode(self, positions) -> torch.Tensor:
        """The images at ``positions`` of this set, decoded and converted as the in-memory loader does. A file
        that does not decode is replaced by the next one of its class that does (named once on stderr, which a
        dashboard job writes to train.log); a one-line error when ``REPLACE_TRIES`` in a row do not."""
        from .decode import square, to_8_bit, to_tensor

        images = [square(to_8_bit(self._readable_image(int(p))), self.resolution) for p in positions]
        return to_tensor(images, self.channels)

    def _readable_image(self, position: int):
        """The image at ``position``, or the next one of the same class that decodes (see :meth:`decode`)."""
        from .decode import read_images

        problems, n = [], len(self)
        same_class = [
            (position + k) % n
            for k in range(n)
            if self.labels is None or self.labels[(position + k) % n] == self.labels[position]
        ]
        for p in same_class[:REPLACE_TRIES]:
            j = int(self.index[p])
            for _, img in read_images(
                [(self.rel_names[j], lambda j=j: self.files.read(j))], self.files.path, problems
            ):
                for rel, problem in problems:
                    if rel not in self.reported:
                        self.reported.add(rel)
                        print(f"skipped: {problem}", file=sys.stderr)
                return img
        if len(problems) == 1:
            raise ToolkitError(problems[0][1])
        raise ToolkitError(f"{problems[0][1]} (and the next {len(problems) - 1} images do not decode either)")

    def images(self, n: int) -> torch.Tensor:
        """The first ``n`` images as one tensor (for FID's real features, the overfitting gap)."""
        return self.decode(range(min(n, len(self))))

    def subset(self, indices, name: str | None = None) -> "StreamingImages":
        indices = torch.as_tensor(indices, dtype=torch.long)
        out = StreamingImages.__new__(StreamingImages)
        out.__dict__.update(self.__dict__)
        out.name, out.info = name or self.name, dict(self.info)
        out.index = self.index[indices]
        out.labels = None if self.labels is None else self.labels[indices]
        return out

    def sampler(self, batch_size: int, seed: int, device, rank: int = 0, world_size: int = 1):
        return StreamSampler(self, batch_size, seed, device, rank, world_size)


class StreamSampler:
    """Endless shuffled batches from a :class:`StreamingImages`; the state and the split between ranks are
    :class:`~toolkit.data.BatchSampler`'s. Batches come from a DataLoader whose workers decode ahead."""

    def __init__(self, data: StreamingImages, batch_size: int, seed: int, device, rank=0, world_size=1):
        if batch_size < 1 or batch_size * world_size > len(data):
            raise ToolkitError(
                f"batch size {batch_size} must be between 1 and {len(data) // world_size} for {data.name} "
                f"({len(data)} images{f' over {world_size} ranks' if world_size > 1 else ''})"
            )
        self.data, self.batch_size, self.seed, self.device = data, batch_size, seed, torch.device(device)
        self.rank, self.world_size = rank, world_size
        self.epoch, self.position = 0, 0
        self._batches = None  # the DataLoader's iterator over the rest of this epoch

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        return torch.randperm(len(self.data), generator=g)

    def _start_epoch(self) -> None:
        """A DataLoader over this rank's slices of the global batches from ``position`` to the epoch's end."""
        perm, step = self._permutation(self.epoch), self.batch_size * self.world_size
        starts = range(self.position, len(self.data) - step + 1, step)
        plan = [
            perm[s + self.rank * self.batch_size : s + (self.rank + 1) * self.batch_size].tolist()
            for s in starts
        ]
        loader = DataLoader(
            _Decode(self.data),
            batch_sampler=plan,
            num_workers=self.data.workers,
            pin_memory=self.device.type == "cuda",
            prefetch_factor=4 if self.data.workers else None,
        )
        self._batches = iter(zip(plan, loader))

    def next(self) -> dict[str, torch.Tensor]:
        step = self.batch_size * self.world_size
        if self.position + step > len(self.data):
            self.epoch, self.position, self._batches = self.epoch + 1, 0, None
        if self._batches is None:
            self._start_epoch()
        try:
            indices, images = next(self._batches)
        except ToolkitError as exc:  # raised in a worker: DataLoader wraps it in its traceback text
            raise ToolkitError(str(exc).strip().splitlines()[-1].split("ToolkitError: ")[-1]) from None
        self.position += step
        batch = {"image": images.to(self.device, non_blocking=True)}
        if self.data.labels is not None:
            batch["label"] = self.data.labels[indices].to(self.device)
        return batch

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position, self._batches = int(state["epoch"]), int(state["position"]), None


def stream_image_folder(
    path: Path, entries, skipped: int, labelled: bool, resolution: int, channels: int | None, name: str | None
) -> StreamingImages:
    """The streaming twin of ``load_image_folder`` (which calls it when the set is too large for memory)."""
    from .decode import GREY_MODES, check_readable_share, class_labels, read_images, zip_members

    is_zip = not path.is_dir()
    rel_names = [rel for rel, _ in entries]
    if is_zip:  # the member names as stored (a zip of one top folder has it stripped in rel_names)
        names = [n for n in sorted(zipfile.ZipFile(path).namelist()) if not n.endswith("/")]
        by_rel = zip_members(names)
        members = [by_rel[r] for r in rel_names]
    else:
        members = rel_names
    unreadable = []  # found among the files read for their modes: left out of the set
    modes = {img.mode for _, img in read_images(entries[:MODE_SAMPLE], path, unreadable)}
    check_readable_share(unreadable, min(len(entries), MODE_SAMPLE), path)
    if unreadable:
        left_out = {rel for rel, _ in unreadable}
        kept = [i for i, rel in enumerate(rel_names) if rel not in left_out]
        rel_names, members = [rel_names[i] for i in kept], [members[i] for i in kept]
    if channels is None:
        channels = 1 if modes <= GREY_MODES else 3
    labels, class_names = (
        class_labels([PurePosixPath(rel).parts[0] for rel in rel_names]) if labelled else (None, [])
    )
    info = {
        "source": str(path),
        "skipped": skipped,
        "unreadable": [rel for rel, _ in unreadable],  # found among the first MODE_SAMPLE; later ones: stderr
        "modes": sorted(modes),
        "resolution": resolution,
        "channels": channels,
        "streamed": True,  # read from disk batch by batch (too large for memory)
    }
    return StreamingImages(
        name or path.stem,
        _Files(path, members, is_zip),
        rel_names,
        labels,
        class_names,
        resolution,
        channels,
        info,
    )


__all__ = ["StreamingImages", "StreamSampler", "stream_image_folder"]
