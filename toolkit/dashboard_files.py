"""The files the dashboard takes in and hands out, without Streamlit: zips uploaded in the start form (kept
under the runs folder, never replacing an earlier one), samples made in memory for the download button (as
``python -m toolkit sample`` writes them), conditional grids labelled by class, and the output folder of the
"Augment a dataset" box, checked by ``toolkit/outputs.py``'s rules before any work.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ToolkitError


def label_grid_rows(png: bytes | Path, class_names: list[str]) -> bytes:
    """A conditional run's sample grid (one row per class, in class order: ``GANFamily.grid``) with each
    row's class name written left of it, as PNG bytes."""
    import io

    from PIL import Image, ImageDraw

    grid = Image.open(io.BytesIO(png) if isinstance(png, bytes) else png).convert("RGB")
    margin = 10 + 7 * max(len(c) for c in class_names)
    out = Image.new("RGB", (grid.width + margin, grid.height), "white")
    out.paste(grid, (margin, 0))
    draw = ImageDraw.Draw(out)
    row = grid.height / len(class_names)
    for i, name in enumerate(class_names):
        draw.text((4, round((i + 0.5) * row) - 5), name, fill="black")
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return buf.getvalue()


UPLOADS = "uploads"  # the start form's uploaded zips: RUNS_ROOT/uploads/NAME.zip


def save_upload(data: bytes, file_name: str, runs_root: Path) -> Path:
    """A .zip uploaded in the start form, saved as ``runs_root/uploads/NAME.zip`` (NAME from the file's own
    name; NAME-2.zip, NAME-3.zip... when taken: an earlier upload is never replaced). Written whole under a
    temporary name, then linked to its final name, which fails instead of replacing a file that appeared
    meanwhile. A file that is not a zip is refused in one line, and nothing is written."""
    import io
    import re
    import tempfile
    import zipfile

    if not file_name.lower().endswith(".zip") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise ToolkitError(
            f"{file_name} is not a .zip file: zip the folder of images (one sub-folder per class for "
            "cgan/acgan) and upload the .zip"
        )
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(file_name).stem).strip("-.") or "upload"
    folder = Path(runs_root) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        k = 1
        while True:
            target = folder / (f"{stem}.zip" if k == 1 else f"{stem}-{k}.zip")
            try:
                os.link(tmp, target)  # never over an existing file
                return target
            except FileExistsError:
                k += 1
    finally:
        Path(tmp).unlink(missing_ok=True)


def sample_download(
    run_dir: Path, n: int, seed: int = 0, class_name: str | None = None, as_zip: bool = False
) -> tuple[bytes, str]:
    """``n`` images from the run's generator, made in memory as ``python -m toolkit sample`` writes them:
    one PNG grid (a conditional run's labelled by class, one row per class), or a .zip of PNGs named like
    sample's folder (000000_Dress.png..., with labels.csv). ``class_name``: only that class (conditional
    runs); None: all classes in turn. Returns (bytes, a file name to save them as)."""
    import io
    import zipfile

    import torch

    from .data.base import check_memory
    from .generate import class_index, generate, load_generator, sample_paths
    from .models import is_conditional
    from .models.conditional import balanced_labels
    from .viz import grid_png, labelled_grid_png, to_uint8

    if not 1 <= n <= 10_000:
        raise ToolkitError(f"ask for 1 to 10000 images, got {n}")
    G, config = load_generator(run_dir)
    if config["kind"] != "images":
        raise ToolkitError(f"{run_dir} generates 2-D points, not images")
    check_memory(n, tuple(config["sample_shape"]), f"{n} images", "ask for fewer")
    names = config.get("class_names") if is_conditional(G) else None
    labels = None
    if names and class_name is not None:
        labels = torch.full((n,), class_index(class_name, names))
    elif is_conditional(G):
        labels = balanced_labels(n, G.num_classes)
    images = generate(G, n, config["z_dim"], seed=seed, labels=labels)
    what = f"{Path(run_dir).name}-step{config['checkpoint_step']}" + (
        f"-{class_name}" if class_name is not None else ""
    )
    if not as_zip:
        if names:
            return labelled_grid_png(images, labels, names), f"{what}.png"
        return grid_png(images), f"{what}.png"
    from PIL import Image

    paths = sample_paths(Path(what), n, labels, names)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for img, path in zip(to_uint8(images), paths):
            png = io.BytesIO()
            Image.fromarray(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)).save(png, format="PNG")
            archive.writestr(f"{what}/{path.name}", png.getvalue())
        if names:  # as sample's labels.csv
            rows = ["file,label,class"] + [
                f'{p.name},{y},"{names[y]}"' for p, y in zip(paths, labels.tolist())
            ]
            archive.writestr(f"{what}/labels.csv", "\n".join(rows) + "\n")
    return buf.getvalue(), f"{what}.zip"


def check_output_folder(out: Path, inputs: tuple = ()) -> None:
    """The dashboard's output folder (Augment a dataset), checked before any work by toolkit/outputs.py's
    rules: new or empty (nothing is overwritten), writable, not inside the data it is made from (``inputs``)
    nor a run directory."""
    from .outputs import check_outputs

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ToolkitError(
            f"the output folder {out} is a file; give a folder (it gets one sub-folder per class)"
        )
    if out.is_dir() and any(out.iterdir()):
        raise ToolkitError(
            f"the output folder {out} exists and is not empty; choose a new folder (nothing is overwritten)"
        )
    check_outputs(
        out,
        folder=True,
        inputs=[i for i in inputs if Path(str(i)).expanduser().exists()],
        flag="the output folder",
    )
