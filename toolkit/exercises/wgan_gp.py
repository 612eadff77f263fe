"""Checks for lesson 05 (WGAN-GP). Each takes the learner's function and raises WrongAnswer on a mistake,
with one sentence saying what is wrong."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..losses import wasserstein_d_loss
from ..regularizers import gradient_penalty as toolkit_gradient_penalty
from . import WrongAnswer, expect, refuses


class _Critic(nn.Module):
    """A fixed, smooth critic (tanh, so that its gradient depends on x) that gives one score per sample and
    remembers the batches it was called on. Its gradient norms lie on both sides of 1, so a one-sided
    penalty shows."""

    def __init__(self, shape: tuple[int, ...], seed: int, hidden: int = 16, scale: float = 1.0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        d = int(torch.tensor(shape).prod())
        self.shape = shape
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, 1)
        with torch.no_grad():
            self.fc1.weight.copy_(torch.randn(hidden, d, generator=g) * scale / d**0.5)
            self.fc1.bias.copy_(torch.randn(hidden, generator=g))
            self.fc2.weight.copy_(torch.randn(1, hidden, generator=g) / hidden**0.5)
            self.fc2.bias.zero_()
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x)
        expect(
            tuple(x.shape[1:]) == self.shape,
            f"the critic takes samples of shape {self.shape} (like real), it got a batch of shape "
            f"{tuple(x.shape)}: view eps as (B, 1, ..., 1) with one 1 per remaining dimension of real",
        )
        return self.fc2(torch.tanh(self.fc1(x.flatten(1)))).view(-1)


def _gp_case(shape: tuple[int, ...], b: int, seed: int, scale: float):
    g = torch.Generator().manual_seed(seed)
    critic = _Critic(shape, seed + 1, scale=scale)
    real = torch.randn(b, *shape, generator=g)
    # G's output tracks gradients (it comes from G), so a missing detach shows
    fake = (torch.randn(b, *shape, generator=g) * 0.5 + 0.3).requires_grad_(True)
    return critic, real, fake


def _recover_eps(x_hat: torch.Tensor, real: torch.Tensor, fake: torch.Tensor):
    """The per-sample mixing weight with x_hat = eps * real + (1 - eps) * fake, and how far x_hat is from
    that line."""
    d = (real - fake).flatten(1)
    eps = ((x_hat - fake).flatten(1) * d).sum(1) / (d * d).sum(1)
    off_line = (x_hat - fake).flatten(1) - eps[:, None] * d
    return eps, off_line.abs().max().item()


@refuses(
    toolkit_gradient_penalty,
    hint="build it yourself with torch.autograd.grad: the toolkit's gradient_penalty is what the check "
    "compares with",
)
def check_gradient_penalty(gradient_penalty) -> None:
    """``gradient_penalty(critic, real, fake, weight=10.0)``: weight * mean over the batch of
    (||grad of critic at x_hat||_2 - 1)^2, x_hat = eps * real + (1 - eps) * fake with one eps ~ U[0, 1] per
    sample, built with ``create_graph=True`` so the penalty itself can be backpropagated to the critic."""
    cases = [((3, 4, 4), 12, 50, 10.0, 2.0), ((2,), 16, 51, 2.5, 2.5)]
    for shape, b, seed, weight, scale in cases:
        critic, real, fake = _gp_case(shape, b, seed, scale)
        try:
            got = gradient_penalty(critic, real, fake, weight)
        except RuntimeError as err:
            text = str(err)
            if "leaf" in text:
                raise WrongAnswer(
                    "detach real and fake before mixing them (fake comes from G and tracks gradients), "
                    "then call x_hat.requires_grad_(True) on the new tensor"
                ) from None
            if "does not require grad" in text:
                raise WrongAnswer(
                    "autograd can only differentiate with respect to x_hat if you call "
                    "x_hat.requires_grad_(True) before passing it to the critic"
                ) from None
            raise
        expect(
            not isinstance(got, (tuple, list)),
            "return only the penalty, one number (the toolkit's version also returns the norms; yours "
            "need not)",
        )
        expect(
            isinstance(got, torch.Tensor) and got.numel() == 1,
            f"return the penalty as a one-number tensor, got "
            f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}",
        )
        got = got.reshape(())
        calls = [x for x in critic.inputs if x.requires_grad] or critic.inputs
        expect(
            len(calls) > 0, "the penalty must come from the critic's gradient at x_hat: call critic(x_hat)"
        )
        x_hat = calls[-1].detach()
        expect(
            not (torch.allclose(x_hat, real) or torch.allclose(x_hat, fake.detach())),
            "the penalty is taken at points *between* real and fake, x_hat = eps * real + (1 - eps) * fake, "
            "not at the real or the generated samples themselves",
        )
        eps, off_line = _recover_eps(x_hat, real, fake.detach())
        expect(
            off_line < 1e-4,
            "use one eps per sample, shared by all its pixels (torch.rand(B, 1, ..., 1)), not one per "
            "value (torch.rand_like(real)): x_hat must lie on the line from fake to real",
        )
        expect(
            eps.std().item() > 1e-3,
            "draw one eps per sample (torch.rand(B) viewed as (B, 1, ..., 1)), not one for the whole batch",
        )
        expect(
            eps.min().item() > -1e-4 and eps.max().item() < 1 + 1e-4,
            "eps is uniform on [0, 1] (torch.rand), so that x_hat lies between real and fake",
        )
        eps = eps.clamp(0, 1)
        want, _ = toolkit_gradient_penalty(critic, real, fake, weight, eps=eps)
        if not torch.allclose(got.detach(), want.detach(), rtol=1e-4, atol=1e-6):
            xh = eps.view(-1, *[1] * len(shape)) * real + (1 - eps.view(-1, *[1] * len(shape))) * fake
            xh = xh.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(critic(xh).sum(), xh)
            n = grad.flatten(1).norm(dim=1)
            with torch.no_grad():
                candidates = [
                    (
                        ((n - 1) ** 2).mean(),
                        "multiply by the weight (lambda; the `weight` argument), it is missing",
                    ),
                    (
                        weight * ((n - 1) ** 2).sum(),
                        "average the squared deviations over the batch (.mean()), do not sum them",
                    ),
                    (
                        weight * (grad.norm() - 1) ** 2,
                        "take one gradient norm per sample (grad.flatten(1).norm(dim=1)), not one norm of "
                        "the whole batch's gradient",
                    ),
                    (
                        weight * ((n**2 - 1) ** 2).mean(),
                        "use the norm ||g||_2 (its square root), not the squared norm, in (||g|| - 1)^2",
                    ),
                    (
                        weight * (F.relu(n - 1) ** 2).mean(),
                        "WGAN-GP's penalty is two-sided: norms below 1 are penalised too, "
                        "(||g|| - 1)^2, not max(0, ||g|| - 1)^2",
                    ),
                    (
                        weight * (n**2).mean(),
                        "penalise the distance of the norm from 1, (||g|| - 1)^2, not the norm itself",
                    ),
                    (
                        weight * (n - 1).abs().mean(),
                        "square the deviation from 1: (||g|| - 1)^2, not |(||g|| - 1)|",
                    ),
                ]
                if grad.dim() > 2:
                    per_channel = grad.norm(dim=1)
                    candidates.append(
                        (
                            weight * ((per_channel - 1) ** 2).mean(),
                            "the norm is over *all* of a sample's values: flatten(1) before norm(dim=1), "
                            "do not take it over the channels alone",
                        )
                    )
            for value, hint in candidates:
                expect(not torch.allclose(got.detach(), value, rtol=1e-4, atol=1e-6), hint)
            expect(
                False,
                f"the penalty should be {want.item():.5f} here but is {got.item():.5f}: "
                "weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()",
            )
        expect(
            got.requires_grad,
            "the penalty passes no gradient to the critic's weights: call torch.autograd.grad(..., "
            "create_graph=True), or the critic cannot learn from it",
        )
        params = list(critic.parameters())
        mine = torch.autograd.grad(got, params + [fake], retain_graph=True, allow_unused=True)
        ref = torch.autograd.grad(want, params, allow_unused=True)
        expect(
            mine[-1] is None or mine[-1].abs().max().item() == 0,
            "the penalty's gradient reaches G's images: detach real and fake before mixing them",
        )
        for p, a, r in zip(params, mine[:-1], ref):
            a = torch.zeros_like(p) if a is None else a
            r = torch.zeros_like(p) if r is None else r
            expect(
                torch.allclose(a, r, rtol=1e-3, atol=1e-6),
                "the penalty's gradient with respect to the critic's weights is wrong: build it from "
                "autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)",
            )


# --- 2. the critic's loss -------------------------------------------------------------------------------
@refuses(
    wasserstein_d_loss,
    hint="write it from the critic's scores yourself: toolkit.losses.wasserstein_d_loss is what the check "
    "compares with",
)
def check_critic_loss(critic_loss) -> None:
    """``critic_loss(critic, real, fake)``: what the critic minimises in one step, without the penalty:
    mean critic(fake) - mean critic(real), with G's images detached so the critic's step does not reach G."""
    g = torch.Generator().manual_seed(52)
    critic = _Critic((2,), 53, scale=2.0)
    real = torch.randn(9, 2, generator=g) + 1.0
    fake = (torch.randn(5, 2, generator=g) * 0.3).requires_grad_(True)  # a different batch size on purpose
    got = critic_loss(critic, real, fake)
    expect(
        isinstance(got, torch.Tensor) and got.numel() == 1,
        f"return the loss as a one-number tensor, got "
        f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}",
    )
    got = got.reshape(())
    with torch.no_grad():
        fr, ff = critic(real), critic(fake)
        want = ff.mean() - fr.mean()
        candidates = [
            (
                -want,
                "the sign is flipped: the critic *minimises* mean f(fake) - mean f(real), i.e. it "
                "maximises the estimate mean f(real) - mean f(fake)",
            ),
            (
                ff.sum() - fr.sum(),
                "average the scores (.mean()), do not sum them: real and fake batches may differ in size",
            ),
            (
                torch.cat([ff, -fr]).mean(),
                "average the real and the fake scores separately, then subtract: one mean over both "
                "batches weights them by batch size",
            ),
            (
                torch.sigmoid(ff).mean() - torch.sigmoid(fr).mean(),
                "a critic has no sigmoid: use its raw scores (a sigmoid saturates and stops teaching G)",
            ),
            (
                F.softplus(-fr).mean() + F.softplus(ff).mean(),
                "that is the BCE loss of a vanilla D; the Wasserstein loss has no log: "
                "mean f(fake) - mean f(real)",
            ),
            (
                F.relu(1 - fr).mean() + F.relu(1 + ff).mean(),
                "that is the hinge loss; the Wasserstein critic's loss is mean f(fake) - mean f(real)",
            ),
        ]
    close = lambda x: torch.allclose(got.detach(), x, rtol=1e-4, atol=1e-6)  # noqa: E731
    if not close(want):
        for value, hint in candidates:
            expect(not close(value), hint)
        expect(
            False,
            f"the loss should be {want.item():.4f} here, got {got.item():.4f}: "
            "critic(fake).mean() - critic(real).mean()",
        )
    expect(
        got.requires_grad and got.grad_fn is not None,
        "the loss passes no gradient to the critic: return the expression itself, not a number or a "
        "tensor computed under torch.no_grad()",
    )
    got.backward()
    expect(
        fake.grad is None or fake.grad.abs().max().item() == 0,
        "the critic's loss reaches G: use critic(fake.detach()), or the critic's step also trains G",
    )
    expect(
        all(p.grad is not None and p.grad.abs().sum() > 0 for p in critic.parameters() if p.dim() == 2),
        "the loss must come from the critic's scores on real and fake",
    )


# --- 3. what batch norm does to a per-sample gradient -----------------------------------------------------
class _Mixing(nn.Module):
    """A critic whose score for sample k depends on the other samples: f(x)_k = sum_m A[k, m] h(x_m).
    Like batch norm, but with a known, asymmetric coupling."""

    def __init__(self, b: int, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.a = torch.randn(b, b, generator=g)
        self.w = torch.randn(3, 4, generator=g)
        self.v = torch.randn(4, generator=g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.a @ (torch.tanh(x @ self.w) @ self.v)
        return torch.tanh(x @ self.w) @ self.v  # "eval mode": no coupling, like batch norm's running stats


def _cross_reference(critic, x, i, j) -> float:
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(xr).view(-1)[i], xr)
    return g[j].norm().item()


def check_cross_gradient(cross_gradient) -> None:
    """``cross_gradient(critic, x, i, j)``: the norm of d critic(x)[i] / d x[j] (a float), the gradient of
    sample i's score with respect to sample j's input, with the critic as given (in training mode)."""
    g = torch.Generator().manual_seed(54)
    x = torch.randn(6, 3, generator=g)
    mixing = _Mixing(6, 55)
    for i, j in [(0, 1), (4, 2), (3, 3)]:
        mixing.train()
        got = cross_gradient(mixing, x.clone(), i, j)
        expect(
            isinstance(got, float) or (isinstance(got, torch.Tensor) and got.numel() == 1),
            "return one number, the norm of the gradient (.norm().item()), not the gradient vector",
        )
        got = float(got)
        close = lambda v: abs(got - v) <= 1e-4 * max(1.0, abs(v))  # noqa: E731
        if not mixing.training and close(0.0):
            expect(
                False,
                "keep the critic in training mode: in eval mode batch norm uses running statistics and "
                "the coupling you are asked to measure disappears",
            )
        mixing.train()
        want = _cross_reference(mixing, x, i, j)
        if close(want):
            continue
        xr = x.clone().requires_grad_(True)
        (g_sum,) = torch.autograd.grad(mixing(xr).sum(), xr)
        (g_j,) = torch.autograd.grad(mixing(xr)[j], xr)
        (g_i,) = torch.autograd.grad(mixing(xr)[i], xr)
        expect(
            not close(g_sum[j].norm().item()),
            "differentiate sample i's score alone, critic(x)[i], not the sum of all scores",
        )
        expect(
            not close(g_j[i].norm().item()),
            "i and j are swapped: differentiate critic(x)[i] with respect to x[j] (take row j of the "
            "gradient)",
        )
        expect(
            not close(g_i[i].norm().item()),
            "that is sample i's gradient with respect to its own input; take row j of the gradient, "
            "d critic(x)[i] / d x[j]",
        )
        expect(
            not close(g_i.norm().item()),
            "take the norm of row j of the gradient only, not of the whole (B, D) gradient",
        )
        expect(False, f"for i={i}, j={j} the norm should be {want:.4f}, got {got:.4f}")
