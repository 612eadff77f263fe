"""What the discriminator sees: augmentations that keep D from memorising a small training set.

Three methods, each an ``nn.Module`` applied to real *and* generated images right before D (inside
G's graph, so G learns through it; see ``Trainer.discriminate``):

* :class:`AdaptiveAugment` -- ADA (Karras et al. 2020, "Training GANs with limited data").
  Every op is applied to each image independently with probability ``p``; ``p`` is a buffer (saved
  in checkpoints) steered by an integral controller towards a target of the overfitting heuristic
  r_t = E[sign(D(x_real))] (paper section 3):  p <- clip(p + sign(r_t - target) * N / (ada_kimg * 1000)),
  with N the number of real images seen since the last update (:func:`ada_adjust`).
* :class:`DiffAugment` -- DiffAugment (Zhao et al. 2020): colour, translation and cutout applied to
  every image, always (no p).
* :class:`ForwardDiffusion` -- Diffusion-GAN (Wang et al. 2022): D sees x_t = sqrt(a_t) x + sqrt(1-a_t)
  sigma eps at a timestep t <= T, and t itself; T adapts with the same controller.

Why not kornia: ADA composes all geometric ops into *one* affine matrix per image and resamples once
(each separate resampling would blur), draws each op per image with a probability that changes every
few steps as a tensor on the device (no host sync), and uses reflection padding so no border leaks.
Kornia's per-op ``RandomAffine``/``RandomHorizontalFlip`` resample (or at least run) op by op and
take ``p`` as a Python float; written out here it is ~100 lines a learner can read.
Simplification: ADA filters with a wavelet before rotating/scaling; we resample bilinearly.

Every module has ``observe(d_real_logits)`` (called after each D step) and ``stats()`` (tensors to
log); for DiffAugment both do nothing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .distributed import current_world
from .errors import ToolkitError

ADA_TARGET = 0.6  # the ADA paper's target for r_t (section 3); Diffusion-GAN uses the same controller

AUGMENTS = {
    "none": "D sees the images as they are",
    "ada": "adaptive discriminator augmentation (Karras et al. 2020), p steered towards --ada-target",
    "diffaugment": "DiffAugment (Zhao et al. 2020): colour, translation, cutout on every image",
    "diffusion": "Diffusion-GAN (Wang et al. 2022): D sees noised images and the timestep; T adapts",
}


def ada_adjust(p: torch.Tensor, rt: torch.Tensor, target: float, n_images: int, kimg: float) -> torch.Tensor:
    """ADA's integral controller, one update: p moves by n_images / (kimg * 1000) towards more
    augmentation when r_t > target (D too sure of the reals: overfitting), less otherwise; in [0, 1]."""
    return (p + torch.sign(rt - target) * n_images / (kimg * 1000.0)).clamp(0.0, 1.0)


class _Controlled(nn.Module):
    """The part ADA and Diffusion-GAN share: p in [0, 1] and r_t accumulated over ``interval`` D steps."""

    def __init__(self, target: float, kimg: float, interval: int, p: float):
        super().__init__()
        self.target, self.kimg, self.interval = target, kimg, interval
        self.register_buffer("p", torch.tensor(float(p)))
        self.register_buffer("rt", torch.tensor(0.0))  # the last interval's r_t (for logging)
        self.register_buffer("_sign_sum", torch.tensor(0.0))
        self._n_images, self._n_calls = 0, 0
        self.adaptive = True  # False: keep p fixed (to show what a given p does)

    @torch.no_grad()
    def observe(self, d_real: torch.Tensor) -> None:
        self._sign_sum += torch.sign(d_real).sum()
        self._n_images += d_real.numel()
        self._n_calls += 1
        if self._n_calls % self.interval == 0:
            world = current_world()
            if world.distributed:  # r_t over every rank's reals (stylegan2-ada sums it across GPUs)
                torch.distributed.all_reduce(self._sign_sum)  # the group torchrun set up
                self._n_images *= world.size
            self.rt.copy_(self._sign_sum / self._n_images)
            if self.adaptive:
                self.p.copy_(ada_adjust(self.p, self.rt, self.target, self._n_images, self.kimg))
            self._sign_sum.zero_()
            self._n_images = 0

    def get_extra_state(self) -> dict:  # saved in state_dict: resume continues the interval exactly
        return {"n_images": self._n_images, "n_calls": self._n_calls}

    def set_extra_state(self, state: dict) -> None:
        self._n_images, self._n_calls = int(state["n_images"]), int(state["n_calls"])


# --- ADA ---------------------------------------------------------------------------------------
def _lognormal(n: int, std: float, device) -> torch.Tensor:
    return torch.exp(torch.randn(n, device=device) * std)


def _when(mask: torch.Tensor, value: torch.Tensor, identity: float) -> torch.Tensor:
    return torch.where(mask, value, torch.full_like(value, identity))


class AdaptiveAugment(_Controlled):
    """ADA's 'bgc' pipeline: blit (x-flip, 90-degree rotations, integer translation), geometric
    (isotropic scaling, arbitrary rotation, anisotropic scaling) and colour (brightness, contrast,
    and saturation for RGB), each applied per image with probability p (paper, appendix B.1). As in the
    reference code, an op that is drawn then picks its parameter at random, the identity included: x-flip
    flips with probability 1/2 (so p/2 of the images are mirrored), rotate90 picks one of the 4 rotations.

    ``ops`` picks a subset (e.g. ``("xflip", "rotate90")`` to show one op's effect).
    """

    OPS = (
        "xflip",
        "rotate90",
        "translate",
        "scale",
        "rotate",
        "aniso",
        "brightness",
        "contrast",
        "saturation",
    )

    def __init__(
        self,
        p: float = 0.0,
        target: float = ADA_TARGET,
        kimg: float = 20.0,
        interval: int = 4,
        ops: tuple[str, ...] = OPS,
        max_translate: float = 0.125,
    ):
        super().__init__(target, kimg, interval, p)
        unknown = set(ops) - set(self.OPS)
        if unknown:
            raise ToolkitError(f"unknown ADA ops {sorted(unknown)}; choose from {', '.join(self.OPS)}")
        self.ops, self.max_translate = tuple(ops), max_translate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        dev, p = x.device, self.p
        on = lambda q=p: torch.rand(b, device=dev) < q  # noqa: E731 - "this op applies to this image"
        # Geometric ops compose into one 2x3 matrix per image, in normalised [-1, 1] coordinates, that maps
        # output pixels to where they are read from. Each op's distribution is symmetric, so sampling the
        # inverse transform is the same as sampling the transform.
        m = torch.eye(3, device=dev).repeat(b, 1, 1)

        def then(a: torch.Tensor, bb: torch.Tensor, cc: torch.Tensor, d: torch.Tensor, tx=None, ty=None):
            t = torch.eye(3, device=dev).repeat(b, 1, 1)
            t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1] = a, bb, cc, d
            if tx is not None:
                t[:, 0, 2], t[:, 1, 2] = tx, ty
            return m @ t

        zeros, ones = torch.zeros(b, device=dev), torch.ones(b, device=dev)
        moved = torch.zeros(b, dtype=torch.bool, device=dev)  # images some geometric op applies to
        if "xflip" in self.ops:  # drawn with probability p, then a fair coin (stylegan2-ada's augment.py)
            # one uniform u per image does both: drawn when u < p, and given that, u is uniform on [0, p),
            # so u < p / 2 is the coin. At p = 1 an image and its mirror are equally likely: x-flip leaks.
            hit = torch.rand(b, device=dev) < p / 2
            m, moved = then(_when(hit, -ones, 1.0), zeros, zeros, ones), moved | hit
        if "rotate90" in self.ops:
            hit = on()
            k = _when(hit, torch.randint(4, (b,), device=dev).float(), 0.0) * (math.pi / 2)
            cos, sin = torch.cos(k).round(), torch.sin(k).round()
            m, moved = then(cos, -sin, sin, cos), moved | hit
        if "translate" in self.ops:  # whole pixels: 2 / w is one pixel in normalised coordinates
            hit = on()
            shift = (torch.rand(2, b, device=dev) * 2 - 1) * self.max_translate
            tx = _when(hit, torch.round(shift[0] * w) * 2 / w, 0.0)
            ty = _when(hit, torch.round(shift[1] * h) * 2 / h, 0.0)
            m, moved = then(ones, zeros, zeros, ones, tx, ty), moved | hit
        if "scale" in self.ops:
            hit = on()
            s = _when(hit, _lognormal(b, 0.2 * math.log(2), dev), 1.0)
            m, moved = then(s, zeros, zeros, s), moved | hit

        def rotation() -> tuple[torch.Tensor, torch.Tensor]:
            # drawn twice, before and after the anisotropic scaling, each time with p_rot = 1 - sqrt(1 - p),
            # so a share 1 - (1 - p_rot)^2 = p of the images is rotated at least once (stylegan2-ada)
            hit = on(1 - torch.sqrt(1 - p))
            theta = _when(hit, (torch.rand(b, device=dev) * 2 - 1) * math.pi, 0.0)
            cos, sin = torch.cos(theta), torch.sin(theta)
            return then(cos, -sin, sin, cos), hit

        if "rotate" in self.ops:  # the pre-rotation
            m, hit = rotation()
            moved = moved | hit
        if "aniso" in self.ops:
            hit = on()
            s = _when(hit, _lognormal(b, 0.2 * math.log(2), dev), 1.0)
            m, moved = then(s, zeros, zeros, 1 / s), moved | hit
        if "rotate" in self.ops:  # the post-rotation
            m, hit = rotation()
            moved = moved | hit
        if any(op in self.ops for op in ("xflip", "rotate90", "translate", "scale", "rotate", "aniso")):
            grid = F.affine_grid(m[:, :2], list(x.shape), align_corners=False)
            # reflection padding: no black border that would tell D "this image was augmented"
            warped = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
            x = torch.where(moved.view(b, 1, 1, 1), warped, x)  # untouched images stay exactly as they were
        if "brightness" in self.ops:  # images are in [-1, 1], so 0 is mid-grey
            x = x + _when(on(), torch.randn(b, device=dev) * 0.2, 0.0).view(b, 1, 1, 1)
        if "contrast" in self.ops:
            x = x * _when(on(), _lognormal(b, 0.5 * math.log(2), dev), 1.0).view(b, 1, 1, 1)
        if "saturation" in self.ops and c == 3:
            mean = x.mean(1, keepdim=True)  # the grey axis
            x = x + (x - mean) * (_when(on(), _lognormal(b, math.log(2), dev), 1.0).view(b, 1, 1, 1) - 1)
        return x

    def stats(self) -> dict[str, torch.Tensor]:
        return {"ada_p": self.p.clone()}


# --- DiffAugment ---------------------------------------------------------------------------------
class DiffAugment(nn.Module):
    """Zhao et al. 2020, policy 'color,translation,cutout', on every image (their Algorithm/code):
    brightness +U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5); a shift of up to 1/8 of the
    size with zero padding; one square of half the size cut out."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        dev = x.device
        u = lambda *shape: torch.rand(*shape, device=dev)  # noqa: E731
        x = x + (u(b, 1, 1, 1) - 0.5)
        if c > 1:
            mean = x.mean(1, keepdim=True)
            x = (x - mean) * (u(b, 1, 1, 1) * 2) + mean
        mean = x.mean((1, 2, 3), keepdim=True)
        x = (x - mean) * (u(b, 1, 1, 1) + 0.5) + mean
        # translation by whole pixels: integer offsets make bilinear sampling exact
        shift = torch.stack(
            [
                torch.randint(-(w // 8), w // 8 + 1, (b,), device=dev) * 2 / w,
                torch.randint(-(h // 8), h // 8 + 1, (b,), device=dev) * 2 / h,
            ],
            1,
        )
        theta = torch.eye(2, 3, device=dev).repeat(b, 1, 1)
        theta[:, :, 2] = shift
        x = F.grid_sample(
            x,
            F.affine_grid(theta, list(x.shape), align_corners=False),
            mode="bilinear",
            padding_mode="zeros",
            align_corners=False,
        )
        # cutout: zero a (h/2 x w/2) square at a random centre
        cy, cx = torch.randint(0, h, (b, 1, 1), device=dev), torch.randint(0, w, (b, 1, 1), device=dev)
        yy, xx = torch.arange(h, device=dev).view(1, h, 1), torch.arange(w, device=dev).view(1, 1, w)
        keep = ((yy - cy).abs() >= h // 4) | ((xx - cx).abs() >= w // 4)
        return x * keep.unsqueeze(1).to(x.dtype)

    def observe(self, d_real: torch.Tensor) -> None: ...

    def stats(self) -> dict[str, torch.Tensor]:
        return {}


# --- Diffusion-GAN -------------------------------------------------------------------------------
class ForwardDiffusion(_Controlled):
    """x -> (x_t, t): the forward diffusion q(x_t | x) = N(sqrt(a_t) x, (1 - a_t) sigma^2 I)
    (Wang et al. 2022, eq. 4), with a_t = prod_{s<=t} (1 - beta_s), betas linear from 1e-4 to 2e-2
    over ``t_max`` steps, and t = 0 the clean image.

    T, the largest timestep used, is t_min + p (t_max - t_min) with p driven by the ADA controller
    (the paper's adaptive T, section 3.3). t is drawn from {0..T} with the paper's 'priority'
    weighting: larger t more often (P(t <= s) ~ (s / T)^2), so D is mostly shown the hard cases.
    """

    def __init__(
        self,
        t_max: int = 500,
        t_min: int = 5,
        sigma: float = 0.05,
        target: float = ADA_TARGET,
        kimg: float = 20.0,
        interval: int = 4,
        p: float = 0.0,
    ):
        super().__init__(target, kimg, interval, p)
        if not 0 <= t_min <= t_max:
            raise ToolkitError(f"need 0 <= t_min <= t_max, got {t_min}, {t_max}")
        self.t_max, self.t_min, self.sigma = t_max, t_min, sigma
        betas = torch.linspace(1e-4, 2e-2, t_max, dtype=torch.float64)
        alpha_bar = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)])
        self.register_buffer("alpha_bar", alpha_bar.float(), persistent=False)  # a_0 = 1 ... a_{t_max}

    @property
    def T(self) -> torch.Tensor:
        return self.t_min + self.p * (self.t_max - self.t_min)

    def sample_t(self, n: int, device) -> torch.Tensor:
        return (
            torch.floor((self.T.round() + 1) * torch.sqrt(torch.rand(n, device=device)))
            .long()
            .clamp(0, self.t_max)
        )

    def diffuse(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = self.alpha_bar[t].view(-1, *([1] * (x.dim() - 1)))
        return a.sqrt() * x + (1 - a).sqrt() * self.sigma * torch.randn_like(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.sample_t(x.shape[0], x.device)
        return self.diffuse(x, t), t

    def stats(self) -> dict[str, torch.Tensor]:
        return {"diffusion_t": self.T.detach().clone(), "diffusion_p": self.p.clone()}


def build_augment(config, kind: str = "images") -> nn.Module | None:
    """The augmentation ``config.augment`` names, set up from the config (None for "none"); ``kind`` is the
    data's (an augmentation needs images)."""
    name = config.augment
    if name == "none":
        return None
    if kind != "images":
        raise ToolkitError(f"--augment {name} works on images; these data are {kind}")
    if name == "ada":
        return AdaptiveAugment(target=config.ada_target, kimg=config.ada_kimg, interval=config.ada_interval)
    if name == "diffaugment":
        return DiffAugment()
    if name == "diffusion":
        return ForwardDiffusion(
            config.diffusion_t_max,
            sigma=config.diffusion_sigma,
            target=config.ada_target,
            kimg=config.ada_kimg,
            interval=config.ada_interval,
        )
    raise ToolkitError(f"unknown --augment {name!r}; choose one of {', '.join(AUGMENTS)}")
