"""The ``gan`` family's pieces, value by value: D's and G's losses and statistics against a reference written
out here from the papers' formulas (ACGAN's class loss with and without fakes, the gradient penalty, R1, the
critic's W estimate), what runs after D's update (clipping, the augmentation controller), sampling in eval
mode from the EMA copy, the grid's class rows, steering, the augmentation's state, the caption of what D saw,
and each of the config's one-line errors.

Found by mutation testing: the engine's traces (tests/integration/test_engine.py) pin whole steps of six
models, but not R1, clipping, the class loss's weight or its "reals only" switch, DiffAugment, steering or
the grid."""

import pytest
import torch
import torch.nn.functional as F

from toolkit.augment import AdaptiveAugment, DiffAugment, ForwardDiffusion
from toolkit.data.base import TensorData
from toolkit.errors import ToolkitError
from toolkit.families import DataSpec, GANFamily, family_for
from toolkit.families.base import Family
from toolkit.regularizers import gradient_penalty, r1_penalty
from toolkit.runs import Run
from toolkit.training import TrainConfig, Trainer


def _data(n=24, classes=3, channels=1):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, channels, 32, 32, generator=g) * 2 - 1
    labels = torch.arange(n) % classes if classes else None
    names = [f"c{i}" for i in range(classes)] if classes else []
    return TensorData("tiny", x, labels, names)


def _family(model="dcgan", data=None, **kw):
    base = dict(batch_size=6, width=4, z_dim=5, grid_size=16, seed=1)
    base.update(kw)
    cfg = TrainConfig.for_model(model, **base).validate()
    data = data if data is not None else _data(classes=3 if model in ("cgan", "acgan") else 0)
    torch.manual_seed(0)
    return GANFamily(cfg, data, torch.device("cpu"))


def _batch(fam, n=6):
    labels = {} if fam.data.labels is None else {"label": fam.data.labels[:n]}
    return {"image": fam.data.x[:n], **labels}


def _softplus_mean(x):
    return torch.log1p(torch.exp(x)).mean()


def _d_reference(fam, batch, seed):
    """D's step written out: fakes from fresh noise (no gradient), D on reals and fakes separately, the
    adversarial loss, ACGAN's class loss, then the penalty. Same random draws as the family's step."""
    cfg, real = fam.config, batch["image"]
    y = batch.get("label") if fam.conditional else None
    torch.manual_seed(seed)
    z = torch.randn(real.shape[0], cfg.z_dim)
    with torch.no_grad():
        fake = fam.G(z, y) if fam.conditional else fam.G(z)
    if cfg.r1_weight:
        real = real.detach().requires_grad_(True)

    def d(x):
        out = fam.D(x, y) if fam.conditional else fam.D(x)
        return out if isinstance(out, tuple) else (out, None)

    (d_real, c_real), (d_fake, c_fake) = d(real), d(fake)
    if cfg.loss == "wasserstein":  # Arjovsky et al.: the critic maximises E[D(x)] - E[D(G(z))]
        loss = d_fake.mean() - d_real.mean()
    else:  # Goodfellow et al. eq. 1 with logits: -log sigmoid(d_real) - log(1 - sigmoid(d_fake))
        loss = _softplus_mean(-d_real) + _softplus_mean(d_fake)
    if c_real is not None:
        class_loss = F.cross_entropy(c_real, y) + (F.cross_entropy(c_fake, y) if cfg.aux_on_fakes else 0)
        loss = loss + cfg.aux_weight * class_loss
    if cfg.gp_weight:
        loss = loss + gradient_penalty(lambda x: d(x)[0], real, fake, cfg.gp_weight)[0]
    if cfg.r1_weight:
        loss = loss + r1_penalty(d_real, real, cfg.r1_weight)
    return loss, d_real.detach(), d_fake.detach(), c_real


@pytest.mark.parametrize(
    "model, kw",
    [
        ("dcgan", {}),
        ("dcgan", {"r1_weight": 0.7}),
        ("wgan-gp", {"gp_weight": 3.0}),
        ("wgan", {}),
        ("acgan", {"aux_weight": 0.4}),
        ("acgan", {"aux_weight": 1.5, "aux_on_fakes": False}),
        ("cgan", {"gp_weight": 2.0}),  # the penalty's D sees the labels too
    ],
)
def test_d_step_computes_the_papers_loss_and_statistics(model, kw):
    fam = _family(model, **kw)
    batch = _batch(fam)
    torch.manual_seed(5)
    loss, stats = fam.d_step(batch)
    want, d_real, d_fake, c_real = _d_reference(fam, batch, seed=5)
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)
    assert loss.requires_grad  # the loop back-propagates it
    assert stats["loss_d"].item() == pytest.approx(want.item(), rel=1e-5)
    assert not stats["loss_d"].requires_grad  # statistics are kept out of the graph
    assert stats["d_real_acc"].item() == pytest.approx((d_real > 0).float().mean().item())
    assert stats["d_fake_acc"].item() == pytest.approx((d_fake < 0).float().mean().item())
    assert stats["d_real_sign"].item() == pytest.approx(torch.sign(d_real).mean().item())
    assert torch.equal(fam._d_real, d_real)  # what the controller observes after the update
    assert ("w_estimate" in stats) == (fam.config.loss == "wasserstein")
    if "w_estimate" in stats:
        assert stats["w_estimate"].item() == pytest.approx((d_real.mean() - d_fake.mean()).item(), rel=1e-5)
    assert ("class_acc_real" in stats) == (model == "acgan")
    if c_real is not None:
        acc = (c_real.argmax(1) == batch["label"]).float().mean().item()
        assert stats["class_acc_real"].item() == pytest.approx(acc)
    assert ("gp" in stats) == bool(fam.config.gp_weight) and ("r1" in stats) == bool(fam.config.r1_weight)
    if "gp" in stats:
        assert stats["gp"].item() > 0 and stats["grad_norm"].item() > 0
    if "r1" in stats:
        assert stats["r1"].item() == pytest.approx(
            (loss - _softplus_mean(-d_real) - _softplus_mean(d_fake)).item(), rel=1e-4
        )


def test_a_logit_of_exactly_zero_is_neither_real_nor_fake():
    fam = _family("dcgan")
    fam.D.forward = lambda x: torch.zeros(x.shape[0])  # sigmoid(0) = 0.5: D cannot tell
    stats = fam.d_step(_batch(fam))[1]
    assert stats["d_real_acc"].item() == 0.0 and stats["d_fake_acc"].item() == 0.0


def test_the_family_draws_its_noise_and_labels_on_its_device():
    cfg = TrainConfig.for_model("cgan", batch_size=6, width=4, z_dim=5, grid_size=16, seed=1).validate()
    cfg.augment = "ada"
    fam = GANFamily(cfg, _data(classes=3), torch.device("meta"))
    assert fam.noise(3).device.type == fam.random_labels(3).device.type == "meta"
    assert fam.fixed_z.device.type == fam.fixed_y.device.type == fam.augment.p.device.type == "meta"
    assert fam.num_classes == 3 and _family("dcgan").num_classes == 0


def test_augmenting_points_is_refused():
    from toolkit.data.toy import sample_mixture

    with pytest.raises(ToolkitError, match=r"^--augment ada works on images; these data are points$"):
        _family("mlp", data=sample_mixture("ring", 32), augment="ada")


def test_the_default_data_is_loaded_at_the_configs_resolution_and_limit():
    data = GANFamily.load_data(TrainConfig(data="digits", resolution=64, limit=30, seed=2))
    assert data.x.shape == (30, 1, 64, 64)
    other = GANFamily.load_data(TrainConfig(data="digits", resolution=64, limit=30, seed=3))
    assert not torch.equal(data.x, other.x)  # the seed picks the subset


def test_d_step_gives_the_fakes_the_real_batchs_labels():
    fam = _family("cgan")
    seen = []
    generate = fam.generate
    fam.generate = lambda z, y=None, G=None: seen.append((z.shape, y)) or generate(z, y, G)
    batch = _batch(fam)
    fam.d_step(batch)
    assert seen[0][0] == (6, 5) and torch.equal(seen[0][1], batch["label"])


@pytest.mark.parametrize("model, kw", [("dcgan", {}), ("acgan", {"aux_weight": 0.3}), ("wgan-gp", {})])
def test_g_step_draws_a_full_batch_of_noise_and_labels_and_fools_d(model, kw):
    fam = _family(model, **kw)
    torch.manual_seed(9)
    loss, stats = fam.g_step(None)
    torch.manual_seed(9)
    y = torch.randint(3, (6,)) if fam.conditional else None
    z = torch.randn(6, 5)
    x = fam.G(z, y) if fam.conditional else fam.G(z)
    out = fam.D(x, y) if fam.conditional else fam.D(x)
    d_gen, c_gen = out if isinstance(out, tuple) else (out, None)
    want = -d_gen.mean() if fam.config.loss == "wasserstein" else _softplus_mean(-d_gen)  # non-saturating
    if c_gen is not None:
        want = want + 0.3 * F.cross_entropy(c_gen, y)
    assert loss.item() == pytest.approx(want.item(), rel=1e-5) and loss.requires_grad
    assert stats == {"loss_g": pytest.approx(want.item(), rel=1e-5)} and not stats["loss_g"].requires_grad


def test_g_step_reports_the_augmentations_state():
    fam = _family("dcgan", augment="ada")
    assert set(fam.g_step(None)[1]) == {"loss_g", "ada_p"}


def test_after_d_clips_the_critic_and_feeds_the_controller():
    fam = _family("wgan", clip=0.02)
    with torch.no_grad():
        for p in fam.D.parameters():
            p.fill_(0.5)
    fam.after_d()
    assert all(p.abs().max().item() == pytest.approx(0.02) for p in fam.D.parameters())

    fam = _family("dcgan", augment="ada", ada_interval=1, batch_size=4)
    fam.d_step(_batch(fam))
    seen = []
    fam.augment.observe = seen.append
    fam.after_d()
    assert len(seen) == 1 and seen[0] is fam._d_real


def test_after_d_leaves_d_alone_without_clipping():
    fam = _family("dcgan")
    before = [p.detach().clone() for p in fam.D.parameters()]
    fam.after_d()
    assert all(torch.equal(a, b) for a, b in zip(before, fam.D.parameters()))


def test_the_phases_are_d_then_g_with_n_critic_d_updates():
    fam = _family("wgan-gp", n_critic=3)
    d, g = fam.phases()
    assert (d.name, d.optimizer, d.nets, d.repeat, d.needs_batch) == ("D", "D", ("D",), 3, True)
    assert d.run == fam.d_step and d.after == fam.after_d
    assert (g.name, g.optimizer, g.nets, g.repeat, g.needs_batch) == ("G", "G", ("G",), 1, False)
    assert g.after is None
    assert g.run == fam.g_step


def test_optimizers_take_each_nets_learning_rate_and_the_betas():
    fam = _family("dcgan", lr_g=3e-4, lr_d=7e-4, beta1=0.2, beta2=0.95)
    g, d = fam.optimizers["G"].param_groups[0], fam.optimizers["D"].param_groups[0]
    assert (g["lr"], d["lr"], g["betas"], d["betas"]) == (3e-4, 7e-4, (0.2, 0.95), (0.2, 0.95))
    assert g["params"] == list(fam.G.parameters()) and d["params"] == list(fam.D.parameters())
    assert fam.opt_g is fam.optimizers["G"] and fam.opt_d is fam.optimizers["D"]


def test_noise_labels_and_generate():
    fam = _family("cgan")
    assert fam.noise(7).shape == (7, 5)
    torch.manual_seed(2)
    labels = fam.random_labels(200)
    assert labels.shape == (200,) and set(labels.tolist()) == {0, 1, 2}
    assert _family("dcgan").random_labels(4) is None
    z, y = torch.randn(3, 5), torch.tensor([0, 1, 2])
    assert fam.generate(z, y).shape == (3, 1, 32, 32)
    other = _family("cgan").G
    torch.manual_seed(0)
    a = fam.generate(z, y, G=other)
    torch.manual_seed(0)
    assert torch.equal(a, other(z, y))


def test_the_fixed_grid_latents_come_from_their_own_generator():
    a, b = _family("dcgan", seed=4), _family("dcgan", seed=4)
    assert a.fixed_z.shape == (16, 5) and torch.equal(a.fixed_z, b.fixed_z)
    want = torch.randn(16, 5, generator=torch.Generator().manual_seed(4 + 2**20))
    assert torch.equal(a.fixed_z, want)
    assert a.fixed_y is None


def test_a_conditional_grid_has_one_row_of_the_same_8_latents_per_class():
    fam = _family("cgan")
    assert fam.fixed_z.shape == (24, 5) and fam.fixed_y.tolist() == [c for c in range(3) for _ in range(8)]
    assert torch.equal(fam.fixed_z[:8], fam.fixed_z[8:16]) and torch.equal(fam.fixed_z[:8], fam.fixed_z[16:])
    images, per_row = fam.grid()
    assert images.shape == (24, 1, 32, 32) and per_row == 8
    assert torch.equal(images, fam.sample(fam.fixed_z, y=fam.fixed_y))  # row c shows class c
    images, per_row = _family("dcgan").grid()
    assert images.shape == (16, 1, 32, 32) and per_row is None


def test_sample_uses_the_ema_copy_in_eval_mode_and_restores_training():
    fam = _family("cgan")
    ema = _family("cgan", seed=2).G
    fam.averaged["G"] = ema
    assert fam.generator is ema and fam.sampling_net("D") is fam.D
    z = torch.randn(4, 5)
    out = fam.sample(z)
    ema.eval()
    want = ema(z, torch.tensor([0, 1, 2, 0]))  # balanced labels by default
    assert out.device.type == "cpu" and out.dtype == torch.float32 and torch.allclose(out, want)
    assert ema.training is False  # it was put in eval mode above; sample restores what it found
    ema.train()
    fam.sample(z)
    assert ema.training
    fam.G.eval()
    assert torch.allclose(fam.sample(z, use_ema=False, y=[2, 2, 1, 0]), fam.G(z, torch.tensor([2, 2, 1, 0])))
    assert fam.G.training is False
    assert fam.sample(n=3).shape == (3, 1, 32, 32)


def test_steering_sets_learning_rates_betas_and_adas_target():
    fam = _family("dcgan", augment="ada")
    fam.config.beta1, fam.config.beta2 = 0.1, 0.8
    fam.apply_settings({"lr_g": 0.25, "ada_target": 0.3})
    assert fam.opt_g.param_groups[0]["lr"] == 0.25 and fam.opt_d.param_groups[0]["lr"] == 1e-3
    assert fam.augment.target == 0.3 and fam.opt_g.param_groups[0]["betas"] == (0.5, 0.999)
    fam.apply_settings({"lr_d": 0.5, "beta2": 0.8})
    assert fam.opt_d.param_groups[0]["lr"] == 0.5 and fam.opt_g.param_groups[0]["lr"] == 0.25
    assert fam.opt_d.param_groups[0]["betas"] == (0.1, 0.8) == fam.opt_g.param_groups[0]["betas"]
    fam.config.beta1 = 0.3
    fam.apply_settings({"beta1": 0.3})
    assert fam.opt_g.param_groups[0]["betas"] == (0.3, 0.8)
    _family("dcgan", augment="diffaugment").apply_settings({"ada_target": 0.3})  # no target: nothing to set


def test_the_augmentations_state_round_trips_and_none_is_kept_out():
    fam = _family("dcgan", augment="ada")
    fam.augment.p.fill_(0.375)
    state = fam.state_dict()
    other = _family("dcgan", augment="ada")
    other.load_state_dict(state)
    assert other.augment.p.item() == 0.375
    other.load_state_dict({"augment": None})
    assert other.augment.p.item() == 0.375
    assert _family("dcgan").state_dict() == {"augment": None}
    _family("dcgan").load_state_dict(state)  # a run without augmentation ignores it


def test_discriminate_passes_the_diffusion_timestep_as_ds_condition():
    fam = _family("dcgan", augment="diffusion")
    assert isinstance(fam.augment, ForwardDiffusion)
    seen = []
    fam.D.forward = lambda x, t: seen.append((x.shape, t.shape)) or x.mean((1, 2, 3))
    logits, classes = fam.discriminate(torch.zeros(3, 1, 32, 32))
    assert seen == [((3, 1, 32, 32), (3,))] and logits.shape == (3,) and classes is None


def test_discriminate_augments_what_d_sees():
    fam = _family("dcgan", augment="diffaugment")
    assert isinstance(fam.augment, DiffAugment)
    seen = []
    fam.D.forward = lambda x: seen.append(x) or x.mean((1, 2, 3))
    x = torch.linspace(-1, 1, 3 * 32 * 32).reshape(3, 1, 32, 32)
    fam.discriminate(x)
    assert not torch.equal(seen[0], x)  # colour, translation and cutout changed it
    fam.augment = None
    fam.discriminate(x)
    assert torch.equal(seen[1], x)


@pytest.mark.parametrize(
    "augment, caption",
    [
        ("none", "D sees the images as they are"),
        ("ada", "ADA at p = 0.42 at the checkpoint of step 2"),
        ("diffaugment", "DiffAugment (colour, translation, cutout), applied to every image"),
        ("diffusion", "Diffusion-GAN with T = 208 at the checkpoint of step 2; t drawn per image"),
    ],
)
def test_augmentation_at_restores_what_d_saw_at_the_checkpoint(tmp_path, augment, caption):
    cfg = TrainConfig.for_model(
        "dcgan", data="digits", steps=2, batch_size=4, width=4, z_dim=4, sample_every=0, threads=1,
        checkpoint_every=2, augment=augment,
    )  # fmt: skip
    trainer = Trainer(cfg, run_dir=tmp_path, progress=False)
    trainer.fit(until=1)
    if augment == "ada":  # as if the controller had moved p (or T) by the checkpoint
        trainer.family.augment.p.fill_(0.42)
    if augment == "diffusion":
        trainer.family.augment.p.fill_(0.2)  # T = t_min + round(p (t_max - t_min)) = 10 + 0.2 * 990
    trainer.fit()
    module, what = GANFamily.augmentation_at(Run(tmp_path))
    assert what == caption
    assert (module is None) == (augment == "none")
    if module is not None:
        assert module.training is False
    if augment == "ada":
        assert isinstance(module, AdaptiveAugment) and module.p.item() == pytest.approx(0.42)


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(model="pggan"), "--model pggan is not a gan-family model"),
        (dict(lr_g=0.0), "--lr-g must be a positive number no larger than 1, got 0.0"),
        (dict(lr_d=2.0), "--lr-d must be a positive number no larger than 1, got 2.0"),
        (dict(beta1=1.0), "Adam betas must be in [0, 1), got 1.0, 0.999"),
        (dict(beta2=-0.1), "Adam betas must be in [0, 1), got 0.5, -0.1"),
        (dict(beta2=1.0), "Adam betas must be in [0, 1), got 0.5, 1.0"),
        (dict(r1_weight=-1.0), "--r1-weight must be >= 0 (0 turns it off), got -1.0"),
        (dict(clip=-0.1), "--clip must be >= 0 (0 turns it off), got -0.1"),
        (dict(ada_target=-1.5), "--ada-target is a target for E[sign(D(real))], in [-1, 1]; got -1.5"),
        (dict(n_critic=0), "--n-critic must be >= 1, got 0"),
        (dict(gp_weight=-1.0), "--gp-weight must be >= 0 (0 turns it off), got -1.0"),
        (dict(aux_weight=-0.5), "--aux-weight must be >= 0 (0 turns it off), got -0.5"),
        (dict(augment="blur"), "unknown --augment 'blur'; choose one of none, ada, diffaugment, diffusion"),
        (dict(ada_target=1.5), "--ada-target is a target for E[sign(D(real))], in [-1, 1]; got 1.5"),
        (dict(ada_kimg=0.0), "--ada-kimg must be > 0 and --ada-interval >= 1"),
        (dict(ada_interval=0), "--ada-kimg must be > 0 and --ada-interval >= 1"),
        (dict(diffusion_t_max=0), "--diffusion-t-max must be >= 1, --diffusion-sigma > 0"),
        (dict(diffusion_sigma=0.0), "--diffusion-t-max must be >= 1, --diffusion-sigma > 0"),
        (dict(diffusion_t_min=0), "--diffusion-t-min must be in [1, --diffusion-t-max = 1000], got 0"),
        (
            dict(diffusion_t_min=11, diffusion_t_max=10),
            "--diffusion-t-min must be in [1, --diffusion-t-max = 10], got 11",
        ),
        (dict(model="cgan", augment="diffusion"), "--augment diffusion is built for --model dcgan; use ada"),
        (dict(z_dim=0), "--z-dim and --width must be >= 1"),
        (dict(width=0), "--z-dim and --width must be >= 1"),
        (dict(resolution=48), "--model dcgan takes --resolution 32 or 64 (the toolkit resizes the images"),
    ],
)
def test_each_bad_setting_is_a_one_line_error(kw, message):
    with pytest.raises(ToolkitError) as caught:
        TrainConfig(**kw).validate()
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "kw",
    [
        dict(model="mlp", resolution=48),
        dict(resolution=None),
        dict(resolution=64),
        dict(ada_target=-1.0),
        dict(ada_target=1.0),
        dict(beta1=0.0, beta2=0.0),
        dict(n_critic=1, z_dim=1, width=1, ada_interval=1, diffusion_t_min=1, diffusion_t_max=1),
        dict(gp_weight=0.0, r1_weight=0.0, clip=0.0, aux_weight=0.0),
        dict(augment="diffusion"),
    ],
)
def test_settings_at_their_limits_are_accepted(kw):
    TrainConfig(**kw).validate()


def test_the_presets_follow_the_wgan_papers():
    wgan, gp = TrainConfig.for_model("wgan"), TrainConfig.for_model("wgan-gp")
    assert (wgan.loss, wgan.n_critic, wgan.clip, wgan.lr_g, wgan.lr_d, wgan.beta1, wgan.beta2) == (
        "wasserstein", 5, 0.01, 5e-5, 5e-5, 0.0, 0.9
    )  # fmt: skip
    assert (gp.loss, gp.n_critic, gp.gp_weight, gp.clip) == ("wasserstein", 5, 10.0, 0)
    assert (gp.lr_g, gp.lr_d, gp.beta1, gp.beta2) == (2e-4, 2e-4, 0, 0.9)
    dcgan = TrainConfig.for_model("dcgan")
    assert (dcgan.loss, dcgan.n_critic, dcgan.beta1, dcgan.lr_g) == ("nonsaturating", 1, 0.5, 1e-3)


def test_diffusion_gan_swaps_in_a_timestep_discriminator_after_building_the_plain_one():
    from toolkit.models.timestep import TimestepDiscriminator

    cfg = TrainConfig(width=4, z_dim=4, augment="diffusion", diffusion_t_max=9)
    torch.manual_seed(0)
    nets = GANFamily.build_nets(cfg, DataSpec((1, 32, 32)))
    torch.manual_seed(0)
    plain = GANFamily.build_nets(TrainConfig(width=4, z_dim=4), DataSpec((1, 32, 32)))
    assert isinstance(nets["D"], TimestepDiscriminator) and set(nets) == {"G", "D"}
    assert all(torch.equal(a, b) for a, b in zip(nets["G"].parameters(), plain["G"].parameters()))
    assert nets["D"](torch.zeros(2, 1, 32, 32), torch.tensor([0, 9])).shape == (2,)
    assert nets["D"].t_max == 9


def test_the_conditioning_settings_reach_the_nets():
    nets = GANFamily.build_nets(
        TrainConfig(model="cgan", d_condition="concat"), DataSpec((1, 32, 32), num_classes=3)
    )
    assert nets["D"].mode == "concat" and nets["D"].num_classes == 3
    nets = GANFamily.build_nets(TrainConfig(model="cgan"), DataSpec((1, 32, 32), num_classes=3))
    assert nets["D"].mode == "projection"


def test_the_family_needs_labels_only_for_conditional_models():
    assert GANFamily.needs(TrainConfig(model="cgan")) == ("image", "label")
    assert GANFamily.needs(TrainConfig(model="acgan")) == ("image", "label")
    assert GANFamily.needs(TrainConfig(model="dcgan")) == ("image",)
    assert GANFamily.sampler({"G": "g", "D": "d"}, {}, {}) == "g"


# --- the base class and the registry -------------------------------------------------------------------
def test_dataspec_from_data_and_from_config_json():
    assert DataSpec.of(_data(classes=3)) == DataSpec((1, 32, 32), "images", 3, ())
    paired = {
        "sample_shape": [3, 8, 8],
        "kind": "translation",
        "class_names": None,
        "target_shape": [1, 8, 8],
    }
    assert DataSpec.from_config(paired) == DataSpec((3, 8, 8), "translation", 0, (1, 8, 8))
    points = {"sample_shape": [2], "kind": "points", "class_names": ["a", "b"]}
    assert DataSpec.from_config(points) == DataSpec((2,), "points", 2, ())


def test_check_data_names_what_is_missing_and_hints_at_class_folders():
    cfg = TrainConfig(model="acgan")
    with pytest.raises(ToolkitError) as caught:
        GANFamily.check_data(cfg, _data(classes=0))
    assert str(caught.value) == (
        "--model acgan needs batches with image, label, but tiny gives image (put one sub-folder per class)"
    )
    GANFamily.check_data(cfg, _data(classes=3))

    class Paired(Family):
        @classmethod
        def needs(cls, config):
            return ("image", "target")

    with pytest.raises(ToolkitError, match=r"needs batches with image, target, but tiny gives image, label$"):
        Paired.check_data(cfg, _data(classes=3))


def test_the_base_family_puts_nets_on_the_device_in_training_mode_and_has_no_sampler():
    class Two(Family):
        name, models = "two", {"two": "a test family"}

        @classmethod
        def build_nets(cls, config, spec):
            return {"A": torch.nn.Linear(2, 2).eval(), "B": torch.nn.Linear(2, 1).eval()}

        def phases(self):
            return []

        def grid(self):
            return torch.zeros(1), None

    fam = Two(TrainConfig(), _data(classes=0), torch.device("meta"))
    assert all(n.training and n.weight.device.type == "meta" for n in fam.nets.values())
    assert (fam.optimizers, fam.averaged, fam.state_dict()) == ({}, {}, {})
    given = {"A": torch.nn.Linear(1, 1).eval()}
    assert Two(TrainConfig(), _data(), torch.device("cpu"), nets=given).nets["A"] is given["A"]
    with pytest.raises(ToolkitError, match=r"^--model two has no generator to sample from$"):
        Two.sampler({}, {"model": "two"}, {})
    assert Two.needs(TrainConfig()) == ("image",)


def test_set_lr_and_set_betas_reach_every_parameter_group():
    fam = _family("dcgan")
    fam.opt_d.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 9.0})
    Family.set_lr(fam.opt_d, 0.125)
    assert [g["lr"] for g in fam.opt_d.param_groups] == [0.125, 0.125]
    fam.config.beta1, fam.config.beta2 = 0.25, 0.75
    fam.set_betas()
    assert {g["betas"] for o in fam.optimizers.values() for g in o.param_groups} == {(0.25, 0.75)}


def test_family_for_finds_every_model_or_lists_them():
    assert family_for("wgan-gp") is GANFamily and family_for("pggan").name == "pggan"
    with pytest.raises(ToolkitError, match=r"^unknown model 'gan'; choose one of mlp, dcgan, cgan, acgan, "):
        family_for("gan")


def test_a_config_made_without_its_preset_is_refused_instead_of_training_another_objective():
    """GANConfig(model="wgan-gp") used to train the non-saturating loss without the penalty (issue #32)."""
    from toolkit.families import GANConfig, SRGANConfig, config_for

    with pytest.raises(ToolkitError) as refused:
        GANConfig(model="wgan-gp").validate()
    assert str(refused.value) == (
        "--model wgan-gp trains the Wasserstein loss with a gradient penalty (--loss wasserstein, "
        "--gp-weight > 0), got --loss nonsaturating, --gp-weight 0.0; leave these to the model's preset "
        "(in Python: build the config with config_for('wgan-gp', ...))"
    )
    with pytest.raises(ToolkitError, match=r"^--model wgan trains the Wasserstein loss with weight clipping"):
        TrainConfig(model="wgan", loss="wasserstein").validate()  # no clipping: an unconstrained critic
    with pytest.raises(ToolkitError, match=r"got --gp-weight 0; leave"):
        config_for("wgan-gp", gp_weight=0).validate()
    with pytest.raises(ToolkitError, match=r"^--model srgan trains a content loss plus an adversarial term"):
        SRGANConfig(model="srgan").validate()  # would be a pixel-only SRResNet
    GANConfig(model="wgan-gp", loss="wasserstein", gp_weight=10.0).validate()  # the objective, by hand
    for model in ("wgan", "wgan-gp", "dcgan", "mlp"):
        assert TrainConfig.for_model(model) == config_for(model).validate()  # the lessons' name, one way
    with pytest.raises(ToolkitError, match=r"^--model pix2pix is not a gan-family model; build its config"):
        TrainConfig.for_model("pix2pix")
