"""Checks for lesson 13 (GAN images for rare classes). Each takes the learner's function and raises
WrongAnswer with one sentence on a mistake."""

from __future__ import annotations

import torch
from sklearn.metrics import f1_score

from ..classifier import class_weights, macro_f1, per_class_f1
from . import expect, refuses


def _cases():
    """Confusion matrices the learner does not see: a balanced one, one with a class never predicted
    (precision 0/0), and an imbalanced one where macro and weighted F1 differ a lot."""
    g = torch.Generator().manual_seed(13)
    yield torch.randint(0, 30, (4, 4), generator=g)
    cm = torch.randint(0, 30, (5, 5), generator=g)
    cm[:, 2] = 0  # class 2 is never predicted
    yield cm
    cm = torch.diag(torch.tensor([900, 850, 3, 2])) + torch.randint(0, 20, (4, 4), generator=g)
    yield cm


def _reference_f1(cm):
    from sklearn.metrics import f1_score

    k = len(cm)
    y_true = torch.arange(k).repeat_interleave(cm.sum(1))
    y_pred = torch.cat([torch.arange(k).repeat_interleave(row) for row in cm])
    return {
        avg: float(f1_score(y_true, y_pred, labels=list(range(k)), average=avg, zero_division=0))
        for avg in ("macro", "micro", "weighted")
    }


@refuses(
    macro_f1,
    per_class_f1,
    f1_score,
    hint="compute it yourself from the confusion matrix's rows and columns: the toolkit's macro_f1 (and "
    "sklearn's f1_score) is what the check compares with",
)
def check_macro_f1(macro_f1) -> None:
    """``macro_f1(cm)``: the unweighted mean over classes of F1 = 2 P R / (P + R), from a (K, K) confusion
    matrix with true classes in rows; a class with P + R = 0 scores 0."""
    for cm in _cases():
        got = macro_f1(cm.clone())
        expect(got is not None, "return the macro F1 as a number")
        got = float(got)
        ref = _reference_f1(cm)
        recall = (cm.diagonal().double() / cm.sum(1).double()).mean().item()
        expect(got == got, "the result is NaN: a class never predicted has precision 0/0; count its F1 as 0")
        if abs(got - ref["macro"]) < 1e-6:
            continue
        expect(abs(got - ref["micro"]) > 1e-6, "that is the micro F1 (= accuracy); average the per-class F1s")
        expect(
            abs(got - ref["weighted"]) > 1e-6,
            "that is the F1 weighted by class size; macro F1 gives every class the same weight",
        )
        expect(abs(got - recall) > 1e-6, "that is the mean recall; F1 combines precision and recall")
        expect(
            False,
            "macro F1 = mean over classes of 2 P R / (P + R), P = cm[c,c]/column sum, R = cm[c,c]/row sum",
        )


@refuses(
    class_weights,
    hint="compute them yourself from torch.bincount: the toolkit's class_weights is what the check compares "
    "with",
)
def check_class_weights(class_weights) -> None:
    """``class_weights(labels, num_classes)``: the loss weight of each class, N / (K * N_c)."""
    for counts in ([900, 100, 40, 960], [10, 1, 300, 5, 5], [50, 50, 50]):
        labels = torch.arange(len(counts)).repeat_interleave(torch.tensor(counts))
        labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(len(counts)))]
        got = torch.as_tensor(class_weights(labels, len(counts)), dtype=torch.float64).view(-1)
        n, k = torch.tensor(counts, dtype=torch.float64), len(counts)
        want = n.sum() / (k * n)
        expect(got.shape == (k,), f"return one weight per class: shape ({k},), got {tuple(got.shape)}")
        if torch.allclose(got, want, rtol=1e-5):
            continue
        expect(
            not torch.allclose(got / got.sum(), want / want.sum(), rtol=1e-5),
            "the proportions are right but the scale is not: a balanced set should give every class weight 1 "
            "(N / (K * N_c))",
        )
        expect(
            not torch.allclose(got, n / n.sum(), rtol=1e-5), "the weights grow with the class: invert them"
        )
        expect(False, "weight class c by N / (K * N_c): rare classes count more, a balanced set gives 1")


def check_keep_confident(keep_confident) -> None:
    """``keep_confident(labels, probs, n)``: indices of the ``n`` images of each class (in order of first
    appearance of the classes is not required) with the highest probability of *their own* label."""
    g = torch.Generator().manual_seed(31)
    labels = torch.tensor([0] * 12 + [1] * 12 + [2] * 12)
    logits = torch.randn(36, 3, generator=g) * 2
    logits[:, 1] += 1.5  # class 1 is the classifier's favourite: confident-but-wrong images exist
    probs = logits.softmax(1)
    idx = torch.as_tensor(keep_confident(labels.clone(), probs.clone(), 4)).long().view(-1)
    own = probs[torch.arange(36), labels]
    want = set()
    for c in range(3):
        members = torch.nonzero(labels == c).view(-1)
        want |= set(members[own[members].argsort(descending=True)[:4]].tolist())
    expect(len(idx) == 12, f"keep n = 4 images of each of the 3 classes (12 indices), got {len(idx)}")
    if set(idx.tolist()) == want:
        return
    per_class = torch.bincount(labels[idx], minlength=3).tolist()
    expect(per_class == [4, 4, 4], f"keep n per class, not n overall: classes kept {per_class}")
    top_any = set()
    for c in range(3):
        members = torch.nonzero(labels == c).view(-1)
        top_any |= set(members[probs[members].max(1).values.argsort(descending=True)[:4]].tolist())
    expect(
        set(idx.tolist()) != top_any,
        "score each image by the probability of its own label, probs[i, labels[i]], "
        "not by its largest probability (that may be another class)",
    )
    expect(False, "for each class keep the n images with the highest probs[i, labels[i]]")
