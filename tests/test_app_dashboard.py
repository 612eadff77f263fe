"""What the dashboard says, worked out in toolkit/dashboard.py: own-data checks, form defaults and time
estimates, change-marker labels and rows, class-labelled grids. Value by value, without Streamlit."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from toolkit.dashboard import (
    change_label,
    check_own_data,
    estimate_seconds,
    form_defaults,
    label_grid_rows,
    marker_rows,
)
from toolkit.families import config_for


def _photo(path, size=(40, 40), mode="RGB", level=90):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, level if mode in ("L", "LA") else (level,) * len(mode)).save(path)


def test_class_folders_with_a_corrupt_file_list_it_and_say_what_the_model_will_see(tmp_path):
    for c in ("cat", "coffee", "rocket"):
        for i in range(3):
            _photo(tmp_path / c / f"{i}.png")
    _photo(tmp_path / "cat" / "grey.png", mode="L")
    _photo(tmp_path / "coffee" / "alpha.png", mode="RGBA")
    _photo(tmp_path / "coffee" / "tiny.png", size=(20, 30))
    (tmp_path / "rocket" / "rocket_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    found = check_own_data(tmp_path, "cgan", 32)
    assert found["problem"] is None and found["checked"] == 13 and found["images"] == 12
    assert found["summary"] == "13 images in 3 classes (cat, coffee, rocket)"
    assert found["unreadable"] == ["rocket/rocket_corrupt.jpg"]
    assert found["notes"] == [
        "1 image does not decode and will be skipped: rocket/rocket_corrupt.jpg",
        "1 greyscale image will be made RGB (the set has colour)",
        "1 image with transparency or a palette: flattened to RGB",
        "1 image is smaller than 32 px and will be enlarged (the smallest: 20 px)",
    ]
    assert check_own_data(tmp_path, "cgan", 16)["notes"][3:] == []  # nothing below 16 px


def test_layout_messages_name_what_is_where(tmp_path):
    for c in ("cat", "rocket"):
        _photo(tmp_path / "mixed" / c / "0.png")
    _photo(tmp_path / "mixed" / "stray.png")
    for model in ("cgan", "dcgan"):  # dcgan would fail at once on it too: refused before Start
        assert check_own_data(tmp_path / "mixed", model)["problem"] == (
            f"{tmp_path / 'mixed'} has 2 class folders (cat, rocket) and 1 image beside them (stray.png): "
            "move it into a class folder or remove it"
        )
    _photo(tmp_path / "one" / "cat" / "0.png")
    assert check_own_data(tmp_path / "one", "acgan")["problem"] == (
        "acgan learns classes: put the images in one sub-folder per class, two or more "
        f"({tmp_path / 'one'} has only one class folder (cat))"
    )
    assert check_own_data(tmp_path / "one", "dcgan")["summary"] == "1 images in 1 classes (cat)"
    _photo(tmp_path / "flat" / "0.png")
    assert check_own_data(tmp_path / "flat", "cgan")["problem"].endswith(
        "has its images directly in it, no class folders)"
    )
    _photo(tmp_path / "deep" / "a" / "b" / "0.png")
    assert check_own_data(tmp_path / "deep", "dcgan")["problem"].startswith(
        f"{tmp_path / 'deep'} has images two or more folders down (a/b/0.png); put them directly"
    )
    assert check_own_data(tmp_path / "missing", "dcgan")["problem"].endswith("does not exist; check the path")


def test_half_of_the_images_unreadable_is_refused_with_the_share(tmp_path):
    _photo(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"x")
    problem = check_own_data(tmp_path, "dcgan")["problem"]
    assert problem.startswith("1 of 2 images (50%) do not decode, half or more: check the path. The first: ")
    assert f"cannot read image b.png in {tmp_path}" in problem


def test_the_form_defaults_are_the_command_lines(tmp_path):
    for model in ("dcgan", "cgan", "acgan", "mlp", "wgan-gp", "pix2pix", "srgan"):
        preset = config_for(model)
        assert form_defaults(model) == {"steps": preset.steps, "batch_size": preset.batch_size}
    assert form_defaults("cgan") == {"steps": 1500, "batch_size": 64}  # not the 2-D toys' 3,000 / 256


def test_the_time_estimate_scales_the_bench_by_batch_and_pixels(tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(
        json.dumps(
            {
                "families": [
                    {"family": "cgan", "batch": 64, "ms_per_step": 80.0},
                    {"family": "dcgan + ada", "batch": 64, "ms_per_step": 100.0},
                    {"family": "dcgan", "batch": 64, "ms_per_step": 50.0},
                    {"family": "wgan-gp (5 critic steps)", "batch": 64, "ms_per_step": 400.0},
                    {"family": "pix2pix", "batch": 16, "ms_per_step": 60.0},
                ]
            }
        )
    )
    assert estimate_seconds("cgan", 1500, 64, 32, bench=bench) == pytest.approx(120.0)
    assert estimate_seconds("cgan", 1500, 64, 64, bench=bench) == pytest.approx(480.0)  # 4x the pixels
    assert estimate_seconds("cgan", 1500, 128, None, bench=bench) == pytest.approx(240.0)
    assert estimate_seconds("dcgan", 100, 64, 32, "ada", bench=bench) == pytest.approx(10.0)
    assert estimate_seconds("dcgan", 100, 64, 32, "diffaugment", bench=bench) == pytest.approx(5.0)
    assert estimate_seconds("wgan", 10, 64, 32, bench=bench) == pytest.approx(4.0)  # wgan-gp's critic steps
    assert estimate_seconds("pix2pix", 100, 32, 256, bench=bench) == pytest.approx(12.0)  # pixels: gan only
    assert estimate_seconds("mlp", 100, 64, None, bench=bench) is None
    assert estimate_seconds("cgan", 100, 64, 32, bench=tmp_path / "missing.json") is None
    # the shipped bench: the form's cgan default on a 64 px folder is minutes, not hours
    assert 60 < estimate_seconds("cgan", 1500, 64, 64) < 3600


def test_change_labels_name_settings_only_and_close_markers_get_their_own_row():
    event = {"event": "changed", "step": 40, "wall_time": 1796620000.5, "lr_g": 0.0005, "lr_d": 0.001}
    assert change_label(event) == "lr_g 0.0005, lr_d 0.001"
    assert change_label({**event, "on": "resume", "until": 900, "ada_target": 0.6}) == (
        "lr_g 0.0005, lr_d 0.001, ada_target 0.6"
    )
    assert marker_rows([100, 110, 500, 505, 510, 900], 1000) == [0, 1, 0, 1, 2, 0]
    assert marker_rows([100, 300], 1000) == [0, 0]
    assert marker_rows([], 1000) == []


def test_a_conditional_grid_gets_its_class_names_left_of_the_rows():
    grid = Image.new("RGB", (40, 30), (255, 0, 0))
    buf = io.BytesIO()
    grid.save(buf, format="PNG")
    out = Image.open(io.BytesIO(label_grid_rows(buf.getvalue(), ["cat", "rocket", "x"])))
    margin = 10 + 7 * len("rocket")
    assert out.size == (40 + margin, 30)
    a = np.asarray(out)
    assert (a[:, margin:] == (255, 0, 0)).all()  # the grid itself, untouched
    for row in range(3):  # some dark text in each row's band of the margin
        assert (a[row * 10 : (row + 1) * 10, :margin] < 100).any()
