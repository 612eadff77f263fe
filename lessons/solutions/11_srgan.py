"""Reference solutions for lesson 11's exercises (shown with toolkit.exercises.show_solution)."""

import torch
import torch.nn.functional as F


def pixel_shuffle(x, r):
    n, c, h, w = x.shape
    c = c // (r * r)
    # channel c*r*r + i*r + j -> (c, i, j); then put i next to H and j next to W: (N, C, H, i, W, j)
    return x.view(n, c, r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, h * r, w * r)


def srgan_g_loss(features, D, fake, real, adversarial_weight):
    with torch.no_grad():
        target = features(real)  # the target's features: no gradient flows into them
    content = (features(fake) - target).pow(2).mean()  # paper eq. 5 (VGG54 in the paper)
    adversarial = F.softplus(-D(fake)).mean()  # -log D(G(x)), paper eq. 6
    return content + adversarial_weight * adversarial


def my_psnr(output, target):
    mse = ((output + 1) / 2 - (target + 1) / 2).pow(2).mean(dim=(1, 2, 3))  # [-1, 1] -> [0, 1] pixels
    return 10 * torch.log10(1 / mse)
