"""Reference solutions for lesson 11's exercises (shown with toolkit.exercises.show_solution)."""

import torch
import torch.nn.functional as F


def pixel_unshuffle(x, r):
    n, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    # pixel (H*r + i, W*r + j) -> (H, i, W, j); then put the sub-pixel indices next to C: (N, C, i, j, H, W)
    return x.view(n, c, h, r, w, r).permute(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h, w)


def relativistic_g_loss(features, D, fake, real, adversarial_weight):
    with torch.no_grad():
        target = features(real)  # the target's features: no gradient flows into them
        real_logits = D(real)  # constants in G's step, as in ESRGAN's code
    content = (features(fake) - target).pow(2).mean()  # paper eq. 5 (VGG54 in the paper)
    fake_logits = D(fake)
    # ESRGAN eq. 2: -E log(1 - D_Ra(real, fake)) - E log D_Ra(fake, real), D_Ra(a, b) = sigmoid(C(a) - E C(b))
    adversarial = (
        F.softplus(real_logits - fake_logits.mean()).mean()
        + F.softplus(real_logits.mean() - fake_logits).mean()
    )
    return content + adversarial_weight * adversarial


def my_psnr(output, target):
    mse = ((output + 1) / 2 - (target + 1) / 2).pow(2).mean(dim=(1, 2, 3))  # [-1, 1] -> [0, 1] pixels
    return 10 * torch.log10(1 / mse)
