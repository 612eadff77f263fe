"""No shipped Python file over 450 lines (issue #32): a file that long holds several concepts, and a reader
looking for one of them has to read the others. Split it by concept (see docs/architecture.md) instead of
squashing lines."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 450


def shipped_python_files(root: Path = ROOT) -> list[Path]:
    """The toolkit's modules, the dashboard (app.py, its parts in app_tabs/ and its pages/)."""
    files = [root / "app.py"]
    for folder in ("toolkit", "app_tabs", "pages"):
        files += sorted((root / folder).rglob("*.py"))
    return files


def too_long(files: list[Path], root: Path = ROOT, limit: int = LIMIT) -> list[str]:
    """Each file over ``limit`` lines, named (relative to ``root``) with its count."""
    counts = {f: len(f.read_text(encoding="utf-8").splitlines()) for f in files}
    return [f"{f.relative_to(root)}: {n} lines" for f, n in counts.items() if n > limit]


def test_no_shipped_python_file_is_over_450_lines():
    files = shipped_python_files()
    assert {"app.py", "toolkit/cli/__init__.py", "app_tabs/live.py", "pages/GAN_playground.py"} <= {
        str(f.relative_to(ROOT)) for f in files
    }
    assert too_long(files) == []


def test_a_file_over_the_limit_is_named(tmp_path):
    long = tmp_path / "long.py"
    long.write_text("x = 1\n" * (LIMIT + 1))
    short = tmp_path / "short.py"
    short.write_text("x = 1\n" * LIMIT)
    assert too_long([long, short], tmp_path) == [f"long.py: {LIMIT + 1} lines"]
