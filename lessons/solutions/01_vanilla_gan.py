"""Reference solutions for lesson 01's exercises (shown with toolkit.exercises.show_solution)."""

import torch
import torch.nn.functional as F


def optimal_discriminator(p_data, p_g):
    return p_data / (p_data + p_g)  # Goodfellow et al. 2014, proposition 1


def bce_with_logits(logits, target):
    # -log D = softplus(-logit) for real points (target 1), -log(1 - D) = softplus(logit) for fakes (target 0)
    return (target * F.softplus(-logits) + (1 - target) * F.softplus(logits)).mean()


def generator_gradients(fake_logits):
    logits = fake_logits.detach().requires_grad_(True)
    minimax = -F.softplus(logits).sum()  # log(1 - D), summed: each sample's own gradient
    non_saturating = F.softplus(-logits).sum()  # -log D
    (g_minimax,) = torch.autograd.grad(minimax, logits)
    (g_non_saturating,) = torch.autograd.grad(non_saturating, logits)
    return g_minimax, g_non_saturating  # analytically: -sigmoid(logit) and -sigmoid(-logit)


def mode_counts(samples, means, std):
    nearest_dist, nearest = torch.cdist(samples, means).min(dim=1)  # for each sample, its nearest mode
    good = nearest_dist <= 3 * std  # high quality: within 3 standard deviations
    return torch.bincount(nearest[good], minlength=len(means))
