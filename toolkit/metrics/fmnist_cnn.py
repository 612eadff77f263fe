"""The offline feature network: a small CNN classifier trained on Fashion-MNIST.

FID and KID need a feature space in which "looks like the real data" is a short distance. The
standard is InceptionV3 trained on ImageNet, whose weights cannot be downloaded here; this network
is the toolkit's offline default for Fashion-MNIST-like images. It is trained by
``python -m toolkit.metrics.train_feature_net`` (seeded, a few CPU minutes); its weights ship with
the package (``weights/fmnist_cnn.pt``, ~1 MB) and its test-set accuracy (>= 90%) is asserted by a test.

Features are the 128 activations before the classification layer, multiplied by one constant
(``feature_scale``, calibrated after training) so that E[|f|^2] / D = 1 on the training images -
about the scale of Inception's pool features, which keeps KID's cubic kernel (x.y/D + 1)^3 well
conditioned. The logits give a classifier score ("does this generated image look like class c?")
for conditional models.

Scores on these features are written ``fid[fmnist-cnn]``: they are comparable with each other, never
with published (Inception) FIDs - a different feature space gives a different number.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS = Path(__file__).with_name("weights") / "fmnist_cnn.pt"
FEATURE_DIM = 128


class FashionCNN(nn.Module):
    """(N, 1, 32, 32) images in [-1, 1] -> 10 logits; ``features`` gives the 128-D embedding."""

    def __init__(self):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(True),
                nn.MaxPool2d(2),
            )

        self.conv = nn.Sequential(block(1, 32), block(32, 64), block(64, 128))  # 32 -> 16 -> 8 -> 4
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(128 * 4 * 4, FEATURE_DIM), nn.ReLU(True))
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURE_DIM, 10))
        self.register_buffer("feature_scale", torch.tensor(1.0))

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        """Accept what generators produce: 1 or 3 channels (RGB -> grey), 28x28 (padded), other sizes
        (resized)."""
        x = images.float()
        if x.shape[1] == 3:
            x = 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
        if x.shape[-1] == 28:
            x = F.pad(x, (2, 2, 2, 2), value=-1.0)
        elif x.shape[-1] != 32:
            x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
        return x

    def embedding(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.conv(self.prepare(images)))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.embedding(images) * self.feature_scale

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding(images))

    @torch.no_grad()
    def calibrate(self, images: torch.Tensor, batch: int = 1000) -> float:
        """Set ``feature_scale`` so that the mean of |f|^2 / D over ``images`` is 1."""
        self.eval()
        sq = sum(
            self.embedding(images[i : i + batch]).pow(2).sum().item() for i in range(0, len(images), batch)
        )
        self.feature_scale.fill_((len(images) * FEATURE_DIM / sq) ** 0.5)
        return float(self.feature_scale)


def load_fmnist_cnn(path: str | Path | None = None, device: str | torch.device = "cpu") -> FashionCNN:
    from ..errors import ToolkitError

    path = Path(path) if path else WEIGHTS
    if not path.is_file():
        raise ToolkitError(
            f"feature-network weights {path} are missing; run `python -m toolkit.metrics.train_feature_net`"
        )
    net = FashionCNN()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.to(device).eval().requires_grad_(False)
