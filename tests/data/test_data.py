"""The data layer: the loaders end to end, then what it hands the loop value by value (formerly
tests/test_data_values.py): the batch sampler's permutations, epochs and rank slices, subsets, the memory
guard's arithmetic and message, the balanced and imbalanced subsets at their limits, and the toy mixtures'
means, samples and quality measure. The value-by-value part was found by mutation testing: the loader tests
checked these by their shape and a few counts, so a changed seed formula, an epoch that ended one batch
early or a wrong memory estimate went unnoticed."""

import io
import math
import os
import zipfile

import numpy as np
import pytest
import torch
from conftest import fashion_mnist_or_skip
from PIL import Image

import toolkit.data.base as base
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


# --- value by value (formerly tests/test_data_values.py) ----------------------------------------
def _numbered(n=10, labels=True):
    return TensorData("t", torch.arange(n).float().view(n, 1), torch.arange(n) % 3 if labels else None)


def _perm(seed, epoch, n=10):
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


# --- TensorData -----------------------------------------------------------------------------------
def test_a_subset_keeps_its_names_labels_and_a_copy_of_its_info():
    data = TensorData("t", torch.arange(6).float().view(6, 1), torch.arange(6) % 2, ["a", "b"], info={"k": 1})
    part = data.subset([4, 1])
    assert part.x.view(-1).tolist() == [4.0, 1.0] and part.labels.tolist() == [0, 1]
    assert (part.name, part.class_names, part.kind, part.info) == ("t", ["a", "b"], "images", {"k": 1})
    part.info["k"] = 2
    assert data.info == {"k": 1}  # not shared
    assert data.subset(torch.tensor([0, 5]), name="ends").name == "ends"
    assert _numbered(labels=False).subset([1]).labels is None


# --- the memory guard -------------------------------------------------------------------------------
def test_memory_is_read_from_the_system():
    assert base.memory_bytes() == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_samples_fit_when_they_take_at_most_half_the_memory(monkeypatch):
    monkeypatch.setattr(base, "memory_bytes", lambda: 3200)
    assert base.fits_in_memory(100, (2, 2))  # 100 x 4 floats x 4 bytes = 1600 = half
    assert not base.fits_in_memory(101, (2, 2))
    assert not base.fits_in_memory(10, (41,))  # 1640 bytes
    monkeypatch.setattr(base, "memory_bytes", lambda: None)  # unknown: not refused
    assert base.fits_in_memory(10**12, (3, 1024, 1024))


def test_too_many_samples_for_memory_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(base, "memory_bytes", lambda: 8 * 2**30)
    assert base.check_memory(1000, (3, 64, 64), "x") is None
    with pytest.raises(ToolkitError) as refused:
        base.check_memory(1_000_000, (3, 64, 64), "my-folder at --resolution 64")
    assert str(refused.value) == (
        "my-folder at --resolution 64 would need 45.8 GiB of memory (1,000,000 samples of shape "
        "(3, 64, 64)); "
        "this machine has 8.0 GiB: use a smaller --resolution or fewer images (--limit)"
    )


# --- the batch sampler --------------------------------------------------------------------------------
def test_batches_follow_the_seeded_permutation_of_each_epoch():
    data = _numbered()
    s = BatchSampler(data, 5, seed=2)
    assert s.state_dict() == {"epoch": 0, "position": 0}
    first, second, third = s.next(), s.next(), s.next()
    perm0, perm1 = _perm(2, 0), _perm(2, 1)
    assert first["image"].view(-1).tolist() == perm0[:5].float().tolist()
    assert second["image"].view(-1).tolist() == perm0[5:].float().tolist()  # the whole epoch, no early turn
    assert third["image"].view(-1).tolist() == perm1[:5].float().tolist()  # epoch 1: its own permutation
    assert torch.equal(third["label"], perm1[:5] % 3)
    assert s.state_dict() == {"epoch": 1, "position": 5}


def test_the_last_incomplete_batch_of_an_epoch_is_dropped():
    s = BatchSampler(_numbered(), 4, seed=0)
    s.next(), s.next()
    assert s.state_dict() == {"epoch": 0, "position": 8}
    s.next()  # 2 left: a new epoch
    assert s.state_dict() == {"epoch": 1, "position": 4}


def test_each_rank_takes_its_own_slice_of_the_global_batch():
    data = _numbered(12)
    perm = _perm(1, 0, 12)
    for rank in range(3):
        s = BatchSampler(data, 2, seed=1, rank=rank, world_size=3)
        assert s.next()["image"].view(-1).tolist() == perm[2 * rank : 2 * rank + 2].float().tolist()
        assert s.state_dict() == {"epoch": 0, "position": 6}  # the same on every rank
        assert s.next()["image"].view(-1).tolist() == perm[6 + 2 * rank : 8 + 2 * rank].float().tolist()


def test_the_sampler_keeps_its_tensors_on_the_device():
    s = BatchSampler(_numbered(), 3, seed=0, device="meta")
    assert s.x.device.type == s.labels.device.type == s._perm.device.type == "meta"


@pytest.mark.parametrize(
    "batch, world, message",
    [
        (0, 1, "batch size must be >= 1, got 0"),
        (11, 1, "batch size 11 is larger than the dataset (10 samples in t); use --batch-size 10 or less"),
        (
            4,
            3,
            "batch size 4 x 3 ranks is larger than the dataset (10 samples in t); use --batch-size 3 or less",
        ),
        (
            6,
            2,
            "batch size 6 x 2 ranks is larger than the dataset (10 samples in t); use --batch-size 5 or less",
        ),
    ],
)
def test_a_batch_that_cannot_be_drawn_is_refused(batch, world, message):
    with pytest.raises(ToolkitError) as refused:
        BatchSampler(_numbered(), batch, seed=0, world_size=world)
    assert str(refused.value) == message


def test_the_limits_of_a_batch_are_allowed():
    BatchSampler(_numbered(), 1, seed=0)
    BatchSampler(_numbered(), 10, seed=0).next()
    BatchSampler(_numbered(), 5, seed=0, rank=1, world_size=2).next()


# --- subsets ---------------------------------------------------------------------------------------
def _members(labels, cls, seed):
    members = torch.nonzero(labels == cls).view(-1)
    return members[torch.randperm(len(members), generator=torch.Generator().manual_seed(seed * 1_000 + cls))]


def test_balanced_subset_takes_each_classs_seeded_shuffle():
    labels = torch.arange(3).repeat(7)  # 0 1 2 0 1 2 ...
    idx = balanced_subset(labels, 8, seed=4)  # 3 + 3 + 2
    want = torch.cat([_members(labels, 0, 4)[:3], _members(labels, 1, 4)[:3], _members(labels, 2, 4)[:2]])
    assert idx.tolist() == sorted(want.tolist())
    assert torch.equal(balanced_subset(labels, 8), balanced_subset(labels, 8, seed=0))  # seed 0 by default


def test_balanced_subset_limits():
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert balanced_subset(labels, 1).tolist() == [int(_members(labels, 0, 0)[0])]
    assert balanced_subset(labels, 9).tolist() == list(range(9))
    with pytest.raises(ToolkitError, match=r"^--limit must be >= 1, got 0$"):
        balanced_subset(labels, 0)
    with pytest.raises(ToolkitError, match=r"^--limit 10 is more than the 9 samples available"):
        balanced_subset(labels, 10)
    uneven = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2, 2])
    with pytest.raises(ToolkitError, match=r"^class 1 has only 2 samples, 3 needed for --limit 9$"):
        balanced_subset(uneven, 9)
    assert len(balanced_subset(torch.tensor([0, 0, 1, 1, 2, 2]), 6)) == 6  # every member of every class


def test_imbalanced_subset_keeps_the_seeded_few_of_each_rare_class():
    labels = torch.arange(3).repeat(6)
    idx = imbalanced_subset(labels, [0, 2], keep=2, seed=3, others=4)
    want = [*_members(labels, 0, 3)[:2], *_members(labels, 2, 3)[:2], *_members(labels, 1, 3)[:4]]
    assert idx.tolist() == sorted(int(i) for i in want)
    assert torch.equal(imbalanced_subset(labels, 1, 2), imbalanced_subset(labels, 1, 2, seed=0))
    assert torch.bincount(labels[imbalanced_subset(labels, (1,), 0)]).tolist() == [6, 0, 6]  # none kept
    assert torch.bincount(labels[imbalanced_subset(labels, 1, 6, others=1)]).tolist() == [1, 6, 1]
    assert torch.bincount(labels[imbalanced_subset(labels, 1, 1, others=6)]).tolist() == [6, 1, 6]


@pytest.mark.parametrize(
    "rare, keep, others, message",
    [
        ([], 1, None, "name each rare class once, got []"),
        ([1, 1], 1, None, "name each rare class once, got [1, 1]"),
        (5, 1, None, "class 5 does not occur in the labels"),
        (1, 7, None, "keep must be between 0 and 6 for class 1, got 7"),
        (1, -1, None, "keep must be between 0 and 6 for class 1, got -1"),
        (1, 1, 0, "others must be between 1 and 6 for class 0, got 0"),
        (1, 1, 7, "others must be between 1 and 6 for class 0, got 7"),
    ],
)
def test_imbalanced_subset_refuses_what_it_cannot_do(rare, keep, others, message):
    with pytest.raises(ToolkitError) as refused:
        imbalanced_subset(torch.arange(3).repeat(6), rare, keep, others=others)
    assert str(refused.value) == message


def test_a_class_with_one_member_can_be_the_rare_one():
    labels = torch.tensor([0, 0, 1])
    assert imbalanced_subset(labels, 1, 1).tolist() == [0, 1, 2]


# --- toy mixtures ------------------------------------------------------------------------------------
def test_the_ring_is_8_modes_at_radius_2_and_the_grid_25_modes_2_apart():
    angles = [k * math.pi / 4 for k in range(8)]
    ring = torch.tensor([[2 * math.cos(a), 2 * math.sin(a)] for a in angles], dtype=torch.float64).float()
    assert torch.equal(mixture_means("ring"), ring)
    grid = mixture_means("grid")
    assert grid.shape == (25, 2) and grid[0].tolist() == [-4.0, -4.0] and grid[6].tolist() == [-2.0, -2.0]
    with pytest.raises(ToolkitError, match=r"^unknown toy mixture 'spiral'; choose one of ring, grid$"):
        mixture_means("spiral")


def test_a_mixture_sample_is_its_mode_plus_seeded_noise():
    data = sample_mixture("ring", 50, seed=6)
    g = torch.Generator().manual_seed(6)
    modes = torch.randint(8, (50,), generator=g)
    want = mixture_means("ring")[modes] + 0.02 * torch.randn(50, 2, generator=g)
    assert torch.equal(data.x, want) and torch.equal(data.labels, modes)
    assert (data.name, data.kind, data.info) == ("ring", "points", {"source": "built in", "std": 0.02})
    assert data.class_names == [f"mode {i}" for i in range(8)]
    assert torch.equal(sample_mixture("grid", 5).x, sample_mixture("grid", 5, seed=0).x)  # seed 0 by default


def test_mode_quality_counts_samples_within_3_std_and_a_mode_with_one_is_covered():
    means = mixture_means("ring")
    samples = torch.stack([means[0], means[0] + 0.01, means[3], means[3] + 1.0])
    q = mode_quality(samples, "ring")
    assert q.counts == [2, 0, 0, 1, 0, 0, 0, 0] and q.modes_covered == 2  # one sample covers a mode
    assert q.high_quality == 0.75 and q.num_modes == 8
    assert mode_quality(samples, "ring", min_count=2).modes_covered == 1
    edge = mode_quality(torch.tensor([[0.15, 0.0]]), "grid")  # exactly 3 x 0.05 from (0, 0) in float32
    assert edge.high_quality == 1.0 and edge.counts[12] == 1
    far = mode_quality(torch.full((3, 2), 9.0), "grid")
    assert far.counts == [0] * 25 and far.modes_covered == 0  # all 25 modes listed, even with none good
    with pytest.raises(ToolkitError, match=r"^mode_quality needs \(N, 2\) points, got shape \(4, 3\)$"):
        mode_quality(torch.zeros(4, 3), "ring")
    with pytest.raises(ToolkitError, match=r"^mode_quality needs \(N, 2\) points, got shape \(2, 2, 2\)$"):
        mode_quality(torch.zeros(2, 2, 2), "ring")


# --- datasets by name ----------------------------------------------------------------------------------
def test_the_digits_are_sklearns_values_scaled_to_minus_1_1():
    from sklearn.datasets import load_digits as sk_digits

    from toolkit.data import load_digits

    sk = sk_digits()
    data = load_digits(8)  # no resizing at their own size
    assert torch.equal(data.x, torch.from_numpy(sk.images).float().unsqueeze(1) / 8 - 1)
    assert torch.equal(data.labels, torch.from_numpy(sk.target).long())
    assert (data.name, data.kind, data.class_names) == ("digits", "images", [str(i) for i in range(10)])
    assert data.info == {"source": "scikit-learn (built in)"}
    assert load_digits().x.shape == (1797, 1, 32, 32)


def test_resizing_is_antialiased_bilinear_and_a_no_op_at_the_same_size():
    from toolkit.data import _resize

    x = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    want = torch.nn.functional.interpolate(
        x, size=(8, 8), mode="bilinear", align_corners=False, antialias=True
    )
    assert torch.equal(_resize(x, 8), want)
    assert _resize(x, 32) is x
    white, black = torch.ones(1, 1, 32, 32), -torch.ones(1, 1, 32, 32)
    assert _resize(white, 5).max().item() == 1.0  # the filter's weights sum to 1 + 4e-7: clamped into [-1, 1]
    assert _resize(black, 5).min().item() == -1.0


def test_load_dataset_by_name_resolution_split_and_limit(tmp_path):
    from PIL import Image

    from toolkit.data import TOY_SIZE, load_dataset

    assert load_dataset("digits", resolution=4).x.shape == (1797, 1, 4, 4)  # the smallest allowed
    with pytest.raises(ToolkitError, match=r"^--resolution must be at least 4 pixels, got 3$"):
        load_dataset("digits", resolution=3)
    ring, test = load_dataset("ring"), load_dataset("ring", split="test")
    assert len(ring) == TOY_SIZE and torch.equal(ring.x, sample_mixture("ring", TOY_SIZE, seed=0).x)
    assert torch.equal(test.x, sample_mixture("ring", TOY_SIZE, seed=1).x)
    with pytest.raises(ToolkitError) as refused:
        load_dataset("cifar")
    assert str(refused.value) == (
        "unknown dataset 'cifar': use one of fashion-mnist, digits, ring, grid, or the path of an image "
        "folder or .zip"
    )
    for i in range(5):  # an unlabelled folder: a seeded random subset
        Image.new("L", (8, 8), color=40 * i).save(tmp_path / f"{i}.png")
    full = load_dataset(str(tmp_path), resolution=8)
    part = load_dataset(str(tmp_path), resolution=8, limit=3, seed=7)
    keep = torch.sort(torch.randperm(5, generator=torch.Generator().manual_seed(7))[:3]).values
    assert torch.equal(part.x, full.x[keep]) and part.info["limit"] == 3
    assert len(load_dataset(str(tmp_path), resolution=8, limit=5)) == 5
    for bad in (0, 6):
        with pytest.raises(ToolkitError, match=rf"^--limit must be between 1 and 5, got {bad}$"):
            load_dataset(str(tmp_path), resolution=8, limit=bad)
    digits = load_dataset("digits", limit=20, seed=3)
    everything = load_dataset("digits")
    assert torch.equal(digits.x, everything.x[balanced_subset(everything.labels, 20, 3)])
    assert digits.info["limit"] == 20


def test_the_memory_guard_runs_before_a_named_dataset_loads(monkeypatch):
    from toolkit.data import load_dataset

    monkeypatch.setattr(base, "memory_bytes", lambda: 2**20)  # 1 MiB: nothing fits
    tail = "this machine has 0.0 GiB: use a smaller --resolution or fewer images (--limit)"
    with pytest.raises(ToolkitError) as refused:
        load_dataset("digits", resolution=64)
    assert str(refused.value) == (
        f"the digits at 64x64 would need 0.0 GiB of memory (1,797 samples of shape (1, 64, 64)); {tail}"
    )
    with pytest.raises(ToolkitError) as refused:  # checked before Fashion-MNIST is even looked for
        load_dataset("fashion-mnist", resolution=64)
    assert str(refused.value) == (
        f"Fashion-MNIST at 64x64 would need 1.1 GiB of memory (70,000 samples of shape (1, 64, 64)); {tail}"
    )


def test_fashion_mnist_is_resized_to_other_resolutions():
    from conftest import fashion_mnist_or_skip

    from toolkit.data import load_dataset

    fashion_mnist_or_skip()
    assert load_dataset("fashion-mnist", resolution=16, limit=10).x.shape == (10, 1, 16, 16)


def test_the_other_names_and_a_folders_settings(tmp_path):
    from PIL import Image

    from toolkit.data import TOY_SIZE, load_dataset
    from toolkit.data.streaming import StreamingImages

    assert torch.equal(load_dataset("grid").x, sample_mixture("grid", TOY_SIZE).x)
    assert torch.equal(load_dataset("digits", limit=20).x, load_dataset("digits", limit=20, seed=0).x)
    for i in range(3):
        Image.new("L", (8, 8), color=60 * i).save(tmp_path / f"{i}.png")
    grey = load_dataset(str(tmp_path))
    assert grey.x.shape == (3, 1, 64, 64)  # 64 x 64 unless asked
    assert load_dataset(str(tmp_path), resolution=8, channels=3).x.shape == (3, 3, 8, 8)
    assert isinstance(load_dataset(str(tmp_path), resolution=8, stream=True), StreamingImages)
    assert len(load_dataset(str(tmp_path), resolution=8, limit=1)) == 1


def test_more_labels_than_samples_is_a_one_line_error():
    with pytest.raises(ToolkitError, match=r"^t: 3 samples but 2 labels$"):
        TensorData("t", torch.zeros(3, 1), torch.zeros(2, dtype=torch.long))


def test_per_class_holdout_is_one_seeded_shuffle_per_class_in_class_order():
    """Lesson 13's validation split (and results/gan_augmentation's): one generator seeded with the seed,
    each class's members shuffled in class order, the first len // one_in of each held out."""
    from toolkit.data import per_class_holdout

    labels = torch.tensor([3, 0, 1, 0, 2, 1, 0, 3, 2, 0, 1, 3, 0, 2, 0, 1] * 5)
    g = torch.Generator().manual_seed(7)
    expected = torch.zeros(len(labels), dtype=torch.bool)
    for c in range(4):
        members = torch.nonzero(labels == c).view(-1)
        expected[members[torch.randperm(len(members), generator=g)[: len(members) // 5]]] = True
    held_out = per_class_holdout(labels, one_in=5, seed=7)
    assert torch.equal(held_out, expected)
    assert torch.bincount(labels[held_out]).tolist() == [6, 4, 3, 3]
    with pytest.raises(ToolkitError, match="one_in must be >= 2"):
        per_class_holdout(labels, one_in=1)
    # the defaults are lesson 13's: a fifth of each class, seed 0; one in two is the smallest split
    assert torch.equal(per_class_holdout(labels), per_class_holdout(labels, one_in=5, seed=0))
    assert not torch.equal(per_class_holdout(labels), per_class_holdout(labels, one_in=5, seed=1))
    assert not torch.equal(per_class_holdout(labels), per_class_holdout(labels, one_in=6, seed=0))
    halves = torch.bincount(labels[per_class_holdout(labels, one_in=2)]).tolist()
    assert halves == [n // 2 for n in torch.bincount(labels).tolist()] == [15, 10, 7, 7]
