"""Reference solutions for lesson 10 (CycleGAN). ``toolkit.exercises.show_solution("10_cyclegan", name)``
prints one; ``tests/exercises/test_cyclegan.py`` checks each against its grader."""

import torch


def cycle_loss(a, b, G_AB, G_BA):
    forward = (G_BA(G_AB(a)) - a).abs().mean()  # a -> B -> back to A
    backward = (G_AB(G_BA(b)) - b).abs().mean()  # b -> A -> back to B
    return forward + backward


def identity_term(a, b, G_AB, G_BA):
    # each generator gets an image already of its *target* domain and should leave it as it is
    return (G_AB(b) - b).abs().mean() + (G_BA(a) - a).abs().mean()


def lsgan_losses(d_real, d_fake):
    d_loss = 0.5 * ((d_real - 1).pow(2).mean() + d_fake.pow(2).mean())
    g_loss = (d_fake - 1).pow(2).mean()
    return d_loss, g_loss


def pool_query(stored, fakes, size):
    fakes = fakes.detach()
    if size == 0:
        return fakes
    out = []
    for image in fakes:
        if len(stored) < size:  # still filling: keep it and return it as is
            stored.append(image.clone())
            out.append(image)
        elif torch.rand(()) < 0.5:  # swap: return an older fake, keep the new one in its place
            i = int(torch.randint(0, size, ()))
            out.append(stored[i])
            stored[i] = image.clone()
        else:
            out.append(image)
    return torch.stack(out)
