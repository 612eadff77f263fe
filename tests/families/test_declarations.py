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

APP = str(Path(__file__).resolve().parents[2] / "app.py")
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


# --- finding the families by file name (toolkit/families/__init__.py) ---------------------------------------
FAMILY_FILE = """
from toolkit.families.base import Family


class {cls}(Family):
    name = "{name}"
    models = {{{models}}}
"""


def a_folder_of_families(tmp_path, monkeypatch, package: str, **files: str) -> tuple[list[str], str]:
    """A package named ``package`` (a name of its own: Python keeps imported modules by name) under tmp_path
    holding ``files`` (module name -> text): what ``discover_families`` takes (its folder and its name)."""
    folder = tmp_path / package
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name, text in files.items():
        (folder / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    return [str(folder)], package


def test_every_module_of_the_folder_is_a_family_or_a_listed_part():
    from toolkit.families import PARTS

    folder = Path(__file__).resolve().parents[2] / "toolkit" / "families"
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    assert sorted(f.__module__.rpartition(".")[2] for f in FAMILIES.values()) == sorted(
        set(modules) - set(PARTS)
    )
    assert set(PARTS) <= set(modules)  # no stale name
    # listed in the order of the lessons that teach them, so --help and the start form keep their order
    assert list(FAMILIES) == ["gan", "pggan", "pix2pix", "cyclegan", "srgan", "stylegan"]
    assert [f.lesson for f in FAMILIES.values()] == [1, 8, 9, 10, 11, 14]


def test_a_new_file_is_found_and_listed_after_the_lessons_families(tmp_path, monkeypatch):
    from toolkit.families import discover_families

    found = discover_families(
        *a_folder_of_families(
            tmp_path,
            monkeypatch,
            "new_families",
            zeta=FAMILY_FILE.format(cls="Zeta", name="zeta", models='"zeta-1": "one", "zeta-2": "two"')
            + "    lesson = 3\n",
            alpha=FAMILY_FILE.format(cls="Alpha", name="alpha", models='"alpha": "a"'),
            beta=FAMILY_FILE.format(cls="Beta", name="beta", models='"beta": "b"'),
        )
    )
    assert list(found) == ["zeta", "alpha", "beta"] and list(found["zeta"].models) == ["zeta-1", "zeta-2"]


def test_a_model_declared_twice_or_a_file_without_a_family_is_one_line(tmp_path, monkeypatch):
    from toolkit.errors import ToolkitError
    from toolkit.families import discover_families

    twice = a_folder_of_families(
        tmp_path,
        monkeypatch,
        "twice",
        one=FAMILY_FILE.format(cls="One", name="one", models='"shared": "x"'),
        two=FAMILY_FILE.format(cls="Two", name="two", models='"two": "y", "shared": "z"'),
    )
    with pytest.raises(ToolkitError) as error:
        discover_families(*twice)
    assert str(error.value) == (
        "model 'shared' is declared twice, in twice/one.py and twice/two.py: rename one"
    )

    named_twice = a_folder_of_families(
        tmp_path,
        monkeypatch,
        "named_twice",
        one=FAMILY_FILE.format(cls="One", name="same", models='"m1": "x"'),
        two=FAMILY_FILE.format(cls="Two", name="same", models='"m2": "y"'),
    )
    with pytest.raises(ToolkitError, match=r"^family 'same' is declared twice, in named_twice/one\.py and"):
        discover_families(*named_twice)

    empty = a_folder_of_families(tmp_path, monkeypatch, "empty", helpers="def helper():\n    return 1\n")
    with pytest.raises(ToolkitError) as error:
        discover_families(*empty)
    assert str(error.value).startswith("empty/helpers.py defines no family: give it a Family subclass")
    assert "\n" not in str(error.value) and "PARTS" in str(error.value)


def test_the_lessons_order_parts_skipped_and_a_nested_packages_paths(tmp_path, monkeypatch):
    """Families sort by their lesson, whatever their file names; a module of shared parts (PARTS) is skipped,
    not the end of the search; a module of a nested package is named by its path in an error."""
    from toolkit.errors import ToolkitError
    from toolkit.families import discover_families

    found = discover_families(
        *a_folder_of_families(
            tmp_path,
            monkeypatch,
            "by_lesson",
            aaa=FAMILY_FILE.format(cls="Late", name="late", models='"late": "x"') + "    lesson = 12\n",
            base="HELPER = 1\n",  # named in PARTS: a module of shared parts, sorted before the next file
            zzz=FAMILY_FILE.format(cls="Early", name="early", models='"early": "y"') + "    lesson = 2\n",
        )
    )
    assert list(found) == ["early", "late"]

    outer = tmp_path / "outer_pkg"
    outer.mkdir()
    (outer / "__init__.py").write_text("")
    folder, _ = a_folder_of_families(outer, monkeypatch, "inner", helpers="def helper():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ToolkitError, match=r"^outer_pkg/inner/helpers\.py defines no family"):
        discover_families(folder, "outer_pkg.inner")
