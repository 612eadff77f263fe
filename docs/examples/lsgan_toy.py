"""The ``lsgan-toy`` family: a least-squares GAN (Mao et al. 2017) with MLPs, the worked example of
docs/architecture.md. Copied into toolkit/families/, this one file is a new model of the CLI, the dashboard,
the report and the bench (tests/project/test_architecture_doc.py does exactly that)."""

from dataclasses import dataclass

import torch

from toolkit.config import RunConfig, option
from toolkit.families.base import Family, Phase
from toolkit.models import MLPDiscriminator, MLPGenerator


@dataclass
class LSGANConfig(RunConfig):
    lr: float = option(1e-3, "Adam learning rate of G and D")
    z_dim: int = option(2, "size of the latent vector z")


class LSGANFamily(Family):
    """min_D E[(D(x) - 1)^2] + E[D(G(z))^2];  min_G E[(D(G(z)) - 1)^2]   (Mao et al. 2017, eq. 9)"""

    name = "lsgan-toy"
    Config = LSGANConfig
    models = {"lsgan-toy": "least-squares GAN with MLPs (the worked example of docs/architecture.md)"}
    ema_nets = ("G",)
    charts = (  # the dashboard's and the report's charts: (title, the logged keys it plots)
        ("Least-squares losses", ("loss_d", "loss_g")),
        ("D's outputs (targets: real 1, fake 0)", ("ls_d_real", "ls_d_fake")),  # keys only this family logs
    )
    bench_cases = (("lsgan-toy", "lsgan-toy", {"data": "ring"}),)  # what `python -m toolkit bench` times

    @classmethod
    def build_nets(cls, config, spec):
        return {  # images are scaled to [-1, 1], so G ends in tanh for them; 2-D points are not
            "G": MLPGenerator(config.z_dim, spec.shape, hidden=64, tanh_output=spec.kind == "images"),
            "D": MLPDiscriminator(spec.shape, hidden=64),
        }

    def __init__(self, config, data, device, nets=None):
        super().__init__(config, data, device, nets)
        self.optimizers = {
            n: torch.optim.Adam(net.parameters(), lr=config.lr, betas=(0.5, 0.999))
            for n, net in self.nets.items()
        }
        self.fixed_z = torch.randn(config.grid_size, config.z_dim, generator=torch.Generator().manual_seed(1))

    def phases(self):
        return [
            Phase("D", self.d_step, optimizer="D", nets=("D",)),
            Phase("G", self.g_step, optimizer="G", nets=("G",), needs_batch=False),
        ]

    def d_step(self, batch):
        real = batch["image"]
        with torch.no_grad():
            fake = self.nets["G"](torch.randn(len(real), self.config.z_dim, device=real.device))
        d_real, d_fake = self.nets["D"](real), self.nets["D"](fake)
        loss = (d_real - 1).pow(2).mean() + d_fake.pow(2).mean()
        return loss, {
            "loss_d": loss.detach(),
            "ls_d_real": d_real.mean().detach(),
            "ls_d_fake": d_fake.mean().detach(),
        }

    def g_step(self, batch):
        fake = self.nets["G"](torch.randn(self.config.batch_size, self.config.z_dim, device=self.device))
        loss = (self.nets["D"](fake) - 1).pow(2).mean()
        return loss, {"loss_g": loss.detach()}

    def grid(self):
        with torch.no_grad():
            return self.sampling_net("G")(self.fixed_z.to(self.device)), None

    @classmethod
    def sampler(cls, nets, config, family_state):
        return nets["G"]  # what `python -m toolkit sample` and the dashboard draw from: z -> image
