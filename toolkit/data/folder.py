"""Your own images: a folder or a .zip of them, validated and loaded into memory (or, when they would not
fit, streamed from disk batch by batch: toolkit/data/streaming.py). The files are read and decoded by
toolkit/data/decode.py.

Layout (decided here, checked on load):
* ``images/*.png``            unlabelled;
* ``images/<class>/*.png``    labelled, one sub-folder per class (sorted names -> labels 0, 1, ...).
Mixing the two (images beside class folders) is an error, because the top-level images would have
no class.

Conversions (documented, never silent about failures):
* every image is centre-cropped to a square and resized to ``resolution`` x ``resolution``
  (Lanczos), so mixed sizes are fine;
* modes are unified: all-grey sets become 1 channel, anything else 3 channels (RGB; an alpha
  channel is dropped, palette images are expanded, CMYK is converted); 16-bit grey (either byte
  order) is scaled to 8 bits by 255/65535, 32-bit and float grey are stretched to 0..255 per image;
  ``channels=`` forces one or the other;
* hidden files, ``__MACOSX`` and files without an image extension are skipped; how many is kept in
  ``data.info['skipped']``;
* a file that has an image extension but does not decode (a damaged zip entry too), or an image too
  large to decode safely, is skipped and named in ``data.info['unreadable']`` (training records it in
  config.json and says so at start-up): one bad file does not block a run.
Errors (one line each): missing path, no images at all, half of the images or more unreadable (with the
share and the first one named), mixed layout, a set that would not fit in memory at the asked resolution.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import torch

from ..errors import ToolkitError
from .base import TensorData, fits_in_memory
from .decode import (
    GREY_MODES,
    IMAGE_EXTENSIONS,
    check_readable_share,
    class_labels,
    list_entries,
    read_images,
    square,
    to_8_bit,
    to_tensor,
)


def survey_images(path: str | Path, limit: int | None = None) -> dict:
    """Decode the images of a folder or zip (the first ``limit`` of them) as training would, for the
    dashboard's start form: ``checked`` (how many), ``unreadable`` ((name, one-line reason) of each that does
    not decode: training skips them), ``modes`` ({Pillow mode: count}) and ``sides`` (each readable image's
    shorter side in pixels, before it is cropped and resized)."""
    path = Path(path).expanduser()
    entries, _ = list_entries(path)
    entries = entries[:limit] if limit is not None else entries
    unreadable, modes, sides = [], {}, []
    for _, img in read_images(entries, path, unreadable):
        modes[img.mode] = modes.get(img.mode, 0) + 1
        sides.append(min(img.size))
    return {"checked": len(entries), "unreadable": unreadable, "modes": modes, "sides": sides}


def preview_images(path: str | Path, resolution: int, n: int = 8) -> torch.Tensor:
    """The first ``n`` readable images of a folder or zip as the model will see them: cropped, resized and
    converted (grey or RGB, decided from these ``n``), as (n, channels, resolution, resolution) in [-1, 1]."""
    path = Path(path).expanduser()
    entries, _ = list_entries(path)
    images, modes = [], set()
    for _, img in read_images(entries, path, unreadable=[]):
        modes.add(img.mode)
        images.append(square(to_8_bit(img), resolution))
        if len(images) == n:
            break
    if not images:
        raise ToolkitError(f"no readable images in {path}")
    return to_tensor(images, 1 if modes <= GREY_MODES else 3)


def inspect_image_folder(path: str | Path) -> dict:
    """What a folder or .zip holds, without decoding anything (for the dashboard's start form):
    ``images`` (files with an image extension), ``skipped``, ``classes`` (the sub-folders holding images),
    ``top_level`` (images directly in the folder), ``deeper`` (images two or more folders down),
    ``sides`` (images in ``A/`` and ``B/``, for translation). A missing path is a ToolkitError."""
    entries, skipped = list_entries(Path(path).expanduser())
    parts = [PurePosixPath(rel).parts for rel, _ in entries]
    return {
        "images": len(entries),
        "skipped": skipped,
        "classes": sorted({p[0] for p in parts if len(p) == 2}),
        "top_level": [p[0] for p in parts if len(p) == 1],
        "deeper": [PurePosixPath(*p).as_posix() for p in parts if len(p) > 2],
        "sides": {s: sum(len(p) == 2 and p[0] == s for p in parts) for s in ("A", "B")},
    }


def load_image_folder(
    path: str | Path,
    resolution: int = 64,
    channels: int | None = None,
    name: str | None = None,
    stream: bool | None = None,
):
    """The images of a folder or zip as a TensorData, or as a StreamingImages (read batch by batch by
    DataLoader workers) when ``stream`` is True, or None and the decoded set would take more than half of
    this machine's memory."""
    path = Path(path).expanduser()
    if channels not in (None, 1, 3):
        raise ToolkitError(f"channels must be 1 or 3, got {channels}")
    if resolution < 4:
        raise ToolkitError(f"resolution must be at least 4 pixels, got {resolution}")
    entries, skipped = list_entries(path)
    if not entries:
        raise ToolkitError(
            f"no images found in {path} (looked for {', '.join(sorted(IMAGE_EXTENSIONS))}; "
            f"{skipped} other files skipped)"
        )
    depths = {len(PurePosixPath(rel).parts) for rel, _ in entries}
    if depths - {1, 2} or len(depths) > 1:
        raise ToolkitError(
            f"{path} mixes layouts: put all images either directly in the folder (unlabelled) "
            f"or each in one class sub-folder (labelled), not both or deeper"
        )
    labelled = depths == {2}
    if stream or (stream is None and not fits_in_memory(len(entries), (3, resolution, resolution))):
        from .streaming import stream_image_folder

        return stream_image_folder(path, entries, skipped, labelled, resolution, channels, name)

    images, modes, class_of, unreadable = [], set(), [], []
    for rel, img in read_images(entries, path, unreadable):
        modes.add(img.mode)
        images.append(square(to_8_bit(img), resolution))  # small right away: memory stays bounded
        class_of.append(PurePosixPath(rel).parts[0] if labelled else None)

    check_readable_share(unreadable, len(entries), path)
    if channels is None:
        channels = 1 if modes <= GREY_MODES else 3
    x = to_tensor(images, channels)

    labels, class_names = class_labels(class_of) if labelled else (None, [])
    info = {
        "source": str(path),
        "skipped": skipped,
        "unreadable": [rel for rel, _ in unreadable],  # skipped: they do not decode (named in config.json)
        "modes": sorted(modes),
        "resolution": resolution,
        "channels": channels,
    }
    return TensorData(name or path.stem, x, labels, class_names, "images", info)
