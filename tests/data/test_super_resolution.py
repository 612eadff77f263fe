"""Super-resolution data value by value, in milliseconds: the bicubic shrink and its baseline, the pair
set's check, crops of stand-in photographs whose pixels say where they came from, your own folders (held
out every 10th image, small images scaled up), and which set, split, size and limit each name loads.
tests/integration/test_srgan.py loads the real sets and trains on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from toolkit.data import super_resolution as sr
from toolkit.data.base import TensorData
from toolkit.data.super_resolution import SuperResolutionData
from toolkit.data.translation import PHOTOS
from toolkit.errors import ToolkitError


# --- the shrink and the baseline ------------------------------------------------------------------
def test_downscale_is_antialiased_bicubic_clamped_to_the_image_range():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 16, 24, generator=g) * 2 - 1
    small = sr.downscale(x, 4)
    want = F.interpolate(x, size=(4, 6), mode="bicubic", antialias=True, align_corners=False)
    assert small.shape == (2, 3, 4, 6) and torch.equal(small, want.clamp(-1, 1))
    assert not torch.equal(want, F.interpolate(x, size=(4, 6), mode="bicubic", align_corners=False))
    stripes = torch.full((1, 1, 8, 8), -1.0)
    stripes[..., ::4, :] = 1.0  # sharp edges make bicubic overshoot past -1 and 1
    raw = F.interpolate(stripes, size=(4, 4), mode="bicubic", antialias=True, align_corners=False)
    assert raw.min() < -1 and sr.downscale(stripes, 2).min() == -1.0
    assert (-raw).max() > 1 and sr.downscale(-stripes, 2).max() == 1.0  # and past 1 the other way
    flat = sr.downscale(torch.full((1, 1, 8, 8), 0.25), 2)  # a flat image stays flat
    assert flat.shape == (1, 1, 4, 4) and torch.allclose(flat, torch.full_like(flat, 0.25), atol=1e-6)


def test_downscale_refuses_sides_the_scale_does_not_divide():
    with pytest.raises(ToolkitError) as err:
        sr.downscale(torch.zeros(1, 1, 28, 30), 4)
    assert str(err.value) == "28x30 images cannot be shrunk 4x exactly; use sides that 4 divides"
    with pytest.raises(ToolkitError, match="30x28 images"):
        sr.downscale(torch.zeros(1, 1, 30, 28), 4)
    assert sr.downscale(torch.zeros(1, 1, 28, 28), 4).shape == (1, 1, 7, 7)


def test_the_bicubic_baseline_upscales_clamped_and_as_float():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 1, 5, 7, generator=g) * 2 - 1
    up = sr.bicubic_upscale(x, 4)
    want = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    assert up.shape == (2, 1, 20, 28) and torch.equal(up, want.clamp(-1, 1)) and want.max() > 1
    assert sr.bicubic_upscale(x.double(), 2).dtype == torch.float32


# --- the pair set --------------------------------------------------------------------------------------
def test_a_pair_set_holds_each_image_and_its_shrink():
    high = torch.rand(3, 1, 8, 12) * 2 - 1
    data = SuperResolutionData.from_high("x", high, 2, {"source": "s"})
    assert torch.equal(data.a, sr.downscale(high, 2)) and data.b is high
    assert data.paired and data.scale == 2 and data.kind == "super-resolution" and data.name == "x"
    assert data.info == {"source": "s", "scale": 2}
    assert SuperResolutionData("d", torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 8, 8), True).scale == 4
    with pytest.raises(ToolkitError) as err:
        SuperResolutionData("y", torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 8, 16), True, scale=2)
    assert str(err.value) == "y: high-resolution images (8, 16) are not 2x the low-resolution (4, 4)"
    with pytest.raises(ToolkitError) as err:
        SuperResolutionData("z", torch.zeros(3, 1, 4, 4), torch.zeros(2, 1, 8, 8), True, scale=2)
    assert str(err.value) == (
        "z: 3 low-resolution images but 2 high-resolution ones; each image needs its pair"
    )
    with pytest.raises(ToolkitError, match=r"\(16, 8\) are not 2x"):
        SuperResolutionData("y", torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 16, 8), True, scale=2)


# --- crops of photographs -----------------------------------------------------------------------------
@pytest.fixture
def fake_photos(monkeypatch):
    """Stand-in photographs whose pixels say where they are: red = 4 * column, green = 4 * row, blue =
    40 * the photo's number; 40 rows x 60 columns, with an alpha channel the loader drops."""
    from skimage import data as photos

    rows, cols = np.meshgrid(np.arange(40), np.arange(60), indexing="ij")
    for i, name in enumerate(PHOTOS):
        rgba = np.stack([4 * cols, 4 * rows, np.full_like(rows, 40 * i), np.full_like(rows, 255)], -1)
        monkeypatch.setattr(photos, name, lambda a=rgba.astype(np.uint8): a.copy())


def origins(crops: torch.Tensor) -> list[tuple[int, int, int]]:
    """(photo, row, column) of each crop's top-left pixel."""
    pixels = ((crops[:, :, 0, 0] + 1) * 127.5).round().long()
    return [(b // 40, g // 4, r // 4) for r, g, b in pixels.tolist()]


@pytest.mark.parametrize("split", ["train", "test"])
def test_photo_crops_come_from_their_part_of_each_full_size_photo(fake_photos, split):
    crops = sr.photo_crops(split, 14, 8, seed=3)
    assert crops.shape == (14, 3, 8, 8)
    found = origins(crops)
    assert [p for p, _, _ in found] == [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # 14 = 6 * 2 + 2 extra
    g = torch.Generator().manual_seed(3 if split == "train" else 4)
    lo, hi = (0, 42) if split == "train" else (42, 60)  # the cut at 70% of 60 columns
    want = []
    for count in (3, 3, 2, 2, 2, 2):
        ys = torch.randint(0, 40 - 8 + 1, (count,), generator=g).tolist()
        xs = torch.randint(lo, hi - 8 + 1, (count,), generator=g).tolist()
        want += list(zip(ys, xs))
    assert [(r, c) for _, r, c in found] == want
    rows, cols = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    assert torch.allclose(crops[0, 0], 4 * (want[0][1] + cols) / 127.5 - 1)  # the whole crop, not a corner
    assert torch.allclose(crops[0, 1], 4 * (want[0][0] + rows) / 127.5 - 1)


def test_photo_crops_reach_both_ends_of_their_part(fake_photos):
    train = origins(sr.photo_crops("train", 600, 8, seed=0))
    test = origins(sr.photo_crops("test", 600, 8, seed=0))
    assert (min(c for *_, c in train), max(c for *_, c in train)) == (0, 34)
    assert (min(c for *_, c in test), max(c for *_, c in test)) == (42, 52)
    assert (min(r for _, r, _ in test), max(r for _, r, _ in test)) == (0, 32)


def test_a_crop_larger_than_a_photos_part_is_one_line(fake_photos):
    assert sr.photo_crops("test", 6, 18, seed=0).shape == (6, 3, 18, 18)  # the test part is 18 wide
    with pytest.raises(ToolkitError) as err:
        sr.photo_crops("test", 6, 19, seed=0)
    assert str(err.value) == "photos: --resolution 19 is too large for the photo astronaut; use 128 or less"
    assert sr.photo_crops("train", 6, 40, seed=0).shape == (6, 3, 40, 40)  # 40 rows: just fits
    with pytest.raises(ToolkitError, match="--resolution 41 is too large"):
        sr.photo_crops("train", 6, 41, seed=0)


# --- your own folders -------------------------------------------------------------------------------
def coded_folder(root, count, size=(12, 12), mode="RGB"):
    """``count`` images named 00.png...; image i is filled with grey level 10 * i."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new(mode, size, (10 * i,) * 3 if mode == "RGB" else 10 * i).save(root / f"{i:02d}.png")
    return root


def levels(crops: torch.Tensor) -> list[int]:
    return sorted({round(v) for v in ((crops[:, 0, 0, 0] + 1) * 127.5).tolist()})


def test_every_tenth_image_of_a_folder_is_held_out(tmp_path):
    root = coded_folder(tmp_path / "mine", 20)
    train, info = sr.folder_crops(root, 8, 36, seed=0, held_out=False)
    held, held_info = sr.folder_crops(root, 8, 4, seed=0, held_out=True)
    assert levels(held) == [90, 190]  # images 9 and 19
    assert levels(train) == [10 * i for i in range(20) if i % 10 != 9]
    assert train.shape == (36, 3, 8, 8) and info["images"] == 18 and held_info["images"] == 2
    assert info == {"source": str(root), "skipped": 0, "images": 18, "crops": 36}
    few = coded_folder(tmp_path / "few", 9)  # fewer than 10: nothing is held out
    assert levels(sr.folder_crops(few, 8, 9, seed=0, held_out=True)[0]) == [10 * i for i in range(9)]


def test_folder_crops_are_spread_evenly_and_seeded_by_the_part(tmp_path, monkeypatch):
    root = coded_folder(tmp_path / "mine", 3, size=(12, 12))
    crops, _ = sr.folder_crops(root, 8, 7, seed=5, held_out=False)
    counts = [round(v) for v in ((crops[:, 0, 0, 0] + 1) * 127.5).tolist()]
    assert counts == [0, 0, 0, 10, 10, 20, 20]  # 7 = 3 * 2 + 1 extra for the first
    drawn = []
    real = sr._crops
    monkeypatch.setattr(
        sr,
        "_crops",
        lambda image, count, size, columns, g: (
            drawn.append((count, size, columns, g.initial_seed())) or real(image, count, size, columns, g)
        ),
    )
    sr.folder_crops(root, 8, 4, seed=5, held_out=False)
    sr.folder_crops(root, 8, 4, seed=5, held_out=True)
    assert drawn[:3] == [(2, 8, (0, 12), 5), (1, 8, (0, 12), 5), (1, 8, (0, 12), 5)]
    assert drawn[3][3] == 6  # the held-out part draws with seed + 1


def test_crop_positions_cover_the_whole_image(tmp_path):
    root = tmp_path / "one"
    root.mkdir()
    rows, cols = np.meshgrid(np.arange(10), np.arange(14), indexing="ij")
    Image.fromarray(np.stack([cols * 10, rows * 10, rows * 0], -1).astype(np.uint8)).save(root / "a.png")
    crops, _ = sr.folder_crops(root, 4, 400, seed=0, held_out=False)
    pixels = ((crops[:, :2, 0, 0] + 1) * 127.5).round().long() // 10
    assert pixels[:, 0].min() == 0 and pixels[:, 0].max() == 10  # columns 0..14-4
    assert pixels[:, 1].min() == 0 and pixels[:, 1].max() == 6  # rows 0..10-4
    assert torch.allclose(crops[0, 0, 0], (pixels[0, 0] * 10 + torch.arange(4) * 10) / 127.5 - 1)


def test_an_image_smaller_than_a_crop_is_scaled_up_to_fit(tmp_path, monkeypatch):
    root = tmp_path / "small"
    root.mkdir()
    Image.new("L", (6, 3), 200).save(root / "a.png")  # 3 rows: scaled to 8 rows x 16 columns
    crops, info = sr.folder_crops(root, 8, 5, seed=0, held_out=False)
    assert crops.shape == (5, 1, 8, 8) and info["images"] == 1  # grey stays one channel
    assert torch.allclose(crops, torch.full_like(crops, 200 / 127.5 - 1))
    drawn = []
    Image.new("L", (3, 20), 10).save(root / "a.png")  # 3 columns: scaled to 8 x 53
    Image.new("L", (8, 8), 10).save(root / "b.png")  # exactly the crop: kept
    Image.new("L", (7, 9), 10).save(root / "c.png")  # 7 columns: 8 x round(9 * 8 / 7) = 10
    Image.new("L", (6, 3), 10).save(root / "d.png")  # 3 rows: round(6 * 8 / 3) = 16 x 8
    real_resize = Image.Image.resize

    def resize(img, size, *a, **kw):
        drawn.append(size)
        return real_resize(img, size, *a, **kw)

    monkeypatch.setattr(Image.Image, "resize", resize)
    sr.folder_crops(root, 8, 3, seed=0, held_out=False)
    assert drawn == [(8, 53), (8, 10), (16, 8)]


def test_a_file_that_does_not_decode_is_named_with_its_folder(tmp_path):
    root = coded_folder(tmp_path / "mine", 2)
    (root / "01.png").write_bytes(b"not a png")
    with pytest.raises(ToolkitError) as err:
        sr.folder_crops(root, 8, 4, 0, False)
    assert str(err.value).startswith(f"cannot read image 01.png in {root} (UnidentifiedImageError")


def test_a_folder_without_images_is_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(ToolkitError) as err:
        sr.folder_crops(tmp_path, 8, 4, 0, False)
    assert str(err.value) == f"no images found in {tmp_path}; put your high-resolution images in it"


def test_folder_crops_check_memory_before_cropping(tmp_path, monkeypatch):
    root = coded_folder(tmp_path / "mine", 2, mode="L")
    monkeypatch.setattr("toolkit.data.base.memory_bytes", lambda: 1000)  # a 1 kB machine
    with pytest.raises(ToolkitError, match="1,000 crops of 8x8 would need"):
        sr.folder_crops(root, 8, 1000, seed=0, held_out=False)
    calls = []
    monkeypatch.setattr(sr, "check_memory", lambda n, shape, what: calls.append((n, shape, what)))
    sr.folder_crops(root, 8, 5, seed=0, held_out=False)
    assert calls == [(5, (1, 8, 8), "5 crops of 8x8")]
    sr.folder_crops(coded_folder(tmp_path / "colour", 2), 8, 6, seed=0, held_out=False)
    assert calls[1] == (6, (3, 8, 8), "6 crops of 8x8")


# --- which set each name loads ---------------------------------------------------------------------
@pytest.fixture
def fake_fashion(monkeypatch):
    """A stand-in Fashion-MNIST: 100 28x28 garments per split, image i filled with i / 100 - 0.5 (test
    images 0.25 higher); records the calls."""
    from toolkit.data import fashion_mnist

    calls = []

    def load(split="train", pad_to_32=True):
        calls.append((split, pad_to_32))
        shift = 0.25 if split == "test" else 0.0
        x = (torch.arange(100.0) / 100 - 0.5 + shift).view(100, 1, 1, 1).repeat(1, 1, 28, 28)
        return TensorData("fashion-mnist", x, torch.arange(100) % 10)

    monkeypatch.setattr(fashion_mnist, "load_fashion_mnist", load)
    return calls


def garments(x: torch.Tensor, split: str = "train") -> list[int]:
    return [round((v + 0.5 - (0.25 if split == "test" else 0)) * 100) for v in x[:, 0, 0, 0].tolist()]


def test_fashion_pairs_with_a_seeded_limit_and_64_held_out_test_garments(fake_fashion):
    data = sr.load_super_resolution("fashion-mnist", limit=5, seed=2)
    assert fake_fashion == [("train", False), ("test", False)]
    want = sorted(torch.randperm(100, generator=torch.Generator().manual_seed(2))[:5].tolist())
    assert garments(data.b) == want and data.a.shape == (5, 1, 7, 7) and data.scale == 4
    assert data.name == "fashion-mnist" and data.info == {"source": "Fashion-MNIST train", "scale": 4}
    held_a, held_b = data.held_out
    held_want = sorted(torch.randperm(100, generator=torch.Generator().manual_seed(2))[:64].tolist())
    assert garments(held_b, "test") == held_want and torch.equal(held_a, sr.downscale(held_b, 4))
    fake_fashion.clear()
    test = sr.load_super_resolution("fashion-mnist", "test", scale=2)
    assert fake_fashion == [("test", False)] and test.held_out is None
    assert len(test.b) == 100 and test.a.shape[-1] == 14 and test.info["source"] == "Fashion-MNIST test"
    assert len(sr.load_super_resolution("fashion-mnist", "test", resolution=28, limit=100).b) == 100


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="photos", scale=3), "--scale must be 2, 4 or 8, got 3"),
        (dict(name="photos", scale=1), "--scale must be 2, 4 or 8, got 1"),
        (
            dict(name="fashion-mnist", resolution=32),
            "fashion-mnist super-resolution works on the 28x28 garments; leave --resolution out",
        ),
        (
            dict(name="fashion-mnist", scale=8),
            "28x28 garments cannot be shrunk 8x exactly; use --scale 2 or 4",
        ),
        (
            dict(name="photos", resolution=30),
            "--resolution 30 must be a multiple of --scale 4 and at least 16 pixels",
        ),
        (
            dict(name="photos", resolution=24, scale=8),
            "--resolution 24 must be a multiple of --scale 8 and at least 32 pixels",
        ),
        (
            dict(name="no-such-set"),
            "unknown super-resolution dataset 'no-such-set': use fashion-mnist, photos, or a folder/.zip of "
            "images",
        ),
    ],
)
def test_bad_super_resolution_settings_are_one_line(monkeypatch, kwargs, message):
    from toolkit.data import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "load_fashion_mnist", lambda *a, **k: pytest.fail("loaded data"))
    monkeypatch.setattr(sr, "photo_crops", lambda *a: pytest.fail("loaded data"))
    with pytest.raises(ToolkitError) as err:
        sr.load_super_resolution(**kwargs)
    assert str(err.value) == message


def test_the_smallest_resolution_allowed_is_four_low_resolution_pixels(fake_photos):
    data = sr.load_super_resolution("photos", "test", resolution=16, scale=4, limit=6)
    assert data.a.shape == (6, 3, 4, 4) and data.b.shape == (6, 3, 16, 16)


def test_photos_by_name_default_to_128_pixels_1000_crops_and_64_held_out(monkeypatch):
    calls = []

    def crops(split, n, size, seed):
        calls.append((split, n, size, seed))
        return torch.full((1, 3, size, size), 0.5 if split == "test" else 0.0).expand(n, -1, -1, -1)

    monkeypatch.setattr(sr, "photo_crops", crops)
    data = sr.load_super_resolution("photos", seed=7)
    assert calls == [("train", 1000, 128, 7), ("test", 64, 128, 7)]
    assert data.b.shape == (1000, 3, 128, 128) and data.a.shape == (1000, 3, 32, 32) and data.name == "photos"
    assert data.held_out[1].shape == (64, 3, 128, 128) and torch.all(data.held_out[1] == 0.5)
    assert data.info == {
        "source": "scikit-image photographs astronaut, chelsea, coffee, rocket, immunohistochemistry, "
        "hubble_deep_field (train part)",
        "scale": 4,
    }
    calls.clear()
    test = sr.load_super_resolution("photos", "test", resolution=32, scale=2, limit=9)
    assert calls == [("test", 9, 32, 0)] and test.held_out is None and test.a.shape == (9, 3, 16, 16)
    calls.clear()
    sr.load_super_resolution("photos", "test")
    assert calls == [("test", 64, 128, 0)]
    calls.clear()
    sr.load_super_resolution("photos", resolution=32, limit=5)
    assert calls == [("train", 5, 32, 0), ("test", 64, 32, 0)]  # held out at the training size


def test_a_folder_by_name_defaults_to_96_pixels_2000_crops_and_holds_out_its_tenth_images(
    tmp_path, monkeypatch
):
    calls = []
    real = sr.folder_crops

    def crops(path, size, n, seed, held_out):
        calls.append((str(path), size, n, seed, held_out))
        return real(path, size, n, seed, held_out)

    monkeypatch.setattr(sr, "folder_crops", crops)
    root = coded_folder(tmp_path / "my-photos", 10, size=(100, 100))
    data = sr.load_super_resolution(str(root), limit=18, seed=1)
    assert calls == [(str(root), 96, 18, 1, False), (str(root), 96, 64, 1, True)]
    assert data.name == "my-photos" and data.b.shape == (18, 3, 96, 96) and data.a.shape == (18, 3, 24, 24)
    assert levels(data.b) == [10 * i for i in range(9)] and levels(data.held_out[1]) == [90]
    assert torch.equal(data.held_out[0], sr.downscale(data.held_out[1], 4))
    assert data.info["scale"] == 4 and data.info["images"] == 9
    calls.clear()
    test = sr.load_super_resolution(str(root), "test", resolution=16)
    assert calls == [(str(root), 16, 2000, 0, True)] and test.held_out is None and levels(test.b) == [90]
