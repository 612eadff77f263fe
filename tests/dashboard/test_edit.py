"""The dashboard's Edit tab, driven with streamlit.testing.AppTest on a small trained run: a training image is
projected (the progress bar runs to the end), a direction is found with the button and stored in the run
directory, and the strength slider changes the "after" image while "before" stays; an upload is saved under
the run directory."""

import io
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from app_tabs.edit import fit_to_generator, save_upload  # noqa: E402
from toolkit.directions import load_direction  # noqa: E402
from toolkit.errors import ToolkitError  # noqa: E402
from toolkit.runs import Run  # noqa: E402

from .test_app import APP, tiny_run  # noqa: E402


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("edit-runs")
    tiny_run(root / "demo", steps=12)
    return root


def images(at) -> dict[str, str]:
    """caption -> url of every image on the page."""
    return {i.proto.imgs[0].caption: i.proto.imgs[0].url for i in at.get("image")}


def captioned(at, start: str) -> str:
    return next(url for caption, url in images(at).items() if caption.startswith(start))


def test_project_a_training_image_find_a_direction_and_slide(root, monkeypatch):
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert [t.label for t in at.tabs][-1] == "Edit"
    assert any("press Project" in c for c in images(at))
    at.slider(key="edit_steps").set_value(5)
    at.button(key="edit_project").click().run()
    assert not at.exception and not at.error
    assert any("projected in 5 steps" in c.value for c in at.caption)
    assert any("No direction stored" in i.value for i in at.info)
    at.selectbox(key="edit_attribute").set_value("brightness")
    at.button(key="edit_find").click().run()
    assert not at.exception and not at.error
    direction = load_direction(root / "demo", "brightness", z_dim=16)  # stored in the run directory
    assert direction.samples == 500
    before, after = captioned(at, "before"), captioned(at, "after: moved by +0")
    at.slider(key="edit_strength").set_value(4.0).run()
    assert not at.exception
    assert captioned(at, "before") == before  # the projection is kept
    assert captioned(at, "after: moved by +4 along brightness") != after


def test_an_uploaded_image_is_saved_under_the_run_and_fitted_to_the_generator(root, monkeypatch):
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.radio(key="edit_source").set_value("Upload your own").run()
    assert any("Upload an image" in i.value for i in at.info)
    # AppTest cannot upload a file: what the tab does with the upload's bytes, called directly
    photo = io.BytesIO()
    Image.fromarray(np.full((50, 40, 3), 200, dtype=np.uint8)).save(photo, format="PNG")
    target = fit_to_generator(photo.getvalue(), channels=1, size=(32, 32))
    assert target.shape == (1, 32, 32) and abs(float(target.mean()) - (200 / 127.5 - 1)) < 0.02
    saved = save_upload(Run(root / "demo"), "../../escape/mine.png", photo.getvalue())
    assert saved == root / "demo" / "edit" / "mine.png" and saved.read_bytes() == photo.getvalue()
    with pytest.raises(ToolkitError, match="not an image"):
        fit_to_generator(b"not an image", 1, (32, 32))
