"""Spectral normalisation (Miyato et al. 2018) as the gan family's ``spectral_norm`` option and the ``sngan``
preset: every conv/linear layer of D (and none of G) normalised, its largest singular value 1 against
torch.linalg.matrix_norm(ord=2), the option recorded in config.json and on the command line, resume exact."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.families import DataSpec, GANFamily, config_for
from toolkit.models.spectral_norm import apply_spectral_norm, spectral_layers
from toolkit.training import Trainer


def tiny(model="dcgan", **kw):
    base = dict(data="digits", batch_size=8, width=4, z_dim=8, grid_size=4, threads=1, log_every=2, seed=3)
    return config_for(model, **{**base, **kw})


def sigma(layer: nn.Module) -> float:
    """The largest singular value of the weight the layer uses, as the matrix (out, in*k*k)."""
    w = layer.weight.detach()
    w = w.transpose(0, 1) if isinstance(layer, nn.ConvTranspose2d) else w
    return torch.linalg.matrix_norm(w.flatten(1), ord=2).item()


@pytest.mark.parametrize("model", ["dcgan", "wgan-gp", "cgan", "mlp"])
def test_the_option_normalises_every_layer_of_D_and_none_of_G(model):
    spec = DataSpec((1, 32, 32), "images", num_classes=3 if model == "cgan" else 0)
    torch.manual_seed(0)
    nets = GANFamily.build_nets(tiny(model, spectral_norm=True).validate(), spec)
    D, G = nets["D"], nets["G"]
    layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and spectral_layers(D) == layers
    assert spectral_layers(G) == []
    assert spectral_layers(GANFamily.build_nets(tiny(model).validate(), spec)["D"]) == []
    D.train()
    for _ in range(30):  # power iteration: one step per forward pass in training mode
        D(torch.randn(4, 1, 32, 32), torch.arange(4) % 3) if model == "cgan" else D(torch.randn(4, 1, 32, 32))
    for layer in layers:
        assert sigma(layer) == pytest.approx(1.0, abs=0.02)


def test_it_is_torchs_parametrization_dividing_by_the_largest_singular_value():
    torch.manual_seed(1)
    layer = nn.Conv2d(3, 5, 4)
    raw = layer.weight.detach().clone()
    apply_spectral_norm(nn.Sequential(layer))
    assert torch.equal(layer.parametrizations.weight.original, raw)  # the raw weight is what trains
    for _ in range(50):
        layer(torch.randn(1, 3, 8, 8))
    expected = raw / torch.linalg.matrix_norm(raw.flatten(1), ord=2)
    assert torch.allclose(layer.weight, expected, atol=1e-5)
    apply_spectral_norm(nn.Sequential(layer))  # a second call does not normalise twice
    assert len(layer.parametrizations.weight) == 1


def test_the_sngan_preset_is_the_papers_setting():
    cfg = tiny("sngan").validate()
    assert (cfg.loss, cfg.spectral_norm, cfg.n_critic) == ("hinge", True, 5)
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2) == (2e-4, 2e-4, 0.0, 0.9)
    D = GANFamily.build_nets(cfg, DataSpec((1, 32, 32)))["D"]
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in D.modules())
    assert all(m.p == 0 for m in D.modules() if isinstance(m, nn.Dropout))
    assert len(spectral_layers(D)) == 4  # 3 convs and the head at 32x32
    assert tiny("sngan", n_critic=1).validate().n_critic == 1  # n_dis is a setting


def test_the_command_line_flag_is_recorded_in_config_json(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--model", "dcgan", "--data", "digits", "--batch-size", "8", "--width", "4"]
    args += ["--z-dim", "8", "--steps", "2", "--no-progress", "--device", "cpu", "--run-dir", str(run)]
    assert main([*args, "--spectral-norm", "on"]) == 0
    assert json.loads((run / "config.json").read_text())["spectral_norm"] is True
    assert main(["train", *args[1:-1], str(tmp_path / "off")]) == 0
    assert json.loads((tmp_path / "off" / "config.json").read_text())["spectral_norm"] is False
    with pytest.raises(SystemExit):
        main([*args[:-1], str(tmp_path / "bad"), "--spectral-norm", "maybe"])
    assert "--spectral-norm" in capsys.readouterr().err


def test_a_spectral_norm_run_resumes_exactly(tmp_path):
    straight = Trainer(tiny("sngan", steps=6, n_critic=2), run_dir=tmp_path / "a", progress=False)
    straight.fit()
    Trainer(tiny("sngan", steps=3, n_critic=2), run_dir=tmp_path / "b", progress=False).fit()
    resumed = Trainer.resume(tmp_path / "b", steps=6, progress=False)
    resumed.fit()
    a, b = straight.family.D.state_dict(), resumed.family.D.state_dict()
    assert any(k.endswith("_u") for k in a)  # the power iteration's vector is saved and restored
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ToolkitError, match="spectral"):
        Trainer.resume(tmp_path / "b", steps=8, progress=False, spectral_norm=False)
