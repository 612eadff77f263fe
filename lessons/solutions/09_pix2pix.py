"""Reference solutions for lesson 09's exercises (shown with toolkit.exercises.show_solution)."""

import torch
import torch.nn.functional as F


def pix2pix_g_loss(D, a, fake, b, l1_weight):
    gan = (D(torch.cat([a, fake], dim=1)) - 1).pow(2).mean()  # least squares: pull D(a, G(a)) to 1 (real)
    return gan + l1_weight * (fake - b).abs().mean()


def pix2pix_d_loss(D, a, b, fake):
    real_logits = D(torch.cat([a, b], dim=1))
    real = 0.9 * F.softplus(-real_logits) + 0.1 * F.softplus(
        real_logits
    )  # label 0.9: -[0.9 log D + 0.1 log(1 - D)]
    # fake.detach(): no gradient to G; D's output on it keeps its graph, so D learns from this term too
    generated = F.softplus(D(torch.cat([a, fake.detach()], dim=1)))  # label 0: -log(1 - D(a, G(a)))
    return 0.5 * (real.mean() + generated.mean())


def patch_output_size(size, n_layers):
    for _ in range(n_layers):  # 4x4, stride 2, padding 1: (s + 2 - 4) // 2 + 1 = s // 2
        size = size // 2
    return size - 2  # two 4x4 convs at stride 1, padding 1: each s + 2 - 4 + 1 = s - 1
