"""What an image folder turns into, value by value: the pixel scale, each mode's conversion, the crop, forced
channels, the layouts of folders and zips, and what the dashboard's start form is told before decoding.

Found by mutation testing: the older folder tests checked shapes and that values lie in [-1, 1], so a wrong
scale, a shifted crop or a 16-bit image read as white all passed."""

import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from toolkit.data.folder import inspect_image_folder, load_image_folder, preview_images, survey_images
from toolkit.errors import ToolkitError


def _save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path) if mode else Image.fromarray(array).save(path)


def _scaled(values) -> torch.Tensor:
    """8-bit values as the toolkit stores them: v / 127.5 - 1, so 0 -> -1 and 255 -> 1."""
    return torch.as_tensor(np.array(values), dtype=torch.float32) / 127.5 - 1


def test_pixel_values_are_scaled_to_minus_one_one_exactly(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4  # 0, 4, ..., 252
    _save(tmp_path / "g.png", grey)
    x = load_image_folder(tmp_path, resolution=8).x  # same size: no resampling
    assert x.dtype == torch.float32 and x.shape == (1, 1, 8, 8)
    assert torch.allclose(x[0, 0], _scaled(grey), atol=1e-6)
    rgb = np.stack([grey, 255 - grey, np.full_like(grey, 255)], -1)
    _save(tmp_path / "c.png", rgb)
    x = load_image_folder(tmp_path, resolution=8).x  # one RGB image: the set becomes RGB
    assert x.shape == (2, 3, 8, 8)
    assert torch.allclose(x[0], _scaled(rgb).permute(2, 0, 1), atol=1e-6)  # c.png sorts first
    assert torch.allclose(x[1], _scaled(np.stack([grey] * 3)), atol=1e-6)  # grey repeated in R, G, B


def test_the_crop_is_the_centre_square_for_wide_and_tall_images(tmp_path):
    wide = np.zeros((10, 30), np.uint8)
    wide[:, 10:20] = 255  # only the middle third is white
    _save(tmp_path / "wide" / "a.png", wide)
    assert (load_image_folder(tmp_path / "wide", resolution=10).x == 1).all()
    tall = np.zeros((31, 11), np.uint8)
    tall[10:21] = 255  # (31 - 11) // 2 = 10 rows cut from the top
    _save(tmp_path / "tall" / "a.png", tall)
    assert (load_image_folder(tmp_path / "tall", resolution=11).x == 1).all()


@pytest.mark.parametrize("mode, dtype", [("I;16", "<u2"), ("I;16B", ">u2")])
def test_16_bit_grey_is_scaled_by_255_over_65535(tmp_path, mode, dtype):
    levels = (
        np.array([0, 257, 257 * 100, 257 * 200 + 128, 65535]).repeat(5).reshape(5, 5)
    )  # 0, 1, 100, 200.5, 255
    Image.frombytes(mode, (5, 5), levels.astype(dtype).tobytes()).save(tmp_path / "a.tif")
    assert Image.open(tmp_path / "a.tif").mode == mode
    x = load_image_folder(tmp_path, resolution=5).x
    want = np.round(levels / 257.0)
    assert x.shape == (1, 1, 5, 5) and torch.allclose(x[0, 0], _scaled(want), atol=1e-6)


@pytest.mark.parametrize("mode", ["I", "F"])
def test_32_bit_and_float_grey_are_stretched_to_the_full_range(tmp_path, mode):
    values = np.tile(np.array([[-5.0, 0.0], [5.0, 15.0]]), (2, 2)).astype(
        np.float32 if mode == "F" else np.int32
    )
    Image.fromarray(values, mode).save(tmp_path / "a.tif")
    x = load_image_folder(tmp_path, resolution=4).x
    stretched = np.floor((values - values.min()) / 20.0 * 255)  # -5 -> 0, 15 -> 255
    assert torch.allclose(x[0, 0], _scaled(stretched), atol=1e-6)
    Image.fromarray(np.full((4, 4), 7, values.dtype), mode).save(tmp_path / "a.tif")  # flat: no division by 0
    assert (load_image_folder(tmp_path, resolution=4).x == -1).all()


def test_palette_one_bit_and_cmyk_images_keep_their_colours(tmp_path):
    palette = Image.new("P", (4, 4))
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putdata([0, 1] * 8)  # alternating red and blue
    palette.save(tmp_path / "p.png")
    x = load_image_folder(tmp_path, resolution=4).x
    assert x.shape == (1, 3, 4, 4)
    assert x[0, :, 0, 0].tolist() == [1.0, -1.0, -1.0] and x[0, :, 0, 1].tolist() == [-1.0, -1.0, 1.0]
    (tmp_path / "p.png").unlink()
    checker = np.tile(np.array([[0, 255], [255, 0]], np.uint8), (2, 2))
    Image.fromarray(checker).convert("1").save(tmp_path / "b.png")
    x = load_image_folder(tmp_path, resolution=4).x
    assert x.shape == (1, 1, 4, 4) and torch.equal(x[0, 0], _scaled(checker))  # 1-bit is grey
    (tmp_path / "b.png").unlink()
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))  # no cyan, full magenta and yellow: red
    cmyk.save(tmp_path / "c.jpg", quality=100)
    x = load_image_folder(tmp_path, resolution=4).x
    assert x.shape == (1, 3, 4, 4) and torch.allclose(
        x[0, :, 0, 0], torch.tensor([1.0, -1.0, -1.0]), atol=0.05
    )


def test_forced_channels_convert_grey_to_rgb_and_rgb_to_pillows_grey(tmp_path):
    _save(tmp_path / "g" / "a.png", np.full((4, 4), 80, np.uint8))
    x = load_image_folder(tmp_path / "g", resolution=4, channels=3).x
    assert x.shape == (1, 3, 4, 4) and torch.allclose(x, _scaled(np.full((1, 3, 4, 4), 80)))
    _save(tmp_path / "c" / "a.png", np.full((4, 4, 3), (200, 100, 50), np.uint8))
    data = load_image_folder(tmp_path / "c", resolution=4, channels=1)
    luma = (200 * 299 + 100 * 587 + 50 * 114) // 1000  # ITU-R 601-2, as Pillow's convert("L")
    assert data.x.shape == (1, 1, 4, 4) and torch.allclose(
        data.x, _scaled(np.full((1, 1, 4, 4), luma)), atol=0.01
    )
    assert data.info == {
        "source": str(tmp_path / "c"),
        "skipped": 0,
        "unreadable": [],
        "modes": ["RGB"],
        "resolution": 4,
        "channels": 1,
    }
    assert data.name == "c" and load_image_folder(tmp_path / "c", resolution=4, name="mine").name == "mine"
    with pytest.raises(ToolkitError, match="^channels must be 1 or 3, got 2$"):
        load_image_folder(tmp_path / "c", channels=2)
    with pytest.raises(ToolkitError, match="^resolution must be at least 4 pixels, got 3$"):
        load_image_folder(tmp_path / "c", resolution=3)
    assert load_image_folder(tmp_path / "c", resolution=4).x.shape == (1, 3, 4, 4)  # 4 itself is allowed


def _zip(path, names):
    png = io.BytesIO()
    Image.new("L", (4, 4), 200).save(png, format="PNG")
    with zipfile.ZipFile(path, "w") as z:
        for n in names:
            z.writestr(n, png.getvalue())
    return path


def test_zip_layouts_one_top_folder_is_stripped_several_are_classes(tmp_path):
    one = load_image_folder(_zip(tmp_path / "one.zip", ["birds/a.png", "birds/b.png"]), resolution=4)
    assert one.labels is None and len(one) == 2  # "birds/" is the folder itself, not a class
    several = load_image_folder(
        _zip(tmp_path / "two.zip", ["cats/a.png", "dogs/b.png", "dogs/c.png"]), resolution=4
    )
    assert several.class_names == ["cats", "dogs"] and several.labels.tolist() == [0, 1, 1]
    nested = _zip(
        tmp_path / "nested.zip", ["pets/cats/a.png", "pets/dogs/b.png", "pets/.hidden.png", "pets/x.txt"]
    )
    data = load_image_folder(nested, resolution=4)
    assert data.class_names == ["cats", "dogs"] and data.info["skipped"] == 2
    flat = load_image_folder(_zip(tmp_path / "flat.zip", ["a.png", "b.png", ".c.png"]), resolution=4)
    assert flat.labels is None and len(flat) == 2 and flat.info["skipped"] == 1


def test_mixed_or_deep_layouts_are_refused(tmp_path):
    _save(tmp_path / "mixed" / "a.png", np.zeros((4, 4), np.uint8))
    _save(tmp_path / "mixed" / "cats" / "b.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ToolkitError, match="mixes layouts"):
        load_image_folder(tmp_path / "mixed", resolution=4)
    _save(tmp_path / "deep" / "cats" / "tabby" / "b.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ToolkitError, match="mixes layouts"):
        load_image_folder(tmp_path / "deep", resolution=4)
    (tmp_path / "file.txt").write_text("hello")
    with pytest.raises(ToolkitError, match="is neither a folder nor a .zip file of images"):
        load_image_folder(tmp_path / "file.txt")


def test_inspect_counts_without_decoding(tmp_path):
    for rel in ("cats/a.png", "cats/b.jpg", "dogs/c.png"):
        (tmp_path / "labelled" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "labelled" / rel).write_bytes(b"not decoded")
    (tmp_path / "labelled" / "cats" / "notes.txt").write_text("x")
    (tmp_path / "labelled" / ".git").mkdir()
    (tmp_path / "labelled" / ".git" / "HEAD").write_text("x")
    assert inspect_image_folder(tmp_path / "labelled") == {
        "images": 3,
        "skipped": 2,
        "classes": ["cats", "dogs"],
        "top_level": [],
        "deeper": [],
        "sides": {"A": 0, "B": 0},
    }
    for rel in ("A/1.png", "A/2.png", "B/1.png"):
        (tmp_path / "pairs" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pairs" / rel).write_bytes(b"x")
    assert inspect_image_folder(tmp_path / "pairs")["sides"] == {"A": 2, "B": 1}
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"x")
    assert inspect_image_folder(tmp_path / "flat") == {
        "images": 1,
        "skipped": 0,
        "classes": [],
        "top_level": ["a.png"],
        "deeper": [],
        "sides": {"A": 0, "B": 0},
    }
    (tmp_path / "empty").mkdir()
    assert inspect_image_folder(tmp_path / "empty")["classes"] == []
    with pytest.raises(ToolkitError, match="does not exist"):
        inspect_image_folder(tmp_path / "missing")


def test_palette_and_one_bit_images_are_resampled_like_their_rgb_and_grey_twins(tmp_path):
    """Pillow resizes palette and 1-bit images by nearest neighbour; converted first, they get Lanczos like
    every other image, so a red/blue checkerboard shrinks to the same purple as its RGB twin."""
    checker = np.indices((8, 8)).sum(0) % 2
    palette = Image.new("P", (8, 8))
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putdata(checker.flatten().tolist())
    (tmp_path / "p").mkdir()
    palette.save(tmp_path / "p" / "a.png")
    _save(
        tmp_path / "rgb" / "a.png",
        np.where(checker[..., None] == 0, [255, 0, 0], [0, 0, 255]).astype(np.uint8),
    )
    got = load_image_folder(tmp_path / "p", resolution=4).x
    assert torch.equal(got, load_image_folder(tmp_path / "rgb", resolution=4).x)
    assert got[0, 0].abs().max() < 0.5  # blended, not pure red or blue
    bits = (checker * 255).astype(np.uint8)
    (tmp_path / "b").mkdir()
    Image.fromarray(bits).convert("1").save(tmp_path / "b" / "a.png")
    _save(tmp_path / "l" / "a.png", bits)
    got = load_image_folder(tmp_path / "b", resolution=4).x
    assert torch.equal(got, load_image_folder(tmp_path / "l", resolution=4).x) and got.abs().max() < 0.5


def test_float_grey_with_a_range_below_one_is_stretched_too(tmp_path):
    values = np.tile(np.array([[0.0, 0.25], [0.5, 0.5]], np.float32), (2, 2))
    Image.fromarray(values, "F").save(tmp_path / "a.tif")
    x = load_image_folder(tmp_path, resolution=4).x
    assert x.min() == -1 and x.max() == 1


def test_streaming_is_chosen_when_asked_or_when_the_set_would_not_fit(tmp_path, monkeypatch):
    from toolkit.data import streaming

    for i in range(3):
        _save(tmp_path / "cats" / f"{i}.png", np.full((6, 6), 40 * i, np.uint8))
    _save(tmp_path / "dogs" / "0.png", np.full((6, 6), 200, np.uint8))
    (tmp_path / "dogs" / "notes.txt").write_text("x")
    calls = []
    monkeypatch.setattr(streaming, "stream_image_folder", lambda *args: calls.append(args) or "streamed")
    assert load_image_folder(tmp_path, resolution=4, channels=1, name="pets", stream=True) == "streamed"
    path, entries, skipped, labelled, resolution, channels, name = calls[0]
    assert (path, skipped, labelled, resolution, channels, name) == (tmp_path, 1, True, 4, 1, "pets")
    assert [rel for rel, _ in entries] == ["cats/0.png", "cats/1.png", "cats/2.png", "dogs/0.png"]
    assert load_image_folder(tmp_path, resolution=4, stream=False).x.shape == (4, 1, 4, 4)
    import toolkit.data.folder as folder

    asked = []
    monkeypatch.setattr(folder, "fits_in_memory", lambda n, shape: asked.append((n, shape)) or False)
    assert load_image_folder(tmp_path, resolution=4) == "streamed"  # decided by size: RGB at worst
    assert asked == [(4, (3, 4, 4))]
    assert load_image_folder(tmp_path, resolution=4, stream=False).x.shape == (4, 1, 4, 4)  # forced in memory


def test_a_file_that_does_not_decode_is_named_with_the_reason(tmp_path):
    _save(tmp_path / "good.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 200)
    with pytest.raises(ToolkitError) as error:
        load_image_folder(tmp_path, resolution=4)
    message = str(error.value)
    assert message.startswith(f"1 of 2 images in {tmp_path} (50%) do not decode, half or more: check the")
    assert f"The first: cannot read image bad.png in {tmp_path} (" in message
    assert "Error: " in message and message.endswith("); remove or replace it")
    assert "(OSError: Truncated File Read)" in message  # the decoder's words, not only the exception's name


def test_an_image_too_large_to_decode_safely_is_named_with_the_limit(tmp_path, monkeypatch):
    _save(tmp_path / "big.png", np.zeros((40, 40), np.uint8))
    monkeypatch.setattr(
        Image, "MAX_IMAGE_PIXELS", 100
    )  # 1,600 pixels is over twice the limit: Pillow refuses
    with pytest.raises(ToolkitError) as error:
        load_image_folder(tmp_path, resolution=4)
    assert "image big.png in" in str(error.value)
    assert "is too large to load safely (over 100 pixels); shrink it or remove it" in str(error.value)


def test_the_default_resolution_is_64(tmp_path):
    _save(tmp_path / "a.png", np.zeros((10, 10), np.uint8))
    assert load_image_folder(tmp_path).x.shape == (1, 1, 64, 64)


def test_an_odd_margin_is_cut_one_pixel_more_at_the_end(tmp_path):
    wide = np.zeros((10, 21), np.uint8)
    wide[:, 5:15] = 255  # (21 - 10) // 2 = 5 columns cut on the left, 6 on the right
    _save(tmp_path / "wide" / "a.png", wide)
    assert (load_image_folder(tmp_path / "wide", resolution=10).x == 1).all()
    _save(tmp_path / "tall" / "a.png", np.ascontiguousarray(wide.T))
    assert (load_image_folder(tmp_path / "tall", resolution=10).x == 1).all()


def test_downscaling_is_pillows_lanczos(tmp_path):
    rgb = (np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)
    _save(tmp_path / "a.png", rgb)
    want = np.asarray(Image.fromarray(rgb).resize((5, 5), Image.LANCZOS))
    data = load_image_folder(tmp_path, resolution=5)
    assert torch.allclose(data.x[0], _scaled(want).permute(2, 0, 1), atol=1e-6)
    assert data.kind == "images" and data.info["channels"] == 3 and data.labels is None


def test_mac_metadata_and_other_files_are_skipped_and_counted(tmp_path):
    _save(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "._a.png").write_bytes(b"junk")
    (tmp_path / "readme.md").write_text("x")
    data = load_image_folder(tmp_path, resolution=4)
    assert len(data) == 1 and data.info["skipped"] == 2
    _save(tmp_path / "__MACOSX" / "b.png", np.zeros((4, 4), np.uint8))  # a real image there: still skipped
    assert len(load_image_folder(tmp_path, resolution=4)) == 1
    (tmp_path / "__MACOSX" / "b.png").unlink()
    zipped = _zip(tmp_path / "z.zip", ["set/a.png", "set/a.txt", "set/b.png", "set/c.png"])
    data = load_image_folder(zipped, resolution=4)
    assert len(data) == 3 and data.info["skipped"] == 1  # a skipped file does not end the listing
    with pytest.raises(ToolkitError) as error:
        load_image_folder(tmp_path / "__MACOSX", resolution=4)
    assert str(error.value) == (
        f"no images found in {tmp_path / '__MACOSX'} (looked for .bmp, .gif, .jpeg, .jpg, .png, .tif, .tiff, "
        ".webp; 1 other files skipped)"
    )


def test_an_unreadable_file_is_skipped_and_named_until_half_of_the_images_fail(tmp_path):
    for i, level in enumerate((0, 100, 200)):
        _save(tmp_path / "cats" / f"{i}.png", np.full((4, 4), level, np.uint8))
    _save(tmp_path / "dogs" / "0.png", np.full((4, 4), 50, np.uint8))
    (tmp_path / "dogs" / "1.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    data = load_image_folder(tmp_path, resolution=4)
    assert data.info["unreadable"] == ["dogs/1.jpg"]
    assert data.labels.tolist() == [0, 0, 0, 1] and data.class_names == ["cats", "dogs"]
    assert [round(float(v)) for v in (data.x[:, 0, 0, 0] + 1) * 127.5] == [0, 100, 200, 50]
    survey = survey_images(tmp_path)
    assert survey["checked"] == 5 and [name for name, _ in survey["unreadable"]] == ["dogs/1.jpg"]
    assert survey["unreadable"][0][1].startswith(f"cannot read image dogs/1.jpg in {tmp_path} (")
    assert survey["modes"] == {"L": 4} and survey["sides"] == [4, 4, 4, 4]
    assert survey_images(tmp_path, limit=3)["unreadable"] == []
    preview = preview_images(tmp_path, resolution=2, n=8)  # the 4 readable ones, as the model sees them
    assert preview.shape == (4, 1, 2, 2) and [round(float(v)) for v in (preview[:, 0, 0, 0] + 1) * 127.5] == [
        0,
        100,
        200,
        50,
    ]
    (tmp_path / "cats" / "2.png").write_bytes(b"x")  # 2 of 5: still trains, on 3
    assert load_image_folder(tmp_path, resolution=4).info["unreadable"] == ["cats/2.png", "dogs/1.jpg"]
    (tmp_path / "cats" / "1.png").write_bytes(b"x")  # 3 of 5: most of the folder
    with pytest.raises(ToolkitError) as error:
        load_image_folder(tmp_path, resolution=4)
    assert str(error.value).startswith(f"3 of 5 images in {tmp_path} (60%) do not decode, half or more: ")
    assert f"The first: cannot read image cats/1.png in {tmp_path} (" in str(error.value)
