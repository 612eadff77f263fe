"""Did a conditional generator obey the label? Ask an independent classifier.

Generate n images of every class c and let the fmnist-cnn classifier (92.3% on real test images, not
trained with the GAN) name their class. The share it names c is the generator's accuracy on c: 10% is
chance, ~92% is what real images score. This is the "classification accuracy score"-style check used
for conditional GANs (cf. Ravuri & Vinyals 2019 for the reverse direction); it says nothing about
diversity (a generator drawing one perfect shirt scores 100% on shirts), so read it next to FID.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ToolkitError
from .fmnist_cnn import load_fmnist_cnn


@torch.no_grad()
def label_accuracy(
    G: nn.Module, z_dim: int, n_per_class: int = 200, seed: int = 0, classifier: nn.Module | None = None
) -> torch.Tensor:
    """Per-class accuracy, shape (num_classes,), of ``classifier`` (default fmnist-cnn) on G's images."""
    C = getattr(G, "num_classes", 0)
    if C < 2:
        raise ToolkitError("label_accuracy needs a conditional generator (G(z, y) with num_classes)")
    device = next(G.parameters()).device
    classifier = classifier if classifier is not None else load_fmnist_cnn(device=device)
    was_training = G.training
    G.eval()
    g = torch.Generator().manual_seed(seed)
    acc = torch.zeros(C)
    for c in range(C):
        z = torch.randn(n_per_class, z_dim, generator=g).to(device)
        y = torch.full((n_per_class,), c, device=device)
        acc[c] = (classifier(G(z, y)).argmax(1) == y).float().mean().cpu()
    G.train(was_training)
    return acc
