"""Two-domain image sets for image-to-image translation (pix2pix, CycleGAN; lessons 09-10).

A :class:`TranslationData` holds images of domain A and domain B. *Paired* sets (pix2pix) hold one B
for each A, in the same order; *unpaired* sets (CycleGAN) hold two unrelated collections, possibly of
different sizes. Batches are dicts ``{"A", "B"}``: a paired set draws the same indices from both sides,
an unpaired set draws each side from its own shuffle.

========================  ========  ==============================================================
name                      paired    what
========================  ========  ==============================================================
``edges2fashion``         yes       A: Canny edges of a Fashion-MNIST garment, B: the garment (1x32x32)
``gray2color``            yes       A: grey version, B: the colour original; 32x32 crops of scikit-image's
                                    photographs (train: the left 80% of each photo, test: the rest)
``sneaker2boot``          no        A: Fashion-MNIST sneakers, B: ankle boots (shared structure)
``tshirt2shirt``          no        A: Fashion-MNIST T-shirts/tops, B: shirts
a folder or ``.zip``      either    your own: sub-folders ``A/`` and ``B/`` (see below)
========================  ========  ==============================================================

Edges (fixed, so the task is the same every run): ``skimage.feature.canny`` with sigma 1.0 and its
default thresholds (10% / 20% of the largest gradient), on the 28x28 garment, then padded to 32x32
like the garment; edge pixels are +1, the rest -1.

Your own data: ``PATH/A/*`` and ``PATH/B/*`` (a folder or a .zip of one). For a paired set, files are
matched by name without extension (``A/0001.png`` with ``B/0001.jpg``) and both images of a pair must have
the same size; every image is centre-cropped to a square and resized to the resolution. Errors are one
line naming the first offending file: a file on one side with no partner, a pair of different sizes,
an empty side, a file that does not decode.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ToolkitError
from .base import check_memory

TRANSLATION_DATASETS = {
    "edges2fashion": "paired: Canny edges -> Fashion-MNIST garment (1x32x32)",
    "gray2color": "paired: grey -> colour, 32x32 crops of scikit-image's photographs (3x32x32 out)",
    "sneaker2boot": "unpaired: Fashion-MNIST sneakers <-> ankle boots",
    "tshirt2shirt": "unpaired: Fashion-MNIST T-shirts/tops <-> shirts",
}
PAIRED = {"edges2fashion": True, "gray2color": True, "sneaker2boot": False, "tshirt2shirt": False}
CLASS_PAIRS = {"sneaker2boot": ("Sneaker", "Ankle boot"), "tshirt2shirt": ("T-shirt/top", "Shirt")}
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field")
CANNY_SIGMA = 1.0


@dataclass
class TranslationData:
    """``a``: float32 (N, C_a, H, W) in [-1, 1]; ``b``: (M, C_b, H, W). Paired: M == N, ``b[i]`` is
    ``a[i]``'s target. ``names``: the pair names of a user folder (else empty)."""

    name: str
    a: torch.Tensor
    b: torch.Tensor
    paired: bool
    info: dict = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    held_out: tuple[torch.Tensor, torch.Tensor] | None = None  # (A, B) test images for the sample grids
    kind: str = "translation"
    class_names: list[str] = field(default_factory=list)  # none: the two domains are not classes
    keys: tuple[str, ...] = ("A", "B")

    def __post_init__(self):
        if self.paired and len(self.a) != len(self.b):
            raise ToolkitError(
                f"{self.name}: {len(self.a)} A images but {len(self.b)} B images in a paired set"
            )
        if self.a.shape[-2:] != self.b.shape[-2:]:
            raise ToolkitError(
                f"{self.name}: A images are {tuple(self.a.shape[-2:])}, B {tuple(self.b.shape[-2:])}"
            )

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    @property
    def num_classes(self) -> int:
        return 0

    @property
    def shape(self) -> tuple[int, ...]:
        """One A image's shape, e.g. (1, 32, 32)."""
        return tuple(self.a.shape[1:])

    @property
    def shape_b(self) -> tuple[int, ...]:
        return tuple(self.b.shape[1:])

    def subset(self, n: int, seed: int) -> "TranslationData":
        """A seeded random subset of ``n`` images per side (pairs kept together)."""
        g = torch.Generator().manual_seed(seed)
        ia = torch.sort(torch.randperm(len(self.a), generator=g)[: min(n, len(self.a))]).values
        ib = (
            ia
            if self.paired
            else torch.sort(torch.randperm(len(self.b), generator=g)[: min(n, len(self.b))]).values
        )
        names = [self.names[i] for i in ia] if self.names else []
        return dataclasses.replace(self, a=self.a[ia], b=self.b[ib], info=dict(self.info), names=names)

    def sampler(
        self, batch_size: int, seed: int, device, rank: int = 0, world_size: int = 1
    ) -> "PairSampler":
        return PairSampler(self, batch_size, seed, device, rank, world_size)

    def fixed(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``n`` A and B images: the inputs every sample grid shows (held-out ones when the set
        has them, see ``held_out``)."""
        a, b = self.held_out or (self.a, self.b)
        return a[:n], b[:n]


class PairSampler:
    """Endless shuffled batches ``{"A", "B"}``, resumable exactly (two integers per side, like
    :class:`~toolkit.data.BatchSampler`). Paired: one shuffle for both sides; unpaired: one each. On several
    ranks, rank r takes slice r of a global batch of ``world_size x batch_size``, as BatchSampler does."""

    def __init__(
        self, data: TranslationData, batch_size: int, seed: int, device, rank: int = 0, world_size: int = 1
    ):
        smallest = min(len(data.a), len(data.b))
        if batch_size < 1 or batch_size * world_size > smallest:
            ranks = f" x {world_size} ranks" if world_size > 1 else ""
            raise ToolkitError(
                f"batch size {batch_size}{ranks} must be between 1 and the smaller side of {data.name} "
                f"({smallest} images); use --batch-size {smallest // world_size} or less"
            )
        self.batch_size, self.seed, self.paired = batch_size, seed, data.paired
        self.rank, self.world_size = rank, world_size
        self.a, self.b = data.a.to(device), data.b.to(device)
        self.sides = {"A": [0, 0], "B": [0, 0]}  # epoch, position
        self.perms = {s: self._permutation(s, 0) for s in self.sides}

    def use_channels_last(self) -> None:
        """Keep both domains' images in channels-last (NHWC) memory; batches are slices of them."""
        self.a, self.b = (x.contiguous(memory_format=torch.channels_last) for x in (self.a, self.b))

    def _permutation(self, side: str, epoch: int) -> torch.Tensor:
        n = len(self.a) if side == "A" or self.paired else len(self.b)
        offset = 0 if side == "A" or self.paired else 7_919
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch + offset * 1_000_003)
        return torch.randperm(n, generator=g).to(self.a.device)

    def _indices(self, side: str) -> torch.Tensor:
        epoch, position = self.sides[side]
        step = self.batch_size * self.world_size  # the global batch
        if position + step > len(self.perms[side]):
            epoch, position = epoch + 1, 0
            self.perms[side] = self._permutation(side, epoch)
        self.sides[side] = [epoch, position + step]
        start = position + self.rank * self.batch_size
        return self.perms[side][start : start + self.batch_size]

    def next(self) -> dict[str, torch.Tensor]:
        ia = self._indices("A")
        ib = ia if self.paired else self._indices("B")
        return {"A": self.a[ia], "B": self.b[ib]}

    def state_dict(self) -> dict:
        return {s: list(v) for s, v in self.sides.items()}

    def load_state_dict(self, state: dict) -> None:
        self.sides = {s: [int(e), int(p)] for s, (e, p) in state.items()}
        self.perms = {s: self._permutation(s, e) for s, (e, _) in self.sides.items()}


# --- built-in sets -------------------------------------------------------------------------------
def canny_edges(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) in [-1, 1] -> edge maps in {-1, +1} by ``skimage.feature.canny(sigma=1.0)``."""
    from skimage.feature import canny

    pixels = ((images[:, 0].numpy() + 1) * 127.5).astype(np.float64)
    edges = np.stack([canny(p, sigma=CANNY_SIGMA) for p in pixels]).astype(np.float32)
    return torch.from_numpy(edges * 2 - 1).unsqueeze(1)


def _fashion(split: str, limit: int | None, seed: int, keep=None):
    from .fashion_mnist import CLASS_NAMES, load_fashion_mnist

    data = load_fashion_mnist(split, pad_to_32=False)  # 28x28: Canny sees no padding border
    if keep is not None:
        data = data.subset(torch.nonzero(data.labels == CLASS_NAMES.index(keep)).flatten())
    if limit is not None and limit < len(data):
        g = torch.Generator().manual_seed(seed)
        data = data.subset(torch.sort(torch.randperm(len(data), generator=g)[:limit]).values)
    return data.x


def _pad32(x: torch.Tensor) -> torch.Tensor:
    return F.pad(x, (2, 2, 2, 2), value=-1.0)


def edges_to_fashion(split: str = "train", limit: int | None = None, seed: int = 0) -> TranslationData:
    x = _fashion(split, limit, seed)
    return TranslationData(
        "edges2fashion",
        _pad32(canny_edges(x)),
        _pad32(x),
        True,
        {"source": f"Fashion-MNIST {split}, edges by skimage.feature.canny(sigma={CANNY_SIGMA})"},
    )


def fashion_classes(
    name: str, split: str = "train", limit: int | None = None, seed: int = 0
) -> TranslationData:
    a_class, b_class = CLASS_PAIRS[name]
    return TranslationData(
        name,
        _pad32(_fashion(split, limit, seed, keep=a_class)),
        _pad32(_fashion(split, limit, seed + 1, keep=b_class)),
        False,
        {"source": f"Fashion-MNIST {split}", "A": a_class, "B": b_class},
    )


def photo_crops(split: str = "train", n: int = 2000, size: int = 32, seed: int = 0) -> TranslationData:
    """Random ``size`` crops of scikit-image's colour photographs, each photo halved in size first; train
    crops come from the left 80% of every photo, test crops from the right 20%, so they never overlap."""
    from skimage import data as photos

    g = torch.Generator().manual_seed(seed if split == "train" else seed + 1)
    crops = []
    for i, name in enumerate(PHOTOS):
        img = torch.from_numpy(getattr(photos, name)()[..., :3].copy()).permute(2, 0, 1).float()
        img = F.avg_pool2d(img.unsqueeze(0), 2)[0].div_(127.5).sub_(1.0)  # 2x smaller: more content per crop
        h, w = img.shape[1:]
        cut = int(w * 0.8)
        lo, hi = (0, cut - size) if split == "train" else (cut, w - size)
        count = n // len(PHOTOS) + (i < n % len(PHOTOS))
        ys = torch.randint(0, h - size + 1, (count,), generator=g)
        xs = torch.randint(lo, hi + 1, (count,), generator=g)
        crops += [img[:, y : y + size, x : x + size] for y, x in zip(ys.tolist(), xs.tolist())]
    colour = torch.stack(crops)
    grey = (0.299 * colour[:, 0] + 0.587 * colour[:, 1] + 0.114 * colour[:, 2]).unsqueeze(1)  # ITU-R 601 luma
    return TranslationData(
        "gray2color",
        grey,
        colour,
        True,
        {"source": f"scikit-image photographs {', '.join(PHOTOS)} ({split} part), grey = ITU-R 601 luma"},
    )


# --- your own folders ----------------------------------------------------------------------------
def load_translation_folder(
    path: str | Path, paired: bool, resolution: int = 64, channels: int | None = None
) -> TranslationData:
    """``path/A`` and ``path/B`` (folder or .zip) -> a :class:`TranslationData` (see the module docstring)."""
    from .decode import GREY_MODES, list_entries, read_images, square, to_8_bit, to_tensor

    path = Path(path).expanduser()
    entries, skipped = list_entries(path)
    sides = {"A": [], "B": []}
    for rel, read in entries:
        parts = PurePosixPath(rel).parts
        if len(parts) == 2 and parts[0] in sides:
            sides[parts[0]].append((rel, read))
        else:
            skipped += 1
    for side, found in sides.items():
        if not found:
            raise ToolkitError(
                f"{path} has no images in {side}/: a translation set needs sub-folders A/ and B/ "
                f"with images directly inside (found {len(entries)} images elsewhere)"
            )
    if paired:
        stems = {s: {PurePosixPath(rel).stem: rel for rel, _ in found} for s, found in sides.items()}
        for s, other in (("A", "B"), ("B", "A")):
            for stem, rel in stems[s].items():
                if stem not in stems[other]:
                    raise ToolkitError(
                        f"{rel} in {path} has no partner in {other}/ (pix2pix pairs files by name: "
                        f"add {other}/{stem}.png or remove it; for unpaired data use --model cyclegan)"
                    )
        order = sorted(stems["A"])
        for s in sides:
            by_rel = dict(sides[s])
            sides[s] = [(stems[s][stem], by_rel[stems[s][stem]]) for stem in order]
    check_memory(sum(map(len, sides.values())), (3, resolution, resolution), f"the images of {path}")

    images, modes, sizes = {}, {}, {}
    for s, found in sides.items():
        images[s], modes[s], sizes[s] = [], set(), []
        for rel, img in read_images(found, path):
            modes[s].add(img.mode)
            sizes[s].append((rel, img.size))
            images[s].append(square(to_8_bit(img), resolution))
    if paired:
        for (rel_a, size_a), (rel_b, size_b) in zip(sizes["A"], sizes["B"]):
            if size_a != size_b:
                raise ToolkitError(
                    f"{rel_a} is {size_a[0]}x{size_a[1]} but its partner {rel_b} is {size_b[0]}x{size_b[1]}; "
                    "the two images of a pair must have the same size"
                )
    tensors = {}
    for s in sides:
        c = channels or (1 if modes[s] <= GREY_MODES else 3)
        tensors[s] = to_tensor(images[s], c)
    names = [PurePosixPath(rel).stem for rel, _ in sizes["A"]]
    info = {"source": str(path), "skipped": skipped, "resolution": resolution}
    return TranslationData(path.stem, tensors["A"], tensors["B"], paired, info, names)


def load_translation(
    name: str,
    split: str = "train",
    resolution: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    paired: bool = True,
) -> TranslationData:
    """A translation set by name (table above) or a folder/zip with ``A/`` and ``B/``.

    ``paired=True`` (pix2pix) refuses an unpaired built-in set; ``limit`` keeps a seeded subset of that many
    images per side. The built-in sets are 32x32 (``resolution`` must be None or 32); a training split's
    grid inputs are held-out test images."""
    if name in TRANSLATION_DATASETS:
        if paired and not PAIRED[name]:
            raise ToolkitError(
                f"{name} is unpaired (two separate sets); pix2pix needs pairs: use --model cyclegan"
            )
        if resolution not in (None, 32):
            raise ToolkitError(f"{name} is 32x32; leave --resolution out (or give 32)")
        data = _load_builtin(name, split, limit, seed)
        if split == "train":
            held = _load_builtin(name, "test", 64, seed)
            data.held_out = (held.a, held.b)
        return data
    if Path(name).expanduser().exists():
        data = load_translation_folder(name, paired, resolution or 64)
        if limit is not None:
            data = data.subset(limit, seed)
        return data
    raise ToolkitError(
        f"unknown translation dataset {name!r}: use one of "
        f"{', '.join(TRANSLATION_DATASETS)}, or a folder/.zip "
        "with sub-folders A/ and B/"
    )


def _load_builtin(name: str, split: str, limit: int | None, seed: int) -> TranslationData:
    if name == "edges2fashion":
        return edges_to_fashion(split, limit, seed)
    if name == "gray2color":
        return photo_crops(split, n=limit or (2000 if split == "train" else 300), seed=seed)
    return fashion_classes(name, split, limit, seed)
