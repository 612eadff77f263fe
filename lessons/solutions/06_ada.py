"""Reference solutions for lesson 06's exercises (shown with toolkit.exercises.show_solution)."""

import torch


def overfitting_rt(d_real):
    return torch.sign(d_real).mean()


def ada_update(p, rt, target, n_images, kimg):
    step = n_images / (kimg * 1000)
    sign = (rt > target) - (rt < target)  # +1, 0 or -1, as torch.sign(rt - target)
    return min(1.0, max(0.0, p + sign * step))


def rotate90(x, p):
    b = x.shape[0]
    drawn = torch.rand(b) < p  # one draw per image: does the op apply?
    k = torch.where(drawn, torch.randint(4, (b,)), torch.zeros(b, dtype=torch.long))  # 0 included
    out = x.clone()
    for quarter_turns in (1, 2, 3):
        chosen = k == quarter_turns
        out[chosen] = x[chosen].rot90(quarter_turns, (2, 3))  # square images: the shape is unchanged
    return out
