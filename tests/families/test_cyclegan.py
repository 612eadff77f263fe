"""The CycleGAN family value by value: G's step (least-squares GAN, cycle and identity terms with the paper's
weights) and D's step (halved least-squares losses on pooled fakes) against the paper's formulas, the phases,
the grid's rows, the image pools in the family's state, and each one-line error.

Written for mutation testing: the training tests (tests/integration/test_translation_training.py) train for
seconds per test, too slow to run once per mutant; these run in milliseconds."""

import dataclasses

import pytest
import torch
from conftest import phase_fields

from toolkit.data.translation import load_translation
from toolkit.errors import ToolkitError
from toolkit.families import CycleGANConfig, CycleGANFamily, DataSpec
from toolkit.training import config_for

COLOUR = load_translation("gray2color", limit=8)
DATA = dataclasses.replace(COLOUR, a=COLOUR.b.flip(0), paired=False, held_out=None)  # colour <-> colour


def _family(data=DATA, **kw):
    base = dict(batch_size=4, width=4, blocks=1, d_width=4, grid_size=2, steps=10, threads=1, pool_size=0)
    base.update(kw)
    torch.manual_seed(0)
    return CycleGANFamily(config_for("cyclegan", **base).validate(), data, torch.device("cpu"))


def _batch():
    return {"A": DATA.a[:4], "B": DATA.b[:4]}


def _mean_abs(x, y):
    return (x - y).abs().mean()


@pytest.mark.parametrize("identity", [0.0, 0.3])
def test_g_step_is_lsgan_plus_lambda_cycle_plus_lambda_idt_identity(identity):
    fam = _family(cycle_weight=4.0, identity_weight=identity)
    batch = _batch()
    loss, stats = fam.g_step(batch)
    a, b = batch["A"], batch["B"]
    fake_b, fake_a = fam.G_AB(a), fam.G_BA(b)
    gan = (fam.D_B(fake_b) - 1).pow(2).mean() + (fam.D_A(fake_a) - 1).pow(2).mean()  # G pulls D to 1
    cycle = _mean_abs(fam.G_BA(fake_b), a) + _mean_abs(fam.G_AB(fake_a), b)
    idt = _mean_abs(fam.G_AB(b), b) + _mean_abs(fam.G_BA(a), a)
    want = gan + 4.0 * cycle + 4.0 * identity * idt
    assert loss.item() == pytest.approx(want.item(), rel=1e-5) and loss.requires_grad
    assert stats["loss_g_gan"].item() == pytest.approx(gan.item(), rel=1e-5)
    assert stats["loss_cycle"].item() == pytest.approx(cycle.item(), rel=1e-5)
    assert stats["loss_g"].item() == pytest.approx(want.item(), rel=1e-5)
    assert all(not v.requires_grad for v in stats.values())
    assert ("loss_identity" in stats) == bool(identity)
    if identity:
        assert stats["loss_identity"].item() == pytest.approx(idt.item(), rel=1e-5)
    last = fam.last
    assert last["A"] is a and last["B"] is b and not last["fake_A"].requires_grad
    assert torch.allclose(last["fake_B"], fake_b) and torch.allclose(last["fake_A"], fake_a)


def test_d_step_is_half_the_least_squares_loss_of_each_d():
    fam = _family()
    fam.g_step(_batch())
    loss, stats = fam.d_step(None)
    r = fam.last
    real_a, real_b = fam.D_A(r["A"]), fam.D_B(r["B"])
    fake_a, fake_b = fam.D_A(r["fake_A"]), fam.D_B(r["fake_B"])  # a pool of 0 passes the newest fakes
    loss_a = 0.5 * ((real_a - 1).pow(2).mean() + fake_a.pow(2).mean())
    loss_b = 0.5 * ((real_b - 1).pow(2).mean() + fake_b.pow(2).mean())
    assert loss.item() == pytest.approx((loss_a + loss_b).item(), rel=1e-5) and loss.requires_grad
    assert stats["loss_d_a"].item() == pytest.approx(loss_a.item(), rel=1e-5)
    assert stats["loss_d_b"].item() == pytest.approx(loss_b.item(), rel=1e-5)
    right_real = torch.cat([(real_a > 0.5).flatten(), (real_b > 0.5).flatten()]).float().mean()
    right_fake = torch.cat([(fake_a < 0.5).flatten(), (fake_b < 0.5).flatten()]).float().mean()
    assert stats["d_real_acc"].item() == pytest.approx(right_real.item())
    assert stats["d_fake_acc"].item() == pytest.approx(right_fake.item())
    assert not stats["loss_d_a"].requires_grad and not stats["loss_d_b"].requires_grad


def test_an_output_of_exactly_one_half_is_neither_right_nor_wrong():
    fam = _family()
    fam.g_step(_batch())
    for d in (fam.D_A, fam.D_B):
        d.forward = lambda x: torch.full((x.shape[0], 1, 2, 2), 0.5)
    stats = fam.d_step(None)[1]
    assert stats["d_real_acc"].item() == 0.0 and stats["d_fake_acc"].item() == 0.0


def test_d_learns_from_the_pool_of_past_fakes():
    fam = _family(pool_size=8)
    fam.g_step(_batch())
    fam.d_step(None)
    assert len(fam.pool_a.images) == 4 and len(fam.pool_b.images) == 4  # the fakes went into the pools
    assert torch.equal(torch.stack(fam.pool_b.images), fam.last["fake_B"])
    state = fam.state_dict()
    assert state["steps_done"] == 0 and state["pool_A"]["images"].shape == (4, 3, 32, 32)
    other = _family(pool_size=8)
    other.load_state_dict({**state, "steps_done": 3})
    assert other.steps_done == 3 and torch.equal(
        torch.stack(other.pool_a.images), torch.stack(fam.pool_a.images)
    )
    assert torch.equal(torch.stack(other.pool_b.images), torch.stack(fam.pool_b.images))


def test_the_phases_are_both_gs_then_both_ds_on_the_same_batch():
    fam = _family()
    g, d = fam.phases()
    assert phase_fields(g) == ("G", "G", ("G_AB", "G_BA"), True, fam.g_step, None)
    assert phase_fields(d) == ("D", "D", ("D_A", "D_B"), False, fam.d_step, fam.advance)
    g_params = fam.optimizers["G"].param_groups[0]["params"]
    assert g_params == [*fam.G_AB.parameters(), *fam.G_BA.parameters()]
    assert fam.optimizers["D"].param_groups[0]["params"] == [*fam.D_A.parameters(), *fam.D_B.parameters()]


def test_the_grid_shows_there_and_back_for_each_domain():
    fam = _family()
    images, per_row = fam.grid()
    a, b = fam.fixed_a, fam.fixed_b
    to_b, to_a = fam.translate(a, "a2b"), fam.translate(b, "b2a")
    assert per_row == 3 and images.shape == (12, 3, 32, 32)
    assert torch.equal(images[0], a[0]) and torch.equal(images[1], to_b[0])
    assert torch.equal(images[2], fam.translate(to_b, "b2a")[0])
    assert torch.equal(images[6], b[0]) and torch.equal(images[7], to_a[0])
    assert torch.equal(images[8], fam.translate(to_a, "a2b")[0])
    assert CycleGANFamily.translator(fam.nets, "b2a") is fam.G_BA


def test_the_four_nets_by_name():
    spec = DataSpec((1, 32, 32), kind="translation", shape_b=(3, 32, 32))
    nets = CycleGANFamily.build_nets(config_for("cyclegan", width=4, blocks=2, d_width=4), spec)
    assert set(nets) == {"G_AB", "G_BA", "D_A", "D_B"}
    assert nets["G_AB"](torch.zeros(1, 1, 32, 32)).shape == (1, 3, 32, 32)
    assert nets["G_BA"](torch.zeros(1, 3, 32, 32)).shape == (1, 1, 32, 32)
    assert nets["D_A"](torch.zeros(1, 1, 32, 32)).dim() == nets["D_B"](torch.zeros(1, 3, 32, 32)).dim() == 4
    kinds = {type(m).__name__ for m in nets["G_AB"].modules()} | {
        type(m).__name__ for m in nets["D_B"].modules()
    }
    assert "InstanceNorm2d" in kinds and "BatchNorm2d" not in kinds
    with pytest.raises(ToolkitError) as refused:
        CycleGANFamily.build_nets(config_for("cyclegan"), DataSpec((1, 30, 30), shape_b=(1, 30, 30)))
    assert str(refused.value) == (
        "CycleGAN's generators halve the image twice, so its sides must be multiples of 4 and at least 16 "
        "pixels; these are 30x30"
    )
    with pytest.raises(ToolkitError, match=r"these are 12x12$"):
        CycleGANFamily.build_nets(config_for("cyclegan"), DataSpec((1, 12, 12), shape_b=(1, 12, 12)))
    with pytest.raises(ToolkitError, match=r"these are 32x30$"):
        CycleGANFamily.build_nets(config_for("cyclegan"), DataSpec((1, 32, 30), shape_b=(1, 32, 30)))
    CycleGANFamily.build_nets(
        config_for("cyclegan", width=2, blocks=0), DataSpec((1, 16, 16), shape_b=(1, 16, 16))
    )


def test_the_identity_loss_needs_the_same_channels_on_both_sides():
    with pytest.raises(ToolkitError) as refused:
        _family(COLOUR)
    assert str(refused.value) == (
        "the identity loss feeds each generator images of its target domain, but A has 1 channel(s) and B 3: "
        "use --identity-weight 0"
    )
    assert _family(COLOUR, identity_weight=0.0).G_AB is not None


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(cycle_weight=-1.0), "--cycle-weight and --identity-weight must be >= 0"),
        (dict(identity_weight=-0.5), "--cycle-weight and --identity-weight must be >= 0"),
        (dict(pool_size=-1), "--pool-size must be >= 0, got -1"),
        (dict(width=0), "--width, --d-width >= 1, --blocks >= 0"),
        (dict(d_width=0), "--width, --d-width >= 1, --blocks >= 0"),
        (dict(blocks=-1), "--width, --d-width >= 1, --blocks >= 0"),
        (dict(lr_g=0.0), "--lr-g must be a positive number no larger than 1, got 0.0"),
    ],
)
def test_each_bad_setting_is_a_one_line_error(kw, message):
    with pytest.raises(ToolkitError) as refused:
        config_for("cyclegan", **kw).validate()
    assert str(refused.value) == message
    with pytest.raises(ToolkitError, match=r"^--model pix2pix is not a cyclegan-family model$"):
        CycleGANConfig(model="pix2pix").validate()


def test_settings_at_their_limits_and_the_papers_defaults():
    config_for(
        "cyclegan", cycle_weight=0.0, identity_weight=0.0, pool_size=0, width=1, d_width=1, blocks=0
    ).validate()
    cfg = config_for("cyclegan")
    assert (cfg.cycle_weight, cfg.identity_weight, cfg.pool_size, cfg.lr_g, cfg.beta1, cfg.ema) == (
        10.0, 0.5, 50, 2e-4, 0.5, 0.0
    )  # fmt: skip


def test_an_output_of_one_is_right_on_reals_and_wrong_on_fakes():
    fam = _family()
    fam.g_step(_batch())
    for d in (fam.D_A, fam.D_B):
        d.forward = lambda x: torch.ones(x.shape[0], 1, 2, 2)
    stats = fam.d_step(None)[1]
    assert stats["d_real_acc"].item() == 1.0 and stats["d_fake_acc"].item() == 0.0


def test_hand_built_nets_the_device_and_pools_restored_onto_it():
    cfg = config_for("cyclegan", width=4, blocks=1, d_width=4, grid_size=2, pool_size=4).validate()
    nets = CycleGANFamily.build_nets(cfg, DataSpec.of(DATA))
    fam = CycleGANFamily(cfg, DATA, torch.device("cpu"), nets)
    assert all(fam.nets[k] is nets[k] for k in nets) and fam.G_AB is nets["G_AB"] and fam.D_B is nets["D_B"]
    fam.g_step(_batch())
    fam.d_step(None)
    on_meta = CycleGANFamily(cfg, DATA, torch.device("meta"))
    assert next(on_meta.G_AB.parameters()).device.type == on_meta.fixed_a.device.type == "meta"
    on_meta.load_state_dict(fam.state_dict())
    assert on_meta.pool_a.images[0].device.type == on_meta.pool_b.images[0].device.type == "meta"
