"""Every exercise check accepts its reference solution and rejects plausible wrong answers, each with the
sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.pggan import check_fade_in, check_pixel_norm, check_stage

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"


def solutions(lesson: str):
    spec = importlib.util.spec_from_file_location(lesson, SOLUTIONS / f"{lesson}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PGGAN = solutions("08_pggan")


@pytest.mark.parametrize(
    "check, answer",
    [(check_pixel_norm, PGGAN.pixel_norm), (check_fade_in, PGGAN.fade_in_output), (check_stage, PGGAN.stage)],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda x: x / torch.sqrt(x.pow(2).mean(dim=(1, 2, 3), keepdim=True) + 1e-8),
            "channels \\*and\\* pixels",
        ),
        (
            lambda x: (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-8),
            "mean square 1|not by the standard",
        ),
        (lambda x: x / torch.sqrt(x.pow(2).mean(dim=1, keepdim=True)), "epsilon"),
        (lambda x: x[:, :1], "shape"),
    ],
)
def test_pixel_norm_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_pixel_norm(wrong)


def up(x):
    return F.interpolate(x, scale_factor=2, mode="nearest")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda old, new, a: a * up(old) + (1 - a) * new, "weight of the \\*new\\* block"),
        (
            lambda old, new, a: (1 - a) * F.interpolate(old, scale_factor=2, mode="bilinear") + a * new,
            "nearest",
        ),
        (lambda old, new, a: (1 - a) * old + a * new[..., ::2, ::2], "new resolution"),
        (lambda old, new, a: (1 - a**2) * up(old) + a**2 * new, "blend linearly"),
    ],
)
def test_fade_in_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_fade_in(wrong)


def stage_without_stable_phases(kimg):
    if kimg < 600:
        return 4, 1.0
    r, t = 8, kimg - 600
    while t >= 600 and r < 32:
        r, t = r * 2, t - 600
    return r, min(t / 600, 1.0)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (stage_without_stable_phases, "should be at 8x8|should be at 16x16"),
        (lambda kimg: (PGGAN.stage(kimg)[0], 1 - PGGAN.stage(kimg)[1]), "alpha should be"),
        (lambda kimg: PGGAN.stage(kimg)[0], "pair"),
    ],
)
def test_stage_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_stage(wrong)


def test_grade_prints_the_verdict_and_a_stub_is_not_an_error(capsys):
    def pixel_norm(x):
        raise NotImplementedError

    assert not grade(check_pixel_norm, pixel_norm)
    assert "not attempted" in capsys.readouterr().out
    assert not grade(check_pixel_norm, lambda x: x)
    assert capsys.readouterr().out.startswith("x ")
    assert grade(check_pixel_norm, PGGAN.pixel_norm)
    show_solution("08_pggan", "stage")
    assert "def stage(kimg)" in capsys.readouterr().out


def test_a_grade_cell_shows_only_the_printed_verdict():
    # a check cell ends with grade(...): the notebook displays its value, which must add nothing to the
    # printed line (a plain False was echoed under every check a learner had not solved yet)
    from IPython.core.formatters import DisplayFormatter

    shown, _ = DisplayFormatter().format(grade(check_pixel_norm, lambda x: x))
    assert shown == {}
    assert DisplayFormatter().format(False)[0] == {"text/plain": "False"}  # the control: shown before


# --- every check rejects the toolkit's own answer and the lesson's by-hand cell ---------------------------
# One table for every check in toolkit/exercises/: the wrong answers a learner finds nearest to hand, (a) the
# toolkit's (or torch's) implementation of the answer, called with the exercise's arguments, and (b) the
# lesson's by-hand cell above the exercise, read from the notebook's source. Where a check has no such answer,
# the table says why instead. The toolkit answers must be refused with the check's own sentence (``refuses``),
# so a refusal that stops working fails here and not silently.

import ast  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pkgutil  # noqa: E402
import types  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
from torch import nn  # noqa: E402

import toolkit.exercises  # noqa: E402
from toolkit import directions, losses, projection  # noqa: E402
from toolkit.augment import AdaptiveAugment, ForwardDiffusion, ada_adjust  # noqa: E402
from toolkit.classifier import class_weights, macro_f1  # noqa: E402
from toolkit.data.toy import mode_quality  # noqa: E402
from toolkit.families.pggan import stage_at  # noqa: E402
from toolkit.image_pool import ImagePool  # noqa: E402
from toolkit.metrics import frechet_distance_from_stats  # noqa: E402
from toolkit.metrics.image_quality import psnr  # noqa: E402
from toolkit.metrics.kid import mmd2_unbiased, polynomial_kernel  # noqa: E402
from toolkit.metrics.prdc import prdc, precision_recall  # noqa: E402
from toolkit.models import stylegan  # noqa: E402
from toolkit.models.dcgan import dcgan_init  # noqa: E402
from toolkit.models.pggan import PixelNorm, fade_in  # noqa: E402
from toolkit.models.pix2pix import PatchDiscriminator  # noqa: E402
from toolkit.perceptual import gram_matrix, style_loss, total_variation_loss  # noqa: E402
from toolkit.regularizers import gradient_penalty  # noqa: E402
from toolkit.truncation import truncated_normal  # noqa: E402

LESSONS = SOLUTIONS.parent


def from_lesson(notebook: str, *names: str, params: tuple = (), env: dict | None = None, substitute=None):
    """The lesson's own code, read from the notebook's source: with one name of a function or class, that
    object as the cell defines it; otherwise a function of ``params`` that runs the cell's assignments to
    ``names`` (found anywhere in the cell, also inside a function) and returns the last. The cell's functions
    are in scope."""
    for cell in json.loads((LESSONS / f"{notebook}.ipynb").read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        lines = [line for line in cell["source"] if not line.startswith(("%", "!"))]  # no IPython magics
        tree = ast.parse("".join(lines))
        defs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
        assigns: dict = {}
        for node in ast.walk(tree):  # the first assignment to each name
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                assigns.setdefault(node.targets[0].id, node)
        wanted_def = len(names) == 1 and any(d.name == names[0] for d in defs)
        if not wanted_def and not all(name in assigns for name in names):
            continue
        namespace = {"torch": torch, "F": F, "nn": nn, "np": np, "math": math, "scipy": scipy, "QUICK": True}
        namespace.update(env or {})
        for node in defs:  # a default argument may name the lesson's constants: skip what cannot be built
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), notebook, "exec"), namespace)
            except NameError:
                pass
        if wanted_def:
            return namespace[names[0]]
        body = [f"    {ast.unparse(assigns[name])}" for name in names[:-1]]
        body.append(f"    return {ast.unparse(assigns[names[-1]].value)}")
        source = f"def answer({', '.join(params)}):\n" + "\n".join(body)
        for old, new in (substitute or {}).items():
            source = source.replace(old, new)
        exec(source, namespace)
        return namespace["answer"]
    raise LookupError(f"{notebook}: no code cell defines {', '.join(names)}")


def autograd_pair(minimax, non_saturating, scale=len):
    """generator_gradients through two losses (batch means): autograd of the mean times ``scale`` (the
    batch size: the per-sample gradients)."""

    def generator_gradients(logits):
        x = logits.clone().requires_grad_(True)
        return tuple(torch.autograd.grad(loss(x) * scale(x), x)[0] for loss in (minimax, non_saturating))

    return generator_gradients


def toolkit_rt(d_real):
    observer = AdaptiveAugment(interval=1)
    observer.adaptive = False
    observer.observe(d_real)
    return observer.rt.item()


def toolkit_pool(stored, fakes, size):
    pool = ImagePool(size)
    pool.images = stored
    return pool.query(fakes)


def cat(*x):
    return torch.cat(x, dim=1)


def fake_branch_under_no_grad(D, a, b, fake):
    """Lesson 09's D loss, right in value, with D's output on the fakes computed under torch.no_grad():
    D would never learn from the generated pairs."""
    real_logits = D(cat(a, b))
    with torch.no_grad():
        fake_logits = D(cat(a, fake))
    real = 0.9 * F.softplus(-real_logits) + 0.1 * F.softplus(real_logits)
    return 0.5 * (real.mean() + F.softplus(fake_logits).mean())


def modulated_conv_loop_of_section_3(x, weight, styles):
    """Lesson 14's section-3 cell as a function: right values, one convolution per sample."""
    out = []
    for b in range(x.shape[0]):
        w1 = weight * styles[b][None, :, None, None]
        w2 = w1 / torch.sqrt(w1.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        out.append(F.conv2d(x[b : b + 1], w2, padding=1))
    return torch.cat(out)


SRGAN_CELL = from_lesson("11_srgan", "my_adversarial", params=("family", "fake"))
CHECKS = {
    "vanilla_gan.check_optimal_discriminator": dict(
        toolkit="neither the toolkit nor torch computes D* from two densities",
        by_hand="section 1 derives D* in prose only; no cell computes it",
    ),
    "vanilla_gan.check_bce_with_logits": dict(
        toolkit=[F.binary_cross_entropy_with_logits, lambda x, t: nn.BCEWithLogitsLoss()(x, t)],
        by_hand=[lambda x, t: from_lesson("01_vanilla_gan", "d_loss_by_hand")(x[t == 1], x[t == 0])],
    ),
    "vanilla_gan.check_generator_gradients": dict(
        toolkit=[autograd_pair(losses.minimax_g_loss, losses.nonsaturating_g_loss)],
        by_hand=[  # section 3's losses as the cell writes them: batch means
            autograd_pair(
                lambda x: -from_lesson("01_vanilla_gan", "g_loss_by_hand")(-x),
                from_lesson("01_vanilla_gan", "g_loss_by_hand"),
                scale=lambda x: 1,
            )
        ],
    ),
    "vanilla_gan.check_mode_counts": dict(
        toolkit=[lambda s, m, std: torch.tensor(mode_quality(s, "ring" if len(m) == 8 else "grid").counts)],
        by_hand="section 5 reads mode_quality's counts; no cell counts by hand",
    ),
    "dcgan.check_convtranspose_out": dict(
        toolkit=[lambda n, k, s, p: nn.ConvTranspose2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1]],
        by_hand="section 3 prints the shapes the layers give; no cell computes the side",
    ),
    "dcgan.check_dcgan_weights_init": dict(
        toolkit=[dcgan_init],
        by_hand="section 5 initialises with the toolkit's dcgan_init; no cell does it by hand",
    ),
    "dcgan.check_generator_block": dict(
        toolkit="the toolkit builds DCGAN's blocks inline in DCGANGenerator, with no function to call",
        by_hand=[
            lambda c_in, c_out: from_lesson(
                "02_dcgan",
                "layers",
                params=("c_in", "c_out"),
                env={"Z": 64, "W": 32},
                substitute={"4 * W, 2 * W": "c_in, c_out", "BatchNorm2d(2 * W)": "BatchNorm2d(c_out)"},
            )(c_in, c_out)[1]
        ],
    ),
    "evaluation.check_frechet_distance": dict(
        toolkit=[frechet_distance_from_stats],
        by_hand="section 2's fid_by_hand takes two sets of features; the exercise starts from the statistics",
    ),
    "evaluation.check_mmd2": dict(
        toolkit=[
            lambda x, y: mmd2_unbiased(
                polynomial_kernel(x, x), polynomial_kernel(x, y), polynomial_kernel(y, y)
            )
        ],
        by_hand=[from_lesson("03_evaluating_gans", "mmd2_by_hand")],
    ),
    "evaluation.check_precision_recall": dict(
        toolkit=[
            precision_recall,
            lambda r, f, k: tuple(prdc(r, f, k_pr=k).as_dict()[m] for m in ("precision", "recall")),
        ],
        by_hand="section 6 calls the toolkit's prdc; no cell computes k-NN balls by hand",
    ),
}
CHECKS.update(
    {
        "conditional.check_projection_scores": dict(
            toolkit="the toolkit has no function for the scores; D, the exercise's input, is its class",
            by_hand=[  # section 3's hand-built D, class by class: its whole output, not the projection term
                lambda D, x: torch.stack(
                    [
                        from_lesson("04_conditional_gan", "HandProjectionD", env={"C": 5, "W": 4}).forward(
                            D, x, torch.full((len(x),), c)
                        )
                        for c in range(D.num_classes)
                    ],
                    1,
                )
            ],
        ),
        "conditional.check_class_cross_entropy": dict(
            toolkit=[
                F.cross_entropy,
                lambda x, t: nn.CrossEntropyLoss()(x, t),
                lambda x, t: F.nll_loss(x.log_softmax(1), t),
            ],
            by_hand="section 6 trains ACGAN with the toolkit's loss; no cell writes the cross-entropy",
        ),
        "conditional.check_truncated_z": dict(
            toolkit=[truncated_normal, lambda n, d, t: nn.init.trunc_normal_(torch.empty(n, d), a=-t, b=t)],
            by_hand="section 8 calls the toolkit's truncated_normal; no cell truncates by hand",
        ),
        "wgan_gp.check_gradient_penalty": dict(
            toolkit=[lambda critic, real, fake, weight=10.0: gradient_penalty(critic, real, fake, weight)[0]],
            by_hand="sections 2-3 call the toolkit's gradient_penalty; no cell builds the penalty by hand",
        ),
        "wgan_gp.check_critic_loss": dict(
            toolkit=[
                lambda critic, real, fake: losses.wasserstein_d_loss(critic(real), critic(fake.detach()))
            ],
            by_hand=[
                from_lesson("05_wgan_gp", "loss", params=("f", "real", "fake"))
            ],  # section 2's critic step
        ),
        "wgan_gp.check_cross_gradient": dict(
            toolkit="no toolkit function; torch.autograd.grad is the tool the exercise uses, not its answer",
            by_hand="section 2's grad_norms takes each sample's gradient of the batch's total score",
        ),
        "ada.check_overfitting_rt": dict(
            toolkit=[toolkit_rt],
            by_hand="section 1 shows r_t as a formula; the toolkit's controller computes it",
        ),
        "ada.check_ada_update": dict(
            toolkit=[
                lambda p, rt, target, n, kimg: ada_adjust(
                    torch.tensor(p), torch.tensor(rt), target, n, kimg
                ).item()
            ],
            by_hand="section 1 shows the update as a formula; no cell computes it by hand",
        ),
        "ada.check_rotate90": dict(
            toolkit=[lambda x, p: AdaptiveAugment(p=p, ops=("rotate90",))(x)],
            by_hand=[from_lesson("06_ada", "xflip_by_hand")],
        ),
        "diffusion_gan.check_alpha_bar": dict(
            toolkit="ForwardDiffusion computes alpha_bar for its own schedule only; the check feeds others",
            by_hand="section 1 steps the chain (diffuse_step_by_step) but never forms alpha_bar by hand",
        ),
        "diffusion_gan.check_diffuse": dict(
            toolkit=[
                lambda x, t, alpha_bar, sigma, noise: ForwardDiffusion(
                    t_max=len(alpha_bar) - 1, sigma=sigma
                ).diffuse(x, t)
            ],
            by_hand=[
                lambda x, t, alpha_bar, sigma, noise: from_lesson(
                    "07_diffusion_gan",
                    "diffuse_step_by_step",
                    env={"betas": 1 - alpha_bar[1:] / alpha_bar[:-1]},
                )(x, int(t.max()), sigma)
            ],
        ),
        "diffusion_gan.check_next_T": dict(
            toolkit=[
                lambda T, rt, target, n, kimg, t_min, t_max: (
                    t_min
                    + (t_max - t_min)
                    * ada_adjust(
                        torch.tensor((T - t_min) / (t_max - t_min)), torch.tensor(rt), target, n, kimg
                    ).item()
                )
            ],
            by_hand="section 2 sets p by hand (diffusion.p.fill_) but never updates T",
        ),
        "pggan.check_pixel_norm": dict(
            toolkit=[lambda x: PixelNorm()(x)],
            by_hand="section 2's by-hand cells are the equalised conv and minibatch std, not pixel norm",
        ),
        "pggan.check_fade_in": dict(
            toolkit=[fade_in],
            by_hand="section 4 shows the fade with the toolkit's generator; no cell blends by hand",
        ),
        "pggan.check_stage": dict(
            toolkit=[lambda kimg: stage_at(kimg, [4, 8, 16, 32], 600, 600)],
            by_hand="section 3 reads the schedule from the training log; no cell computes it",
        ),
        "pix2pix.check_generator_loss": dict(
            toolkit=[
                lambda D, a, fake, b, w: losses.lsgan_g_loss(D(cat(a, fake))) + w * losses.l1_loss(fake, b),
                lambda D, a, fake, b, w: (
                    losses.nonsaturating_g_loss(D(cat(a, fake))) + w * losses.l1_loss(fake, b)
                ),
            ],
            by_hand=[from_lesson("09_pix2pix", "my_g", params=("D", "a", "fake", "b", "LAMBDA"))],
        ),
        "pix2pix.check_discriminator_loss": dict(
            toolkit=[lambda D, a, b, fake: 0.5 * losses.bce_d_loss(D(cat(a, b)), D(cat(a, fake.detach())))],
            by_hand=[
                from_lesson("09_pix2pix", "my_d", params=("D", "a", "b", "fake")),
                fake_branch_under_no_grad,
            ],
        ),
        "pix2pix.check_patch_output_size": dict(
            toolkit=[lambda size, n: PatchDiscriminator(2, 8, n)(torch.zeros(1, 2, size, size)).shape[-1]],
            by_hand="section 5 measures the receptive field; no cell computes the output size",
        ),
        "cyclegan.check_cycle_loss": dict(
            toolkit=[
                lambda a, b, G_AB, G_BA: (
                    losses.cycle_consistency_loss(a, G_BA(G_AB(a)))
                    + losses.cycle_consistency_loss(b, G_AB(G_BA(b)))
                )
            ],
            by_hand="it grades the lesson's own by-hand cell (section 2), which must pass; no exercise does",
        ),
        "cyclegan.check_identity_loss": dict(
            toolkit=[
                lambda a, b, G_AB, G_BA: losses.identity_loss(b, G_AB(b)) + losses.identity_loss(a, G_BA(a))
            ],
            by_hand=[from_lesson("10_cyclegan", "my_cycle_loss")],
        ),
        "cyclegan.check_lsgan_losses": dict(
            toolkit=[lambda r, f: (losses.lsgan_d_loss(r, f), losses.lsgan_g_loss(f))],
            by_hand="section 3 calls toolkit.losses' lsgan_d_loss and lsgan_g_loss; no cell writes them",
        ),
        "cyclegan.check_pool_query": dict(
            toolkit=[toolkit_pool],
            by_hand="section 4 uses the toolkit's ImagePool; no cell writes the pool",
        ),
        "srgan.check_pixel_unshuffle": dict(
            toolkit=[F.pixel_unshuffle, lambda x, r: nn.PixelUnshuffle(r)(x)],
            by_hand=[from_lesson("11_srgan", "pixel_shuffle_loops")],
        ),
        "srgan.check_generator_loss": dict(
            toolkit=[
                lambda features, D, fake, real, w: (
                    (features(fake) - features(real).detach()).pow(2).mean()
                    + w * losses.nonsaturating_g_loss(D(fake))
                )
            ],
            by_hand=[
                lambda features, D, fake, real, w: (
                    (features(fake) - features(real).detach()).pow(2).mean()
                    + w * SRGAN_CELL(types.SimpleNamespace(D=D), fake)
                )
            ],
        ),
        "srgan.check_psnr": dict(
            toolkit=[psnr],
            by_hand="section 2 prints PSNR from the toolkit's psnr; no cell computes it by hand",
        ),
        "perceptual.check_gram_matrix": dict(
            toolkit=[gram_matrix],
            by_hand="it grades the lesson's own by-hand cell (section 2), which must pass; no exercise does",
        ),
        "perceptual.check_centred_gram": dict(
            toolkit=[gram_matrix],
            by_hand=[from_lesson("12_perceptual_loss", "my_gram")],
        ),
        "perceptual.check_total_variation": dict(
            toolkit=[total_variation_loss],
            by_hand="the lesson calls the toolkit's total_variation_loss inside stylize; no cell writes it",
        ),
        "perceptual.check_style_loss": dict(
            toolkit=[
                style_loss,
                lambda f, t: sum((gram_matrix(v) - t[k]).pow(2).sum(dim=(1, 2)).mean() for k, v in f.items()),
            ],
            by_hand="sections 4-5 call the toolkit's style_loss; no cell writes it",
        ),
        "gan_augmentation.check_macro_f1": dict(
            toolkit=[macro_f1],
            by_hand=[
                from_lesson(
                    "13_gan_augmentation", "recall_by_hand", "precision_by_hand", "f1_by_hand", params=("M",)
                )
            ],
        ),
        "gan_augmentation.check_class_weights": dict(
            toolkit=[class_weights],
            by_hand="section 3 weights the classes with the toolkit's class_weights; no cell computes them",
        ),
        "stylegan.check_modulated_conv": dict(
            toolkit=[
                lambda x, w, s: stylegan.modulated_conv2d(x, w, s, padding=1),
                lambda x, w, s: F.conv2d(
                    x.reshape(1, -1, *x.shape[2:]),
                    stylegan.modulate(w, s).reshape(-1, *w.shape[1:]),
                    padding=1,
                    groups=x.shape[0],
                ).reshape(x.shape[0], w.shape[0], *x.shape[2:]),
            ],
            by_hand=[modulated_conv_loop_of_section_3],
        ),
        "stylegan.check_truncate": dict(
            toolkit=[stylegan.truncate],
            by_hand="section 6 truncates through the toolkit's generator (G(z, psi=...)); no cell writes it",
        ),
        "stylegan.check_mix_styles": dict(
            toolkit=[stylegan.mix_styles],
            by_hand="section 5 mixes with the toolkit's mix_styles; no cell writes it",
        ),
        "using_a_gan.check_projector_lr": dict(
            toolkit=[projection.learning_rate],
            by_hand="sections 5-6 project with the toolkit's project; no cell writes the schedule",
        ),
        "using_a_gan.check_shell_penalty": dict(
            toolkit=[lambda z: projection.latent_penalty(z, "z")],
            by_hand="section 3 steers with the toolkit's penalty (prior_weight); no cell writes it",
        ),
        "using_a_gan.check_remove_component": dict(
            toolkit=[directions.conditional_direction],
            by_hand="section 4 calls the toolkit's conditional_direction; no cell removes it by hand",
        ),
        "gan_augmentation.check_keep_confident": dict(
            toolkit="the toolkit filters inside generate_classes with a scorer, not from given probabilities",
            by_hand="section 5 filters with the toolkit's augment_dataset; no cell ranks by hand",
        ),
    }
)


def every_check():
    for module in pkgutil.iter_modules(toolkit.exercises.__path__):
        imported = importlib.import_module(f"toolkit.exercises.{module.name}")
        for name, function in inspect.getmembers(imported, inspect.isfunction):
            if name.startswith("check_") and function.__module__ == imported.__name__:
                yield f"{module.name}.{name}", function


ALL_CHECKS = dict(every_check())


def cases(kind: str):
    return [
        pytest.param(name, answer, id=f"{name}-{kind}{i}")
        for name, entry in CHECKS.items()
        if isinstance(entry[kind], list)
        for i, answer in enumerate(entry[kind])
    ]


def test_every_check_has_a_row_and_each_row_a_check():
    assert sorted(ALL_CHECKS) == sorted(CHECKS), (
        f"checks without a row: {sorted(set(ALL_CHECKS) - set(CHECKS))}; "
        f"rows without a check: {sorted(set(CHECKS) - set(ALL_CHECKS))}"
    )
    for name, entry in CHECKS.items():
        for kind in ("toolkit", "by_hand"):
            assert entry[kind], f"{name}: give the {kind} wrong answers, or say why there are none"


@pytest.mark.parametrize("name, answer", cases("toolkit"))
def test_the_check_refuses_the_toolkits_own_answer(name, answer):
    check = ALL_CHECKS[name]
    assert getattr(check, "refused", ()), f"{name} refuses nothing: decorate it with @refuses(...)"
    with pytest.raises(WrongAnswer) as wrong:
        check(answer)
    assert str(wrong.value) == check.hint  # refused, not rejected by accident


@pytest.mark.parametrize("name, answer", cases("by_hand"))
def test_the_check_rejects_the_lessons_by_hand_cell(name, answer):
    with pytest.raises(WrongAnswer):
        ALL_CHECKS[name](answer)


def test_a_function_imported_by_name_is_refused_and_restored_after():
    from toolkit.exercises import forbidden

    before = frechet_distance_from_stats.__code__
    with forbidden(frechet_distance_from_stats, "pixel_shuffle", hint="write it yourself"):
        with pytest.raises(WrongAnswer, match="write it yourself"):
            frechet_distance_from_stats(np.zeros(1), np.eye(1), np.zeros(1), np.eye(1))
    assert frechet_distance_from_stats.__code__ is before
    assert frechet_distance_from_stats(
        np.zeros(1), np.eye(1), np.full(1, 3.0), 4 * np.eye(1)
    ) == pytest.approx(10.0)
