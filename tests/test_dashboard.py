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
    marker_rows,
)
from toolkit.dashboard_files import label_grid_rows
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


def test_an_uploaded_zip_is_kept_under_the_runs_folder_and_never_replaces_an_earlier_one(tmp_path):
    import zipfile

    from toolkit.dashboard_files import UPLOADS, save_upload
    from toolkit.errors import ToolkitError

    def zipped(text):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("cat/0.txt", text)
        return buf.getvalue()

    first = save_upload(zipped("one"), "My photos.zip", tmp_path)
    assert first == tmp_path / UPLOADS / "My-photos.zip" and first.read_bytes() == zipped("one")
    second = save_upload(zipped("two"), "My photos.zip", tmp_path)
    assert second == tmp_path / UPLOADS / "My-photos-2.zip"
    assert first.read_bytes() == zipped("one") and second.read_bytes() == zipped("two")  # kept
    assert save_upload(zipped("x"), "../../evil.zip", tmp_path).parent == tmp_path / UPLOADS
    for data, name in ((b"not a zip", "fake.zip"), (zipped("y"), "photos.tar")):
        with pytest.raises(ToolkitError, match=f"^{name} is not a .zip file: zip the folder"):
            save_upload(data, name, tmp_path)
    assert sorted(p.name for p in (tmp_path / UPLOADS).iterdir()) == [
        "My-photos-2.zip",
        "My-photos.zip",
        "evil.zip",
    ]  # nothing written for the refused ones, no temporary file left


def test_an_uploaded_zip_is_checked_as_a_typed_path_is(tmp_path):
    import zipfile

    from toolkit.dashboard_files import save_upload

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for c in ("cat", "rocket"):
            for i in range(3):
                png = io.BytesIO()
                Image.new("RGB", (40, 40), (i * 40, 90, 90)).save(png, format="PNG")
                z.writestr(f"{c}/{i}.png", png.getvalue())
        z.writestr("rocket/broken.png", b"\x89PNG truncated")
    saved = save_upload(buf.getvalue(), "photos.zip", tmp_path / "runs")
    found = check_own_data(saved, "cgan", 32)
    assert found["problem"] is None and found["summary"].startswith("7 images in 2 classes (cat, rocket)")
    assert found["unreadable"] == ["rocket/broken.png"] and found["images"] == 6


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    from toolkit.training import TrainConfig, Trainer

    run_dir = tmp_path_factory.mktemp("runs") / "cg"
    cfg = TrainConfig(
        model="cgan",
        data="digits",
        steps=6,
        batch_size=16,
        log_every=3,
        sample_every=6,
        checkpoint_every=6,
        seed=0,
        threads=1,
        z_dim=16,
        width=8,
    )
    Trainer(cfg, run_dir=run_dir, progress=False).fit()
    return run_dir


def test_downloaded_samples_are_the_images_sample_writes(conditional_run, tmp_path):
    import zipfile

    import torch

    from toolkit.dashboard_files import sample_download
    from toolkit.generate import class_index, generate, load_generator, write_samples

    G, config = load_generator(conditional_run)
    labels = torch.full((5,), class_index("3", config["class_names"]))
    write_samples(
        generate(G, 5, config["z_dim"], seed=7, labels=labels),
        tmp_path / "cli",
        labels,
        config["class_names"],
    )  # what python -m toolkit sample --class 3 --seed 7 --n 5 --out cli writes
    data, name = sample_download(conditional_run, 5, seed=7, class_name="3", as_zip=True)
    assert name == "cg-step6-3.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        files = sorted(z.namelist())
        assert files == sorted(f"cg-step6-3/{p.name}" for p in (tmp_path / "cli").iterdir())
        for f in files:
            written = (tmp_path / "cli" / f.split("/")[1]).read_bytes()
            if f.endswith(".png"):  # the same pixels
                assert np.array_equal(
                    np.array(Image.open(io.BytesIO(z.read(f)))), np.array(Image.open(io.BytesIO(written)))
                )
            else:
                assert z.read(f) == written  # labels.csv
    grid, name = sample_download(conditional_run, 20, seed=0)  # all classes: one labelled row per class
    assert name == "cg-step6.png" and Image.open(io.BytesIO(grid)).size[1] > 10 * 8


def test_the_augment_output_folder_must_be_new_or_empty_and_outside_the_data(tmp_path):
    from toolkit.dashboard_files import check_output_folder
    from toolkit.errors import ToolkitError

    check_output_folder(tmp_path / "new")  # new: fine, and nothing made yet
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    check_output_folder(tmp_path / "empty")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.png").write_bytes(b"x")
    with pytest.raises(ToolkitError, match="exists and is not empty; choose a new folder"):
        check_output_folder(tmp_path / "full")
    with pytest.raises(ToolkitError, match="is a file; give a folder"):
        check_output_folder(tmp_path / "full" / "a.png")
    (tmp_path / "photos").mkdir()
    with pytest.raises(ToolkitError, match="is inside the input folder"):
        check_output_folder(tmp_path / "photos" / "more", (str(tmp_path / "photos"),))
