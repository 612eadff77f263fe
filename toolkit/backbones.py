"""Frozen feature networks for perceptual and style losses (lessons 11-12), by name.

A perceptual loss compares images through the activations of a network trained for something else: two
images whose features at some layer agree "look alike" to that network. Which network, and which layer,
decides what "alike" means, so every figure says which backbone made it.

==============  ====================================================================================
name            what
==============  ====================================================================================
``fmnist-cnn``  the toolkit's own Fashion-MNIST classifier (its three conv blocks): the offline default,
                always there. Trained on grey garments, so it knows edges, stripes and cloth textures, not
                colour or photographs; a colour image is shown to it one channel at a time (R, G and B as
                three grey images, their features side by side), so colour statistics still reach a loss.
``vgg16``       VGG16 with ImageNet weights: Johnson et al.'s loss network (relu1_2 ... relu4_3)
``vgg19``       VGG19 with ImageNet weights: SRGAN's content loss (relu5_4) and Gatys et al.'s style transfer
==============  ====================================================================================

ImageNet weights cannot be downloaded here. They are taken, in order, from the ``path`` given,
``$TOOLKIT_VGG16_WEIGHTS`` / ``$TOOLKIT_VGG19_WEIGHTS``, or the torch hub cache
(``$TORCH_HOME/hub/checkpoints/`` or ``~/.cache/torch/hub/checkpoints/``) under torchvision's file names
``vgg16-397923af.pth`` and ``vgg19-dcbb9e9d.pth`` (the files ``torchvision.models.vgg16(weights="DEFAULT")``
downloads). Either the whole torchvision state dict or just its ``features.*`` entries will do.

Layer names follow the papers (``relu2_2`` = the ReLU after the 2nd conv of block 2); the index is the
module's position in torchvision's ``vgg.features``, so ``features[: index + 1]`` ends at that layer.
Every ReLU here is out-of-place, so a feature taken before a ReLU is never overwritten by it.

Inputs are images in [-1, 1], like everything in the toolkit; each backbone converts them to what it was
trained on (VGG: [0, 1], grey repeated to RGB, then ImageNet's mean and std).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn

from .errors import ToolkitError

BACKBONES = {
    "fmnist-cnn": "the toolkit's Fashion-MNIST classifier's conv blocks (offline; colour per channel)",
    "vgg16": "VGG16, ImageNet weights from a local file (Johnson et al. 2016's loss network)",
    "vgg19": "VGG19, ImageNet weights from a local file (SRGAN's relu5_4 content loss; Gatys et al.)",
}
VGG_FILES = {"vgg16": "vgg16-397923af.pth", "vgg19": "vgg19-dcbb9e9d.pth"}
VGG_URL = "https://download.pytorch.org/models/"
# torchvision's configurations: conv widths, "M" a 2x2 max-pool
VGG_CONFIGS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ],
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg_features(arch: str) -> nn.Sequential:
    """torchvision's ``vgg16().features`` / ``vgg19().features`` layer for layer (so its weights load),
    with out-of-place ReLUs."""
    layers, cin = [], 3
    for v in VGG_CONFIGS[arch]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=False)]
            cin = v
    return nn.Sequential(*layers)


def vgg_layer_names(arch: str) -> dict[str, int]:
    """``{"conv1_1": 0, "relu1_1": 1, ..., "pool1": 4, ...}`` for a VGG configuration."""
    names, index, block, conv = {}, 0, 1, 1
    for v in VGG_CONFIGS[arch]:
        if v == "M":
            names[f"pool{block}"] = index
            index, block, conv = index + 1, block + 1, 1
        else:
            names[f"conv{block}_{conv}"], names[f"relu{block}_{conv}"] = index, index + 1
            index, conv = index + 2, conv + 1
    return names


class Backbone(nn.Module):
    """A frozen feature network: ``backbone(images, ["relu2_2", ...])`` -> ``{name: (N, C, h, w)}``.

    ``layers`` maps names to indices in ``net``; only the modules up to the deepest asked-for layer run.
    ``content`` and ``style`` are the layers the papers use for each loss (Johnson et al. for VGG16, Gatys
    et al. for VGG19); ``deepest`` is SRGAN's choice (VGG19's relu5_4)."""

    def __init__(
        self,
        name: str,
        net: nn.Sequential,
        layers: dict[str, int],
        prepare: Callable[[torch.Tensor], torch.Tensor],
        content: str,
        style: Sequence[str],
        deepest: str,
        channelwise: bool = False,
        source: str = "",
    ):
        super().__init__()
        self.name, self.net, self.layers, self.prepare = name, net, dict(layers), prepare
        self.content, self.style, self.deepest = content, tuple(style), deepest
        self.channelwise, self.source = channelwise, source
        self.requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "Backbone":
        return super().train(False)  # always frozen: batch norm keeps its running statistics

    def forward(self, images: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        unknown = [n for n in layers if n not in self.layers]
        if unknown:
            raise ToolkitError(
                f"{self.name} has no layer {', '.join(unknown)}; its layers: {', '.join(self.layers)}"
            )
        n, c = images.shape[:2]
        x = images.float()
        if self.channelwise and c > 1:
            x = x.reshape(n * c, 1, *x.shape[2:])  # each colour channel as a grey image
        x = self.prepare(x)
        wanted = {self.layers[name]: name for name in layers}
        out = {}
        for i, module in enumerate(self.net[: max(wanted) + 1]):
            x = module(x)
            if i in wanted:
                out[wanted[i]] = x.reshape(n, -1, *x.shape[2:]) if self.channelwise and c > 1 else x
        return {name: out[name] for name in layers}


# --- the toolkit's own network ----------------------------------------------------------------------
def _fmnist_backbone(path: str | Path | None, device: torch.device) -> Backbone:
    from .metrics.fmnist_cnn import WEIGHTS, load_fmnist_cnn

    cnn = load_fmnist_cnn(path, device)
    # its conv part as one flat list: 3 x (conv, bn, relu, pool); no resizing, so it runs at any size
    net = nn.Sequential(*[m for block in cnn.conv for m in block])
    layers = {"relu1": 2, "pool1": 3, "relu2": 6, "pool2": 7, "relu3": 10, "pool3": 11}
    return Backbone(
        "fmnist-cnn",
        net,
        layers,
        prepare=lambda x: x,  # trained on [-1, 1] grey images, like the toolkit's
        content="relu2",
        style=("relu1", "relu2", "relu3"),
        deepest="relu3",
        channelwise=True,
        source=f"the toolkit's Fashion-MNIST classifier ({path or WEIGHTS})",
    )


# --- VGG --------------------------------------------------------------------------------------------
def vgg_weights_path(arch: str, path: str | Path | None = None) -> Path:
    """Where ``arch``'s ImageNet weights are on this machine, or a one-line error saying where to put them."""
    candidates = [Path(path)] if path else []
    env = f"TOOLKIT_{arch.upper()}_WEIGHTS"
    if os.environ.get(env):
        candidates.append(Path(os.environ[env]))
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"
    candidates.append(hub / VGG_FILES[arch])
    for c in candidates:
        if c.expanduser().is_file():
            return c.expanduser()
    if path:
        raise ToolkitError(f"{path} does not exist; give the path of {VGG_FILES[arch]}")
    raise ToolkitError(
        f"{arch} ImageNet weights not found: download {VGG_URL}{VGG_FILES[arch]} on a machine with internet "
        f"and put it in {hub}/ (or set {env} to its path); offline, use --backbone fmnist-cnn"
    )


def _vgg_prepare(device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)

    def prepare(x: torch.Tensor) -> torch.Tensor:
        x = (x + 1) / 2  # [-1, 1] -> [0, 1]
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return (x - mean) / std

    return prepare


def _vgg_backbone(arch: str, path: str | Path | None, device: torch.device) -> Backbone:
    file = vgg_weights_path(arch, path)
    net = vgg_features(arch)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
        features = {
            k.removeprefix("features."): v for k, v in state.items() if not k.startswith("classifier.")
        }
        net.load_state_dict(features)
    except Exception as exc:
        raise ToolkitError(
            f"{file} is not a torchvision {arch} weight file ({type(exc).__name__}); get {VGG_FILES[arch]} "
            f"again from {VGG_URL}"
        ) from None
    if arch == "vgg16":
        content, style, deepest = "relu2_2", ("relu1_2", "relu2_2", "relu3_3", "relu4_3"), "relu5_3"
    else:
        content, style, deepest = (
            "relu4_2",
            ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
            "relu5_4",
        )
    return Backbone(
        arch,
        net.to(device),
        vgg_layer_names(arch),
        _vgg_prepare(device),
        content,
        style,
        deepest,
        source=f"{arch} ImageNet weights ({file})",
    )


def load_backbone(
    name: str = "fmnist-cnn", device: str | torch.device = "cpu", path: str | Path | None = None
) -> Backbone:
    """The frozen backbone ``name`` (table above); ``path``: its weight file, if not the default place."""
    device = torch.device(device)
    if name == "fmnist-cnn":
        return _fmnist_backbone(path, device).to(device)
    if name in VGG_FILES:
        return _vgg_backbone(name, path, device)
    raise ToolkitError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")


def best_backbone(prefer: Sequence[str] = ("vgg16", "vgg19")) -> str:
    """The first of ``prefer`` whose ImageNet weights are on this machine, else ``fmnist-cnn``."""
    for arch in prefer:
        try:
            vgg_weights_path(arch)
            return arch
        except ToolkitError:
            continue
    return "fmnist-cnn"
