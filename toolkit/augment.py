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
  sigma eps at a timestep t <= T, and t itself (t = 0, the clean image, for about half the images);
  T adapts with the same controller and the noise schedule is rebuilt over the current T.

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
    """Zhao et al. 2020, policy 'color,translation,cutout', on every image, as in their code
    (github.com/mit-han-lab/data-efficient-gans, ``DiffAugment_pytorch.py``): brightness +U(-0.5, 0.5),
    saturation x U(0, 2), contrast x U(0.5, 1.5); a shift of up to int(size / 8 + 0.5) pixels with zero
    padding; one square of int(size / 2 + 0.5) pixels (16 x 16 at 32 px) cut out, clipped at the border."""

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
        sx, sy = int(w * 0.125 + 0.5), int(h * 0.125 + 0.5)
        shift = torch.stack(
            [
                torch.randint(-sx, sx + 1, (b,), device=dev) * 2 / w,
                torch.randint(-sy, sy + 1, (b,), device=dev) * 2 / h,
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
        # cutout: zero a ch x cw square, half the size, rows cy - ch // 2 ... cy - ch // 2 + ch - 1; the
        # centre cy is drawn from 0..h (0..h-1 when ch is odd), so the square may hang over the border
        ch, cw = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
        cy = torch.randint(0, h + 1 - ch % 2, (b, 1, 1), device=dev)
        cx = torch.randint(0, w + 1 - cw % 2, (b, 1, 1), device=dev)
        yy, xx = torch.arange(h, device=dev).view(1, h, 1), torch.arange(w, device=dev).view(1, 1, w)
        top, left = cy - ch // 2, cx - cw // 2
        inside = (yy >= top) & (yy < top + ch) & (xx >= left) & (xx < left + cw)
        return x * (~inside).unsqueeze(1).to(x.dtype)

    def observe(self, d_real: torch.Tensor) -> None: ...

    def stats(self) -> dict[str, torch.Tensor]:
        return {}


# --- Diffusion-GAN -------------------------------------------------------------------------------
# The reference's defaults (Wang et al. 2022, github.com/Zhendong-Wang/Diffusion-GAN,
# diffusion-stylegan2/train.py and training/diffusion.py): T adapts between t_min and t_max, the noise has
# standard deviation sigma, and t is drawn with 'priority' weighting.
DIFFUSION_T_MIN, DIFFUSION_T_MAX, DIFFUSION_SIGMA = 10, 1000, 0.05
BETA_START, BETA_END = 1e-4, 2e-2  # the linear schedule of DDPM, rebuilt over the current T
TIMESTEP_SLOTS = 64  # the table t is drawn from: half of its slots hold t = 0 (the clean image)
SAMPLINGS = ("priority", "uniform")


def linear_alpha_bar(T: int) -> torch.Tensor:
    """a_0 = 1, a_t = prod_{s<=t} (1 - beta_s) for t = 1..T, betas linear from BETA_START to BETA_END
    over T steps; computed in float64 (a product of up to t_max factors), returned in float32."""
    betas = torch.linspace(BETA_START, BETA_END, T, dtype=torch.float64)
    return torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)]).float()


class ForwardDiffusion(_Controlled):
    """x -> (x_t, t): the forward diffusion q(x_t | x) = N(sqrt(a_t) x, (1 - a_t) sigma^2 I)
    (Wang et al. 2022, eq. 4), sampled as the authors' code does (github.com/Zhendong-Wang/Diffusion-GAN,
    ``diffusion-stylegan2/training/diffusion.py``):

    * T, the number of diffusion steps, is t_min + round(p (t_max - t_min)), with p driven by the ADA
      controller (the paper's adaptive T, section 3.3); ``T`` is the controller's unrounded value.
    * At every update of p (and at the start) the schedule is rebuilt over the *current* T: betas linear
      from 1e-4 to 2e-2 over T steps, so a_T ~ exp(-0.01 T): a larger T both reaches stronger noise at
      t = T and has more noise levels in between.
    * At the same moment a table of 64 slots is drawn: 32 hold a t in 1..T, 32 hold t = 0. Each image
      then takes the t of a random slot, so about half of what D sees is the clean image. ``sampling``
      'priority' (the reference's default) fills the 32 slots with P(t) proportional to t - 1 (larger
      t more often; t = 1 only when T = 1); 'uniform' with every t in 1..T equally likely.

    The reference's defaults: t_min = 10, t_max = 1000, sigma (its ``noise_sd``) = 0.05, 'priority'.
    Rebuilding reads T on the host once per update (every ``interval`` D steps). The table is a buffer, so
    a checkpoint restores it and resume continues exactly; the schedule is rebuilt from p on loading.
    """

    def __init__(
        self,
        t_max: int = DIFFUSION_T_MAX,
        t_min: int = DIFFUSION_T_MIN,
        sigma: float = DIFFUSION_SIGMA,
        target: float = ADA_TARGET,
        kimg: float = 20.0,
        interval: int = 4,
        p: float = 0.0,
        sampling: str = "priority",
    ):
        super().__init__(target, kimg, interval, p)
        if not 1 <= t_min <= t_max:
            raise ToolkitError(f"need 1 <= t_min <= t_max, got {t_min}, {t_max}")
        if sampling not in SAMPLINGS:
            raise ToolkitError(f"unknown t sampling {sampling!r}; choose one of {', '.join(SAMPLINGS)}")
        self.t_max, self.t_min, self.sigma, self.sampling = t_max, t_min, sigma, sampling
        self.register_buffer("alpha_bar", linear_alpha_bar(t_min), persistent=False)  # a_0 ... a_T
        self.register_buffer("t_table", torch.zeros(TIMESTEP_SLOTS, dtype=torch.long))
        self.update_T()

    @property
    def T(self) -> torch.Tensor:
        """The controller's T, t_min + p (t_max - t_min), before rounding to whole steps."""
        return self.t_min + self.p * (self.t_max - self.t_min)

    @property
    def num_timesteps(self) -> int:
        """The current schedule's length: T rounded to whole steps (``len(betas)`` in the reference)."""
        return self.alpha_bar.numel() - 1

    def _rebuild_schedule(self) -> None:
        T = self.t_min + round(self.p.item() * (self.t_max - self.t_min))
        self.alpha_bar = linear_alpha_bar(T).to(self.p.device)

    @torch.no_grad()
    def update_T(self) -> None:
        """Rebuild the schedule over the current T and draw a new table of timesteps (the reference's
        ``update_T``); call it after setting ``p`` by hand."""
        self._rebuild_schedule()
        T, half, dev = self.num_timesteps, TIMESTEP_SLOTS // 2, self.p.device
        if self.sampling == "uniform":
            noised = torch.randint(1, T + 1, (half,), device=dev)
        else:  # weights 0, 1, ..., T - 1 for t = 1, ..., T (a single t when T = 1)
            weights = torch.arange(T, device=dev, dtype=torch.float) if T > 1 else torch.ones(1, device=dev)
            noised = torch.multinomial(weights, half, replacement=True) + 1
        self.t_table.copy_(torch.cat([noised, torch.zeros(half, dtype=torch.long, device=dev)]))

    @torch.no_grad()
    def observe(self, d_real: torch.Tensor) -> None:
        super().observe(d_real)
        if self.adaptive and self._n_calls % self.interval == 0:  # p has just moved
            self.update_T()

    def sample_t(self, n: int, device) -> torch.Tensor:
        """One timestep per image: the t of a random slot of the table."""
        return self.t_table.to(device)[torch.randint(TIMESTEP_SLOTS, (n,), device=device)]

    def diffuse(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = self.alpha_bar[t].view(-1, *([1] * (x.dim() - 1)))
        return a.sqrt() * x + (1 - a).sqrt() * self.sigma * torch.randn_like(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.sample_t(x.shape[0], x.device)
        return self.diffuse(x, t), t

    def set_extra_state(self, state: dict) -> None:  # loaded after p and the table: rebuild the schedule
        super().set_extra_state(state)
        self._rebuild_schedule()

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
            config.diffusion_t_min,
            sigma=config.diffusion_sigma,
            target=config.ada_target,
            kimg=config.ada_kimg,
            interval=config.ada_interval,
        )
    raise ToolkitError(f"unknown --augment {name!r}; choose one of {', '.join(AUGMENTS)}")
