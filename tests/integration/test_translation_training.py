"""pix2pix and CycleGAN as families of the loop: their data (built in and your own A/ B/ folders),
their losses by construction, training that measurably improves, exact resume, and the translate command."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import CHILD_ENV, fashion_mnist_or_skip
from PIL import Image
from torch import nn

from toolkit.data.translation import canny_edges, load_translation, load_translation_folder
from toolkit.errors import ToolkitError
from toolkit.training import Trainer, config_for

TINY_CYCLE = dict(
    width=4, blocks=1, d_width=4, batch_size=4, limit=32, threads=1, log_every=2, sample_every=0
)


def write_pairs(root, names=("a", "b", "c", "d"), size=(32, 32), b_names=None):
    rng = np.random.default_rng(0)
    for side, side_names in (("A", names), ("B", b_names or names)):
        (root / side).mkdir(parents=True, exist_ok=True)
        for n in side_names:
            Image.fromarray(rng.integers(0, 255, (size[1], size[0]), dtype=np.uint8)).save(
                root / side / f"{n}.png"
            )
    return root


# --- data -----------------------------------------------------------------------------------------
def test_edges2fashion_pairs_stay_aligned_in_batches():
    fashion_mnist_or_skip()
    data = load_translation("edges2fashion", limit=64)
    assert set(data.a.unique().tolist()) == {-1.0, 1.0}
    batch = data.sampler(8, seed=3, device="cpu").next()
    garments = batch["B"][:, :, 2:30, 2:30]  # the 28x28 garment inside its padding
    assert torch.equal(batch["A"][:, :, 2:30, 2:30], canny_edges(garments))
    assert data.held_out[0].shape == (64, 1, 32, 32)


def test_gray2color_inputs_are_the_luma_of_the_targets():
    data = load_translation("gray2color", limit=60)
    assert data.a.shape == (60, 1, 32, 32) and data.b.shape == (60, 3, 32, 32)
    luma = 0.299 * data.b[:, 0] + 0.587 * data.b[:, 1] + 0.114 * data.b[:, 2]
    assert torch.allclose(data.a[:, 0], luma)
    test = load_translation("gray2color", split="test", limit=30)
    assert not any(torch.equal(t, x) for t in test.b for x in data.b)


def test_unpaired_sampler_draws_each_side_and_resumes_exactly():
    fashion_mnist_or_skip()
    data = load_translation("sneaker2boot", limit=40, paired=False)
    sampler = data.sampler(8, seed=1, device="cpu")
    for _ in range(7):  # past the end of an epoch on both sides
        sampler.next()
    state = sampler.state_dict()
    expected = [sampler.next() for _ in range(3)]
    again = data.sampler(8, seed=1, device="cpu")
    again.load_state_dict(state)
    for want in expected:
        got = again.next()
        assert torch.equal(got["A"], want["A"]) and torch.equal(got["B"], want["B"])
    fresh = data.sampler(8, seed=1, device="cpu")
    first = fresh.next()
    idx_a = [int((data.a == im).flatten(1).all(1).nonzero()[0]) for im in first["A"]]
    idx_b = [int((data.b == im).flatten(1).all(1).nonzero()[0]) for im in first["B"]]
    assert idx_a != idx_b  # two independent shuffles


def test_own_folder_pairs_by_name(tmp_path):
    root = write_pairs(tmp_path / "set", names=("2", "1", "3"))
    data = load_translation_folder(root, paired=True, resolution=32)
    assert data.names == ["1", "2", "3"] and data.paired and data.a.shape == (3, 1, 32, 32)
    a1 = np.asarray(Image.open(root / "A" / "1.png"), dtype=np.float32) / 127.5 - 1
    assert torch.allclose(data.a[0, 0], torch.from_numpy(a1), atol=1e-6)  # same size: unchanged
    unpaired = load_translation_folder(
        write_pairs(tmp_path / "u", names=("x", "y"), b_names=("p", "q", "r")), paired=False, resolution=32
    )
    assert len(unpaired.a) == 2 and len(unpaired.b) == 3


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda r: write_pairs(r, names=("a", "b"), b_names=("a", "c")), r"A/b\.png .* no partner in B/"),
        (lambda r: write_pairs(r, names=("a",), b_names=("a", "z")), r"B/z\.png .* no partner in A/"),
        (lambda r: (write_pairs(r / "x"), r)[1], "no images in A/"),
        (
            lambda r: (write_pairs(r), (r / "B" / "c.png").write_bytes(b"not a png"), r)[2],
            r"cannot read image B/c\.png",
        ),
    ],
)
def test_own_folder_errors_name_the_first_offending_file(tmp_path, make, message):
    root = make(tmp_path)
    with pytest.raises(ToolkitError, match=message):
        load_translation_folder(root, paired=True, resolution=32)


def test_own_folder_pairs_of_different_sizes_are_refused(tmp_path):
    root = write_pairs(tmp_path, names=("a", "b"))
    Image.fromarray(np.zeros((40, 48), np.uint8)).save(root / "B" / "b.png")
    with pytest.raises(ToolkitError, match=r"A/b\.png is 32x32 but its partner B/b\.png is 48x40"):
        load_translation_folder(root, paired=True, resolution=32)


def test_wrong_data_for_a_family_is_one_line():
    fashion_mnist_or_skip()
    with pytest.raises(ToolkitError, match="unpaired.*use --model cyclegan"):
        Trainer(config_for("pix2pix", data="sneaker2boot", limit=16, threads=1), progress=False)
    with pytest.raises(ToolkitError, match="unknown translation dataset 'fashion-mnist'"):
        Trainer(config_for("cyclegan", data="fashion-mnist", threads=1), progress=False)
    with pytest.raises(ToolkitError, match="channel.*--identity-weight 0"):
        Trainer(config_for("cyclegan", data="gray2color", **TINY_CYCLE), progress=False)
    with pytest.raises(ToolkitError, match="--eval-every"):
        config_for("pix2pix", eval_every=25).validate()


# --- losses by construction ---------------------------------------------------------------------
class Half(nn.Module):
    """A 'discriminator' that says 0.5 everywhere (with a parameter, so it has an optimizer)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return torch.full((x.shape[0], 1, 2, 2), 0.5) + self.w * 0


def identity_conv(channels=1):
    conv = nn.Conv2d(channels, channels, 1)
    nn.init.ones_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


def test_cyclegan_losses_by_construction():
    """Identity generators and a D of 0.5 everywhere: cycle = identity = 0, each LSGAN term 0.25
    (the plateau junyanz#904 users report)."""
    fashion_mnist_or_skip()
    nets = {"G_AB": identity_conv(), "G_BA": identity_conv(), "D_A": Half(), "D_B": Half()}
    t = Trainer(config_for("cyclegan", **{**TINY_CYCLE, "pool_size": 0}), nets=nets, progress=False)
    batch = t.batches.next()
    loss, stats = t.family.g_step(batch)
    assert stats["loss_cycle"].item() == 0 and stats["loss_identity"].item() == 0
    assert loss.item() == pytest.approx(0.5)  # 0.25 for each direction
    d_loss, d_stats = t.family.d_step(None)
    assert d_stats["loss_d_a"].item() == pytest.approx(0.25) and d_loss.item() == pytest.approx(0.5)


def test_pix2pix_losses_by_hand():
    fashion_mnist_or_skip()
    torch.manual_seed(0)
    t = Trainer(config_for("pix2pix", limit=16, batch_size=4, width=4, d_width=4, threads=1), progress=False)
    f = t.family
    batch = t.batches.next()
    a, b = batch["A"], batch["B"]
    f.G.eval(), f.D.eval()  # no batch-norm updates, no dropout: the same numbers twice
    d_loss, _ = f.d_step(batch)
    fake = f.G(a)
    real_logits, fake_logits = f.D(torch.cat([a, b], 1)), f.D(torch.cat([a, fake], 1))
    by_hand = 0.5 * (
        F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    )
    assert d_loss.item() == pytest.approx(by_hand.item(), rel=1e-5)
    g_loss, stats = f.g_step(None)
    gan = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    assert g_loss.item() == pytest.approx((gan + 100 * (fake - b).abs().mean()).item(), rel=1e-5)
    assert [p.name for p in f.phases()] == ["D", "G"]
    assert [
        p.name for p in Trainer(config_for("pix2pix", limit=16, gan_weight=0.0, threads=1)).family.phases()
    ] == ["G"]


# --- training, eval mode, resume ---------------------------------------------------------------
def test_pix2pix_training_lowers_the_held_out_l1():
    fashion_mnist_or_skip()
    t = Trainer(
        config_for(
            "pix2pix", limit=500, steps=150, width=16, d_width=16, threads=1, log_every=50, sample_every=0
        ),
        progress=False,
    )
    test = load_translation("edges2fashion", split="test", limit=200)

    def held_out_l1():
        return (t.family.translate(test.a) - test.b).abs().mean().item()

    before = held_out_l1()
    t.fit()
    after = held_out_l1()
    assert after < 0.6 * before, (before, after)
    images, nrow = t.grid()
    assert nrow == 3 and images.shape == (3 * 8, 1, 32, 32)
    assert torch.equal(images[0::3], t.family.fixed_a.cpu())  # the input column is the fixed input


def test_translation_is_batch_independent_in_eval_mode_but_not_in_train_mode():
    fashion_mnist_or_skip()
    t = Trainer(config_for("pix2pix", limit=32, steps=5, width=8, d_width=8, threads=1), progress=False)
    t.fit()
    x = t.family.fixed_a
    assert torch.allclose(t.family.translate(x[:2]), t.family.translate(x)[:2], atol=1e-5)
    G = t.family.G.train()  # batch statistics (the paper's test-time setting) mix the batch
    with torch.no_grad():
        assert not torch.allclose(G(x[:2]), G(x)[:2], atol=1e-3)


def test_cyclegan_resumes_exactly(tmp_path):
    fashion_mnist_or_skip()
    cfg = dict(TINY_CYCLE, steps=6, pool_size=3, lr_decay=0.5)
    straight = Trainer(config_for("cyclegan", **cfg), progress=False)
    rows = straight.fit()
    first = Trainer(config_for("cyclegan", **cfg), run_dir=tmp_path / "r", progress=False)
    first.fit(until=3)
    resumed = Trainer.resume(tmp_path / "r", progress=False)
    assert resumed.family.steps_done == 3 and len(resumed.family.pool_a.images) == 3
    lr = resumed.family.optimizers["G"].param_groups[0]["lr"]
    assert lr == pytest.approx(2e-4 * (1 - 1 / 4))  # step 3 is the first of the last 3 of 6: decaying
    resumed_rows = resumed.fit()
    for name, net in straight.family.nets.items():
        for (k, v), w in zip(net.state_dict().items(), resumed.family.nets[name].state_dict().values()):
            assert torch.equal(v, w), (name, k)
    assert resumed_rows[-1] == rows[-1] | {"time": resumed_rows[-1]["time"]}


def test_train_and_translate_from_the_command_line(tmp_path):
    data = write_pairs(tmp_path / "pairs", names=[f"{i:02d}" for i in range(8)])
    run = tmp_path / "run"
    train = [
        sys.executable,
        "-m",
        "toolkit",
        "train",
        "--model",
        "pix2pix",
        "--data",
        str(data),
        "--run-dir",
        str(run),
        "--resolution",
        "32",
        "--steps",
        "3",
        "--batch-size",
        "4",
        "--width",
        "4",
        "--d-width",
        "4",
        "--skips",
        "off",
        "--no-progress",
    ]
    done = subprocess.run(train, env=CHILD_ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "8 pairs of 1x32x32 -> 1x32x32" in done.stderr
    photos = tmp_path / "mine"
    photos.mkdir()
    Image.fromarray(np.zeros((64, 96, 3), np.uint8)).save(photos / "wide.jpg")
    translate = [sys.executable, "-m", "toolkit", "translate", "--run-dir", str(run), "--input", str(photos)]
    done = subprocess.run(
        [*translate, "--out", str(tmp_path / "out")],
        env=CHILD_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "out" / "wide.png").size == (96, 64)  # its own size, one channel
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(photos / "odd.png")
    done = subprocess.run(
        [*translate, "--out", str(tmp_path / "out2")],
        env=CHILD_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "odd.png is 40x40 pixels" in done.stderr and "--resize" in done.stderr
    assert not (tmp_path / "out2").exists()  # checked before anything is written
    done = subprocess.run(
        [*translate, "--out", str(tmp_path / "out3"), "--resize"],
        env=CHILD_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and Image.open(tmp_path / "out3" / "odd.png").size == (32, 32)


def test_translate_refuses_a_noise_run_and_a_missing_direction(tmp_path):
    from toolkit.translate import translate_images

    Trainer(
        config_for("dcgan", data="digits", steps=2, batch_size=8, width=4, z_dim=4, threads=1),
        run_dir=tmp_path / "dcgan",
        progress=False,
    ).fit()
    with pytest.raises(ToolkitError, match="generates from noise; translate needs a pix2pix or cyclegan run"):
        translate_images(tmp_path / "dcgan", tmp_path, tmp_path / "out")
    pairs = write_pairs(tmp_path / "pairs")
    Trainer(
        config_for(
            "pix2pix", data=str(pairs), resolution=32, steps=1, batch_size=2, width=4, d_width=4, threads=1
        ),
        run_dir=tmp_path / "p2p",
        progress=False,
    ).fit()
    with pytest.raises(ToolkitError, match="--direction b2a is not available for pix2pix"):
        translate_images(tmp_path / "p2p", pairs / "A", tmp_path / "out", direction="b2a")
    written, replaced = translate_images(tmp_path / "p2p", pairs / "A", tmp_path / "out")
    assert replaced == []
    assert sorted(p.name for p in written) == ["a.png", "b.png", "c.png", "d.png"]
