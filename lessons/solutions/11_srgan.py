"""Reference solutions for lesson 11's exercises (shown with toolkit.exercises.show_solution)."""

import torch
import torch.nn.functional as F


def pixel_unshuffle(x, r):
    n, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    # pixel (H*r + i, W*r + j) -> (H, i, W, j); then put the sub-pixel indices next to C: (N, C, i, j, H, W)
    return x.view(n, c, h, r, w, r).permute(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h, w)


def srgan_g_loss(features, D, fake, real, adversarial_weight):
    with torch.no_grad():
        target = features(real)  # the target's features: no gradient flows into them
    content = (features(fake) - target).pow(2).mean()  # paper eq. 5 (VGG54 in the paper)
    adversarial = F.softplus(-D(fake)).mean()  # -log D(G(x)), paper eq. 6
    return content + adversarial_weight * adversarial


def my_psnr(output, target):
    mse = ((output + 1) / 2 - (target + 1) / 2).pow(2).mean(dim=(1, 2, 3))  # [-1, 1] -> [0, 1] pixels
    return 10 * torch.log10(1 / mse)
