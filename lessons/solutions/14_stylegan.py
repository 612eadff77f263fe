"""Reference solutions for lesson 14 (StyleGAN); ``toolkit.exercises.show_solution("14_stylegan", NAME)``."""

import torch
import torch.nn.functional as F


def modulated_conv(x, weight, styles):
    b, i, h, w = x.shape
    o = weight.shape[0]
    wts = weight[None] * styles[:, None, :, None, None]  # eq. 1: s_i * w_ijk, per sample
    wts = wts * torch.rsqrt(wts.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)  # eq. 3, per output channel
    out = F.conv2d(x.reshape(1, b * i, h, w), wts.reshape(b * o, i, 3, 3), padding=1, groups=b)
    return out.reshape(b, o, h, w)


def truncate(w, w_avg, psi):
    return w_avg + psi * (w - w_avg)


def mix_styles(ws1, ws2, crossover):
    return torch.cat([ws1[:, :crossover], ws2[:, crossover:]], dim=1)
