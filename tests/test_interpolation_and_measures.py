"""Values, not just shapes: latent and class interpolation, the overfitting gap, label accuracy."""

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from toolkit.errors import ToolkitError
from toolkit.metrics.label_accuracy import label_accuracy
from toolkit.metrics.overfitting import OverfittingCallback, overfitting_gap
from toolkit.viz import class_interpolation, interpolate, lerp, slerp

E1, E2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])


def test_lerp_is_the_weighted_average():
    assert torch.allclose(lerp(E1, 2 * E2, 0.25), torch.tensor([0.75, 0.5]))


def test_slerp_walks_the_great_circle_at_constant_norm():
    """Between two orthogonal vectors of norm 2, slerp at t is 2 (cos(t 90deg), sin(t 90deg))."""
    for t in (0.0, 1 / 3, 0.5, 0.9, 1.0):
        angle = t * math.pi / 2
        expected = 2 * torch.tensor([math.cos(angle), math.sin(angle)])
        assert torch.allclose(slerp(2 * E1, 2 * E2, t), expected, atol=1e-5), t
    assert lerp(2 * E1, 2 * E2, 0.5).norm() < 1.5  # the straight line cuts the corner: norm sqrt(2)


def test_slerp_works_row_by_row_on_a_batch():
    z0, z1 = torch.stack([E1, E1]), torch.stack([E2, -E2])
    out = slerp(z0, z1, 0.5)
    s = math.sqrt(0.5)
    assert torch.allclose(out, torch.tensor([[s, s], [s, -s]]), atol=1e-6)


def test_interpolate_runs_from_z0_to_z1_in_equal_steps():
    z0, z1 = torch.randn(8, generator=torch.Generator().manual_seed(0)), torch.randn(8)
    path = interpolate(z0, z1, 5)
    assert path.shape == (5, 8)
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)
    assert torch.allclose(path[2], slerp(z0, z1, 0.5))
    linear = interpolate(z0, z1, 5, method="lerp")
    assert torch.allclose(linear[1], 0.75 * z0 + 0.25 * z1)


class LabelEcho(nn.Module):
    """A 'conditional generator' whose image is its label vector (and z's first entry), to read
    exactly what class_interpolation feeds it."""

    num_classes = 3

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, z, y):
        if y.dim() == 1:
            y = nn.functional.one_hot(y, self.num_classes).float()
        return torch.cat([y, z[:, :1]], 1)


def test_class_interpolation_slides_the_soft_label_with_one_latent():
    G = LabelEcho().train()
    z = torch.tensor([0.7, -1.0])
    out = class_interpolation(G, z, class_a=0, class_b=2, n=5)
    t = torch.linspace(0, 1, 5)
    assert torch.allclose(out[:, :3], torch.stack([1 - t, torch.zeros(5), t], 1))
    assert torch.all(out[:, 3] == 0.7)  # the same z in every frame
    assert G.training  # its mode is given back
    with pytest.raises(ValueError, match="conditional generator"):
        class_interpolation(nn.Linear(2, 2), z, 0, 1)


class ConstantD(nn.Module):
    """Scores each image by its mean pixel, plus 10 in train mode (the gap is measured in eval mode)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x.flatten(1).mean(1) + (10.0 if self.training else 0.0)


def test_the_overfitting_gap_is_train_minus_heldout_in_eval_mode():
    D = ConstantD().train()
    train, held = torch.full((4, 1, 2, 2), 0.5), torch.full((6, 1, 2, 2), -0.25)
    gap = overfitting_gap(D, train, held)
    assert gap == {"d_train": 0.5, "d_heldout": -0.25, "d_gap": 0.75}
    assert D.training


def test_the_overfitting_callback_fills_rows_only_on_its_steps_from_the_test_split():
    from toolkit.data import load_dataset

    data = load_dataset("digits", resolution=8)
    held = load_dataset("digits", split="test", resolution=8)
    trainer = SimpleNamespace(
        step=10,
        family=SimpleNamespace(nets={"D": ConstantD()}),
        data=data,
        config=SimpleNamespace(data="digits", resolution=8),
    )
    callback = OverfittingCallback(every=5, n=len(held))
    row = {}
    callback.on_log(trainer, row)
    assert math.isclose(row["d_train"], data.x[: len(held)].mean().item(), rel_tol=1e-5)
    assert math.isclose(row["d_heldout"], held.x.mean().item(), rel_tol=1e-5)
    trainer.step, row = 12, {}
    callback.on_log(trainer, row)
    assert row == {}


class Obedient(nn.Module):
    """Draws class y as an image whose pixel y is bright, except class 2, which it draws as class 0."""

    num_classes = 3

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, z, y):
        drawn = torch.where(y == 2, torch.zeros_like(y), y)
        return nn.functional.one_hot(drawn, 3).float() + 0 * z[:, :1]


def test_label_accuracy_is_the_share_the_classifier_names_right_per_class():
    acc = label_accuracy(Obedient(), z_dim=4, n_per_class=10, classifier=nn.Identity())
    assert torch.equal(acc, torch.tensor([1.0, 1.0, 0.0]))
    with pytest.raises(ToolkitError, match="conditional generator"):
        label_accuracy(nn.Linear(2, 2), z_dim=2)


class LabelTimesZ(nn.Module):
    """Image = (label + 1) * z: any mix-up of labels, latents or batches changes the output."""

    num_classes = 10

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, z, y):
        return (y.float()[:, None] + 1) * z


def test_generate_feeds_each_sample_its_own_label_and_latent_across_batches():
    from toolkit.generate import generate

    n, z_dim = 300, 3  # more than one batch of 256
    labels = torch.arange(n) % 10
    out = generate(LabelTimesZ(), n, z_dim, seed=5, labels=labels)
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(out, (labels.float()[:, None] + 1) * z)
    one_class = generate(LabelTimesZ(), n, z_dim, seed=5, labels=torch.tensor(7), batch_size=64)
    assert torch.allclose(one_class, 8 * z)
    with pytest.raises(ToolkitError, match="unconditional"):
        generate(nn.Linear(3, 3), 2, 3, labels=torch.tensor(1))


def test_class_index_takes_an_index_or_a_name():
    from toolkit.generate import class_index

    names = ["T-shirt/top", "Trouser", "Dress"]
    assert class_index("2", names) == 2 and class_index(1, names) == 1
    assert class_index("dress", names) == 2 and class_index(" Trouser ", names) == 1
    with pytest.raises(ToolkitError, match="out of range"):
        class_index("3", names)
    with pytest.raises(ToolkitError, match="unknown class 'shoe'"):
        class_index("shoe", names)


def test_class_index_edges_and_messages():
    from toolkit.generate import class_index

    names = ["T-shirt/top", "Trouser", "Dress"]
    assert class_index("0", names) == 0 and class_index(2, names) == 2  # both ends of the range
    with pytest.raises(ToolkitError, match=r"^class -1 is out of range; this run has classes 0\.\.2$"):
        class_index("-1", names)
    with pytest.raises(ToolkitError, match=r"^class 3 is out of range; this run has classes 0\.\.2$"):
        class_index(3, names)
    with pytest.raises(
        ToolkitError,
        match=r"^unknown class 'shoe'; choose one of: T-shirt/top, Trouser, Dress \(or 0\.\.2\)$",
    ):
        class_index("shoe", names)
    with pytest.raises(ToolkitError, match="^this run's data have no classes$"):
        class_index("0", [])


def _images(n, channels):
    """n distinct images in [-1, 1]: image i is flat at -1 + 2 i / 255 in every channel but the last pixel."""
    x = torch.stack([torch.full((channels, 4, 6), -1 + 2 * i / 255) for i in range(n)])
    x[:, :, -1, -1] = 1.0
    return x


def test_write_samples_as_npz_keeps_values_labels_and_class_names(tmp_path):
    import numpy as np

    from toolkit.generate import write_samples

    x = _images(3, 3)
    out = write_samples(x, tmp_path / "s.npz", torch.tensor([2, 0, 1]), ["a", "b", "c"])
    saved = np.load(out)
    assert sorted(saved.files) == ["class_names", "images", "labels"]
    assert saved["images"].dtype == np.uint8 and saved["images"].shape == (3, 3, 4, 6)
    assert saved["images"][:, 0, 0, 0].tolist() == [0, 1, 2] and (saved["images"][:, :, -1, -1] == 255).all()
    assert saved["labels"].tolist() == [2, 0, 1] and saved["class_names"].tolist() == ["a", "b", "c"]
    plain = np.load(write_samples(x, tmp_path / "p.npz"))
    assert plain.files == ["images"]
    no_names = np.load(write_samples(x, tmp_path / "l.npz", torch.tensor([2, 0, 1])))
    assert sorted(no_names.files) == ["images", "labels"]


@pytest.mark.parametrize("channels", [1, 3])
def test_write_samples_as_a_folder_of_pngs(tmp_path, channels):
    import numpy as np
    from PIL import Image

    from toolkit.generate import write_samples

    x = _images(3, channels)
    out = write_samples(x, tmp_path / "plain")
    assert sorted(p.name for p in out.iterdir()) == ["000000.png", "000001.png", "000002.png"]
    img = np.asarray(Image.open(out / "000002.png"))
    assert img.shape == ((4, 6) if channels == 1 else (4, 6, 3)) and img.flat[0] == 2 and img.flat[-1] == 255
    named = write_samples(x, tmp_path / "new" / "named", torch.tensor([1, 0, 1]), ["T-shirt/top", "(Dress)"])
    assert sorted(p.name for p in named.iterdir()) == [
        "000000_Dress.png",
        "000001_T-shirt-top.png",
        "000002_Dress.png",
        "labels.csv",
    ]
    assert (named / "labels.csv").read_text() == (
        'file,label,class\n000000_Dress.png,1,"(Dress)"\n000001_T-shirt-top.png,0,"T-shirt/top"\n'
        '000002_Dress.png,1,"(Dress)"\n'
    )
    with pytest.raises(
        ToolkitError, match="named exists and is not empty; choose a new folder, or add --overwrite"
    ):
        write_samples(x, tmp_path / "new" / "named", torch.tensor([1, 0, 1]), ["T-shirt/top", "(Dress)"])
    again = write_samples(
        x, tmp_path / "new" / "named", torch.tensor([1, 0, 1]), ["T-shirt/top", "(Dress)"], overwrite=True
    )
    assert again == named  # an existing folder is written into only with overwrite


def test_write_samples_as_one_grid_and_an_unwritable_place_is_one_line(tmp_path):
    from PIL import Image

    from toolkit.generate import write_samples

    x = _images(4, 3)
    grid = Image.open(write_samples(x, tmp_path / "grid.png"))
    labelled = Image.open(write_samples(x, tmp_path / "rows.png", torch.tensor([0, 1, 0, 1]), ["a", "b"]))
    assert grid.size != labelled.size  # one row per class, named at its left
    (tmp_path / "file").write_text("x")
    with pytest.raises(
        ToolkitError, match=r"^cannot write --out .*file/s: .*file is a file, not a folder; choose"
    ):
        write_samples(x, tmp_path / "file" / "s")
