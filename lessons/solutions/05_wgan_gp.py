"""Reference solutions for lesson 05's exercises (shown with toolkit.exercises.show_solution)."""

import torch


def gradient_penalty(critic, real, fake, weight=10.0):
    b = real.shape[0]
    eps = torch.rand(b, *[1] * (real.dim() - 1), device=real.device)  # one mixing weight per sample
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)  # differentiable
    return weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def critic_loss(critic, real, fake):
    return critic(fake.detach()).mean() - critic(real).mean()


def cross_gradient(critic, x, i, j):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).view(-1)[i], x)
    return grad[j].norm().item()
