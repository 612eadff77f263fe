"""Reference solutions for lesson 09's exercises (shown with toolkit.exercises.show_solution)."""

import torch
import torch.nn.functional as F


def pix2pix_g_loss(D, a, fake, b, l1_weight):
    gan = F.softplus(-D(torch.cat([a, fake], dim=1))).mean()  # non-saturating: -log D(a, G(a))
    return gan + l1_weight * (fake - b).abs().mean()


def pix2pix_d_loss(D, a, b, fake):
    real = F.softplus(-D(torch.cat([a, b], dim=1))).mean()  # -log D(a, b)
    generated = F.softplus(D(torch.cat([a, fake.detach()], dim=1))).mean()  # -log(1 - D(a, G(a)))
    return 0.5 * (real + generated)


def patch_output_size(size, n_layers):
    for _ in range(n_layers):  # 4x4, stride 2, padding 1: (s + 2 - 4) // 2 + 1 = s // 2
        size = size // 2
    return size - 2  # two 4x4 convs at stride 1, padding 1: each s + 2 - 4 + 1 = s - 1
