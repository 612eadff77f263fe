"""The dashboard's Style mixing tab, driven with streamlit.testing.AppTest on tiny trained runs: a stylegan
run gets the tab (its family declares it) and a dcgan run does not; the layer slider changes the mixing grid
and not the samples; psi changes both and the diversity shown falls to 0 at psi 0; a checkpoint whose w_avg
was never tracked gives a one-line error and a disabled psi slider while the mixing grid still shows."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from toolkit.families import config_for  # noqa: E402
from toolkit.families.base import STYLE_MIXING_VIEW  # noqa: E402
from toolkit.training import Trainer  # noqa: E402

from .test_app import APP, tiny_run  # noqa: E402

TINY_STYLEGAN = dict(
    width=4, z_dim=8, w_dim=8, mapping_layers=2, batch_size=8, grid_size=4, threads=1, seed=0
)


def tiny_stylegan_run(run_dir, steps=12):
    loop = dict(log_every=4, sample_every=6, checkpoint_every=6)
    cfg = config_for("stylegan", data="digits", resolution=16, steps=steps, **loop, **TINY_STYLEGAN)
    Trainer(cfg, run_dir=run_dir, progress=False).fit()
    return run_dir


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("mixing-runs")
    tiny_stylegan_run(root / "sg")
    tiny_run(root / "dc", steps=6)
    return root


def open_run(root, monkeypatch, name: str) -> AppTest:
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.selectbox(key="run").set_value(name).run()
    assert not at.exception, at.exception
    return at


def image(at, start: str) -> str:
    """The url of the image whose caption starts with ``start``."""
    return next(i.proto.imgs[0].url for i in at.get("image") if i.proto.imgs[0].caption.startswith(start))


def caption(at, start: str) -> str:
    return next(i.proto.imgs[0].caption for i in at.get("image") if i.proto.imgs[0].caption.startswith(start))


def diversity(at) -> float:
    return float(next(m.value for m in at.metric if m.label.startswith("Diversity")))


def test_the_tab_is_there_for_a_stylegan_run_and_not_for_a_dcgan_run(root, monkeypatch):
    at = open_run(root, monkeypatch, "dc")
    assert STYLE_MIXING_VIEW not in [t.label for t in at.tabs]
    assert not any(s.key and s.key.startswith("mixing") for s in at.slider)
    at.sidebar.selectbox(key="run").set_value("sg").run()
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs][-1] == STYLE_MIXING_VIEW
    tab = at.tabs[-1]
    assert tab.slider(key="mixing_layers_6").value == (0, 3)  # 16 px: 6 layers, the coarse band first
    assert [b.label for b in tab.button] == ["coarse from B (4-8 px)", "fine from B (16 px)"]
    assert "top: sources B; left: sources A; layers 0-2 of 0-5 (4-8 px)" in caption(at, "top: sources B")
    assert any("quality" in c.value and "diversity" in c.value for c in tab.caption)  # what psi trades


def test_the_layer_slider_changes_the_grid_and_psi_changes_grid_samples_and_diversity(root, monkeypatch):
    at = open_run(root, monkeypatch, "sg")
    grid, samples, spread = image(at, "top: sources B"), image(at, "8 more samples"), diversity(at)
    assert spread > 0
    at.slider(key="mixing_layers_6").set_value((3, 6)).run()  # a crossover at layer 3
    assert not at.exception and not at.error
    assert image(at, "top: sources B") != grid and image(at, "8 more samples") == samples
    assert "layers 3-5 of 0-5 (16 px) take B's styles" in caption(at, "top: sources B")
    crossed = image(at, "top: sources B")
    at.button(key="mixing_band_coarse").click().run()  # the preset puts the slider back on the coarse band
    assert at.slider(key="mixing_layers_6").value == (0, 3) and image(at, "top: sources B") == grid
    at.slider(key="mixing_psi").set_value(0.5).run()
    assert not at.exception and not at.error
    assert image(at, "top: sources B") not in (grid, crossed) and image(at, "8 more samples") != samples
    assert 0 < diversity(at) < spread
    assert f"vs psi 1 ({spread:.3f})" in next(m.proto.delta for m in at.metric)
    at.slider(key="mixing_psi").set_value(0.0).run()
    assert diversity(at) == 0.0  # every sample is the average image


def test_a_run_whose_w_avg_was_never_tracked_says_so_in_one_line_and_still_mixes(root, monkeypatch):
    run = tiny_stylegan_run(root / "untracked", steps=6)
    path = run / "checkpoints" / "last.pt"
    state = torch.load(path, weights_only=True)
    for nets in (state["nets"], state["ema"]):
        nets["G"]["mapping.w_avg"].zero_()  # as a generator that never ran in training mode has it
    torch.save(state, path)
    at = open_run(root, monkeypatch, "untracked")
    (error,) = at.error
    assert "mapping.w_avg is all zeros" in error.value and "\n" not in error.value
    assert at.slider(key="mixing_psi").proto.disabled
    assert any(i.proto.imgs[0].caption.startswith("top: sources B") for i in at.get("image"))

    del state["ema"]["G"]["mapping.w_avg"], state["nets"]["G"]["mapping.w_avg"]  # a checkpoint without it
    torch.save(state, path)
    at.run()
    assert not at.exception
    assert any("does not match its config.json" in e.value and "\n" not in e.value for e in at.error)
