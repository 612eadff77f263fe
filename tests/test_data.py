import io
import zipfile

import numpy as np
import pytest
import torch
from conftest import fashion_mnist_or_skip
from PIL import Image

from toolkit.data import (
    BatchSampler,
    TensorData,
    balanced_subset,
    fashion_mnist,
    imbalanced_subset,
    load_dataset,
    load_image_folder,
    mixture_means,
    mode_quality,
    sample_mixture,
)
from toolkit.errors import ToolkitError


# --- toy mixtures and their exact quality measure -------------------------------------------------
def test_ring_and_grid_means():
    ring = mixture_means("ring")
    assert ring.shape == (8, 2)
    assert torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0), atol=1e-6)
    grid = mixture_means("grid")
    assert grid.shape == (25, 2) and set(grid[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_real_samples_score_perfectly():
    for name, modes in (("ring", 8), ("grid", 25)):
        data = sample_mixture(name, 5000, seed=3)
        q = mode_quality(data.x, name)
        assert q.modes_covered == modes and q.num_modes == modes
        assert q.high_quality > 0.99  # 3 std holds 98.9% of a 2-D Gaussian's mass... per axis: see below
        assert sum(q.counts) == pytest.approx(q.high_quality * 5000)


def test_mode_quality_counts_collapse_and_bad_samples():
    means = mixture_means("ring")
    collapsed = means[[0]].repeat(100, 1)  # every sample on mode 0
    q = mode_quality(collapsed, "ring")
    assert (q.modes_covered, q.high_quality, q.counts[0]) == (1, 1.0, 100)
    half = torch.cat([means[:4].repeat(10, 1), torch.zeros(40, 2)])  # 4 modes + 40 points at the centre
    q = mode_quality(half, "ring")
    assert q.modes_covered == 4 and q.high_quality == pytest.approx(0.5)
    # min_count: a mode needs that many high-quality samples
    assert (
        mode_quality(torch.cat([means[:1].repeat(5, 1), means[1:2]]), "ring", min_count=2).modes_covered == 1
    )
    # 3 standard deviations is the border: 2.9 std is in, 3.1 std is out
    std = 0.02
    near = means[:1] + torch.tensor([[2.9 * std, 0.0]])
    far = means[:1] + torch.tensor([[3.1 * std, 0.0]])
    assert mode_quality(near, "ring").high_quality == 1.0
    assert mode_quality(far, "ring").high_quality == 0.0


def test_mode_quality_rejects_images():
    with pytest.raises(ToolkitError, match=r"needs \(N, 2\) points"):
        mode_quality(torch.zeros(4, 1, 8, 8), "ring")


# --- subsets ------------------------------------------------------------------------------------
def test_balanced_subset_is_balanced_seeded_and_sorted():
    labels = torch.arange(10).repeat_interleave(100)
    idx = balanced_subset(labels, 105, seed=1)
    counts = torch.bincount(labels[idx], minlength=10)
    assert counts.tolist() == [11] * 5 + [10] * 5
    assert torch.equal(idx, balanced_subset(labels, 105, seed=1))
    assert not torch.equal(idx, balanced_subset(labels, 105, seed=2))
    assert torch.equal(idx, torch.sort(idx).values) and len(set(idx.tolist())) == 105
    with pytest.raises(ToolkitError, match="more than the 1000 samples"):
        balanced_subset(labels, 5000)


def test_imbalanced_subset_reduces_one_class():
    labels = torch.arange(3).repeat_interleave(50)
    idx = imbalanced_subset(labels, rare_class=1, keep=5, seed=0)
    assert torch.bincount(labels[idx]).tolist() == [50, 5, 50]
    with pytest.raises(ToolkitError, match="keep must be between 0 and 50"):
        imbalanced_subset(labels, 1, 60)


# --- the batch sampler ----------------------------------------------------------------------------
def test_batch_sampler_covers_each_epoch_and_resumes_exactly():
    data = TensorData("t", torch.arange(10).float().view(10, 1))
    s = BatchSampler(data, 3, seed=0)
    first_epoch = torch.cat([s.next()["image"] for _ in range(3)]).view(-1).tolist()
    assert len(set(first_epoch)) == 9  # 3 full batches, the 10th sample dropped this epoch
    state = s.state_dict()
    ahead = [s.next()["image"].tolist() for _ in range(5)]
    s2 = BatchSampler(data, 3, seed=0)
    s2.load_state_dict(state)
    assert [s2.next()["image"].tolist() for _ in range(5)] == ahead
    with pytest.raises(ToolkitError, match="batch size 11 is larger than the dataset"):
        BatchSampler(data, 11, seed=0)


# --- Fashion-MNIST ----------------------------------------------------------------------------------
def test_fashion_mnist_loads_both_splits():
    fashion_mnist_or_skip()
    train = load_dataset("fashion-mnist")
    assert train.x.shape == (60000, 1, 32, 32) and train.x.dtype == torch.float32
    assert train.x.min() == -1.0 and train.x.max() == 1.0
    assert torch.all(train.x[:, :, :2, :] == -1.0)  # the 2-pixel padding is background
    assert torch.bincount(train.labels).tolist() == [6000] * 10
    assert train.class_names[9] == "Ankle boot"
    test = load_dataset("fashion-mnist", split="test", resolution=28)
    assert test.x.shape == (10000, 1, 28, 28)
    limited = load_dataset("fashion-mnist", limit=1000, seed=0)
    assert len(limited) == 1000 and torch.bincount(limited.labels).tolist() == [100] * 10


def test_fashion_mnist_missing_names_the_three_ways(monkeypatch):
    monkeypatch.setattr(fashion_mnist, "candidate_dirs", lambda: [])
    monkeypatch.setattr(fashion_mnist, "_download", lambda: None)
    with pytest.raises(ToolkitError) as err:
        fashion_mnist.load_raw("train")
    msg = str(err.value)
    assert "\n" not in msg
    for way in ("apt-get install dataset-fashion-mnist", "TOOLKIT_DATA", "torchvision"):
        assert way in msg


def test_fashion_mnist_from_toolkit_data_folder(tmp_path, monkeypatch):
    """$TOOLKIT_DATA with un-gzipped IDX files written by hand (the format, byte by byte)."""
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 7], dtype=np.uint8)

    def idx(arr):
        header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
        return header + arr.tobytes()

    for split, (img_name, lab_name) in fashion_mnist.FILES.items():
        (tmp_path / img_name).write_bytes(idx(images))
        (tmp_path / lab_name).write_bytes(idx(labels))
    monkeypatch.setenv("TOOLKIT_DATA", str(tmp_path))
    x, y, folder = fashion_mnist.load_raw("test")
    assert folder == tmp_path and np.array_equal(x, images) and y.tolist() == [3, 7]
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx(labels)[:-1])
    with pytest.raises(ToolkitError, match="truncated"):
        fashion_mnist.load_raw("test")


def test_digits_always_available():
    d = load_dataset("digits")
    assert d.x.shape == (1797, 1, 32, 32) and d.num_classes == 10
    assert -1.0 <= d.x.min() and d.x.max() <= 1.0


def test_unknown_dataset_is_one_line():
    with pytest.raises(ToolkitError, match="unknown dataset 'mnist-3d'.*fashion-mnist"):
        load_dataset("mnist-3d")


# --- image folders and zips ---------------------------------------------------------------------------
def _png(path, size=(20, 30), mode="RGB", color=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color if mode in ("L", "P") else (color, 0, 255 - color)).save(path)


def test_folder_unlabelled_mixed_sizes_and_modes(tmp_path):
    _png(tmp_path / "a.png", (20, 30), "RGB")
    _png(tmp_path / "b.jpg", (64, 64), "L")
    _png(tmp_path / "c.png", (10, 5), "RGBA")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    d = load_image_folder(tmp_path, resolution=16)
    assert d.x.shape == (3, 3, 16, 16) and d.labels is None  # mixed modes -> RGB
    assert d.info["skipped"] == 2
    assert -1.0 <= d.x.min() and d.x.max() <= 1.0


def test_folder_all_grey_becomes_one_channel_and_channels_can_be_forced(tmp_path):
    _png(tmp_path / "a.png", mode="L")
    _png(tmp_path / "b.png", mode="L")
    assert load_image_folder(tmp_path, resolution=8).x.shape == (2, 1, 8, 8)
    assert load_image_folder(tmp_path, resolution=8, channels=3).x.shape == (2, 3, 8, 8)


def test_folder_with_class_subfolders(tmp_path):
    for cls, n in (("cats", 2), ("dogs", 3)):
        for i in range(n):
            _png(tmp_path / cls / f"{i}.png")
    d = load_image_folder(tmp_path, resolution=8)
    assert d.class_names == ["cats", "dogs"] and d.labels.tolist() == [0, 0, 1, 1, 1]


def test_zip_of_a_folder(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (12, 12)).save(buf, format="PNG")
    with zipfile.ZipFile(tmp_path / "birds.zip", "w") as z:
        z.writestr("birds/robin/1.png", buf.getvalue())
        z.writestr("birds/wren/1.png", buf.getvalue())
        z.writestr("__MACOSX/birds/._1.png", b"junk")
    d = load_dataset(str(tmp_path / "birds.zip"), resolution=8)
    assert d.class_names == ["robin", "wren"] and d.x.shape == (2, 3, 8, 8)


def test_folder_errors_are_one_line(tmp_path):
    with pytest.raises(ToolkitError, match="does not exist"):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(ToolkitError, match=r"no images found .* 1 other files skipped"):
        load_image_folder(tmp_path / "empty")
    bad = tmp_path / "bad"
    _png(bad / "good.png")
    (bad / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ToolkitError, match="cannot read image broken.png"):
        load_image_folder(bad)
    mixed = tmp_path / "mixed"
    _png(mixed / "top.png")
    _png(mixed / "cls" / "inner.png")
    with pytest.raises(ToolkitError, match="mixes layouts"):
        load_image_folder(mixed)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ToolkitError, match="neither a folder nor a .zip"):
        load_image_folder(tmp_path / "file.txt")
