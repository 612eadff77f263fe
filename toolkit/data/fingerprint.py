"""What data passed in from Python was (``Trainer(data=...)``): the record config.json keeps of it
(``passed_in_data``, written by ``toolkit/runs.py``'s ``config_contents``), and the checks that refuse to
rebuild or resume a run with other data.
"""

from __future__ import annotations

import weakref

import torch

from ..errors import ToolkitError

# the last data hashed: [(weak reference, in-place version) of each tensor], fingerprint. config.json is
# written at every checkpoint; the same tensors, unchanged, are hashed once
_FINGERPRINT: list = [[], None]


def data_fingerprint(data) -> dict:
    """What data passed in from Python (``Trainer(data=...)``) was, for config.json's ``passed_in_data``: the
    number of samples, the count of each class (when labelled) and a SHA-256 over the images and labels
    exactly as trained on. config.json's ``data`` then still names the default (e.g. ``fashion-mnist``), so
    a command that would rebuild the data from it refuses (:func:`check_same_data`) instead of silently
    using other images, and data passed back can be checked to be the same."""
    import hashlib

    tensors = [
        t for t in (getattr(data, n, None) for n in ("x", "labels", "a", "b")) if isinstance(t, torch.Tensor)
    ]
    cached_tensors, fingerprint = _FINGERPRINT
    same = len(cached_tensors) == len(tensors) and all(
        ref() is t and version == t._version for (ref, version), t in zip(cached_tensors, tensors)
    )
    if not same or not tensors:
        digest = hashlib.sha256()
        for t in tensors:
            t = t.detach().cpu().contiguous()
            digest.update(f"{t.dtype}{list(t.shape)}".encode())
            digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        labels = getattr(data, "labels", None)
        names = list(getattr(data, "class_names", None) or [])
        counts = torch.bincount(labels, minlength=len(names)).tolist() if labels is not None else None
        fingerprint = {
            "samples": len(data),
            "class_counts": dict(zip(names, counts)) if counts is not None and names else counts,
            "sha256": digest.hexdigest() if tensors else None,  # None: streamed from disk, not hashed
        }
        _FINGERPRINT[:] = [[(weakref.ref(t), t._version) for t in tensors], fingerprint]
    return dict(fingerprint)


def describe_passed_in_data(config: dict) -> str:
    """config.json's record of data passed in from Python, in words (for error messages)."""
    seen = config.get("passed_in_data") or {}
    if not seen:
        return "data passed in from Python (not recorded: a run from before toolkit records it)"
    counts = seen.get("class_counts")
    spread = f" ({', '.join(f'{n} {c}' for c, n in counts.items())})" if isinstance(counts, dict) else ""
    return f"{seen['samples']} samples passed in from Python{spread}"


def check_same_data(config: dict, data, run_dir, what: str) -> None:
    """A one-line error unless ``data`` is exactly the data the run in ``run_dir`` trained on, as far as
    config.json recorded it (``passed_in_data``'s SHA-256; runs from before it was recorded pass)."""
    seen = config.get("passed_in_data") or {}
    if seen.get("sha256") and data_fingerprint(data)["sha256"] != seen["sha256"]:
        got = data_fingerprint(data)
        raise ToolkitError(
            f"the data passed to {what} ({got['samples']} samples) are not the data {run_dir} trained on "
            f"({describe_passed_in_data(config)}; their SHA-256 differs); pass exactly the data the run "
            "was started with"
        )
