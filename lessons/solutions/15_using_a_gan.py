"""Reference solutions for lesson 15 (using a trained GAN):
``toolkit.exercises.show_solution("15_using_a_gan", NAME)``."""

import math


def projector_lr(step, steps, initial):
    t = step / steps
    ramp = min(1.0, (1.0 - t) / 0.25)  # 1 until the last quarter, then down to 0
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)  # a half cosine
    ramp *= min(1.0, t / 0.05)  # linear warm-up over the first 5 %
    return initial * ramp


def shell_penalty(z):
    return (z.square().sum(dim=1) / z.shape[1] - 1).square()


def remove_component(primary, condition):
    n = primary - (primary @ condition) * condition
    return n / n.norm()
