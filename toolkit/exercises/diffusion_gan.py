"""Checks for lesson 07 (Diffusion-GAN). Each takes the learner's function and raises WrongAnswer on a
mistake."""

from __future__ import annotations

import torch

from ..augment import ForwardDiffusion, ada_adjust
from . import WrongAnswer, expect, refuses


def _schedule(betas: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.ones(1, dtype=betas.dtype), torch.cumprod(1 - betas, 0)])


def check_alpha_bar(alpha_bar_from_betas) -> None:
    """``alpha_bar_from_betas(betas)``: betas (T,) -> alpha_bar (T + 1,),
    alpha_bar[t] = prod_{s<=t} (1 - beta_s) and alpha_bar[0] = 1 (t = 0 is the clean image)."""
    g = torch.Generator().manual_seed(7)
    cases = [
        torch.linspace(1e-4, 2e-2, 500, dtype=torch.float64),  # the lesson's schedule
        torch.linspace(1e-3, 5e-2, 37, dtype=torch.float64),
        torch.rand(12, generator=g, dtype=torch.float64) * 0.3,  # large, unordered betas
    ]
    for betas in cases:
        got = alpha_bar_from_betas(betas.clone())
        want = _schedule(betas)
        expect(isinstance(got, torch.Tensor), "return a tensor")
        got = got.to(torch.float64).flatten()
        n = betas.numel()
        if got.numel() == n:
            expect(
                not torch.allclose(got, want[:-1], rtol=1e-5)
                and not torch.allclose(got, want[1:], rtol=1e-5),
                f"for {n} betas return {n + 1} values: alpha_bar[0] = 1 (the clean image, t = 0) comes first",
            )
        expect(got.numel() == n + 1, f"for {n} betas return {n + 1} values (t = 0 .. {n}), got {got.numel()}")
        if torch.allclose(got, want, rtol=1e-5, atol=1e-7):
            continue
        expect(
            not torch.allclose(got, want.sqrt(), rtol=1e-5),
            "that is sqrt(alpha_bar), the signal's amplitude; return alpha_bar itself",
        )
        expect(
            not torch.allclose(got, _schedule(1 - betas), rtol=1e-5),
            "multiply the (1 - beta_s), not the beta_s: each step keeps 1 - beta of the signal's variance",
        )
        expect(
            not torch.allclose(
                got, torch.cat([torch.ones(1, dtype=betas.dtype), 1 - betas.cumsum(0)]), rtol=1e-5
            ),
            "alpha_bar is a product of the (1 - beta_s) (torch.cumprod), not 1 minus their sum",
        )
        expect(
            not torch.allclose(got, torch.cat([torch.ones(1, dtype=betas.dtype), 1 - betas]), rtol=1e-5),
            "alpha_bar[t] is the product of *all* (1 - beta_s) for s <= t (cumulative), not just 1 - beta_t",
        )
        expect(False, f"alpha_bar should start {want[:4].numpy().round(5)}, got {got[:4].numpy().round(5)}")


def _call(fn, *args):
    try:
        return fn(*args)
    except (NotImplementedError, WrongAnswer):
        raise
    except IndexError as error:
        raise WrongAnswer(
            f"it raised IndexError ({str(error).splitlines()[0][:120]}): index alpha_bar by t itself, "
            "alpha_bar[0] is t = 0 and alpha_bar has t_max + 1 entries"
        ) from None
    except Exception as error:  # a shape mistake usually shows up as a broadcasting error
        raise WrongAnswer(
            f"it raised {type(error).__name__} ({str(error).splitlines()[0][:120]}); alpha_bar[t] has one "
            "value per image: reshape it to (B, 1, 1, 1) so it broadcasts over channels and pixels"
        ) from None


@refuses(
    ForwardDiffusion.diffuse,
    hint="write the formula yourself: ForwardDiffusion.diffuse is what the check compares with",
)
def check_diffuse(diffuse) -> None:
    """``diffuse(x, t, alpha_bar, sigma, noise)``:
    x_t = sqrt(alpha_bar[t]) x + sqrt(1 - alpha_bar[t]) sigma noise, with one timestep t per image and the
    given noise (same shape as x)."""
    alpha_bar = ForwardDiffusion(t_max=500, t_min=500).alpha_bar  # a fixed 500-step schedule
    g = torch.Generator().manual_seed(70)
    for b, t in ((4, [100, 0, 499, 30]), (3, [0, 250, 500])):  # 4 images of 4x4: a wrong axis is silent
        x = torch.rand(b, 2, 4, 4, generator=g) * 2 - 1
        noise = torch.randn(b, 2, 4, 4, generator=g)
        t = torch.tensor(t)
        sigma = 0.3
        out = _call(diffuse, x.clone(), t.clone(), alpha_bar, sigma, noise.clone())
        expect(
            isinstance(out, torch.Tensor) and out.shape == x.shape,
            f"return a tensor of x's shape {tuple(x.shape)}",
        )
        a = alpha_bar[t].view(-1, 1, 1, 1)
        want = a.sqrt() * x + (1 - a).sqrt() * sigma * noise
        if torch.allclose(out, want, atol=1e-5):
            continue
        expect(
            not torch.allclose(out, a * x + (1 - a).sqrt() * sigma * noise, atol=1e-5),
            "scale x by sqrt(alpha_bar[t]), not alpha_bar[t]",
        )
        expect(
            not torch.allclose(out, a.sqrt() * x + (1 - a) * sigma * noise, atol=1e-5),
            "scale the noise by sqrt(1 - alpha_bar[t]): 1 - alpha_bar is its variance, not its std",
        )
        expect(
            not torch.allclose(out, a.sqrt() * x + (1 - a).sqrt() * noise, atol=1e-5),
            f"multiply the noise by sigma (here {sigma}): Diffusion-GAN's noise is sigma * eps",
        )
        wrong_axis = alpha_bar[t].view(1, 1, 1, -1)
        expect(
            b != x.shape[-1]
            or not torch.allclose(
                out, wrong_axis.sqrt() * x + (1 - wrong_axis).sqrt() * sigma * noise, atol=1e-5
            ),
            "alpha_bar[t] broadcast over the image's width: reshape it to (B, 1, 1, 1), one value per image",
        )
        clean = t == 0
        expect(
            torch.allclose(out[clean], x[clean], atol=1e-6),
            "at t = 0 the image must come back unchanged (alpha_bar[0] = 1): index alpha_bar by t itself",
        )
        rest = (out - a.sqrt() * x).flatten()  # what the learner added as noise
        corr = torch.corrcoef(torch.stack([rest, noise.flatten(), x.flatten()]))
        expect(
            corr[0, 1] > 0.5 or corr[0, 2].abs() > 0.5,
            "use the `noise` you are given (it is eps), do not draw new noise",
        )
        expect(False, "x_t should be sqrt(alpha_bar[t]) * x + sqrt(1 - alpha_bar[t]) * sigma * noise")


@refuses(
    ada_adjust,
    hint="write the update yourself with plain Python numbers: the toolkit's ada_adjust is what the check "
    "compares with",
)
def check_next_T(next_T) -> None:
    """``next_T(T, rt, target, n_images, kimg, t_min, t_max)`` -> the new T (a float):
    T = t_min + p (t_max - t_min) with p moved by ADA's controller,
    p + sign(rt - target) * n_images / (kimg * 1000), clamped to [0, 1]."""
    cases = [
        (5.0, 0.9, 0.6, 256, 5.0, 5, 500),
        (250.0, 0.2, 0.6, 256, 5.0, 5, 500),
        (498.0, 1.0, 0.6, 256, 5.0, 5, 500),
        (6.0, -0.5, 0.6, 256, 5.0, 5, 500),
        (40.0, 0.7, 0.7, 64, 2.0, 10, 100),
        (120.0, 0.95, 0.6, 1024, 20.0, 20, 1000),
    ]
    for T, rt, target, n, kimg, t_min, t_max in cases:
        p = (T - t_min) / (t_max - t_min)
        diffusion = ForwardDiffusion(t_max=t_max, t_min=t_min, p=p)
        diffusion.p.copy_(ada_adjust(diffusion.p, torch.tensor(rt), target, n, kimg))
        want = diffusion.T.item()
        answer = next_T(T, rt, target, n, kimg, t_min, t_max)  # a stub's NotImplementedError passes through
        try:
            got = float(answer)
        except (TypeError, ValueError, RuntimeError):
            raise WrongAnswer("return the new T as one number (a float or a 0-d tensor)") from None
        if abs(got - want) < 1e-3:
            continue
        step = n / (kimg * 1000)
        sign = (rt > target) - (rt < target)
        span = t_max - t_min
        where = (
            f"(T = {T}, r_t = {rt}, target = {target}, {n} images, kimg = {kimg}, T in [{t_min}, {t_max}])"
        )

        def gives(unclamped: float, low: float = t_min) -> bool:
            return any(abs(got - v) < 1e-3 for v in (unclamped, min(t_max, max(low, unclamped))))

        expect(
            not gives(T - sign * step * span),
            f"wrong direction {where}: r_t above the target means D overfits, so T must grow",
        )
        expect(
            not gives(T + sign * step),
            f"the controller moves p, in [0, 1], by n_images / (kimg * 1000); T moves by that times "
            f"(t_max - t_min) {where}",
        )
        expect(
            not gives(T + (rt - target) * step * span),
            f"p moves by a fixed step in the direction sign(r_t - target), not proportionally {where}",
        )
        expect(
            not gives(T + sign * step * span, low=0.0) or got >= t_min - 1e-6,
            f"T = {got:.2f} fell below t_min = {t_min} {where}: p is clamped to [0, 1], so T stays in "
            "[t_min, t_max]",
        )
        expect(
            not gives(T + sign * step * span) or t_min - 1e-6 <= got <= t_max + 1e-6,
            f"T = {got:.2f} left [t_min, t_max] = [{t_min}, {t_max}] {where}: clamp p to [0, 1]",
        )
        if sign == 0:
            expect(False, f"when r_t equals the target, T stays where it is {where}")
        expect(False, f"T should become {want:.2f} {where}, got {got:.2f}")
