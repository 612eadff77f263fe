"""Reference solutions for lesson 02's exercises (shown with toolkit.exercises.show_solution)."""

from torch import nn


def convtranspose_out(n, k, s, p):
    return (n - 1) * s - 2 * p + k


def dcgan_weights_init(module):
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def generator_block(c_in, c_out):
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),  # each pixel copied 2x2: every output pixel gets 9 taps
        nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False),  # 3x3, stride 1, padding 1: the doubled side stays
        nn.BatchNorm2d(c_out),
        nn.ReLU(True),
    )
