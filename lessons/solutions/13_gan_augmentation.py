"""Reference solutions for lesson 13's exercises (shown with toolkit.exercises.show_solution)."""

import torch


def macro_f1(cm):
    cm = torch.as_tensor(cm).double()
    tp = cm.diagonal()
    precision = torch.where(cm.sum(0) > 0, tp / cm.sum(0).clamp(min=1e-12), torch.zeros_like(tp))  # columns
    recall = torch.where(cm.sum(1) > 0, tp / cm.sum(1).clamp(min=1e-12), torch.zeros_like(tp))  # rows
    f1 = torch.where(
        precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0
    )
    return f1.mean().item()  # every class counts the same: a rare class as much as a common one


def class_weights(labels, num_classes):
    counts = torch.bincount(labels, minlength=num_classes).double()
    return len(labels) / (num_classes * counts)  # 1 for every class of a balanced set


def keep_confident(labels, probs, n):
    own = probs[torch.arange(len(labels)), labels]  # the probability of the label the image was made for
    kept = []
    for c in labels.unique():
        members = torch.nonzero(labels == c).view(-1)
        kept.append(members[own[members].argsort(descending=True)[:n]])
    return torch.cat(kept)


macro_f1_by_hand = macro_f1  # the notebook's name for exercise 1
