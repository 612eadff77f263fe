"""Reading the images of a folder or a .zip, one owner for every loader and command that reads them (the
in-memory folder loader, the streamed one, translation and super-resolution folders, translate, upscale and
stylize): which files count as images, each decoded on its own (a bad one is named, and may be skipped), the
modes brought to 8 bits, the centre crop and resize, and the conversion to a tensor in [-1, 1]."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import ToolkitError

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def list_entries(path: Path) -> tuple[list[tuple[str, callable]], int]:
    """(relative posix name, opener) for each candidate image file, and the number skipped."""
    entries, skipped = [], 0
    if path.is_dir():
        for f in sorted(path.rglob("*")):
            if not f.is_file():
                continue
            rel = f.relative_to(path).as_posix()
            if ignored(rel) or f.suffix.lower() not in IMAGE_EXTENSIONS:
                skipped += 1
                continue
            entries.append((rel, (lambda f=f: f.read_bytes())))
    elif path.is_file() and zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        names = [n for n in sorted(archive.namelist()) if not n.endswith("/")]
        skipped = sum(ignored(n) for n in names)
        for rel, n in zip_members(names).items():
            if ignored(rel) or PurePosixPath(n).suffix.lower() not in IMAGE_EXTENSIONS:
                skipped += 1
                continue
            entries.append((rel, (lambda n=n: archive.read(n))))
    elif path.is_file():
        raise ToolkitError(f"{path} is neither a folder nor a .zip file of images")
    else:
        raise ToolkitError(f"image folder {path} does not exist; check the path")
    return entries, skipped


def zip_members(names: list[str]) -> dict[str, str]:
    """The members of a zip (``names``, hidden ones and __MACOSX left out) by the name the toolkit gives each:
    a zip of one folder ("birds/a.png", "birds/b.png") is read like that folder, its top folder stripped."""
    names = [n for n in names if not ignored(n)]
    tops = {PurePosixPath(n).parts[0] for n in names}
    strip = len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in names)
    return {("/".join(PurePosixPath(n).parts[1:]) if strip else n): n for n in names}


def ignored(rel: str) -> bool:
    """Hidden files and folders, and macOS's __MACOSX: never images of the set."""
    parts = PurePosixPath(rel).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def to_8_bit(img: Image.Image) -> Image.Image:
    """8-bit modes Pillow can resize and convert: palette images expanded (they may carry transparency),
    16-bit grey (any byte order) scaled by 255/65535, 32-bit int and float grey stretched to 0..255."""
    if img.mode == "P":
        return img.convert("RGBA")
    if img.mode == "1":
        return img.convert("L")
    if img.mode.startswith("I;16"):
        a = np.asarray(img).astype(np.float64) / 257.0
        return Image.fromarray(np.round(a).astype(np.uint8), "L")
    if img.mode in ("I", "F"):
        a = np.asarray(img, dtype=np.float64)
        a = (a - a.min()) / max(a.max() - a.min(), 1e-12) * 255
        return Image.fromarray(a.astype(np.uint8), "L")
    if img.mode == "CMYK":
        return img.convert("RGB")
    return img


def square(img: Image.Image, resolution: int) -> Image.Image:
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return img.crop((left, top, left + s, top + s)).resize((resolution, resolution), Image.LANCZOS)


def read_images(entries, path: Path, unreadable: list | None = None):
    """Decode each (relative name, opener) of :func:`list_entries` one by one: yields (name, PIL image).
    A file that does not decode or is too large is a one-line error naming it, or, when ``unreadable`` is a
    list, is appended to it as (name, the one-line error) and skipped."""
    for rel, read in entries:
        try:
            img = Image.open(io.BytesIO(read()))
            img.load()
        except Image.DecompressionBombError:
            problem = (
                f"image {rel} in {path} is too large to load safely (over "
                f"{Image.MAX_IMAGE_PIXELS:,} pixels); shrink it or remove it"
            )
        except (UnidentifiedImageError, OSError, SyntaxError, zipfile.BadZipFile, EOFError) as exc:
            problem = (
                f"cannot read image {rel} in {path} ({type(exc).__name__}: {str(exc)[:60]}); "
                "remove or replace it"
            )
        else:
            yield rel, img
            continue
        if unreadable is None:
            raise ToolkitError(problem) from None
        unreadable.append((rel, problem))


def check_readable_share(unreadable: list[tuple[str, str]], total: int, path: Path) -> None:
    """Unreadable files are skipped, but when half of the images or more do not decode the folder is
    probably not what the user meant (or it is damaged): a one-line error with the share, naming the first."""
    if unreadable and 2 * len(unreadable) >= total:
        raise ToolkitError(
            f"{len(unreadable)} of {total} images in {path} ({len(unreadable) / total:.0%}) do not decode, "
            f"half or more: check the path. The first: {unreadable[0][1]}"
        )


def to_tensor(images: list[Image.Image], channels: int) -> torch.Tensor:
    """Equal-sized PIL images -> float32 (N, channels, H, W) in [-1, 1] (grey or RGB)."""
    target_mode = "L" if channels == 1 else "RGB"
    arrays = [np.asarray(to_8_bit(img).convert(target_mode)) for img in images]
    x = torch.from_numpy(np.stack(arrays)).float()
    return (x.unsqueeze(1) if channels == 1 else x.permute(0, 3, 1, 2)).contiguous().div_(127.5).sub_(1.0)


def class_labels(class_of: list[str]) -> tuple[torch.Tensor, list[str]]:
    """Each image's class folder name -> (int64 labels, the sorted class names they index)."""
    class_names = sorted(set(class_of))
    return torch.tensor([class_names.index(c) for c in class_of], dtype=torch.long), class_names
