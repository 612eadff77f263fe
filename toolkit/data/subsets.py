"""Seeded subsets for the lessons on limited and imbalanced data.

Both return index tensors, so the same subset can be taken of images and labels alike, and both
depend on nothing but the labels and the seed: the same call gives the same subset on any machine.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..errors import ToolkitError


def _shuffled_members(labels: torch.Tensor, cls: int, seed: int) -> torch.Tensor:
    members = torch.nonzero(labels == cls).view(-1)
    g = torch.Generator().manual_seed(seed * 1_000 + int(cls))
    return members[torch.randperm(len(members), generator=g)]


def balanced_subset(labels: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``n`` samples spread evenly over the classes (the first ``n % k`` classes get one
    more), each class's members chosen by a seeded shuffle. Sorted, so the data keeps its order."""
    labels = torch.as_tensor(labels)
    classes = torch.unique(labels).tolist()
    if n < 1:
        raise ToolkitError(f"--limit must be >= 1, got {n}")
    if n > len(labels):
        raise ToolkitError(
            f"--limit {n} is more than the {len(labels)} samples available; use a smaller limit"
        )
    k = len(classes)
    chosen = []
    for i, cls in enumerate(classes):
        want = n // k + (1 if i < n % k else 0)
        members = _shuffled_members(labels, cls, seed)
        if want > len(members):
            raise ToolkitError(f"class {cls} has only {len(members)} samples, {want} needed for --limit {n}")
        chosen.append(members[:want])
    return torch.sort(torch.cat(chosen)).values


def imbalanced_subset(
    labels: torch.Tensor,
    rare_class: int | Sequence[int],
    keep: int,
    seed: int = 0,
    others: int | None = None,
) -> torch.Tensor:
    """Indices of an imbalanced subset: ``keep`` (seeded) samples of each class in ``rare_class`` (one class
    index or several), and of every other class all its samples, or ``others`` of them (seeded) when given.
    Sorted, so the data keep their order; the same call gives the same subset on any machine."""
    labels = torch.as_tensor(labels)
    rare = [int(rare_class)] if isinstance(rare_class, int) else [int(c) for c in rare_class]
    if not rare or len(set(rare)) != len(rare):
        raise ToolkitError(f"name each rare class once, got {rare_class}")
    chosen = []
    for cls in rare:
        members = _shuffled_members(labels, cls, seed)
        if len(members) == 0:
            raise ToolkitError(f"class {cls} does not occur in the labels")
        if not 0 <= keep <= len(members):
            raise ToolkitError(f"keep must be between 0 and {len(members)} for class {cls}, got {keep}")
        chosen.append(members[:keep])
    for cls in torch.unique(labels).tolist():
        if cls in rare:
            continue
        members = _shuffled_members(labels, cls, seed)
        if others is not None:
            if not 1 <= others <= len(members):
                raise ToolkitError(
                    f"others must be between 1 and {len(members)} for class {cls}, got {others}"
                )
            members = members[:others]
        chosen.append(members)
    return torch.sort(torch.cat(chosen)).values


def per_class_holdout(labels: torch.Tensor, one_in: int = 5, seed: int = 0) -> torch.Tensor:
    """A boolean mask holding out ``len(members) // one_in`` seeded samples of every class (a validation split
    with the data's class proportions). One generator seeded with ``seed`` shuffles the classes in order."""
    labels = torch.as_tensor(labels)
    if one_in < 2:
        raise ToolkitError(f"one_in must be >= 2 (hold out one in every one_in samples), got {one_in}")
    g = torch.Generator().manual_seed(seed)
    held_out = torch.zeros(len(labels), dtype=torch.bool)
    for cls in torch.unique(labels).tolist():
        members = torch.nonzero(labels == cls).view(-1)
        held_out[members[torch.randperm(len(members), generator=g)[: len(members) // one_in]]] = True
    return held_out
