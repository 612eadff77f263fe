"""``python -m toolkit report``: write a run as one self-contained HTML file."""

from __future__ import annotations

import sys

from ..errors import ToolkitError

NAME = "report"


def add_parser(sub, argv: list[str]) -> None:
    p = sub.add_parser(
        NAME,
        help="write a run as one self-contained HTML file",
        description="Write a run's settings, curves, sample grids, scores and events into one HTML file that "
        "opens anywhere, offline included (plotly's JavaScript and the images are embedded).",
    )
    p.add_argument("--run-dir", required=True, help="the run directory to describe")
    p.add_argument("--out", required=True, help="the .html file to write (outside the run's own files)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it already exists")


def run(args) -> int:
    from ..report import write_report

    if not str(args.out).endswith((".html", ".htm")):
        raise ToolkitError(f"--out {args.out} should end in .html")
    from ..outputs import replaced_note

    try:
        out, replaced = write_report(args.run_dir, args.out, args.overwrite)
    except OSError as exc:
        raise ToolkitError(f"cannot write {args.out} ({exc.strerror or exc}); choose another --out") from None
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB){replaced_note(replaced)}", file=sys.stderr)
    return 0
