"""The two-domain data of pix2pix and CycleGAN value by value, in milliseconds: the set's checks and
subsets, the pair sampler's shuffles, epochs, rank slices and state, the Canny edges, the built-in sets
built from a stand-in Fashion-MNIST and stand-in photographs whose pixels say where they came from, and
your own A/ B/ folders. tests/integration/test_translation_training.py loads the real sets and trains on
them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from toolkit.data import translation
from toolkit.data.base import TensorData
from toolkit.data.translation import PairSampler, TranslationData
from toolkit.errors import ToolkitError


def images(n: int, channels: int = 1, size: int = 4, start: float = 0.0) -> torch.Tensor:
    """``n`` images, image i filled with ``start + i`` (so a batch says which images it holds)."""
    return (
        (start + torch.arange(n, dtype=torch.float32))
        .view(n, 1, 1, 1)
        .expand(n, channels, size, size)
        .clone()
    )


def ids(x: torch.Tensor, start: float = 0.0) -> list[int]:
    return [int(v - start) for v in x[:, 0, 0, 0].tolist()]


def paired(n=10, **kw) -> TranslationData:
    return TranslationData("pairs", images(n), images(n, 3, start=100.0), True, **kw)


def unpaired(n_a=10, n_b=6) -> TranslationData:
    return TranslationData("two", images(n_a), images(n_b, start=100.0), False)


# --- the set ------------------------------------------------------------------------------------------
def test_a_paired_set_needs_one_b_per_a_and_both_sides_the_same_size():
    with pytest.raises(ToolkitError) as err:
        TranslationData("p", images(3), images(4), True)
    assert str(err.value) == "p: 3 A images but 4 B images in a paired set"
    with pytest.raises(ToolkitError) as err:
        TranslationData("p", images(3, size=4), images(3, size=5), False)
    assert str(err.value) == "p: A images are (4, 4), B (5, 5)"
    with pytest.raises(ToolkitError, match=r"A images are \(4, 4\), B \(4, 5\)"):
        TranslationData("p", images(3), torch.zeros(3, 1, 4, 5), True)
    data = TranslationData("u", images(3), images(5, 3), False)  # unpaired: any sizes, any channels
    assert len(data) == 5 and data.shape == (1, 4, 4) and data.shape_b == (3, 4, 4)
    assert len(TranslationData("u", images(6), images(2), False)) == 6
    assert data.num_classes == 0 and data.class_names == [] and data.keys == ("A", "B")
    assert data.kind == "translation" and data.held_out is None and data.info == {} and data.names == []


def test_a_subset_keeps_pairs_together_sorted_and_seeded():
    data = paired(10, names=[f"n{i}" for i in range(10)], info={"source": "x"})
    sub = data.subset(4, seed=3)
    g = torch.Generator().manual_seed(3)
    want = sorted(torch.randperm(10, generator=g)[:4].tolist())
    assert ids(sub.a) == want and ids(sub.b, 100.0) == want
    assert sub.names == [f"n{i}" for i in want] and sub.paired and sub.name == "pairs"
    assert ids(data.subset(4, seed=3).a) == want and ids(data.subset(4, seed=4).a) != want
    sub.info["source"] = "changed"  # the subset's info is its own
    assert data.info == {"source": "x"}
    assert ids(data.subset(50, seed=0).a) == list(range(10))  # at most every image
    assert paired(5).subset(2, 0).names == []


def test_an_unpaired_subset_draws_each_side_on_its_own():
    data = unpaired(10, 6)
    sub = data.subset(4, seed=1)
    g = torch.Generator().manual_seed(1)
    want_a = sorted(torch.randperm(10, generator=g)[:4].tolist())
    want_b = sorted(torch.randperm(6, generator=g)[:4].tolist())
    assert ids(sub.a) == want_a and ids(sub.b, 100.0) == want_b
    small = data.subset(8, seed=1)
    assert len(small.a) == 8 and len(small.b) == 6  # each side capped at its own size


def test_the_grid_inputs_are_the_held_out_images_when_the_set_has_them():
    data = paired(10)
    a, b = data.fixed(3)
    assert ids(a) == [0, 1, 2] and ids(b, 100.0) == [0, 1, 2]
    data.held_out = (images(5, start=50.0), images(5, start=70.0))
    a, b = data.fixed(2)
    assert ids(a, 50.0) == [0, 1] and ids(b, 70.0) == [0, 1]


# --- the pair sampler ---------------------------------------------------------------------------------
def permutation(seed: int, epoch: int, n: int, side_b_unpaired: bool = False) -> list[int]:
    offset = 7_919 if side_b_unpaired else 0
    g = torch.Generator().manual_seed(seed * 100_003 + epoch + offset * 1_000_003)
    return torch.randperm(n, generator=g).tolist()


def test_a_paired_sampler_walks_one_shuffle_per_epoch_for_both_sides():
    sampler = paired(10).sampler(3, seed=2, device="cpu")
    assert isinstance(sampler, PairSampler)
    first, second = permutation(2, 0, 10), permutation(2, 1, 10)
    drawn = [sampler.next() for _ in range(5)]
    want = [first[0:3], first[3:6], first[6:9], second[0:3], second[3:6]]  # the last 1 of epoch 0 is dropped
    assert [ids(b["A"]) for b in drawn] == want
    assert [ids(b["B"], 100.0) for b in drawn] == want
    assert drawn[0]["B"].shape == (3, 3, 4, 4)
    assert sampler.state_dict() == {"A": [1, 6], "B": [0, 0]}


def test_an_unpaired_sampler_shuffles_each_side_on_its_own():
    sampler = unpaired(10, 6).sampler(3, seed=2, device="cpu")
    a0, a1 = permutation(2, 0, 10), permutation(2, 1, 10)
    b0, b1, b2 = (permutation(2, e, 6, side_b_unpaired=True) for e in range(3))
    drawn = [sampler.next() for _ in range(5)]
    assert [ids(b["A"]) for b in drawn] == [a0[0:3], a0[3:6], a0[6:9], a1[0:3], a1[3:6]]
    assert [ids(b["B"], 100.0) for b in drawn] == [b0[0:3], b0[3:6], b1[0:3], b1[3:6], b2[0:3]]
    assert sampler.state_dict() == {"A": [1, 6], "B": [2, 3]}


def test_a_full_last_batch_is_drawn_before_the_epoch_turns():
    sampler = paired(6).sampler(3, seed=0, device="cpu")
    perm = permutation(0, 0, 6)
    assert ids(sampler.next()["A"]) == perm[0:3] and ids(sampler.next()["A"]) == perm[3:6]
    assert sampler.state_dict()["A"] == [0, 6]
    assert ids(sampler.next()["A"]) == permutation(0, 1, 6)[0:3]


def test_ranks_take_their_slice_of_the_global_batch():
    data = unpaired(12, 8)
    one = data.sampler(4, seed=5, device="cpu")
    ranks = [data.sampler(2, seed=5, device="cpu", rank=r, world_size=2) for r in (0, 1)]
    for _ in range(5):  # past both sides' epoch ends
        halves = [r.next() for r in ranks]
        whole = one.next()
        for side in ("A", "B"):
            assert torch.equal(torch.cat([h[side] for h in halves]), whole[side])
    assert ranks[1].state_dict() == one.state_dict()


def test_a_sampler_resumes_exactly_from_its_state():
    data = unpaired(10, 6)
    sampler = data.sampler(3, seed=4, device="cpu")
    for _ in range(4):
        sampler.next()
    state = sampler.state_dict()
    state_copy = {k: list(v) for k, v in state.items()}
    want = [sampler.next() for _ in range(4)]
    assert state == state_copy  # the state handed out is a copy, not the live counters
    again = data.sampler(3, seed=4, device="cpu")
    again.load_state_dict({s: [np.int64(e), np.float64(p)] for s, (e, p) in state.items()})  # as from JSON
    assert again.state_dict() == state and all(type(v) is int for s in "AB" for v in again.state_dict()[s])
    for w in want:
        got = again.next()
        assert torch.equal(got["A"], w["A"]) and torch.equal(got["B"], w["B"])


def test_a_sampler_made_directly_is_rank_zero_of_one():
    data = paired(10)
    direct, via_set = PairSampler(data, 5, 3, "cpu"), data.sampler(5, seed=3, device="cpu")
    assert (direct.rank, direct.world_size) == (0, 1)
    assert torch.equal(direct.next()["A"], via_set.next()["A"]) and torch.equal(
        direct.next()["A"], via_set.next()["A"]
    )


def test_the_sampler_moves_both_sides_to_the_device():
    sampler = paired(4).sampler(2, seed=0, device="meta")
    assert sampler.a.device.type == "meta" and sampler.b.device.type == "meta"
    assert sampler.perms["A"].device.type == "meta"


@pytest.mark.parametrize(
    "batch, world, message",
    [
        (
            0,
            1,
            "batch size 0 must be between 1 and the smaller side of two (6 images); "
            "use --batch-size 6 or less",
        ),
        (
            7,
            1,
            "batch size 7 must be between 1 and the smaller side of two (6 images); "
            "use --batch-size 6 or less",
        ),
        (
            4,
            2,
            "batch size 4 x 2 ranks must be between 1 and the smaller side of two (6 images); "
            "use --batch-size 3 or less",
        ),
    ],
)
def test_a_batch_larger_than_the_smaller_side_is_one_line(batch, world, message):
    with pytest.raises(ToolkitError) as err:
        unpaired(10, 6).sampler(batch, seed=0, device="cpu", world_size=world)
    assert str(err.value) == message


def test_the_largest_batches_allowed():
    assert unpaired(10, 6).sampler(6, seed=0, device="cpu").next()["B"].shape[0] == 6
    assert unpaired(10, 6).sampler(3, seed=0, device="cpu", rank=1, world_size=2).next()["A"].shape[0] == 3
    assert unpaired(10, 6).sampler(1, seed=0, device="cpu").next()["A"].shape[0] == 1


# --- Canny edges and the built-in sets ------------------------------------------------------------
def test_canny_edges_are_skimages_with_sigma_one_as_plus_minus_one():
    from skimage.feature import canny

    x = torch.full((2, 1, 12, 12), -1.0)
    x[0, 0, 3:9, 3:9] = 1.0  # a white square: edges on its border
    x[1, 0, :, 6:] = 0.2
    edges = translation.canny_edges(x)
    assert edges.shape == (2, 1, 12, 12) and edges.dtype == torch.float32
    for i in range(2):
        pixels = ((x[i, 0].numpy() + 1) * 127.5).astype(np.float64)  # 0..255, as float64
        want = canny(pixels, sigma=1.0)
        assert want.any() and not want.all()
        assert torch.equal(edges[i, 0], torch.from_numpy(np.where(want, 1.0, -1.0).astype(np.float32)))


@pytest.fixture
def fake_fashion(monkeypatch):
    """A stand-in Fashion-MNIST: 30 28x28 images, image i filled with i / 100 - 0.5 except a bright
    square (so Canny finds edges), labels i % 10; records the calls."""
    from toolkit.data import fashion_mnist

    calls = []
    x = (torch.arange(30, dtype=torch.float32) / 100 - 0.5).view(30, 1, 1, 1).repeat(1, 1, 28, 28)
    x[:, :, 8:20, 8:20] = 1.0
    labels = torch.arange(30) % 10

    def load(split="train", pad_to_32=True):
        calls.append((split, pad_to_32))
        return TensorData("fashion-mnist", x.clone(), labels.clone(), list(fashion_mnist.CLASS_NAMES))

    monkeypatch.setattr(fashion_mnist, "load_fashion_mnist", load)
    return calls


def fashion_ids(x: torch.Tensor) -> list[int]:
    """Which stand-in images these are, from a corner pixel (padded or not)."""
    corner = x[:, 0, -3, -3] if x.shape[-1] == 32 else x[:, 0, 0, 0]
    return [round((v + 0.5) * 100) for v in corner.tolist()]


def test_edges_to_fashion_pairs_each_garment_with_its_edges_padded_to_32(fake_fashion):
    data = translation.edges_to_fashion("test", limit=5, seed=2)
    assert fake_fashion == [("test", False)]  # Canny runs on the unpadded 28x28 garment
    g = torch.Generator().manual_seed(2)
    want = sorted(torch.randperm(30, generator=g)[:5].tolist())
    assert fashion_ids(data.b) == want and data.paired and data.name == "edges2fashion"
    assert data.a.shape == data.b.shape == (5, 1, 32, 32)
    assert torch.equal(data.a[:, :, 2:30, 2:30], translation.canny_edges(data.b[:, :, 2:30, 2:30]))
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert torch.all(data.a[:, 0][:, border] == -1) and torch.all(data.b[:, 0][:, border] == -1)
    assert data.info == {"source": "Fashion-MNIST test, edges by skimage.feature.canny(sigma=1.0)"}
    assert len(translation.edges_to_fashion("train", limit=None).a) == 30
    assert len(translation.edges_to_fashion("train", limit=30).a) == 30


def test_fashion_classes_are_two_unpaired_sides_of_one_class_each(fake_fashion):
    data = translation.fashion_classes("sneaker2boot", "train", limit=2, seed=0)
    assert not data.paired and data.name == "sneaker2boot"
    sneakers, boots = [7, 17, 27], [9, 19, 29]  # labels i % 10: 7 Sneaker, 9 Ankle boot
    g = torch.Generator().manual_seed(0)
    want_a = sorted(sneakers[i] for i in torch.randperm(3, generator=g)[:2].tolist())
    g = torch.Generator().manual_seed(1)  # side B is drawn with seed + 1
    want_b = sorted(boots[i] for i in torch.randperm(3, generator=g)[:2].tolist())
    assert fashion_ids(data.a) == want_a and fashion_ids(data.b) == want_b
    assert data.a.shape == (2, 1, 32, 32)
    assert data.info == {"source": "Fashion-MNIST train", "A": "Sneaker", "B": "Ankle boot"}
    shirts = translation.fashion_classes("tshirt2shirt", "test")
    assert fashion_ids(shirts.a) == [0, 10, 20] and fashion_ids(shirts.b) == [6, 16, 26]


@pytest.fixture
def fake_photos(monkeypatch):
    """Stand-in photographs whose pixels say where they are: red = 2 * column, green = 2 * row, blue =
    40 * the photo's number; 60 rows x 100 columns (30 x 50 after the loader halves them)."""
    from skimage import data as photos

    rows, cols = np.meshgrid(np.arange(60), np.arange(100), indexing="ij")
    for i, name in enumerate(translation.PHOTOS):
        rgba = np.stack([2 * cols, 2 * rows, np.full_like(rows, 40 * i), np.zeros_like(rows)], -1)
        monkeypatch.setattr(
            photos, name, lambda a=rgba.astype(np.uint8): a.copy()
        )  # an alpha channel: dropped


def crop_origins(colour: torch.Tensor) -> list[tuple[int, int, int]]:
    """(photo, row, column) of each crop's top-left pixel in the halved photo."""
    pixels = (colour[:, :, 0, 0] + 1) * 127.5  # undo the [-1, 1] scaling
    x, y = (pixels[:, 0] - 1) / 4, (pixels[:, 1] - 1) / 4  # avg of 2 * (2X, 2X + 1) = 4X + 1
    return [
        (round(b / 40), round(r), round(c)) for b, r, c in zip(pixels[:, 2].tolist(), y.tolist(), x.tolist())
    ]


@pytest.mark.parametrize("split", ["train", "test"])
def test_photo_crops_come_from_their_part_of_each_halved_photo(fake_photos, split):
    data = translation.photo_crops(split, n=14, size=8, seed=3)
    assert data.name == "gray2color" and data.paired
    assert data.b.shape == (14, 3, 8, 8) and data.a.shape == (14, 1, 8, 8)
    origins = crop_origins(data.b)
    assert [p for p, _, _ in origins] == [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # 14 = 6 * 2 + 2 extra
    g = torch.Generator().manual_seed(3 if split == "train" else 4)
    lo, hi = (0, 40 - 8) if split == "train" else (40, 50 - 8)  # the cut at 80% of 50 columns
    want = []
    for count in (3, 3, 2, 2, 2, 2):
        ys = torch.randint(0, 30 - 8 + 1, (count,), generator=g).tolist()
        xs = torch.randint(lo, hi + 1, (count,), generator=g).tolist()
        want += list(zip(ys, xs))
    assert [(r, c) for _, r, c in origins] == want
    crop = data.b[0]  # a whole crop is the halved photo's pixels, not only its corner
    rows, cols = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    assert torch.allclose(crop[0], (4 * (want[0][1] + cols) + 1) / 127.5 - 1)
    assert torch.allclose(crop[1], (4 * (want[0][0] + rows) + 1) / 127.5 - 1)
    luma = 0.299 * data.b[:, 0] + 0.587 * data.b[:, 1] + 0.114 * data.b[:, 2]
    assert torch.equal(data.a[:, 0], luma)
    assert data.info["source"] == (
        "scikit-image photographs astronaut, chelsea, coffee, rocket, immunohistochemistry, "
        f"hubble_deep_field ({split} part), grey = ITU-R 601 luma"
    )


def test_photo_crops_can_reach_the_last_column_of_their_part(fake_photos):
    test = translation.photo_crops("test", n=600, size=8, seed=0)
    columns = [c for _, _, c in crop_origins(test.b)]
    rows = [r for _, r, _ in crop_origins(test.b)]
    assert min(columns) == 40 and max(columns) == 42 and min(rows) == 0 and max(rows) == 22
    train = translation.photo_crops("train", n=600, size=8, seed=0)
    assert max(c for _, _, c in crop_origins(train.b)) == 32


def test_the_built_in_sets_default_to_the_training_split_and_seed_zero(fake_fashion):
    assert torch.equal(translation.edges_to_fashion(limit=4).b, translation.edges_to_fashion("train", 4, 0).b)
    assert torch.equal(
        translation.fashion_classes("sneaker2boot", limit=2).a,
        translation.fashion_classes("sneaker2boot", "train", 2, 0).a,
    )
    assert [c[0] for c in fake_fashion] == ["train"] * 6


def test_photo_crops_default_to_2000_training_crops_of_32_pixels():
    default = translation.photo_crops()  # scikit-image's own photographs
    assert default.b.shape == (2000, 3, 32, 32)
    assert torch.equal(default.b[:50], translation.photo_crops("train", 2000, 32, 0).b[:50])


def test_the_built_in_sets_are_dispatched_by_name(monkeypatch):
    calls = []
    monkeypatch.setattr(translation, "edges_to_fashion", lambda *a: calls.append(("edges", *a)) or "e")
    monkeypatch.setattr(
        translation, "photo_crops", lambda split, n, seed: calls.append(("photos", split, n, seed)) or "p"
    )
    monkeypatch.setattr(translation, "fashion_classes", lambda *a: calls.append(("classes", *a)) or "c")
    assert translation._load_builtin("edges2fashion", "train", 5, 1) == "e"
    assert translation._load_builtin("gray2color", "train", None, 2) == "p"
    assert translation._load_builtin("gray2color", "test", None, 2) == "p"
    assert translation._load_builtin("gray2color", "test", 7, 2) == "p"
    assert translation._load_builtin("tshirt2shirt", "test", 3, 4) == "c"
    assert calls == [
        ("edges", "train", 5, 1),
        ("photos", "train", 2000, 2),
        ("photos", "test", 300, 2),
        ("photos", "test", 7, 2),
        ("classes", "tshirt2shirt", "test", 3, 4),
    ]


def test_a_training_split_shows_64_held_out_test_images(monkeypatch):
    calls = []

    def builtin(name, split, limit, seed):
        calls.append((name, split, limit, seed))
        return TranslationData(name, images(3, start=10.0 if split == "test" else 0.0), images(3), True)

    monkeypatch.setattr(translation, "_load_builtin", builtin)
    data = translation.load_translation("edges2fashion", "train", limit=3, seed=5)
    assert calls == [("edges2fashion", "train", 3, 5), ("edges2fashion", "test", 64, 5)]
    assert ids(data.held_out[0], 10.0) == [0, 1, 2] and ids(data.fixed(2)[0], 10.0) == [0, 1]
    calls.clear()
    test = translation.load_translation("sneaker2boot", "test", resolution=32, paired=False)
    assert calls == [("sneaker2boot", "test", None, 0)] and test.held_out is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(name="sneaker2boot"),
            "sneaker2boot is unpaired (two separate sets); pix2pix needs pairs: use --model cyclegan",
        ),
        (dict(name="tshirt2shirt", paired=True), "tshirt2shirt is unpaired"),
        (
            dict(name="edges2fashion", resolution=64),
            "edges2fashion is 32x32; leave --resolution out (or give 32)",
        ),
        (
            dict(name="no-such-set"),
            "unknown translation dataset 'no-such-set': use one of edges2fashion, gray2color, sneaker2boot, "
            "tshirt2shirt, or a folder/.zip with sub-folders A/ and B/",
        ),
    ],
)
def test_bad_translation_sets_are_one_line(monkeypatch, kwargs, message):
    monkeypatch.setattr(translation, "_load_builtin", lambda *a: pytest.fail("loaded data"))
    with pytest.raises(ToolkitError) as err:
        translation.load_translation(**kwargs)
    assert str(err.value).startswith(message)


# --- your own folders -----------------------------------------------------------------------------------
def save(path, size=(8, 8), mode="L", value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, 255 - value, 7)
    Image.new(mode, size, colour).save(path)


def test_a_folder_keeps_images_directly_in_a_and_b_and_counts_the_rest_skipped(tmp_path, monkeypatch):
    memory = []
    monkeypatch.setattr(translation, "check_memory", lambda n, shape, what: memory.append((n, shape, what)))
    root = tmp_path / "shoes"
    for i, v in enumerate((0, 255, 51)):
        save(root / "A" / f"{i}.png", value=v)
    for i in range(2):
        save(root / "B" / f"{i}.png", mode="RGB", value=100)
    save(root / "C" / "x.png")  # not a side
    save(root / "A" / "deeper" / "y.png")  # not directly inside
    save(root / "z.png")  # not in a side
    (root / "notes.txt").write_text("hi")  # not an image
    data = translation.load_translation_folder(root, paired=False, resolution=4)
    assert data.name == "shoes" and not data.paired
    assert data.a.shape == (3, 1, 4, 4) and data.b.shape == (2, 3, 4, 4)  # grey A, colour B
    assert torch.allclose(data.a[:, 0, 0, 0], torch.tensor([-1.0, 1.0, -0.6]), atol=1e-7, rtol=0)
    assert torch.allclose(data.b[0, :, 0, 0], torch.tensor([100, 155, 7]) / 127.5 - 1)
    assert data.names == ["0", "1", "2"]
    assert data.info == {"source": str(root), "skipped": 4, "resolution": 4}
    assert memory == [(5, (3, 4, 4), f"the images of {root}")]
    assert translation.load_translation_folder(root, paired=False).a.shape == (3, 1, 64, 64)  # the default
    forced = translation.load_translation_folder(root, paired=False, resolution=4, channels=3)
    assert forced.a.shape == (3, 3, 4, 4) and torch.equal(forced.a[:, 0], forced.a[:, 2])


def test_a_paired_folder_is_ordered_by_name_whatever_the_extensions(tmp_path):
    root = tmp_path / "pairs"
    for stem, v in (("b", 10), ("a", 20), ("c", 30)):
        save(root / "A" / f"{stem}.png", value=v)
        save(root / "B" / f"{stem}.{'jpg' if stem == 'a' else 'png'}", mode="RGB", value=v)
    data = translation.load_translation_folder(root, paired=True, resolution=8)
    assert data.names == ["a", "b", "c"] and data.paired
    assert ((data.a[:, 0, 0, 0] + 1) * 127.5).round().tolist() == [20, 10, 30]
    assert ((data.b[:, 0, 0, 0] + 1) * 127.5).round().tolist()[1:] == [10, 30]  # jpg: roughly 20
    assert abs((data.b[0, 0, 0, 0] + 1) * 127.5 - 20) < 3


def test_every_image_is_centre_cropped_to_a_square_and_resized(tmp_path):
    root = tmp_path / "wide"
    img = np.zeros((4, 12), np.uint8)
    img[:, 4:8] = 255  # the middle square is white, the sides black
    for side in "AB":
        (root / side).mkdir(parents=True)
        Image.fromarray(img).save(root / side / "x.png")
    data = translation.load_translation_folder(root, paired=True, resolution=4)
    assert torch.all(data.a == 1.0) and torch.all(data.b == 1.0)


@pytest.mark.parametrize("side", ["A", "B"])
def test_an_empty_side_is_one_line(tmp_path, side):
    other = "B" if side == "A" else "A"
    save(tmp_path / other / "x.png")
    save(tmp_path / "elsewhere" / "y.png")
    with pytest.raises(ToolkitError) as err:
        translation.load_translation_folder(tmp_path, paired=False)
    assert str(err.value) == (
        f"{tmp_path} has no images in {side}/: a translation set needs sub-folders A/ and B/ with images "
        "directly inside (found 2 images elsewhere)"
    )


def test_a_file_without_a_partner_says_how_to_fix_it(tmp_path):
    save(tmp_path / "A" / "x.png")
    save(tmp_path / "B" / "x.png")
    save(tmp_path / "B" / "y.jpg")
    with pytest.raises(ToolkitError) as err:
        translation.load_translation_folder(tmp_path, paired=True)
    assert str(err.value) == (
        f"B/y.jpg in {tmp_path} has no partner in A/ (pix2pix pairs files by name: add A/y.png or remove it; "
        "for unpaired data use --model cyclegan)"
    )
    data = translation.load_translation_folder(tmp_path, paired=False, resolution=8)  # unpaired: fine
    assert len(data.a) == 1 and len(data.b) == 2


def test_a_file_that_does_not_decode_is_named_with_its_folder(tmp_path):
    save(tmp_path / "A" / "x.png")
    (tmp_path / "B").mkdir()
    (tmp_path / "B" / "x.png").write_bytes(b"not a png")
    with pytest.raises(ToolkitError) as err:
        translation.load_translation_folder(tmp_path, paired=True)
    assert str(err.value).startswith(f"cannot read image B/x.png in {tmp_path} (UnidentifiedImageError")


def test_pairs_of_different_sizes_name_both_files(tmp_path):
    save(tmp_path / "A" / "a.png", size=(8, 8))
    save(tmp_path / "B" / "a.png", size=(8, 8))
    save(tmp_path / "A" / "b.png", size=(10, 6))
    save(tmp_path / "B" / "b.png", size=(6, 10))
    with pytest.raises(ToolkitError) as err:
        translation.load_translation_folder(tmp_path, paired=True)
    assert str(err.value) == (
        "A/b.png is 10x6 but its partner B/b.png is 6x10; the two images of a pair must have the same size"
    )
    assert len(translation.load_translation_folder(tmp_path, paired=False, resolution=8).a) == 2


def test_a_folder_by_name_uses_resolution_64_and_a_seeded_limit(tmp_path):
    for i in range(6):
        save(tmp_path / "set" / "A" / f"{i}.png", size=(80, 80), value=10 * i)
        save(tmp_path / "set" / "B" / f"{i}.png", size=(80, 80), value=10 * i)
    data = translation.load_translation(str(tmp_path / "set"))
    assert data.a.shape == (6, 1, 64, 64) and data.held_out is None and data.info["resolution"] == 64
    assert translation.load_translation(str(tmp_path / "set"), resolution=16).a.shape == (6, 1, 16, 16)
    sub = translation.load_translation(str(tmp_path / "set"), resolution=8, limit=3, seed=2)
    assert sub.names == [
        str(i) for i in sorted(torch.randperm(6, generator=torch.Generator().manual_seed(2))[:3].tolist())
    ]
    assert torch.equal(sub.a, sub.b)
    unpaired_set = translation.load_translation(str(tmp_path / "set"), resolution=8, paired=False)
    assert not unpaired_set.paired


def test_the_builtin_crops_pad_with_background():
    x = torch.zeros(2, 1, 28, 28)
    padded = translation._pad32(x)
    assert padded.shape == (2, 1, 32, 32) and torch.equal(padded[:, :, 2:30, 2:30], x)
    assert padded[:, :, :2].eq(-1).all() and padded[:, :, 30:].eq(-1).all()
    assert padded[:, :, :, :2].eq(-1).all() and padded[:, :, :, 30:].eq(-1).all()
    assert torch.equal(padded, F.pad(x, (2, 2, 2, 2), value=-1.0))
