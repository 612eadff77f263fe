"""A family declares what the tools around the loop show (issue #32 step 3): its charts (the dashboard's live
charts and the report's curves), its sample grids' caption, the data it trains on, the mode-collapse check,
the time estimate's scaling and the bench's cases. The tools read the declarations and name no family."""

import json
from pathlib import Path

import pytest
import torch

from toolkit.data import DATASETS
from toolkit.families import FAMILIES, GANFamily, config_for, family_for
from toolkit.families.base import IMAGE_SET, SHRUNK_IMAGES, TWO_DOMAINS
from toolkit.families.measurements import FID_CHART, KID_CHART, OVERFITTING_CHART
from toolkit.training import Trainer

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# logged by the measurement callbacks (eval_every, gap_every), which a 2-step run does not turn on
MEASURED_KEYS = {k for _, keys in (OVERFITTING_CHART, FID_CHART, KID_CHART) for k in keys}


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=list(FAMILIES))
def test_every_registered_family_declares_what_the_tools_show(family):
    assert family.charts, f"{family.name} declares no charts"
    titles = [title for title, _ in family.charts]
    assert len(set(titles)) == len(titles), titles
    for title, keys in family.charts:
        assert isinstance(title, str) and title and keys and all(isinstance(k, str) and k for k in keys)
    assert isinstance(family.grid_caption, str) and family.grid_caption
    assert family.trains_on in (IMAGE_SET, TWO_DOMAINS, SHRUNK_IMAGES)
    assert family.datasets and all(isinstance(d, str) for d in family.datasets.values())
    assert family.bench_cases and family.bench_warmup >= 1
    for label, model, settings in family.bench_cases:
        assert model in family.models and isinstance(settings, dict), (label, model)


def test_the_bench_cases_have_one_label_each():
    labels = [label for f in FAMILIES.values() for label, _, _ in f.bench_cases]
    assert len(set(labels)) == len(labels), labels


def test_a_family_that_trains_on_one_image_set_offers_the_image_sets():
    assert family_for("dcgan").datasets is DATASETS and family_for("dcgan").trains_on == IMAGE_SET
    assert family_for("pix2pix").trains_on == family_for("cyclegan").trains_on == TWO_DOMAINS
    assert family_for("srgan").trains_on == SHRUNK_IMAGES and "fashion-mnist" in family_for("srgan").datasets


def logged_keys(model: str, settings: dict, tmp_path) -> set[str]:
    small = dict(steps=2, log_every=2, sample_every=0, checkpoint_every=0, batch_size=4, width=8, threads=1)
    limit = {} if "limit" in settings else {"limit": 64}
    cfg = config_for(model, **{**settings, **small, **limit})
    if "limit" in settings:
        cfg.limit = 32
    Trainer(cfg, run_dir=tmp_path, progress=False).fit()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    return set().union(*(r.keys() for r in rows))


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=list(FAMILIES))
def test_every_charted_key_is_one_the_family_logs(family, tmp_path):
    """Each family's bench cases (ADA, Diffusion-GAN, ACGAN, WGAN-GP included) and each of its other models
    trained 2 steps: every key its charts name is logged by one of them, or by the measurement callbacks. A
    misspelt key would be a chart that never appears."""
    torch.manual_seed(0)
    cases = [(model, settings) for _, model, settings in family.bench_cases]
    cases += [(model, {}) for model in family.models if model not in {m for m, _ in cases}]
    logged = set()
    for i, (model, settings) in enumerate(cases):
        logged |= logged_keys(model, settings, tmp_path / str(i))
    charted = {k for _, keys in family.charts for k in keys}
    assert charted - logged - MEASURED_KEYS == set()


def write_run_with_a_new_metric(run_dir: Path) -> None:
    """A finished tiny dcgan run whose rows carry a value no family logs, ``zeta``."""
    cfg = config_for(
        "dcgan", data="digits", steps=8, batch_size=16, width=8, z_dim=16, log_every=4, sample_every=4
    )
    cfg.checkpoint_every, cfg.threads = 8, 1
    Trainer(cfg, run_dir=run_dir, progress=False).fit()
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    text = "".join(json.dumps({**r, "zeta": 0.25 * r["step"]}) + "\n" for r in rows)
    (run_dir / "metrics.jsonl").write_text(text)


def test_the_dashboard_and_the_report_draw_what_the_family_declares(tmp_path, monkeypatch):
    """The gan family declares one chart of a new metric and one of its own keys: the dashboard's live tab
    and the exported report draw exactly those, and none of the charts the run's other keys would have had."""
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from toolkit.report import run_report

    write_run_with_a_new_metric(tmp_path / "demo")
    declared = (("Zeta, a metric only this test logs", ("zeta",)), ("Declared D accuracy", ("d_real_acc",)))
    monkeypatch.setattr(GANFamily, "charts", declared)
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert titles == [title for title, _ in declared]  # no "Losses", though loss_d and loss_g are logged

    html = run_report(tmp_path / "demo")
    assert all(title in html for title, _ in declared)
    assert "Losses" not in html and "Discriminator accuracy" not in html


def test_the_dashboard_views_a_family_declares_are_ones_the_dashboard_draws():
    from toolkit.dashboard import views_of_run
    from toolkit.families.base import DASHBOARD_VIEWS, STYLE_MIXING_VIEW

    for family in FAMILIES.values():
        assert set(family.dashboard_views) <= set(DASHBOARD_VIEWS), family.name
    assert [f.name for f in FAMILIES.values() if STYLE_MIXING_VIEW in f.dashboard_views] == ["stylegan"]
    assert views_of_run({"model": "stylegan"}) == (STYLE_MIXING_VIEW,)
    assert views_of_run({"model": "dcgan"}) == () and views_of_run({"model": "no-such-model"}) == ()


def test_the_dashboard_draws_a_declared_view_from_the_declaration_not_the_family_name(tmp_path, monkeypatch):
    """The gan family made to declare the Style mixing view: a dcgan run gets the tab, and the tab says in one
    line that its generator is not a StyleGAN one (no traceback)."""
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from toolkit.families.base import STYLE_MIXING_VIEW

    write_run_with_a_new_metric(tmp_path / "demo")
    monkeypatch.setenv("TOOLKIT_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert STYLE_MIXING_VIEW not in [t.label for t in at.tabs]
    monkeypatch.setattr(GANFamily, "dashboard_views", (STYLE_MIXING_VIEW,))
    at.run()
    assert not at.exception and [t.label for t in at.tabs][-1] == STYLE_MIXING_VIEW
    (error,) = at.tabs[-1].error
    assert "style mixing needs a StyleGAN generator" in error.value and "DCGANGenerator" in error.value
