"""``python -m toolkit bench``: measure training speed against a plain reference loop, and more."""

from __future__ import annotations

from pathlib import Path

from ..errors import ToolkitError

NAME = "bench"


def add_parser(sub, argv: list[str]) -> None:
    p = sub.add_parser(
        NAME,
        help="measure training speed against a plain reference loop, and more",
        description="Time the toolkit's DCGAN-32 step against the PyTorch DCGAN tutorial's loop (same nets, "
        "batch and images; alternating, median ratio), every family's step, sampling, peak memory, FID's "
        "computation against pytorch-fid and torch-fidelity, and quality after equal training time. "
        "Writes a JSON results file and prints a summary (see toolkit/benchmark.py). Run it on a quiet "
        "machine: other work running at the same time slows both sides unevenly.",
    )
    p.add_argument("--out", default=None, help="results file (default results/bench/<machine>.json)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the command, figures meaningless")
    p.add_argument("--lessons", action="store_true", help="also time every lesson in quick mode (slow)")
    p.add_argument(
        "--quality-seconds",
        type=float,
        default=None,
        help="training seconds per side for the FID-per-CPU-minute comparison (default 300; 0: skip)",
    )


def run(args) -> int:
    from ..benchmark import default_out, run_benchmark, summary, write_result

    if args.quality_seconds is not None and args.quality_seconds < 0:
        raise ToolkitError(f"--quality-seconds must be >= 0 (0 skips it), got {args.quality_seconds}")
    out = Path(args.out) if args.out else default_out()
    result = run_benchmark(args.quick, args.lessons, args.quality_seconds)
    print(summary(result))
    print(f"results: {write_result(result, out)}")
    return 0
