"""Reference solutions for lesson 07's exercises (shown with toolkit.exercises.show_solution)."""

import torch


def alpha_bar_from_betas(betas):
    return torch.cat([torch.ones(1, dtype=betas.dtype), torch.cumprod(1 - betas, 0)])  # t = 0 .. T


def diffuse(x, t, alpha_bar, sigma, noise):
    a = alpha_bar[t].view(-1, 1, 1, 1)  # one value per image, broadcast over channels and pixels
    return a.sqrt() * x + (1 - a).sqrt() * sigma * noise


def next_T(T, rt, target, n_images, kimg, t_min, t_max):
    p = (T - t_min) / (t_max - t_min)  # T = t_min + p (t_max - t_min)
    sign = (rt > target) - (rt < target)
    p = min(1.0, max(0.0, p + sign * n_images / (kimg * 1000)))  # ADA's controller, unchanged
    return t_min + p * (t_max - t_min)
